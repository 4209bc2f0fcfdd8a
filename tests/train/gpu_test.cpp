// GPU checks (label gpu): skip cleanly without a CUDA device. On the H100 machine with LibTorch 2.x
// they compare the fused paths with the references and run the trainer in bf16-mixed.
#include <gtest/gtest.h>
#include <torch/version.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file_util.h"
#include "common/json.h"
#include "common/process.h"
#include "model/fused.h"
#if SCALELAB_WITH_CUDA
#include <c10/cuda/CUDAStream.h>

#include "model/cuda/kernels.h"
#endif
#include "model/layers.h"
#include "model/transformer.h"
#include "test_support.h"
#include "token_file.h"
#include "train/autocast.h"
#include "train/cuda_graph.h"
#include "train/distributed.h"
#include "train/launch.h"
#include "train/optim.h"
#include "train/trainer.h"

namespace scalelab::train {
namespace {

#define REQUIRE_CUDA()                                                  \
  do {                                                                  \
    if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"; \
  } while (0)

TEST(Gpu, FusedAttentionMatchesPlainOnCuda) {
  REQUIRE_CUDA();
  if (!model::fused_attention_available()) GTEST_SKIP() << "LibTorch < 2";
  accounting::ModelShape s = accounting::find_model_preset("cs336-tinystories").shape;
  s.n_kv_heads = 4;
  torch::manual_seed(0);
  model::TransformerLM a(s, model::ModelOptions{10000.0, model::AttentionImpl::kAuto});
  model::TransformerLM b(s, model::ModelOptions{10000.0, model::AttentionImpl::kPlain});
  {
    torch::NoGradGuard ng;
    auto pa = a->parameters(), pb = b->parameters();
    for (size_t i = 0; i < pa.size(); ++i) pb[i].copy_(pa[i]);
  }
  a->to(torch::kCUDA);
  b->to(torch::kCUDA);
  auto ids = torch::randint(0, s.vocab_size, {4, 256},
                            torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA));
  // fp32 on both paths; flash/efficient kernels reorder the reduction: 1e-3 absolute on logits of
  // O(10).
  EXPECT_TRUE(torch::allclose(a(ids), b(ids), 1e-3, 1e-3));
}

TEST(Gpu, FusedAdamWMatchesReference) {
  REQUIRE_CUDA();
  torch::manual_seed(1);
  auto p = torch::randn({64, 32}, torch::kCUDA).requires_grad_(true);
  auto q = p.detach().cpu().clone().requires_grad_(true);
  AdamW gpu({p}, {}), cpu({q}, {});
  EXPECT_EQ(gpu.fused(), TORCH_VERSION_MAJOR >= 2);
  for (int i = 0; i < 10; ++i) {
    auto g = torch::randn({64, 32});
    p.mutable_grad() = g.to(torch::kCUDA);
    q.mutable_grad() = g.clone();
    gpu.step(1e-2);
    cpu.step(1e-2);
  }
  EXPECT_TRUE(torch::allclose(p.cpu(), q, 1e-5, 1e-6));
}

// 60 bf16-mixed steps of a 2-layer model on a periodic sequence of 20,000 tokens written in `dir`.
TrainConfig periodic_cuda_run(const std::filesystem::path& dir) {
  std::vector<uint16_t> ids(20000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint16_t>((i * 7919) % 500);
  test_util::write_token_file(dir / "t.bin", ids);
  TrainConfig c;
  c.model.vocab_size = 512;
  c.model.context_length = 128;
  c.model.d_model = 128;
  c.model.n_layers = 2;
  c.model.n_heads = 4;
  c.train_data = (dir / "t.bin").string();
  c.val_data = c.train_data;
  c.out_dir = (dir / "run").string();
  c.batch_size = 16;
  c.max_steps = 60;
  c.lr_max = 3e-3;
  c.device = "cuda";
  c.precision = accounting::Precision::kBf16Mixed;
  c.quiet = true;
  return c;
}

TEST(Gpu, TrainerRunsBf16MixedOnCuda) {
  REQUIRE_CUDA();
  if (TORCH_VERSION_MAJOR < 2) GTEST_SKIP() << "bf16-mixed needs LibTorch >= 2";
  TrainConfig c = periodic_cuda_run(testing::fresh_dir("gpu_trainer"));
  TrainResult r = run_training(c);
  EXPECT_EQ(r.status, "done");
  EXPECT_LT(r.final_val_loss, 4.0);  // a periodic sequence: learnable well below ln(512) = 6.2
  EXPECT_GT(r.mfu, 0);
}

// The same run with the LM head's matmuls in FP8 learns as well (the bar above), and says so in
// its config; with the fused bf16 head (the default) the run is the one above.
TEST(Gpu, TrainerRunsTheFp8HeadOnCuda) {
  REQUIRE_CUDA();
  if (!model::fp8_head_built()) GTEST_SKIP() << "needs the CUDA kernels and LibTorch >= 2.1";
  auto dir = testing::fresh_dir("gpu_trainer_fp8");
  TrainConfig c = periodic_cuda_run(dir);
  c.out_dir = (dir / "bf16").string();
  const TrainResult bf16 = run_training(c);
  c.fp8_head = true;
  c.out_dir = (dir / "fp8").string();
  const TrainResult fp8 = run_training(c);
  EXPECT_EQ(fp8.status, "done");
  EXPECT_LT(fp8.final_val_loss, 4.0);
  EXPECT_NEAR(fp8.final_val_loss, bf16.final_val_loss, 0.05 * bf16.final_val_loss)
      << "fp8 " << fp8.final_val_loss << " bf16 " << bf16.final_val_loss;
  // Shapes FP8's matmuls cannot take fail before anything is allocated, naming the fields.
  c.model.d_model = 120;
  c.model.n_heads = 4;
  c.out_dir = (dir / "odd").string();
  try {
    run_training(c);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fp8_head: FP8 matmuls need model.d_model (120)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "odd" / "checkpoint"));
}

// One step of a model of this shape on CUDA, on 20,000 tokens written under `name` (the memory
// checks' runs: the check comes before anything is allocated).
TrainConfig one_step_cuda_run(const std::string& name, int64_t d_model, int64_t n_layers,
                              int64_t n_heads) {
  auto dir = testing::fresh_dir(name);
  std::vector<uint16_t> ids(20000, 1);
  test_util::write_token_file(dir / "t.bin", ids);
  TrainConfig c;
  c.model.vocab_size = 512;
  c.model.context_length = 128;
  c.model.d_model = d_model;
  c.model.n_layers = n_layers;
  c.model.n_heads = n_heads;
  c.train_data = (dir / "t.bin").string();
  c.out_dir = (dir / "run").string();
  c.batch_size = 1;
  c.max_steps = 1;
  c.device = "cuda";
  c.precision =
      TORCH_VERSION_MAJOR >= 2 ? accounting::Precision::kBf16Mixed : accounting::Precision::kFp32;
  c.quiet = true;
  return c;
}

// A run the GPU cannot hold is refused before anything is allocated, with both numbers.
TEST(Gpu, TrainerRefusesARunLargerThanTheGpusFreeMemory) {
  REQUIRE_CUDA();
  // 48 layers × 12 d² ≈ 155B parameters: terabytes with AdamW.
  const TrainConfig c = one_step_cuda_run("gpu_memory", 16384, 48, 128);
  const std::string e = testing::error_of([&] { run_training(c); });
  EXPECT_NE(e.find("memory: this run needs about"), std::string::npos) << e;
  EXPECT_NE(e.find("the GPU (cuda"), std::string::npos) << e;
  EXPECT_NE(e.find("free; lower batch_size"), std::string::npos) << e;
}

// A run packed with others (a sweep's runs_per_gpu sets SCALELAB_GPU_SHARE for its workers) is
// checked against its share of the GPU, not against what its neighbours left free.
TEST(Gpu, PackedRunIsCheckedAgainstItsShareOfTheGpu) {
  REQUIRE_CUDA();
  // 8 layers × 12 d² ≈ 100M parameters: ~1.6 GB with AdamW.
  const TrainConfig c = one_step_cuda_run("gpu_share", 1024, 8, 16);
  ::setenv(kGpuShareEnv, "0.001", 1);  // ~140 MB of an H200
  const std::string e = testing::error_of([&] { run_training(c); });
  EXPECT_NE(e.find("memory: this run needs about"), std::string::npos) << e;
  EXPECT_NE(e.find("as its share (SCALELAB_GPU_SHARE=0.001)"), std::string::npos) << e;
  ::setenv(kGpuShareEnv, "2", 1);
  EXPECT_NE(
      testing::error_of([&] { run_training(c); }).find("SCALELAB_GPU_SHARE: must be a fraction"),
      std::string::npos);
  // The whole GPU as the share: the run trains (and the allocator's cap is back at 1).
  ::setenv(kGpuShareEnv, "1", 1);
  EXPECT_EQ(run_training(c).steps, 1);
  ::unsetenv(kGpuShareEnv);
}

TEST(Gpu, AutocastGuardComputesInBf16AndRestoresTheDtype) {
  REQUIRE_CUDA();
  if (TORCH_VERSION_MAJOR < 2) GTEST_SKIP() << "autocast needs LibTorch >= 2";
  auto a = torch::randn({8, 8}, torch::TensorOptions().device(torch::kCUDA));
  {
    AutocastGuard g(true);
    // CUDA autocast defaults to fp16; bf16-mixed must really be bf16 (an fp16 run without a loss
    // scaler stalls: found on the H100 with the sweep).
    EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kBFloat16);
  }
  EXPECT_EQ(torch::matmul(a, a).scalar_type(), torch::kFloat32);
}

// A real-text run in bf16-mixed reaches the loss the same run reaches in fp32 (within 2%): the
// precision must not change what is learned at this scale.
TEST(Gpu, Bf16MixedLearnsAsWellAsFp32) {
  REQUIRE_CUDA();
  if (TORCH_VERSION_MAJOR < 2) GTEST_SKIP() << "bf16-mixed needs LibTorch >= 2";
  auto dir = testing::fresh_dir("gpu_bf16_vs_fp32");
  // Text-like ids: a Zipfian unigram draw mixed with repeated phrases, deterministic.
  std::vector<uint16_t> ids(400000);
  uint64_t x = 12345;
  for (size_t i = 0; i < ids.size(); ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const double u = static_cast<double>(x >> 11) / 9007199254740992.0;
    ids[i] = (i % 64 < 32) ? static_cast<uint16_t>(std::min(1023.0, std::exp(u * 6.9)))
                           : static_cast<uint16_t>((i * 31) % 97 + 900);
  }
  test_util::write_token_file(dir / "t.bin", ids);
  auto run = [&](const std::string& precision) {
    TrainConfig c;
    c.model.vocab_size = 1024;
    c.model.context_length = 128;
    c.model.d_model = 128;
    c.model.n_layers = 2;
    c.model.n_heads = 2;
    c.train_data = (dir / "t.bin").string();
    c.val_data = c.train_data;
    c.eval_tokens = 32768;
    c.out_dir = (dir / precision).string();
    c.batch_size = 64;
    c.max_steps = 300;
    c.lr_max = 3e-3;
    c.device = "cuda";
    c.precision = accounting::parse_precision(precision);
    c.quiet = true;
    c.resume = false;
    return run_training(c).final_val_loss;
  };
  const double fp32 = run("fp32"), bf16 = run("bf16-mixed");
  EXPECT_LT(std::abs(bf16 - fp32) / fp32, 0.02) << "fp32 " << fp32 << " bf16-mixed " << bf16;
}

// The CUDA fast paths of RMSNorm (at::rms_norm) and RoPE (complex multiply) equal their plain
// references in value and gradient, also under bf16 autocast.
TEST(Gpu, LayerFastPathsMatchReferencesOnCuda) {
  REQUIRE_CUDA();
  torch::manual_seed(11);
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  model::RMSNorm norm(64);
  norm->to(torch::kCUDA);
  {
    torch::NoGradGuard g;
    norm->weight.copy_(torch::linspace(0.5, 1.5, 64, cuda));
  }
  for (bool bf16 : {false, true}) {
    auto x = (torch::randn({4, 32, 64}, cuda) * 3).requires_grad_(true);
    auto w = torch::randn({4, 32, 64}, cuda);
    torch::Tensor y, r;
    {
      AutocastGuard ac(bf16);
      y = norm(x);
      r = model::rms_norm_reference(x, norm->weight, 1e-5);
    }
    EXPECT_EQ(y.scalar_type(), r.scalar_type());
    EXPECT_TRUE(torch::allclose(y, r, 1e-5, 1e-5)) << "bf16 autocast " << bf16;
    auto gy = torch::autograd::grad({(y * w).sum()}, {x})[0];
    auto gr = torch::autograd::grad({(r * w).sum()}, {x})[0];
    EXPECT_TRUE(torch::allclose(gy, gr, 1e-4, 1e-5)) << "bf16 autocast " << bf16;
  }
  model::RotaryEmbedding rope(10000.0, 64, 128);
  rope->to(torch::kCUDA);
  auto pos = torch::arange(128, cuda.dtype(torch::kLong));
  auto q = torch::randn({2, 128, 4, 64}, cuda.dtype(torch::kBFloat16)).transpose(1, 2);
  auto fast = rope(q, pos);
  auto ref = model::rope_reference(q, rope->cos_cached.index({pos}), rope->sin_cached.index({pos}));
  EXPECT_EQ(fast.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(torch::allclose(fast.to(torch::kFloat32), ref.to(torch::kFloat32), 1e-2, 1e-2));
}

// Switches scalelab's CUDA kernels on or off for one scope (the switch is process-wide).
class KernelsSwitch {
 public:
  explicit KernelsSwitch(bool on) : before_(model::custom_kernels_enabled()) {
    model::set_custom_kernels(on);
  }
  ~KernelsSwitch() { model::set_custom_kernels(before_); }

 private:
  bool before_;
};

// ‖a − b‖ / ‖b‖ in fp64.
double rel_err(const torch::Tensor& a, const torch::Tensor& b) {
  auto a64 = a.to(torch::kFloat64), b64 = b.to(torch::kFloat64);
  return (a64 - b64).norm().item<double>() / b64.norm().item<double>();
}

#define REQUIRE_KERNELS()                                                                   \
  do {                                                                                      \
    REQUIRE_CUDA();                                                                         \
    if (!model::custom_kernels_built()) GTEST_SKIP() << "built without SCALELAB_WITH_CUDA"; \
  } while (0)

// The fused cross-entropy kernel equals the LibTorch path in loss and gradient, for fp32 and bf16
// logits, with the vectorised (V % 8 == 0) and the scalar (odd V) loops, on (B, T, V) logits.
TEST(Gpu, FusedCrossEntropyMatchesReference) {
  REQUIRE_KERNELS();
  torch::manual_seed(21);
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    for (int64_t V : {50304, 1001}) {
      auto base = (torch::randn({3, 40, V}, cuda) * 4).to(dtype);
      auto y = torch::randint(0, V, {3, 40}, cuda.dtype(torch::kLong));
      auto run = [&](bool ours) {
        KernelsSwitch k(ours);
        auto x = base.clone().requires_grad_(true);
        auto loss = cross_entropy(x, y);
        EXPECT_EQ(model::fused_cross_entropy(x, y).defined(), ours);
        (loss * 1.7).backward();  // a non-unit upstream gradient
        return std::make_pair(loss.detach(), x.grad());
      };
      auto [l_ours, g_ours] = run(true);
      auto [l_ref, g_ref] = run(false);
      const bool bf = dtype == torch::kBFloat16;
      EXPECT_LT(rel_err(l_ours, l_ref), 1e-5) << "V " << V << " bf16 " << bf;
      EXPECT_EQ(g_ours.scalar_type(), dtype);
      EXPECT_EQ(g_ours.sizes(), base.sizes());
      EXPECT_LT(rel_err(g_ours, g_ref), bf ? 1e-2 : 1e-5) << "V " << V << " bf16 " << bf;
    }
  }
  // A target outside the vocabulary makes the loss NaN (the trainer's NaN check stops the run)
  // rather than reading out of bounds.
  auto x = torch::randn({4, 64}, cuda);
  auto bad = torch::tensor({0, 5, 64, 1}, cuda.dtype(torch::kLong));
  EXPECT_TRUE(std::isnan(model::fused_cross_entropy(x, bad).item<double>()));
}

// The fused LM head + loss equals lm_head then cross_entropy (LibTorch's path) in loss and in the
// gradients of x and W, in fp32 and under bf16 autocast, with a non-unit upstream gradient; it
// steps aside (undefined) with gradients off and with the head switched off.
TEST(Gpu, FusedLinearCrossEntropyMatchesReference) {
  REQUIRE_KERNELS();
  torch::manual_seed(26);
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  for (bool bf16 : {false, true}) {
    for (int64_t V : {50304, 1000}) {
      const int64_t d = 64;
      auto x0 = torch::randn({3, 40, d}, cuda);
      auto w0 = torch::randn({V, d}, cuda) * 0.3;
      auto y = torch::randint(0, V, {3, 40}, cuda.dtype(torch::kLong));
      auto run = [&](bool ours) {
        KernelsSwitch k(ours);
        auto x = x0.clone().requires_grad_(true);
        auto w = w0.clone().requires_grad_(true);
        torch::Tensor loss;
        {
          AutocastGuard ac(bf16);
          auto xin = bf16 ? x.to(torch::kBFloat16) : x;  // the final norm's output dtype
          loss = ours ? model::fused_linear_cross_entropy(xin, w, y, false)
                      : cross_entropy(torch::matmul(xin, w.t()), y);
        }
        EXPECT_TRUE(loss.defined());
        (loss * 1.7).backward();
        return std::make_tuple(loss.detach(), x.grad(), w.grad());
      };
      auto [l_ours, gx_ours, gw_ours] = run(true);
      auto [l_ref, gx_ref, gw_ref] = run(false);
      EXPECT_LT(rel_err(l_ours, l_ref), bf16 ? 1e-4 : 1e-5) << "V " << V << " bf16 " << bf16;
      EXPECT_EQ(gw_ours.scalar_type(), torch::kFloat32);
      EXPECT_LT(rel_err(gx_ours, gx_ref), bf16 ? 2e-2 : 1e-5) << "V " << V << " bf16 " << bf16;
      EXPECT_LT(rel_err(gw_ours, gw_ref), bf16 ? 2e-2 : 1e-5) << "V " << V << " bf16 " << bf16;
    }
  }
  auto x = torch::randn({2, 8, 64}, cuda), w = torch::randn({512, 64}, cuda);
  auto y = torch::randint(0, 512, {2, 8}, cuda.dtype(torch::kLong));
  {
    torch::NoGradGuard ng;
    EXPECT_FALSE(model::fused_linear_cross_entropy(x, w, y, false).defined());
  }
  model::set_fused_head(false);
  EXPECT_FALSE(model::fused_linear_cross_entropy(x, w, y, false).defined());
  model::set_fused_head(true);
  EXPECT_TRUE(model::fused_linear_cross_entropy(x, w, y, false).defined());
}

#if SCALELAB_WITH_CUDA
// The byte transpose behind the FP8 head's operands, on sizes that leave partial 64 × 64 tiles.
TEST(Gpu, TransposeBytesTransposes) {
  REQUIRE_KERNELS();
  const auto cuda = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kUInt8);
  const std::vector<std::pair<int64_t, int64_t>> sizes{{68, 132}, {256, 64}, {4, 4}};
  for (const auto& [rows, cols] : sizes) {
    auto src = torch::randint(0, 256, {rows, cols}, cuda);
    auto dst = torch::empty({cols, rows}, cuda);
    ASSERT_EQ(model::cuda::transpose_bytes(src.data_ptr(), rows, cols, dst.data_ptr(),
                                           c10::cuda::getCurrentCUDAStream().stream()),
              nullptr);
    EXPECT_TRUE(torch::equal(dst, src.t())) << rows << " x " << cols;
  }
  auto src = torch::zeros({6, 8}, cuda), dst = torch::zeros({8, 6}, cuda);
  EXPECT_NE(model::cuda::transpose_bytes(src.data_ptr(), 6, 8, dst.data_ptr(), nullptr), nullptr);
}
#endif

