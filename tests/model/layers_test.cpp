#include "model/layers.h"

#include <gtest/gtest.h>

#include <cmath>

namespace scalelab::model {
namespace {

// Tolerances: fp32 arithmetic against float64 references → 1e-5 relative is several ulps of slack.

TEST(Layers, TruncatedNormalInit) {
  torch::manual_seed(0);
  Linear lin(300, 500);
  const double std = std::sqrt(2.0 / 800.0);
  auto w = lin->weight;
  EXPECT_LE(w.abs().max().item<double>(), 3 * std + 1e-7);
  // A normal truncated at ±3σ has standard deviation 0.9866σ.
  EXPECT_NEAR(w.std().item<double>(), 0.9866 * std, 0.01 * std);
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.01 * std);
  Embedding emb(1000, 64);
  EXPECT_LE(emb->weight.abs().max().item<double>(), 3.0 + 1e-6);
  EXPECT_NEAR(emb->weight.std().item<double>(), 0.9866, 0.02);
}

TEST(Layers, LinearAndEmbeddingMatchReference) {
  torch::manual_seed(1);
  Linear lin(4, 3);
  auto x = torch::randn({2, 5, 4});
  auto ref = torch::einsum("btd,od->bto", {x.to(torch::kFloat64), lin->weight.to(torch::kFloat64)});
  EXPECT_TRUE(torch::allclose(lin(x).to(torch::kFloat64), ref, 1e-5, 1e-6));
  Embedding emb(10, 3);
  auto ids = torch::tensor({{3, 9}, {0, 3}}, torch::kLong);
  auto e = emb(ids);
  EXPECT_TRUE(torch::equal(e[0][0], emb->weight[3]));
  EXPECT_TRUE(torch::equal(e[1][1], emb->weight[3]));
}

TEST(Layers, RMSNormComputesInFp32AndCastsBack) {
  torch::manual_seed(2);
  RMSNorm n(8);
  {
    torch::NoGradGuard g;
    n->weight.copy_(torch::linspace(0.5, 2.0, 8));
  }
  auto x = torch::randn({3, 8}) * 10;
  auto x64 = x.to(torch::kFloat64);
  auto ref = x64 / torch::sqrt(x64.pow(2).mean(-1, true) + 1e-5) * n->weight.to(torch::kFloat64);
  EXPECT_TRUE(torch::allclose(n(x).to(torch::kFloat64), ref, 1e-5, 1e-6));
  auto xb = x.to(torch::kBFloat16);
  auto yb = n(xb);
  EXPECT_EQ(yb.scalar_type(), torch::kBFloat16);
  EXPECT_TRUE(
      torch::allclose(yb.to(torch::kFloat64), ref, 2e-2, 2e-2));  // bf16 has 8 mantissa bits
}

TEST(Layers, SwiGLUMatchesReference) {
  torch::manual_seed(3);
  SwiGLU f(6, 10);
  auto x = torch::randn({2, 6}, torch::kFloat64);
  auto W1 = f->w1->weight.to(torch::kFloat64), W2 = f->w2->weight.to(torch::kFloat64),
       W3 = f->w3->weight.to(torch::kFloat64);
  auto a = x.matmul(W1.t());
  auto ref = ((a * torch::sigmoid(a)) * x.matmul(W3.t())).matmul(W2.t());
  EXPECT_TRUE(torch::allclose(f(x.to(torch::kFloat32)).to(torch::kFloat64), ref, 1e-5, 1e-6));
}

TEST(Layers, RopeMatchesPairwiseRotationAndIsRelative) {
  const int64_t d = 8, T = 12;
  RotaryEmbedding rope(10000.0, d, 64);
  torch::manual_seed(4);
  auto x = torch::randn({T, d}, torch::kFloat64);
  auto pos = torch::arange(T, torch::kLong);
  auto y = rope(x.to(torch::kFloat32), pos).to(torch::kFloat64);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t k = 0; k < d / 2; ++k) {
      double ang = static_cast<double>(i) / std::pow(10000.0, 2.0 * static_cast<double>(k) / d);
      double a = x[i][2 * k].item<double>(), b = x[i][2 * k + 1].item<double>();
      EXPECT_NEAR(y[i][2 * k].item<double>(), a * std::cos(ang) - b * std::sin(ang), 1e-5);
      EXPECT_NEAR(y[i][2 * k + 1].item<double>(), a * std::sin(ang) + b * std::cos(ang), 1e-5);
    }
  // Relative position: <R_m q, R_n k> depends only on m − n.
  auto q = torch::randn({1, d}), k = torch::randn({1, d});
  auto dot = [&](int64_t m, int64_t n) {
    auto qm = rope(q, torch::tensor({m}, torch::kLong)),
         kn = rope(k, torch::tensor({n}, torch::kLong));
    return (qm * kn).sum().item<double>();
  };
  EXPECT_NEAR(dot(5, 2), dot(13, 10), 1e-4);
  EXPECT_NEAR(dot(0, 7), dot(20, 27), 1e-4);
  EXPECT_GT(std::abs(dot(5, 2) - dot(5, 3)), 1e-4);
}

