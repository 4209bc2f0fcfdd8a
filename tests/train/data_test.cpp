#include "train/data.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "common/file_util.h"
#include "test_support.h"
#include "token_file.h"

namespace scalelab::train {
namespace {

std::filesystem::path write_tokens(const std::string& name, const std::vector<uint16_t>& ids,
                                   int64_t claim = -1) {
  auto d = std::filesystem::temp_directory_path() / ("scalelab_data_" + std::to_string(getpid()));
  std::filesystem::create_directories(d);
  return test_util::write_token_file(d / name, ids, claim);
}

using testing::error_of;

TEST(TokenDataset, RandomWindowsAreShiftedAndDeterministic) {
  std::vector<uint16_t> ids(100);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint16_t>(i);
  TokenDataset d(write_tokens("seq.bin", ids), 1000, 8);
  std::mt19937_64 r1(5), r2(5);
  auto [x, y] = d.random_batch(4, r1, torch::kCPU);
  auto [x2, y2] = d.random_batch(4, r2, torch::kCPU);
  EXPECT_TRUE(torch::equal(x, x2));
  EXPECT_EQ(x.sizes(), (std::vector<int64_t>{4, 8}));
  EXPECT_TRUE(torch::equal(y, x + 1));  // tokens are consecutive integers
  EXPECT_LE(y.max().item<int64_t>(), 99);
  EXPECT_EQ(d.sequential_windows(), 12);
  auto [sx, sy] = d.sequential_batch(2, 3, torch::kCPU);
  EXPECT_EQ(sx[0][0].item<int64_t>(), 16);
}

// A data-parallel rank's shard: the rows of the global batch it owns, and the generator advanced by
// the whole batch, so the next draw is the same on every rank.
TEST(TokenDataset, ShardsOfABatchAreItsRowsAndKeepTheGeneratorInStep) {
  std::vector<uint16_t> ids(500);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint16_t>(i);
  TokenDataset d(write_tokens("shard.bin", ids), 1000, 8);
  std::mt19937_64 whole_rng(9);
  auto [x, y] = d.random_batch(6, whole_rng, torch::kCPU);
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < 3; ++s) {
    std::mt19937_64 rng(9);
    auto [xs, ys] = d.random_batch(6, rng, torch::kCPU, s, 3);
    EXPECT_EQ(xs.sizes(), (std::vector<int64_t>{2, 8}));
    EXPECT_TRUE(torch::equal(ys, xs + 1));
    parts.push_back(xs);
    EXPECT_EQ(rng(), std::mt19937_64(whole_rng)());  // in step with the unsharded generator
  }
  EXPECT_TRUE(torch::equal(torch::cat(parts), x));
  std::mt19937_64 rng(1);
  EXPECT_EQ(error_of([&] { d.random_batch(5, rng, torch::kCPU, 0, 2); }),
            "random_batch: batch 5 cannot be split into 2 shards");
}

TEST(TokenDataset, BadFilesAreErrors) {
  std::vector<uint16_t> ids{1, 2, 3, 4, 5, 6, 700};
  auto p = write_tokens("big.bin", ids);
  EXPECT_EQ(error_of([&] { TokenDataset(p, 500, 4); }),
            p.string() + ": token 6 has id 700, beyond the model's vocabulary (size 500)");
  EXPECT_EQ(error_of([&] { TokenDataset(p, 1000, 16); }),
            p.string() + ": 7 tokens, fewer than context_length + 1 = 17");
  auto t = write_tokens("trunc.bin", ids, 9);
  EXPECT_NE(error_of([&] { TokenDataset(t, 1000, 4); }).find("truncated?"), std::string::npos);
  EXPECT_NE(error_of([&] { TokenDataset("/nonexistent/x.bin", 1000, 4); }).find("missing sidecar"),
            std::string::npos);
}

}  // namespace
}  // namespace scalelab::train
