#include "accounting/hardware.h"

#include <gtest/gtest.h>

#include "accounting/mfu.h"

namespace scalelab::accounting {
namespace {

TEST(Hardware, DensePeaksOnly) {
  const GpuSpec& h = find_gpu("h100-sxm");
  EXPECT_DOUBLE_EQ(h.peak_tflops(Dtype::kBf16), 989.4);  // dense; sparse would be 1978.9
  EXPECT_DOUBLE_EQ(h.peak_tflops(Dtype::kFp8), 1978.9);
  EXPECT_DOUBLE_EQ(find_gpu("a100-80gb").peak_tflops(Dtype::kBf16), 312);
  EXPECT_DOUBLE_EQ(find_gpu("h200").peak_tflops(Dtype::kBf16), h.peak_tflops(Dtype::kBf16));
  EXPECT_GT(find_gpu("h200").memory_bytes(), h.memory_bytes());
  for (const auto& g : gpu_table()) {
    // tf32 dense is half of bf16 dense on every table entry; a sparse figure would break this.
    EXPECT_NEAR(g.tf32 * 2, g.bf16, 0.01 * g.bf16) << g.name;
  }
}

TEST(Hardware, UnknownGpuAndMissingPath) {
  try {
    find_gpu("rtx9090");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("unknown GPU 'rtx9090' (known: h100-sxm", 0), 0u);
  }
  EXPECT_THROW(find_gpu("a100-40gb").peak_tflops(Dtype::kFp8), Error);
  EXPECT_THROW(parse_dtype("int4"), Error);
}

TEST(Mfu, FromThroughput) {
  FlopCounts f = count_flops(find_model_preset("gpt2-small").shape);
  MfuInput in{.tokens_per_second = 100000, .n_gpus = 1, .peak_tflops_per_gpu = 989.4};
  MfuResult r = compute_mfu(f, in);
  EXPECT_NEAR(r.mfu, 100000 * 1'024'307'712.0 / 989.4e12, 1e-12);
  EXPECT_DOUBLE_EQ(r.mfu, r.mfu_exact);  // full attention: PaLM == exact
  EXPECT_NEAR(r.hfu_with_recompute / r.mfu, 4.0 / 3.0, 1e-12);
  in.n_gpus = 2;
  EXPECT_NEAR(compute_mfu(f, in).mfu, r.mfu / 2, 1e-15);
  in.tokens_per_second = -1;
  EXPECT_THROW(compute_mfu(f, in), Error);
}

TEST(Mfu, TimeToTrain) {
  FlopCounts f = count_flops(find_model_preset("gpt2-small").shape);
  double t = time_to_train_s(f, 1e9, 0.5, 1000, 2);
  EXPECT_NEAR(t, 1'024'307'712.0 * 1e9 / (0.5 * 1000e12 * 2), 1e-9);
  EXPECT_THROW(time_to_train_s(f, 1e9, 1.5, 1000, 1), Error);
  EXPECT_THROW(time_to_train_s(f, 0, 0.5, 1000, 1), Error);
}

}  // namespace
}  // namespace scalelab::accounting
