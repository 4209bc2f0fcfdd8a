// Building blocks. Each has a test against a straightforward reference computation (tests/model).
#include "model/layers.h"

#include <torch/version.h>

#include <cmath>

#include "common/error.h"
#include "model/fused.h"

namespace scalelab::model {

void trunc_normal_(torch::Tensor t, double std, double a, double b) {
  torch::NoGradGuard ng;
  // Φ(x) = (1 + erf(x/√2)) / 2; sample u ~ U(Φ(a/σ), Φ(b/σ)), return σ·√2·erfinv(2u − 1), clamp for
  // safety.
  auto cdf = [](double x) { return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))); };
  const double lo = cdf(a / std), hi = cdf(b / std);
  t.uniform_(2 * lo - 1, 2 * hi - 1);
  t.erfinv_();
  t.mul_(std * std::sqrt(2.0));
  t.clamp_(a, b);
}

LinearImpl::LinearImpl(int64_t d_in, int64_t d_out) {
  weight = register_parameter("weight", torch::empty({d_out, d_in}));
  const double std = std::sqrt(2.0 / static_cast<double>(d_in + d_out));
  trunc_normal_(weight, std, -3 * std, 3 * std);
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  return torch::matmul(x, weight.t());  // (..., d_in) @ (d_in, d_out)
}

EmbeddingImpl::EmbeddingImpl(int64_t vocab_size, int64_t d_model) {
  weight = register_parameter("weight", torch::empty({vocab_size, d_model}));
  trunc_normal_(weight, 1.0, -3.0, 3.0);
}

torch::Tensor EmbeddingImpl::forward(const torch::Tensor& ids) {
  return torch::embedding(weight, ids);  // (...) → (..., d_model)
}

RMSNormImpl::RMSNormImpl(int64_t d, double eps_) : eps(eps_) {
  weight = register_parameter("weight", torch::ones({d}));
}

torch::Tensor rms_norm_reference(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  auto x32 = x.to(torch::kFloat32);                                          // (..., d)
  auto inv_rms = torch::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + eps);  // (..., 1)
  return (x32 * inv_rms * weight.to(torch::kFloat32)).to(x.scalar_type());
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
#if TORCH_VERSION_MAJOR >= 2
  // LibTorch 2.x on CUDA: one fused kernel instead of five elementwise passes over (..., d) in the
  // reference (pow, mean, rsqrt·x, ·g, cast). Same fp32 computation (GPU test against the
  // reference).
  if (x.is_cuda()) {
    return at::rms_norm(x.to(torch::kFloat32), {x.size(-1)}, weight.to(torch::kFloat32), eps)
        .to(x.scalar_type());
  }
#endif
  return rms_norm_reference(x, weight, eps);
}

std::pair<torch::Tensor, torch::Tensor> RMSNormImpl::forward_add(const torch::Tensor& x,
                                                                 const torch::Tensor& a) {
  auto fused = fused_add_rms_norm(x, a, weight, eps);
  if (fused.second.defined()) return fused;
  auto h = a.defined() ? x + a : x;
  return {h, forward(h)};
}

SwiGLUImpl::SwiGLUImpl(int64_t d_model, int64_t d_ff) {
  w1 = register_module("w1", Linear(d_model, d_ff));
  w2 = register_module("w2", Linear(d_ff, d_model));
  w3 = register_module("w3", Linear(d_model, d_ff));
}

torch::Tensor SwiGLUImpl::forward(const torch::Tensor& x) {
  if (x.is_cuda() && custom_kernels_enabled()) {
    // One (d → 2f) matmul over [W1; W3] and one fused SiLU·product kernel (fused.h): the product
    // saves only the matmul's output for backward, not SiLU(W1 x) as well.
    auto h = torch::matmul(x, torch::cat({w1->weight, w3->weight}).t());  // (..., 2f)
    auto a = fused_swiglu(h);                                             // (..., f)
    if (!a.defined()) {
      auto parts = h.chunk(2, -1);
      a = torch::silu(parts[0]) * parts[1];
    }
    return w2(a);  // (..., d)
  }
  return w2(torch::silu(w1(x)) * w3(x));  // (..., d) → (..., f) → (..., d)
}

