// scalelab's own CUDA kernels for the training step's memory-bound parts, as plain launchers: no
// LibTorch in here (src/model/fused.cpp wraps them as autograd functions), so nvcc never sees the
// LibTorch headers. Built only with SCALELAB_WITH_CUDA=ON.
//
// Every launcher enqueues its kernel on `stream` (a cudaStream_t) and returns nullptr, or the CUDA
// error string of the launch. Pointers are device pointers; "8-wide" means each thread moves 8
// elements (16 bytes in bf16) per load, so the innermost size must be a multiple of 8 and the
// buffers 16-byte aligned: the callers check both and otherwise take LibTorch's path.
//
// `dtype` is scalelab's one dtype vocabulary (common/dtype.h); the kernels take Dtype::kFp32 and
// Dtype::kBf16, and any other returns an error string without launching.
#pragma once

#include <cstdint>

#include "common/dtype.h"

namespace scalelab::model::cuda {

// Cross-entropy over rows of logits (rows, vocab), contiguous, in one pass per row with an online
// max/sum (Milakov & Gimelshein 2018): lse[r] = log Σ_j exp(x_rj) and loss[r] = lse[r] − x_r,t(r),
// both fp32. A target outside [0, vocab) gives loss NaN (the trainer stops on a NaN loss).
const char* cross_entropy_forward(Dtype dtype, const void* logits, int64_t rows, int64_t vocab,
                                  const int64_t* targets, float* loss, float* lse, void* stream);
// grad[r, j] = (exp(x_rj − lse[r]) − [j = t(r)]) · (*grad_loss) · scale, in the logits' dtype:
// the gradient of scale · Σ_r loss[r]. grad_loss is one fp32 on the device (no host sync).
const char* cross_entropy_backward(Dtype dtype, const void* logits, int64_t rows, int64_t vocab,
                                   const int64_t* targets, const float* lse, const float* grad_loss,
                                   float scale, void* grad_logits, void* stream);

// Both in one kernel, for the training step's fused LM head: loss[r] as cross_entropy_forward
// and grad[r, j] = (exp(x_rj − lse_r) − [j = t(r)]) · grad_scale, written in grad_dtype: the
// logits' dtype (grad may then be the logits themselves: each element is read before it is
// overwritten) or Dtype::kFp8, which here means FP8 E5M2 (round to nearest, saturating).
const char* cross_entropy_forward_grad(Dtype dtype, const void* logits, int64_t rows, int64_t vocab,
                                       const int64_t* targets, float* loss, float grad_scale,
                                       Dtype grad_dtype, void* grad, void* stream);
// dst (cols, rows) = srcᵀ for a (rows, cols) row-major matrix of 1-byte elements (FP8 operands);
// rows and cols multiples of 4, both buffers 4-byte aligned.
const char* transpose_bytes(const void* src, int64_t rows, int64_t cols, void* dst, void* stream);

// The fused QKV projection's output (batch, seq, (n_heads + 2·n_kv_heads)·head_dim), contiguous.
struct QkvShape {
  int64_t batch = 0, seq = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
};
// Element strides of a (batch, seq, heads, head_dim) tensor whose last dimension is contiguous.
struct Strides {
  int64_t batch = 0, seq = 0, head = 0;
};
// Split QKV into q (batch, seq, n_heads, head_dim), k and v (batch, seq, n_kv_heads, head_dim), all
// contiguous, rotating q and k by RoPE on the way: pairs (x_2i, x_2i+1) at position p turn by the
// angle whose cos/sin are cos[p, i], sin[p, i] (tables (max_pos, head_dim/2), fp32); math in fp32.
// A position outside [0, max_pos) writes NaN.
const char* rope_split_forward(Dtype dtype, const void* qkv, QkvShape shape, const float* cos,
                               const float* sin, int64_t max_pos, const int64_t* positions, void* q,
                               void* k, void* v, void* stream);
// The gradient of rope_split_forward: rotates dq and dk back (by −angle), copies dv, and writes
// one contiguous dqkv. A null gradient counts as zeros.
const char* rope_split_backward(Dtype dtype, const void* dq, Strides sq, const void* dk, Strides sk,
                                const void* dv, Strides sv, QkvShape shape, const float* cos,
                                const float* sin, int64_t max_pos, const int64_t* positions,
                                void* dqkv, void* stream);

// SwiGLU's elementwise part over h = [W1 x | W3 x] (rows, 2f), contiguous:
// out[r, j] = SiLU(h[r, j]) · h[r, f + j], out (rows, f); math in fp32.
const char* swiglu_forward(Dtype dtype, const void* h, int64_t rows, int64_t f, void* out,
                           void* stream);
// dh[r, j] = g · b · σ(a)(1 + a(1 − σ(a))), dh[r, f + j] = g · SiLU(a), with a = h[r, j],
// b = h[r, f + j], g = dout[r, j] (dout contiguous (rows, f)).
const char* swiglu_backward(Dtype dtype, const void* h, const void* dout, int64_t rows, int64_t f,
                            void* dh, void* stream);

// RMSNorm of the residual stream with the residual add fused in (llm.c's fused residual forward,
// for RMSNorm): h = x + a, rstd[r] = 1 / √(mean_j h_rj² + eps), y = h · rstd · w, math in fp32.
// `a` may be null (then h = x and h_out is not written). x, a, h_out, y are (rows, d) contiguous,
// d % 8 == 0 and d ≤ kMaxNormDim; w (d) and rstd (rows) fp32. The dtypes it takes are those of
// add_rms_norm_supported: x, a, y all fp32 or all bf16, or an fp32 residual stream with bf16
// branch outputs and normalised output (bf16 autocast); h_out has x's dtype.
constexpr int64_t kMaxNormDim = 2048;
bool add_rms_norm_supported(Dtype x, Dtype a, Dtype y);
const char* add_rms_norm_forward(Dtype x_dtype, const void* x, Dtype a_dtype, const void* a,
                                 const float* w, int64_t rows, int64_t d, float eps, void* h_out,
                                 Dtype y_dtype, void* y, float* rstd, void* stream);
// Its gradient. With ĥ = h · rstd and g = dy · w: dh_total = dh + rstd · (g − ĥ · mean_j(g · ĥ))
// (dh null counts as zeros), written to dx (x's dtype) and, unless da is null, to da (a's dtype).
// dw_partial (add_rms_norm_groups(rows, d), d) fp32 receives one partial sum of dy · ĥ per group of
// rows; the weight's gradient is their sum over the first dimension (no atomics: deterministic).
int64_t add_rms_norm_groups(int64_t rows, int64_t d);
const char* add_rms_norm_backward(Dtype x_dtype, const void* h, const void* dh, Dtype y_dtype,
                                  const void* dy, const float* w, const float* rstd, int64_t rows,
                                  int64_t d, void* dx, Dtype a_dtype, void* da, float* dw_partial,
                                  void* stream);

}  // namespace scalelab::model::cuda