// The FP8 head against the bf16 head on the same inputs: E4M3 carries 3 mantissa bits and E5M2 2,
// so a logit is off by ~2% and a gradient element by up to 12.5%, but the loss (an average over
// the rows) agrees to ~0.1% and the gradients point the same way (cosine > 0.98 measured as the
// bar; relative error < 0.15).
TEST(Gpu, Fp8HeadIsCloseToTheBf16Head) {
  REQUIRE_KERNELS();
  if (!model::fp8_head_built()) GTEST_SKIP() << "LibTorch < 2.1: no FP8";
  torch::manual_seed(27);
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  const int64_t d = 256, V = 8192;
  auto x0 = torch::randn({4, 64, d}, cuda);
  auto w0 = torch::randn({V, d}, cuda) * 0.06;
  auto y = torch::randint(0, V, {4, 64}, cuda.dtype(torch::kLong));
  auto run = [&](bool fp8) {
    auto x = x0.clone().requires_grad_(true);
    auto w = w0.clone().requires_grad_(true);
    torch::Tensor loss;
    {
      AutocastGuard ac(true);
      loss = model::fused_linear_cross_entropy(x.to(torch::kBFloat16), w, y, fp8);
    }
    (loss * 0.5).backward();
    return std::make_tuple(loss.item<double>(), x.grad(), w.grad());
  };
  auto [l8, gx8, gw8] = run(true);
  auto [l16, gx16, gw16] = run(false);
  auto cosine = [](const torch::Tensor& a, const torch::Tensor& b) {
    auto a64 = a.to(torch::kFloat64).flatten(), b64 = b.to(torch::kFloat64).flatten();
    return (a64.dot(b64) / (a64.norm() * b64.norm())).item<double>();
  };
  EXPECT_NEAR(l8, l16, 2e-3 * l16) << "fp8 " << l8 << " bf16 " << l16;
  EXPECT_EQ(gx8.scalar_type(), torch::kFloat32);
  EXPECT_EQ(gw8.scalar_type(), torch::kFloat32);
  EXPECT_GT(cosine(gx8, gx16), 0.98);
  EXPECT_GT(cosine(gw8, gw16), 0.98);
  EXPECT_LT(rel_err(gx8, gx16), 0.15);
  EXPECT_LT(rel_err(gw8, gw16), 0.15);
  std::cout << "fp8 head: loss " << l8 << " vs " << l16 << ", rel err dx " << rel_err(gx8, gx16)
            << " dW " << rel_err(gw8, gw16) << "\n";
  // Sizes FP8's matmuls do not take are an error, not a silent bf16 head.
  auto odd = torch::randn({2, 8, 72}, cuda);
  EXPECT_THROW(model::fused_linear_cross_entropy(
                   odd, torch::randn({V, 72}, cuda),
                   torch::randint(0, V, {2, 8}, cuda.dtype(torch::kLong)), true),
               Error);
}

