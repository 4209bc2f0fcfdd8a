// Token data for training: a memory-mapped uint16/uint32 file written by `scalelab tokenizer
// encode` (with its JSON sidecar). Random windows of context+1 tokens (x = window[:-1], y =
// window[1:]), deterministic for a generator seed; a sequential mode for evaluation. Ids are
// checked against the model's vocabulary once, when the file is opened.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>

#include "common/mmap_file.h"

namespace scalelab::train {

class TokenDataset {
 public:
  // Throws naming the file when it is missing, truncated, its sidecar is malformed, an id is >=
  // vocab_size, or it holds fewer than context_length + 1 tokens.
  TokenDataset(const std::filesystem::path& path, int64_t vocab_size, int64_t context_length);

  int64_t size() const { return count_; }
  int64_t context_length() const { return context_; }
  const std::filesystem::path& path() const { return file_.path(); }

  // x, y: (B, T) int64 on `device`; starts uniform in [0, size − T − 1]. With shards > 1, all B
  // starts are drawn (so every rank's generator stays in step) and only rows [shard·B/shards,
  // (shard+1)·B/shards) are returned: a data-parallel rank's part of the global batch. B must be a
  // multiple of shards.
  std::pair<torch::Tensor, torch::Tensor> random_batch(int64_t batch_size, std::mt19937_64& rng,
                                                       const torch::Device& device,
                                                       int64_t shard = 0, int64_t shards = 1) const;
  // The i-th of the non-overlapping windows (for evaluation): tokens [i·T, i·T + T] → x, y: (B, T).
  int64_t sequential_windows() const { return (count_ - 1) / context_; }
  std::pair<torch::Tensor, torch::Tensor> sequential_batch(int64_t first_window, int64_t batch_size,
                                                           const torch::Device& device) const;

 private:
  int64_t token(int64_t i) const;
  void fill(int64_t row, int64_t start, int64_t* x, int64_t* y) const;
  MmapFile file_;
  bool u16_ = true;
  int64_t count_ = 0;
  int64_t context_ = 0;
};

}  // namespace scalelab::train
