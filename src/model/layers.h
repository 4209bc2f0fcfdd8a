// The CS336 transformer's building blocks as LibTorch modules. Shapes are commented on every
// forward. Init (CS336 §3.4.1): Linear weights ~ truncated normal with σ² = 2/(d_in + d_out), cut
// at ±3σ; Embedding ~ truncated normal σ = 1, cut at ±3; RMSNorm gains = 1. No biases anywhere.
// Built only with LibTorch; on LibTorch ≥ 2.0 attention can use at::scaled_dot_product_attention.
#pragma once

#include <torch/torch.h>

#include <utility>

#include <cstdint>

namespace scalelab::model {

// In place: N(0, std²) truncated to [a, b] by the inverse-CDF method (as
// torch.nn.init.trunc_normal_).
void trunc_normal_(torch::Tensor t, double std, double a, double b);

// y = x Wᵀ with W: (d_out, d_in); x: (..., d_in) → (..., d_out).
class LinearImpl : public torch::nn::Module {
 public:
  LinearImpl(int64_t d_in, int64_t d_out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
};
TORCH_MODULE(Linear);

// ids: (...) int64 → (..., d_model). weight: (vocab, d_model).
class EmbeddingImpl : public torch::nn::Module {
 public:
  EmbeddingImpl(int64_t vocab_size, int64_t d_model);
  torch::Tensor forward(const torch::Tensor& ids);
  torch::Tensor weight;
};
TORCH_MODULE(Embedding);

// Every RMSNorm's epsilon (the export states it in config.json; import-hf requires it).
constexpr double kRmsNormEps = 1e-5;

// RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x²) + eps) · g, computed in fp32 and cast back to
// the input dtype. x: (..., d) → (..., d).
class RMSNormImpl : public torch::nn::Module {
 public:
  explicit RMSNormImpl(int64_t d, double eps = kRmsNormEps);
  torch::Tensor forward(const torch::Tensor& x);
  // The residual add and this norm: {h, forward(h)} with h = x + a (a undefined: h = x). On CUDA
  // one kernel does both (fused.h), and under bf16 autocast writes the normalised output in bf16.
  std::pair<torch::Tensor, torch::Tensor> forward_add(const torch::Tensor& x,
                                                      const torch::Tensor& a);
  torch::Tensor weight;
  double eps;
};
TORCH_MODULE(RMSNorm);

// SwiGLU (Shazeer 2020): W2(SiLU(W1 x) ⊙ W3 x). x: (..., d) → (..., d).
class SwiGLUImpl : public torch::nn::Module {
 public:
  SwiGLUImpl(int64_t d_model, int64_t d_ff);
  torch::Tensor forward(const torch::Tensor& x);
  Linear w1{nullptr}, w2{nullptr}, w3{nullptr};
};
TORCH_MODULE(SwiGLU);

// GPT-2's MLP: W2 GELU(W1 x) (tanh approximation). x: (..., d) → (..., d).
class GeluMlpImpl : public torch::nn::Module {
 public:
  GeluMlpImpl(int64_t d_model, int64_t d_ff);
  torch::Tensor forward(const torch::Tensor& x);
  Linear w1{nullptr}, w2{nullptr};
};
TORCH_MODULE(GeluMlp);

// Rotary position embeddings (Su et al. 2021), CS336 convention: pairs (x_{2k}, x_{2k+1}) rotate by
// θ_{i,k} = i / Θ^{2k/d}. cos/sin buffers: (max_seq_len, d/2), not parameters.
class RotaryEmbeddingImpl : public torch::nn::Module {
 public:
  RotaryEmbeddingImpl(double theta, int64_t head_dim, int64_t max_seq_len);
  // x: (..., T, head_dim), positions: (T) or (..., T) int64 → (..., T, head_dim).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& positions);
  torch::Tensor cos_cached, sin_cached;
};
TORCH_MODULE(RotaryEmbedding);

// The plain references the modules' fast paths are tested against (house style: keep the naive
// version next to the fast one). x: (..., d), weight: (d); x: (..., T, head_dim), cos/sin: (..., T,
// head_dim/2).
torch::Tensor rms_norm_reference(const torch::Tensor& x, const torch::Tensor& weight, double eps);
torch::Tensor rope_reference(const torch::Tensor& x, const torch::Tensor& cos,
                             const torch::Tensor& sin);

// Numerically stable softmax along dim (subtract the max first).
torch::Tensor stable_softmax(const torch::Tensor& x, int64_t dim);

// Plain attention: softmax(Q Kᵀ / √d_k, masked) V. q: (..., Tq, d_k), k: (..., Tk, d_k), v: (...,
// Tk, d_v), mask: (Tq, Tk) bool, true = may attend (or undefined for none) → (..., Tq, d_v).
torch::Tensor scaled_dot_product_attention(const torch::Tensor& q, const torch::Tensor& k,
                                           const torch::Tensor& v, const torch::Tensor& mask);

}  // namespace scalelab::model