// RoPE + QKV split equals narrow/view + rope_reference, forward and backward, with grouped-query
// heads, shifted positions, a strided (transposed) upstream gradient and an unused output.
TEST(Gpu, FusedRopeSplitMatchesReference) {
  REQUIRE_KERNELS();
  torch::manual_seed(22);
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  const int64_t B = 2, T = 48, H = 4, Hkv = 2, hd = 32;
  model::RotaryEmbedding rope(10000.0, hd, 128);
  rope->to(torch::kCUDA);
  auto pos = torch::arange(T, cuda.dtype(torch::kLong)) + 7;
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    auto base = torch::randn({B, T, (H + 2 * Hkv) * hd}, cuda).to(dtype);
    auto wq = torch::randn({B, H, T, hd}, cuda), wv = torch::randn({B, T, Hkv, hd}, cuda);
    auto x1 = base.clone().requires_grad_(true);
    auto [q, k, v] = model::fused_rope_split(x1, H, Hkv, rope->cos_cached, rope->sin_cached, pos);
    ASSERT_TRUE(q.defined());
    auto x2 = base.clone().requires_grad_(true);
    auto cos = rope->cos_cached.index({pos}), sin = rope->sin_cached.index({pos});
    auto part = [&](int64_t from, int64_t heads) {
      return x2.narrow(-1, from * hd, heads * hd).view({B, T, heads, hd});
    };
    auto rq = model::rope_reference(part(0, H).transpose(1, 2), cos, sin).transpose(1, 2);
    auto rk = model::rope_reference(part(H, Hkv).transpose(1, 2), cos, sin).transpose(1, 2);
    auto rv = part(H + Hkv, Hkv);
    const double tol = dtype == torch::kBFloat16 ? 1e-2 : 1e-6;
    EXPECT_LT(rel_err(q, rq), tol);
    EXPECT_LT(rel_err(k, rk), tol);
    EXPECT_EQ(rel_err(v, rv), 0.0);
    // k unused: its gradient arrives undefined and counts as zeros.
    ((q.transpose(1, 2) * wq).sum() + (v * wv).sum()).backward();
    ((rq.transpose(1, 2) * wq).sum() + (rv * wv).sum() + 0 * rk.sum()).backward();
    EXPECT_LT(rel_err(x1.grad(), x2.grad()), tol);
    EXPECT_EQ(x1.grad().narrow(-1, H * hd, Hkv * hd).abs().max().item<double>(), 0.0);
  }
}

