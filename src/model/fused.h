// Fused operations for the training step on CUDA, each an autograd function over scalelab's own
// kernels (src/model/cuda/kernels.h), each equal to a plain LibTorch computation that stays the
// reference and the path everywhere else: on the CPU, in builds without SCALELAB_WITH_CUDA, for
// shapes the kernels do not take (an innermost size not a multiple of 8), and when switched off
// with set_custom_kernels(false). tests/train/gpu_test.cpp checks each against its reference.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <tuple>

namespace scalelab::model {

// Whether this build has the CUDA kernels (SCALELAB_WITH_CUDA=ON).
bool custom_kernels_built();
// Process-wide switch, on by default; off makes every op below take its LibTorch path (for
// benchmarks and tests that compare the two).
void set_custom_kernels(bool on);
bool custom_kernels_enabled();

// Mean cross-entropy of logits (..., V) against integer targets (...): the fused kernel keeps the
// logits in their own dtype (bf16 under autocast), saves only a per-row fp32 log-sum-exp, and
// writes the gradient directly in the logits' dtype. Undefined tensor when the kernel does not
// apply (the caller then takes its reference path).
torch::Tensor fused_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets);

// q, k, v from the fused QKV projection's output qkv (B, T, (H + 2·Hkv)·hd), q and k rotated by
// RoPE with the tables cos/sin (max_pos, hd/2) at `positions` (T). Returns them as (B, T, heads,
// hd) contiguous tensors (transpose(1, 2) gives attention's (B, heads, T, hd)). Undefined tensors
// when the kernel does not apply.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> fused_rope_split(
    const torch::Tensor& qkv, int64_t n_heads, int64_t n_kv_heads, const torch::Tensor& cos,
    const torch::Tensor& sin, const torch::Tensor& positions);

// SiLU(a) ⊙ b for h = [a | b] (..., 2f) → (..., f). Undefined when the kernel does not apply.
torch::Tensor fused_swiglu(const torch::Tensor& h);

}  // namespace scalelab::model