GeluMlpImpl::GeluMlpImpl(int64_t d_model, int64_t d_ff) {
  w1 = register_module("w1", Linear(d_model, d_ff));
  w2 = register_module("w2", Linear(d_ff, d_model));
}

torch::Tensor GeluMlpImpl::forward(const torch::Tensor& x) {
  return w2(torch::gelu(w1(x), "tanh"));
}

RotaryEmbeddingImpl::RotaryEmbeddingImpl(double theta, int64_t head_dim, int64_t max_seq_len) {
  SCALELAB_CHECK(head_dim % 2 == 0, "RoPE needs an even head dimension, got {}", head_dim);
  auto k = torch::arange(0, head_dim / 2, torch::kFloat64);                     // (d/2)
  auto inv_freq = torch::pow(theta, -2.0 * k / static_cast<double>(head_dim));  // Θ^{-2k/d}
  auto pos = torch::arange(0, max_seq_len, torch::kFloat64);                    // (T)
  auto angles = torch::outer(pos, inv_freq);                                    // (T, d/2)
  cos_cached = register_buffer("cos_cached", torch::cos(angles).to(torch::kFloat32));
  sin_cached = register_buffer("sin_cached", torch::sin(angles).to(torch::kFloat32));
}

torch::Tensor RotaryEmbeddingImpl::forward(const torch::Tensor& x, const torch::Tensor& positions) {
  auto cos = cos_cached.index({positions});  // (..., T, d/2)
  auto sin = sin_cached.index({positions});
  // Each pair (x_2k, x_2k+1) is the complex number x_2k + i·x_2k+1 rotated by e^{iθ}: one complex
  // multiply in fp32 (cast, multiply, cast back: 3 passes) instead of the reference's strided
  // even/odd slices, four products, two sums and a stack (~12 passes over (B, H, T, head_dim) per
  // call, forward and backward). Splitting the last dimension is a view whenever it has stride 1,
  // as attention's transposed (B, H, T, hd) q and k do; the result keeps their layout.
  auto x32 = x.to(torch::kFloat32);  // (..., T, d)
  std::vector<int64_t> pairs = x32.sizes().vec();
  pairs.back() /= 2;
  pairs.push_back(2);
  auto xc = torch::view_as_complex(x32.view(pairs));                  // (..., T, d/2) complex64
  auto rotated = torch::view_as_real(xc * torch::complex(cos, sin));  // (..., T, d/2, 2)
  return rotated.flatten(-2).to(x.scalar_type());                     // (..., T, d)
}

torch::Tensor rope_reference(const torch::Tensor& x, const torch::Tensor& cos,
                             const torch::Tensor& sin) {
  auto x32 = x.to(torch::kFloat32);
  auto x_even =
      x32.index({"...", torch::indexing::Slice(0, torch::indexing::None, 2)});  // (..., T, d/2)
  auto x_odd = x32.index({"...", torch::indexing::Slice(1, torch::indexing::None, 2)});
  auto r_even = x_even * cos - x_odd * sin;
  auto r_odd = x_even * sin + x_odd * cos;
  return torch::stack({r_even, r_odd}, -1).flatten(-2).to(x.scalar_type());  // interleave back
}

torch::Tensor stable_softmax(const torch::Tensor& x, int64_t dim) {
  auto shifted = x - std::get<0>(x.max(dim, /*keepdim=*/true));
  auto e = shifted.exp();
  return e / e.sum(dim, /*keepdim=*/true);
}

torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k,
                                           const torch::Tensor& v, const torch::Tensor& mask) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;  // (..., Tq, Tk)
  if (mask.defined())
    scores = scores.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity());
  return torch::matmul(stable_softmax(scores, -1), v);  // (..., Tq, d_v)
}

}  // namespace scalelab::model