// The fused SwiGLU product equals SiLU(a)·b in value and gradient.
TEST(Gpu, FusedSwigluMatchesReference) {
  REQUIRE_KERNELS();
  torch::manual_seed(23);
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    auto base = (torch::randn({6, 10, 2 * 96}, cuda) * 3).to(dtype);
    auto w = torch::randn({6, 10, 96}, cuda);
    auto x1 = base.clone().requires_grad_(true), x2 = base.clone().requires_grad_(true);
    auto y1 = model::fused_swiglu(x1);
    ASSERT_TRUE(y1.defined());
    auto parts = x2.to(torch::kFloat32).chunk(2, -1);
    auto y2 = torch::silu(parts[0]) * parts[1];
    const double tol = dtype == torch::kBFloat16 ? 1e-2 : 1e-6;
    EXPECT_EQ(y1.scalar_type(), dtype);
    EXPECT_LT(rel_err(y1, y2), tol);
    (y1 * w).sum().backward();
    (y2 * w).sum().backward();
    EXPECT_LT(rel_err(x1.grad(), x2.grad()), tol);
  }
}

// Residual add + RMSNorm equals x + a and rms_norm_reference in h, y and the gradients of x, a and
// the weight: every thread layout (d = 64, 96, 200, 768, 2048), enough rows that backward's groups
// loop, the three dtype mixes (fp32; fp32 stream with bf16 branch under autocast, y then bf16;
// bf16), with and without the add, with h used and unused; the weight gradient is bit-reproducible.
TEST(Gpu, FusedAddRmsNormMatchesReference) {
  REQUIRE_KERNELS();
  torch::manual_seed(26);
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  struct Mix {
    torch::ScalarType x, a;
    bool autocast;
    torch::ScalarType y;
  };
  const Mix mixes[] = {{torch::kFloat32, torch::kFloat32, false, torch::kFloat32},
                       {torch::kFloat32, torch::kBFloat16, true, torch::kBFloat16},
                       {torch::kBFloat16, torch::kBFloat16, false, torch::kBFloat16}};
  const std::pair<int64_t, int64_t> shapes[] = {{111, 64},  {20000, 64}, {111, 96},
                                                {111, 200}, {300, 768},  {70, 2048}};
  for (const auto& [rows, d] : shapes) {
    for (const Mix& m : mixes) {
      for (bool add : {true, false}) {
        for (bool use_h : {true, false}) {
          if (!add && use_h) continue;  // without an add h is x itself
          const std::string where = "rows " + std::to_string(rows) + " d " + std::to_string(d) +
                                    " add " + std::to_string(add) + " use_h " +
                                    std::to_string(use_h) + " y bf16 " +
                                    std::to_string(m.y == torch::kBFloat16);
          auto xb = torch::randn({rows, d}, cuda).to(m.x);
          auto ab = torch::randn({rows, d}, cuda).to(m.a);
          auto wb = 1 + 0.3 * torch::randn({d}, cuda);
          auto gy = torch::randn({rows, d}, cuda), gh = torch::randn({rows, d}, cuda);
          auto run = [&](bool ours) {
            auto x = xb.clone().requires_grad_(true), a = ab.clone().requires_grad_(true);
            auto w = wb.clone().requires_grad_(true);
            torch::Tensor h, y;
            {
              AutocastGuard ac(m.autocast);
              if (ours) {
                std::tie(h, y) = model::fused_add_rms_norm(x, add ? a : torch::Tensor(), w, 1e-5);
                EXPECT_TRUE(y.defined()) << where;
                if (!y.defined()) return std::vector<torch::Tensor>{};
                EXPECT_EQ(y.scalar_type(), m.y) << where;
                EXPECT_EQ(h.scalar_type(), m.x) << where;
              } else {
                h = add ? x + a : x;
                y = model::rms_norm_reference(h, w, 1e-5);
              }
            }
            auto loss = (y.to(torch::kFloat32) * gy).sum();
            if (use_h) loss = loss + (h.to(torch::kFloat32) * gh).sum();
            loss.backward();
            std::vector<torch::Tensor> out = {h.detach(), y.detach(), x.grad(), w.grad()};
            if (add) out.push_back(a.grad());
            return out;
          };
          auto ours = run(true);
          if (ours.empty()) continue;
          auto ref = run(false);
          const bool bf = m.x == torch::kBFloat16 || m.y == torch::kBFloat16;
          const double tol = bf ? 1e-2 : 1e-5;
          const char* names[] = {"h", "y", "dx", "dw", "da"};
          for (size_t i = 0; i < ours.size(); ++i)
            EXPECT_LT(rel_err(ours[i], ref[i]), tol) << names[i] << " " << where;
          if (add) {
            EXPECT_EQ(ours[4].scalar_type(), m.a) << where;
          }
          EXPECT_TRUE(torch::equal(ours[3], run(true)[3])) << "dw not reproducible " << where;
        }
      }
    }
  }
}

