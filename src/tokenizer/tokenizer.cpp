// BPE encoding. Performance notes (docs/benchmarks.md, "GPT-2 encoding"):
// - Most pre-tokens are whole vocabulary entries: one hash lookup, no merging (the fast path).
// - Otherwise, like tiktoken's byte_pair_merge: for short pieces the symbols and each adjacent
//   pair's merge on the stack, updated after a merge (two lookups, not n), and a linear scan for
//   the lowest beat any heap (pieces are a few bytes); long pieces (runs of digits, whitespace,
//   non-Latin text without spaces) switch to a heap over a linked list, O(n log n).
#include "tokenizer/tokenizer.h"

#include <queue>

#include "common/error.h"
#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

namespace {
std::vector<std::string> special_texts(const BpeModel& m) {
  std::vector<std::string> s;
  for (const auto& p : m.specials) s.push_back(p.first);
  return s;
}
}  // namespace

Tokenizer::Tokenizer(BpeModel model) : model_(std::move(model)), specials_(special_texts(model_)) {
  model_.validate();
  std::vector<char> special(model_.tokens.size(), 0);
  for (const auto& s : model_.specials) special[static_cast<size_t>(s.second)] = 1;
  token_id_.reserve(model_.tokens.size());
  if (model_.whole_token_lookup)
    for (size_t i = 0; i < model_.tokens.size(); ++i)
      if (!special[i] && !model_.tokens[i].empty())
        token_id_.emplace(model_.tokens[i], static_cast<int32_t>(i));
  merges_.reserve(model_.merges.size());
  for (size_t r = 0; r < model_.merges.size(); ++r)
    merges_.emplace(key(model_.merges[r].first, model_.merges[r].second),
                    Merge{model_.priority(r), model_.merge_result[r]});
  std::vector<int32_t> b = model_.byte_ids();
  std::copy(b.begin(), b.end(), byte_id_.begin());
  for (const auto& text : specials_.specials()) {
    for (const auto& [t, id] : model_.specials)
      if (t == text) special_ids_.push_back(id);
  }
}

void Tokenizer::encode_piece_linear(std::string_view piece, std::vector<int32_t>& out) const {
  // As tiktoken's byte_pair_merge: the symbols and the merge of each adjacent pair, kept up to date
  // after a merge (the two pairs it touched are looked up again), the lowest found by a scan. Short
  // pieces live on the stack.
  const size_t n = piece.size();
  if (n == 0) return;
  std::array<int32_t, kHeapThreshold> s_buf;
  std::array<Merge, kHeapThreshold> p_buf;
  std::vector<int32_t> s_vec;
  std::vector<Merge> p_vec;
  int32_t* s = s_buf.data();
  Merge* pair = p_buf.data();  // pair[i]: the merge of s[i], s[i + 1] (rank INT32_MAX: none)
  if (n > kHeapThreshold) {
    s_vec.resize(n);
    p_vec.resize(n);
    s = s_vec.data();
    pair = p_vec.data();
  }
  const auto merge_at = [&](size_t i) {
    const Merge* m = find_merge(s[i], s[i + 1]);
    return m != nullptr ? *m : Merge{INT32_MAX, -1};
  };
  for (size_t i = 0; i < n; ++i) s[i] = byte_id_[static_cast<unsigned char>(piece[i])];
  size_t m = n;  // symbols
  for (size_t i = 0; i + 1 < m; ++i) pair[i] = merge_at(i);
  while (m > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < m; ++i)
      if (pair[i].rank < pair[best].rank) best = i;
    if (pair[best].rank == INT32_MAX) break;
    s[best] = pair[best].result;
    std::copy(s + best + 2, s + m, s + best + 1);
    std::copy(pair + best + 1, pair + m - 1, pair + best);
    --m;
    if (best + 1 < m) pair[best] = merge_at(best);
    if (best > 0) pair[best - 1] = merge_at(best - 1);
  }
  out.insert(out.end(), s, s + m);
}

