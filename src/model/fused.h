// Fused operations for the training step on CUDA, each an autograd function over scalelab's own
// kernels (src/model/cuda/kernels.h), each equal to a plain LibTorch computation that stays the
// reference and the path everywhere else: on the CPU, in builds without SCALELAB_WITH_CUDA, for
// shapes the kernels do not take (an innermost size not a multiple of 8), and when switched off
// with set_custom_kernels(false). tests/train/gpu_test.cpp checks each against its reference.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <tuple>
#include <utility>

namespace scalelab::model {

// Whether this build has the CUDA kernels (SCALELAB_WITH_CUDA=ON).
bool custom_kernels_built();
// Process-wide switch, on by default; off makes every op below take its LibTorch path (for
// benchmarks and tests that compare the two).
void set_custom_kernels(bool on);
bool custom_kernels_enabled();
// The fused residual add + RMSNorm alone (on by default; under set_custom_kernels): off measures
// its gain against the other kernels (train_bench --kernels no-norm).
void set_fused_norm(bool on);
// The fused LM head + loss alone (on by default; under set_custom_kernels), the same way.
void set_fused_head(bool on);

// Mean cross-entropy of logits (..., V) against integer targets (...): the fused kernel keeps the
// logits in their own dtype (bf16 under autocast), saves only a per-row fp32 log-sum-exp, and
// writes the gradient directly in the logits' dtype. Undefined tensor when the kernel does not
// apply (the caller then takes its reference path).
torch::Tensor fused_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets);

// The LM head and the mean cross-entropy in one autograd node: logits = x·Wᵀ for x (..., d) and W
// (V, d), reduced to the loss by a kernel that overwrites them with their own gradient, so the
// logits are never read twice and no gradient buffer is allocated (the memory of the saved logits
// only). With fp8, the three matmuls run in FP8 on the tensor cores (E4M3 x and W, E5M2 gradient,
// per-tensor scales; needs d, V and the token count multiples of 16, else it throws). Undefined
// (the caller then runs lm_head and cross_entropy) when the kernel does not apply: off CUDA, with
// gradients off (evaluation), V not a multiple of 8.
torch::Tensor fused_linear_cross_entropy(const torch::Tensor& x, const torch::Tensor& weight,
                                         const torch::Tensor& targets, bool fp8);
// Whether this build can run the FP8 head (the CUDA kernels and LibTorch >= 2.1).
bool fp8_head_built();

// q, k, v from the fused QKV projection's output qkv (B, T, (H + 2·Hkv)·hd), q and k rotated by
// RoPE with the tables cos/sin (max_pos, hd/2) at `positions` (T). Returns them as (B, T, heads,
// hd) contiguous tensors (transpose(1, 2) gives attention's (B, heads, T, hd)). Undefined tensors
// when the kernel does not apply.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> fused_rope_split(
    const torch::Tensor& qkv, int64_t n_heads, int64_t n_kv_heads, const torch::Tensor& cos,
    const torch::Tensor& sin, const torch::Tensor& positions);

// SiLU(a) ⊙ b for h = [a | b] (..., 2f) → (..., f). Undefined when the kernel does not apply.
torch::Tensor fused_swiglu(const torch::Tensor& h);

// h = x + a (a undefined: h = x) and RMSNorm(h) · weight, in one kernel that reads x and a once and
// writes h and the normalised y once: {h, y}. y has the dtype of the matmul that reads it: bf16
// under CUDA bf16 autocast, else x's. The backward writes x's and a's gradients in their dtypes and
// sums the weight's gradient without atomics. Undefined tensors when the kernel does not apply (d
// not a multiple of 8 or above 2048, dtypes it lacks, an fp32 weight not on the device).
std::pair<torch::Tensor, torch::Tensor> fused_add_rms_norm(const torch::Tensor& x,
                                                           const torch::Tensor& a,
                                                           const torch::Tensor& weight, double eps);

}  // namespace scalelab::model