// The whole model with scalelab's kernels equals the model without them: logits, loss and every
// parameter's gradient, in fp32 and under bf16 autocast.
TEST(Gpu, ModelWithCustomKernelsMatchesLibTorchPath) {
  REQUIRE_KERNELS();
  accounting::ModelShape s = accounting::find_model_preset("cs336-tinystories").shape;
  s.n_layers = 2;
  s.n_kv_heads = 8;
  torch::manual_seed(24);
  model::TransformerLM m(s, model::ModelOptions{});
  m->to(torch::kCUDA);
  auto ids = torch::randint(0, s.vocab_size, {4, 128},
                            torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA));
  auto y = torch::randint(0, s.vocab_size, {4, 128},
                          torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA));
  for (bool bf16 : {false, true}) {
    auto run = [&](bool ours) {
      KernelsSwitch k(ours);
      for (auto& p : m->parameters()) p.mutable_grad() = torch::Tensor();
      torch::Tensor loss;
      {
        AutocastGuard ac(bf16);
        loss = lm_loss(m, ids, y);  // ours: the fused head + loss; else lm_head and cross_entropy
      }
      loss.backward();
      std::vector<torch::Tensor> grads;
      for (auto& p : m->parameters()) grads.push_back(p.grad().clone());
      return std::make_pair(loss.item<double>(), grads);
    };
    auto [l_ours, g_ours] = run(true);
    auto [l_ref, g_ref] = run(false);
    EXPECT_NEAR(l_ours, l_ref, bf16 ? 2e-3 : 1e-5) << "bf16 " << bf16;
    for (size_t i = 0; i < g_ours.size(); ++i)
      EXPECT_LT(rel_err(g_ours[i], g_ref[i]), bf16 ? 3e-2 : 1e-4)
          << "parameter " << i << " bf16 " << bf16;
  }
}

