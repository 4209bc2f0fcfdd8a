// BpeModel checks and hash.
#include "tokenizer/bpe_model.h"

#include <fmt/format.h>

#include <unordered_map>

#include "common/error.h"

namespace scalelab::tokenizer {

void BpeModel::validate() const {
  SCALELAB_CHECK(merges.size() == merge_result.size(), "BPE model: {} merges but {} merge results",
                 merges.size(), merge_result.size());
  const auto n = static_cast<int32_t>(tokens.size());
  for (size_t r = 0; r < merges.size(); ++r) {
    auto [a, b] = merges[r];
    int32_t m = merge_result[r];
    SCALELAB_CHECK(a >= 0 && a < n && b >= 0 && b < n && m >= 0 && m < n,
                   "BPE model: merge {} refers to an id outside the vocabulary", r + 1);
    SCALELAB_CHECK(!tokens[static_cast<size_t>(a)].empty() &&
                       !tokens[static_cast<size_t>(b)].empty() &&
                       tokens[static_cast<size_t>(m)] ==
                           tokens[static_cast<size_t>(a)] + tokens[static_cast<size_t>(b)],
                   "BPE model: merge {} does not produce the concatenation of its parts", r + 1);
  }
  SCALELAB_CHECK(merge_priority.empty() || merge_priority.size() == merges.size(),
                 "BPE model: {} merge priorities for {} merges", merge_priority.size(),
                 merges.size());
  for (const auto& [text, id] : specials)
    SCALELAB_CHECK(id >= 0 && id < n && tokens[static_cast<size_t>(id)] == text,
                   "BPE model: special token '{}' has no matching vocabulary entry", text);
  std::vector<int32_t> b = byte_ids();
  for (int v = 0; v < 256; ++v)
    SCALELAB_CHECK(b[static_cast<size_t>(v)] >= 0, "BPE model: no token for byte {}", v);
}

std::vector<int32_t> BpeModel::byte_ids() const {
  std::vector<int32_t> ids(256, -1);
  std::vector<char> is_special(tokens.size(), 0);
  for (const auto& s : specials) is_special[static_cast<size_t>(s.second)] = 1;
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i].size() == 1 && !is_special[i] &&
        ids[static_cast<unsigned char>(tokens[i][0])] < 0)
      ids[static_cast<unsigned char>(tokens[i][0])] = static_cast<int32_t>(i);
  return ids;
}

std::string BpeModel::hash() const {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  for (const auto& t : tokens) {
    uint64_t n = t.size();
    mix(&n, sizeof n);
    mix(t.data(), t.size());
  }
  for (size_t r = 0; r < merges.size(); ++r) {
    mix(&merges[r], sizeof merges[r]);
    mix(&merge_result[r], sizeof merge_result[r]);
  }
  for (const auto& [t, id] : specials) {
    mix(t.data(), t.size());
    mix(&id, sizeof id);
  }
  // What changes encoding beyond tokens and merges; absent at the defaults, so the hashes of
  // GPT-2-pattern tokenizers (cited by token files' sidecars) are what they were.
  if (pattern != Pattern::kGpt2) {
    const auto p = static_cast<int32_t>(pattern);
    mix(&p, sizeof p);
  }
  for (int32_t p : merge_priority) mix(&p, sizeof p);
  if (!whole_token_lookup) mix("merges-only", 11);
  return fmt::format("{:016x}", h);
}

}  // namespace scalelab::tokenizer