// The complex-multiply RoPE equals the slice-and-stack reference, values and gradients, for a
// non-contiguous (B, H, T, hd) input as attention passes it.
TEST(Layers, RopeFastPathMatchesReferenceWithGradients) {
  torch::manual_seed(9);
  const int64_t B = 2, T = 7, H = 3, hd = 8;
  RotaryEmbedding rope(10000.0, hd, 16);
  auto base = torch::randn({B, T, H, hd}, torch::requires_grad());
  auto pos = torch::arange(T, torch::kLong);
  auto x = base.transpose(1, 2);  // (B, H, T, hd), not contiguous
  auto w = torch::randn({B, H, T, hd});
  auto fast = rope(x, pos);
  auto g_fast = torch::autograd::grad({(fast * w).sum()}, {base})[0];
  auto ref = rope_reference(x, rope->cos_cached.index({pos}), rope->sin_cached.index({pos}));
  auto g_ref = torch::autograd::grad({(ref * w).sum()}, {base})[0];
  EXPECT_TRUE(torch::allclose(fast, ref, 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(g_fast, g_ref, 1e-6, 1e-6));
}

TEST(Layers, SoftmaxIsStableAndSdpaMatchesLoops) {
  auto x = torch::tensor({{1000.0, 1001.0, 999.0}, {-1000.0, 0.0, 1.0}});
  auto s = stable_softmax(x, -1);
  EXPECT_FALSE(s.isnan().any().item<bool>());
  EXPECT_TRUE(torch::allclose(s, torch::softmax(x.to(torch::kFloat64), -1).to(torch::kFloat32),
                              1e-6, 1e-7));
  torch::manual_seed(5);
  auto q = torch::randn({2, 4, 3}), k = torch::randn({2, 5, 3}), v = torch::randn({2, 5, 2});
  auto mask = torch::rand({4, 5}) > 0.3;
  mask.index_put_({torch::indexing::Slice(), 0}, true);  // every query sees at least one key
  auto out = scaled_dot_product_attention(q, k, v, mask);
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t i = 0; i < 4; ++i) {
      std::vector<double> w;
      double mx = -1e300;
      for (int64_t j = 0; j < 5; ++j) {
        double sc = mask[i][j].item<bool>()
                        ? (q[b][i] * k[b][j]).sum().item<double>() / std::sqrt(3.0)
                        : -INFINITY;
        w.push_back(sc);
        mx = std::max(mx, sc);
      }
      double z = 0;
      for (double& x2 : w) z += (x2 = std::exp(x2 - mx));
      for (int64_t c = 0; c < 2; ++c) {
        double ref = 0;
        for (int64_t j = 0; j < 5; ++j)
          ref += w[static_cast<size_t>(j)] / z * v[b][j][c].item<double>();
        EXPECT_NEAR(out[b][i][c].item<double>(), ref, 1e-5);
      }
    }
}

}  // namespace
}  // namespace scalelab::model