// Gradient clipping on CUDA (multi-tensor kernels on LibTorch 2.x) equals the CPU computation.
TEST(Gpu, ClippingOnCudaMatchesCpu) {
  REQUIRE_CUDA();
  torch::manual_seed(25);
  std::vector<torch::Tensor> cpu, gpu;
  for (int64_t n : {7, 300, 4096}) {
    auto p = torch::zeros({n}, torch::requires_grad());
    p.mutable_grad() = torch::randn({n});
    cpu.push_back(p);
    auto q = torch::zeros({n}, torch::TensorOptions().device(torch::kCUDA).requires_grad(true));
    q.mutable_grad() = p.grad().to(torch::kCUDA);
    gpu.push_back(q);
  }
  auto a = clip_grad_norm(cpu, 1.0), b = clip_grad_norm(gpu, 1.0);
  EXPECT_NEAR(a.item<double>(), b.item<double>(), 1e-4 * a.item<double>());
  for (size_t i = 0; i < cpu.size(); ++i)
    EXPECT_TRUE(torch::allclose(cpu[i].grad(), gpu[i].grad().cpu(), 1e-5, 1e-6));
  // Below the threshold nothing changes.
  auto c = clip_grad_norm(gpu, 1e6);
  EXPECT_NEAR(c.item<double>(), 1.0, 1e-4);
}

