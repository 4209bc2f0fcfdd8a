#include "train/optim.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.h"

namespace scalelab::train {
namespace {

TEST(Optim, AdamWEqualsTorchAdamW) {
  torch::manual_seed(0);
  auto p1 = torch::randn({7, 5}).requires_grad_(true);
  auto q1 = torch::randn({3}).requires_grad_(true);
  auto p2 = p1.detach().clone().requires_grad_(true);
  auto q2 = q1.detach().clone().requires_grad_(true);
  AdamWOptions o{0.9, 0.95, 1e-8, 0.1};
  AdamW ours({p1, q1}, o);
  torch::optim::AdamW ref(
      {p2, q2}, torch::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-8).weight_decay(0.1));
  for (int step = 0; step < 25; ++step) {
    auto g = torch::randn({7, 5}), h = torch::randn({3});
    p1.mutable_grad() = g.clone();
    q1.mutable_grad() = h.clone();
    p2.mutable_grad() = g.clone();
    q2.mutable_grad() = h.clone();
    ours.step(1e-2);
    ref.step();
  }
  // Tolerance from the issue: 1e-6 (same fp32 arithmetic, different operation order).
  EXPECT_TRUE(torch::allclose(p1, p2, 0, 1e-6)) << (p1 - p2).abs().max().item<double>();
  EXPECT_TRUE(torch::allclose(q1, q2, 0, 1e-6));
  EXPECT_EQ(ours.steps(), 25);
  ours.zero_grad();
  EXPECT_FALSE(p1.grad().defined());
}

TEST(Optim, ClippingScalesToTheGlobalNorm) {
  auto a = torch::zeros({2}).requires_grad_(true), b = torch::zeros({1}).requires_grad_(true);
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  auto n = clip_grad_norm({a, b}, 1.0);
  EXPECT_NEAR(n.item<double>(), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 / (5.0 + 1e-6), 1e-7);
  EXPECT_NEAR(b.grad()[0].item<double>(), 4.0 / (5.0 + 1e-6), 1e-7);
  auto m = clip_grad_norm({a, b}, 10.0);  // below the threshold: unchanged
  EXPECT_NEAR(m.item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<double>(), 4.0 / (5.0 + 1e-6), 1e-7);
}

// Off CUDA the language-model loss is lm_head then cross_entropy (the fused head is CUDA only),
// for an untied and a tied head; the FP8 head is refused rather than run in another precision.
TEST(Optim, LmLossIsTheHeadThenCrossEntropyOnCpu) {
  accounting::ModelShape s;
  s.vocab_size = 64;
  s.context_length = 16;
  s.d_model = 32;
  s.n_layers = 1;
  s.n_heads = 2;
  for (bool tied : {false, true}) {
    s.tied_embeddings = tied;
    torch::manual_seed(3);
    model::TransformerLM m(s);
    auto x = torch::randint(0, 64, {2, 16}, torch::kLong),
         y = torch::randint(0, 64, {2, 16}, torch::kLong);
    EXPECT_TRUE(torch::allclose(lm_loss(m, x, y), cross_entropy(m(x), y))) << "tied " << tied;
    EXPECT_TRUE(torch::allclose(m(x), m->head(m->hidden(x))));
    EXPECT_THROW(lm_loss(m, x, y, /*fp8_head=*/true), Error);
  }
}

TEST(Optim, CrossEntropyIsStableAndMatchesTorch) {
  torch::manual_seed(1);
  auto logits = torch::randn({4, 6, 11}) * 3;
  auto targets = torch::randint(0, 11, {4, 6}, torch::kLong);
  auto ref = torch::nn::functional::cross_entropy(logits.reshape({-1, 11}), targets.reshape({-1}));
  EXPECT_NEAR(cross_entropy(logits, targets).item<double>(), ref.item<double>(), 1e-5);
  auto big = torch::tensor({{1000.0f, 0.0f, -1000.0f}});
  EXPECT_NEAR(cross_entropy(big, torch::tensor({0}, torch::kLong)).item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(cross_entropy(big, torch::tensor({1}, torch::kLong)).item<double>(), 1000.0, 1e-3);
}

TEST(Optim, CrossEntropyGradientMatchesTorch) {
  torch::manual_seed(2);
  auto targets = torch::randint(0, 13, {3, 5}, torch::kLong);
  for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
    auto base = torch::randn({3, 5, 13}) * 4;
    auto a = base.to(dtype).detach().requires_grad_(true);
    auto b = base.to(dtype).detach().requires_grad_(true);
    (cross_entropy(a, targets) * 2.5).backward();
    (torch::nn::functional::cross_entropy(b.to(torch::kFloat32).reshape({-1, 13}),
                                          targets.reshape({-1})) *
     2.5)
        .backward();
    EXPECT_EQ(a.grad().scalar_type(), dtype);
    // fp32: same math, different order (1e-6); bf16: the gradient is rounded to 8 mantissa bits.
    const double tol = dtype == torch::kFloat32 ? 1e-6 : 1e-2;
    EXPECT_TRUE(
        torch::allclose(a.grad().to(torch::kFloat32), b.grad().to(torch::kFloat32), tol, tol))
        << (a.grad().to(torch::kFloat32) - b.grad().to(torch::kFloat32)).abs().max().item<double>();
  }
}

}  // namespace
}  // namespace scalelab::train
