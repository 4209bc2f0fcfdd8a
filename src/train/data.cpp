#include "train/data.h"

#include <cstring>

#include "common/error.h"
#include "common/token_file.h"

namespace scalelab::train {

TokenDataset::TokenDataset(const std::filesystem::path& path, int64_t vocab_size,
                           int64_t context_length)
    : context_(context_length) {
  const TokenFileMeta meta = read_token_meta(path);
  u16_ = meta.width() == 2;
  file_ = MmapFile(path);
  const auto count = static_cast<int64_t>(meta.count);
  count_ = count;
  SCALELAB_CHECK(count_ >= context_length + 1, "{}: {} tokens, fewer than context_length + 1 = {}",
                 path.string(), count_, context_length + 1);
  // One pass to check every id against the model's vocabulary.
  int64_t max_id = 0, at = 0;
  for (int64_t i = 0; i < count_; ++i) {
    int64_t t = token(i);
    if (t > max_id) {
      max_id = t;
      at = i;
    }
  }
  SCALELAB_CHECK(max_id < vocab_size,
                 "{}: token {} has id {}, beyond the model's vocabulary (size {})", path.string(),
                 at, max_id, vocab_size);
}

int64_t TokenDataset::token(int64_t i) const {
  if (u16_) {
    uint16_t v;
    std::memcpy(&v, file_.data() + 2 * i, 2);
    return v;
  }
  uint32_t v;
  std::memcpy(&v, file_.data() + 4 * i, 4);
  return v;
}

void TokenDataset::fill(int64_t row, int64_t start, int64_t* x, int64_t* y) const {
  for (int64_t t = 0; t < context_; ++t) {
    x[row * context_ + t] = token(start + t);
    y[row * context_ + t] = token(start + t + 1);
  }
}

std::pair<torch::Tensor, torch::Tensor> TokenDataset::random_batch(int64_t B, std::mt19937_64& rng,
                                                                   const torch::Device& device,
                                                                   int64_t shard,
                                                                   int64_t shards) const {
  SCALELAB_CHECK(shards > 0 && B % shards == 0 && shard >= 0 && shard < shards,
                 "random_batch: batch {} cannot be split into {} shards", B, shards);
  const int64_t rows = B / shards, lo = shard * rows;
  auto x = torch::empty({rows, context_}, torch::kLong),
       y = torch::empty({rows, context_}, torch::kLong);
  std::uniform_int_distribution<int64_t> start(0, count_ - context_ - 1);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t s = start(rng);
    if (b >= lo && b < lo + rows) fill(b - lo, s, x.data_ptr<int64_t>(), y.data_ptr<int64_t>());
  }
  return {x.to(device, /*non_blocking=*/true), y.to(device, true)};
}

std::pair<torch::Tensor, torch::Tensor> TokenDataset::sequential_batch(
    int64_t first, int64_t B, const torch::Device& device) const {
  const int64_t n = std::min(B, sequential_windows() - first);
  SCALELAB_CHECK(n > 0, "{}: window {} is past the end ({} windows)", path().string(), first,
                 sequential_windows());
  auto x = torch::empty({n, context_}, torch::kLong), y = torch::empty({n, context_}, torch::kLong);
  for (int64_t b = 0; b < n; ++b)
    fill(b, (first + b) * context_, x.data_ptr<int64_t>(), y.data_ptr<int64_t>());
  return {x.to(device), y.to(device)};
}

}  // namespace scalelab::train