void Tokenizer::encode_piece_heap(std::string_view piece, std::vector<int32_t>& out) const {
  const size_t n = piece.size();
  std::vector<int32_t> sym(n);
  std::vector<int32_t> next(n), prev(n);
  std::vector<char> alive(n, 1);
  for (size_t i = 0; i < n; ++i) {
    sym[i] = byte_id_[static_cast<unsigned char>(piece[i])];
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    prev[i] = static_cast<int32_t>(i) - 1;
  }
  // (rank, left position, left symbol, right symbol); smallest rank, then leftmost position.
  struct Cand {
    int32_t rank, pos, a, b;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Cand, std::vector<Cand>, std::greater<>> heap;
  auto consider = [&](int32_t i) {
    if (i < 0 || next[static_cast<size_t>(i)] < 0) return;
    int32_t j = next[static_cast<size_t>(i)];
    const Merge* m = find_merge(sym[static_cast<size_t>(i)], sym[static_cast<size_t>(j)]);
    if (m != nullptr)
      heap.push({m->rank, i, sym[static_cast<size_t>(i)], sym[static_cast<size_t>(j)]});
  };
  for (size_t i = 0; i + 1 < n; ++i) consider(static_cast<int32_t>(i));
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    const auto i = static_cast<size_t>(c.pos);
    if (!alive[i] || sym[i] != c.a || next[i] < 0) continue;
    const auto j = static_cast<size_t>(next[i]);
    if (sym[j] != c.b) continue;  // stale: the right neighbour changed
    sym[i] = find_merge(c.a, c.b)->result;
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] >= 0) prev[static_cast<size_t>(next[j])] = static_cast<int32_t>(i);
    consider(prev[i]);
    consider(static_cast<int32_t>(i));
  }
  for (int32_t i = 0; i >= 0 && static_cast<size_t>(i) < n; i = next[static_cast<size_t>(i)])
    out.push_back(sym[static_cast<size_t>(i)]);
}

void Tokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  if (piece.size() == 1) {
    out.push_back(byte_id_[static_cast<unsigned char>(piece[0])]);
    return;
  }
  auto it = token_id_.find(piece);
  if (it != token_id_.end()) {
    out.push_back(it->second);
    return;
  }
  if (piece.size() > kHeapThreshold)
    encode_piece_heap(piece, out);
  else
    encode_piece_linear(piece, out);
}

void Tokenizer::encode(std::string_view text, std::vector<int32_t>& out) const {
  auto ordinary = [&](std::string_view seg) { encode_ordinary(seg, out); };
  specials_.split(text, ordinary, [&](size_t which) { out.push_back(special_ids_[which]); });
}

void Tokenizer::encode_ordinary(std::string_view text, std::vector<int32_t>& out) const {
  for_each_pretoken(model_.pattern, text, [&](std::string_view p) { encode_piece(p, out); });
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3);
  encode(text, out);
  return out;
}

std::vector<int32_t> Tokenizer::encode_ordinary(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3);
  encode_ordinary(text, out);
  return out;
}

std::string Tokenizer::decode_bytes(const std::vector<int32_t>& ids) const {
  std::string out;
  const auto n = static_cast<int64_t>(model_.tokens.size());
  for (size_t k = 0; k < ids.size(); ++k) {
    SCALELAB_CHECK(ids[k] >= 0 && ids[k] < n,
                   "token id {} at position {} is outside the vocabulary (size {})", ids[k], k, n);
    const std::string& t = model_.tokens[static_cast<size_t>(ids[k])];
    SCALELAB_CHECK(!t.empty(), "token id {} at position {} is unused in this vocabulary", ids[k],
                   k);
    out += t;
  }
  return out;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  return replace_invalid_utf8(decode_bytes(ids));
}

}  // namespace scalelab::tokenizer