// The train losses logged every 5 steps of a run (metrics.jsonl).
std::vector<double> logged_losses(const std::filesystem::path& run) {
  std::vector<double> out;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string line; std::getline(in, line);)
    out.push_back(json::Json::parse(line)["train_loss"].get<double>());
  return out;
}

TrainConfig graph_config(const std::filesystem::path& dir, const std::string& run) {
  std::vector<uint16_t> ids(40000);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<uint16_t>((i * 7919 + i / 7) % 500);
  if (!std::filesystem::exists(dir / "t.bin")) test_util::write_token_file(dir / "t.bin", ids);
  TrainConfig c;
  c.model.vocab_size = 512;
  c.model.context_length = 64;
  c.model.d_model = 128;
  c.model.n_layers = 3;
  c.model.n_heads = 4;
  c.train_data = (dir / "t.bin").string();
  c.val_data = c.train_data;
  c.out_dir = (dir / run).string();
  c.batch_size = 8;
  c.grad_accum = 2;
  c.max_steps = 40;
  c.log_interval = 5;
  c.lr_max = 3e-3;
  c.device = "cuda";
  c.precision = accounting::Precision::kBf16Mixed;
  c.quiet = true;
  return c;
}

// CUDA graphs replay the eager step's kernels: a graphed run (3 eager steps, then replays of the
// captured micro-batch and update graphs, with the schedule's lr read from the device) logs the
// same losses as the eager run, and a run interrupted and resumed with graphs ends where an
// uninterrupted one does (the fused AdamW's device step count is restored from the checkpoint).
TEST(Gpu, CudaGraphStepMatchesEagerStep) {
  REQUIRE_CUDA();
  if (!GraphedStep::available(torch::Device(torch::kCUDA)) || TORCH_VERSION_MAJOR < 2 ||
      !model::custom_kernels_built())
    GTEST_SKIP() << "CUDA graphs need a SCALELAB_WITH_CUDA build with LibTorch >= 2";
  auto dir = testing::fresh_dir("gpu_graphs");
  TrainConfig eager = graph_config(dir, "eager");
  eager.cuda_graphs = false;
  TrainConfig graphed = graph_config(dir, "graphed");
  const TrainResult a = run_training(eager), b = run_training(graphed);
  ASSERT_EQ(a.status, "done");
  ASSERT_EQ(b.status, "done");
  const auto la = logged_losses(dir / "eager"), lb = logged_losses(dir / "graphed");
  ASSERT_EQ(la.size(), 8u);
  ASSERT_EQ(lb.size(), la.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(lb[i], la[i], 2e-3 * la[i]) << "log " << i;
  EXPECT_LT(la.back(), la.front() - 1.0);  // it learned
  EXPECT_NEAR(b.final_val_loss, a.final_val_loss, 2e-3 * a.final_val_loss);
  // Interrupted at step 20, resumed: the same end.
  TrainConfig first = graph_config(dir, "resumed");
  first.stop_at_step = 20;
  EXPECT_EQ(run_training(first).status, "interrupted");
  TrainConfig second = graph_config(dir, "resumed");
  const TrainResult c = run_training(second);
  ASSERT_EQ(c.status, "done");
  EXPECT_NEAR(c.final_val_loss, b.final_val_loss, 2e-3 * b.final_val_loss);
}

// A cooldown branch on CUDA (bf16-mixed, CUDA graphs): a 40-step WSD parent keeps a checkpoint at
// step 24, the cooldown start of a 30-step run; the branch from it ends where the whole 30-step WSD
// run does (the CPU trainer test holds this bit for bit; here within the GPU's run-to-run noise).
TEST(Gpu, CooldownBranchMatchesTheWholeWsdRunOnCuda) {
  REQUIRE_CUDA();
  if (TORCH_VERSION_MAJOR < 2) GTEST_SKIP() << "bf16-mixed training needs LibTorch >= 2";
  auto dir = testing::fresh_dir("gpu_branch");
  auto wsd = [&](const std::string& run, int64_t steps) {
    TrainConfig c = graph_config(dir, run);
    c.lr_schedule = LrScheduleKind::kWsd;
    c.warmup_steps = 4;
    c.max_steps = steps;
    return c;
  };
  TrainConfig parent = wsd("parent", 40);
  parent.branch_steps = {24};
  ASSERT_EQ(run_training(parent).status, "done");
  TrainConfig branch = wsd("branch", 30);
  branch.branch_from = (dir / "parent" / "branch-24").string();
  const TrainResult b = run_training(branch);
  ASSERT_EQ(b.status, "done");
  EXPECT_EQ(b.branch_step, 24);
  EXPECT_NEAR(b.flops_spent, b.flops * 6.0 / 30.0, 1e-6 * b.flops);
  const TrainResult whole = run_training(wsd("whole", 30));
  ASSERT_EQ(whole.status, "done");
  EXPECT_NEAR(b.final_val_loss, whole.final_val_loss, 2e-3 * whole.final_val_loss);
  EXPECT_NEAR(b.final_train_loss, whole.final_train_loss, 5e-3 * whole.final_train_loss);
}

// The fused AdamW resumes its bias correction at the restored step (set_steps reaches the device's
// step count), as the reference does.
TEST(Gpu, FusedAdamWResumesAtTheRestoredStep) {
  REQUIRE_CUDA();
  if (TORCH_VERSION_MAJOR < 2) GTEST_SKIP() << "the fused AdamW needs LibTorch >= 2";
  torch::manual_seed(3);
  auto p = torch::randn({64}, torch::requires_grad());
  auto q = p.detach().to(torch::kCUDA).requires_grad_(true);
  AdamW cpu({p}, {}), gpu({q}, {});
  ASSERT_TRUE(gpu.fused());
  cpu.set_steps(7);
  gpu.set_steps(7);
  for (int i = 0; i < 3; ++i) {
    auto g = torch::randn({64});
    p.mutable_grad() = g.clone();
    q.mutable_grad() = g.to(torch::kCUDA);
    cpu.step(1e-2);
    gpu.step(torch::full({}, 1e-2, torch::TensorOptions().device(torch::kCUDA)));
  }
  EXPECT_TRUE(torch::allclose(p.detach(), q.detach().cpu(), 1e-5, 1e-6));
  EXPECT_EQ(gpu.steps(), 10);
}

// The NCCL path with a world of one (torchrun --nproc-per-node 1): parameters broadcast, gradients
// in NCCL-all-reduced buckets between the CUDA graphs, sums at the sync points. With one rank the
// all-reduce is the identity and nothing is divided, so the losses are the plain path's up to the
// GPU's own run-to-run noise (backward kernels that accumulate with atomics, e.g. the embedding's:
// two plain runs differ in the 5th-6th digit), with CudaGraphStepMatchesEagerStep's tolerance.
TEST(Gpu, NcclWorldOfOneTrainsAsThePlainPath) {
  REQUIRE_CUDA();
  if (!nccl_built()) GTEST_SKIP() << "built without NCCL headers";
  auto dir = testing::fresh_dir("gpu_nccl");
  TrainConfig plain = graph_config(dir, "plain"), dp = graph_config(dir, "nccl");
  const TrainResult a = run_training(plain);
  const World world{.rank = 0,
                    .size = 1,
                    .local_rank = 0,
                    .master_addr = "127.0.0.1",
                    .master_port = free_tcp_port(),
                    .launcher = "torchrun"};
  const TrainResult b = Trainer(dp, world).run();
  ASSERT_EQ(b.status, "done");
  const auto la = logged_losses(dir / "plain"), lb = logged_losses(dir / "nccl");
  ASSERT_EQ(la.size(), 8u);
  ASSERT_EQ(lb.size(), la.size());
  for (size_t i = 0; i < la.size(); ++i) EXPECT_NEAR(lb[i], la[i], 2e-3 * la[i]) << "log " << i;
  EXPECT_NEAR(b.final_val_loss, a.final_val_loss, 2e-3 * a.final_val_loss);
  EXPECT_EQ(json::read_file(dir / "nccl" / "checkpoint" / "state.json")["world_size"], 1);
}

}  // namespace
}  // namespace scalelab::train
