// scalelab's CUDA kernels (see kernels.h for what each computes). All are memory-bound: the floor
// is the bytes each must move, and the notes by each kernel say how many that is.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "model/cuda/kernels.h"

namespace scalelab::model::cuda {
namespace {

using bf16 = __nv_bfloat16;

// 8 elements ↔ 8 floats. bf16: one 16-byte load (ld.global.v4); fp32: two. Element 2i is the low
// half of 32-bit word i (little-endian), and bf16 → fp32 is a 16-bit shift.
__device__ __forceinline__ void load8(const float* p, float v[8]) {
  const float4 a = reinterpret_cast<const float4*>(p)[0];
  const float4 b = reinterpret_cast<const float4*>(p)[1];
  v[0] = a.x, v[1] = a.y, v[2] = a.z, v[3] = a.w, v[4] = b.x, v[5] = b.y, v[6] = b.z, v[7] = b.w;
}
__device__ __forceinline__ void load8(const bf16* p, float v[8]) {
  const uint4 u = *reinterpret_cast<const uint4*>(p);
  const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    v[2 * i] = __uint_as_float(w[i] << 16);
    v[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
  }
}
__device__ __forceinline__ void store8(float* p, const float v[8]) {
  reinterpret_cast<float4*>(p)[0] = make_float4(v[0], v[1], v[2], v[3]);
  reinterpret_cast<float4*>(p)[1] = make_float4(v[4], v[5], v[6], v[7]);
}
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
  const __nv_bfloat162 h = __floats2bfloat162_rn(lo, hi);  // round to nearest even, as .to(bf16)
  return *reinterpret_cast<const uint32_t*>(&h);
}
__device__ __forceinline__ void store8(bf16* p, const float v[8]) {
  *reinterpret_cast<uint4*>(p) = make_uint4(pack_bf16x2(v[0], v[1]), pack_bf16x2(v[2], v[3]),
                                            pack_bf16x2(v[4], v[5]), pack_bf16x2(v[6], v[7]));
}
// FP8 E5M2 (the gradient of the FP8 LM head): round to nearest, saturating at ±57344.
using e5m2 = __nv_fp8_e5m2;
__device__ __forceinline__ uint32_t pack_e5m2x2(float lo, float hi) {
  return __nv_cvt_float2_to_fp8x2(make_float2(lo, hi), __NV_SATFINITE, __NV_E5M2);
}
__device__ __forceinline__ void store8(e5m2* p, const float v[8]) {
  *reinterpret_cast<uint2*>(p) =
      make_uint2(pack_e5m2x2(v[0], v[1]) | pack_e5m2x2(v[2], v[3]) << 16,
                 pack_e5m2x2(v[4], v[5]) | pack_e5m2x2(v[6], v[7]) << 16);
}
__device__ __forceinline__ void store1(e5m2* p, float v) {
  *reinterpret_cast<__nv_fp8_storage_t*>(p) = __nv_cvt_float_to_fp8(v, __NV_SATFINITE, __NV_E5M2);
}
__device__ __forceinline__ float load1(const float* p) { return *p; }
__device__ __forceinline__ float load1(const bf16* p) { return __bfloat162float(*p); }
__device__ __forceinline__ void store1(float* p, float v) { *p = v; }
__device__ __forceinline__ void store1(bf16* p, float v) { *p = __float2bfloat16_rn(v); }

const char* launch_status() {
  const cudaError_t e = cudaGetLastError();
  return e == cudaSuccess ? nullptr : cudaGetErrorString(e);
}
bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }
int64_t blocks_for(int64_t n, int threads) { return (n + threads - 1) / threads; }

// ---------------------------------------------------------------------------------------------
// Cross-entropy. One block per row. Forward reads the row once (2·V bytes in bf16: 3.3 GB for
// GPT-2's 32k × 50k logits, ≈ 1.1 ms at 3 TB/s); backward reads it once and writes the gradient
// once. LibTorch's path wrote fp32 log-probabilities, an fp32 gradient and its bf16 cast: ~20× the
// bytes.
constexpr int kCeThreads = 256;

// Merge two partial (max, Σ exp(x − max)) pairs.
__device__ __forceinline__ void merge(float& m, float& s, float om, float os) {
  const float nm = fmaxf(m, om);
  if (nm == -INFINITY) return;  // both empty so far
  s = (m == -INFINITY ? 0.f : s * __expf(m - nm)) + (om == -INFINITY ? 0.f : os * __expf(om - nm));
  m = nm;
}

// This thread's running (max, Σ exp(x − max)) over its share of one row.
template <typename T, bool kVec>
__device__ __forceinline__ void row_partial(const T* x, int64_t vocab, float& m, float& s) {
  m = -INFINITY, s = 0.f;
  if constexpr (kVec) {
    const int64_t n = vocab / 8;
#pragma unroll 2
    for (int64_t i = threadIdx.x; i < n; i += kCeThreads) {
      float v[8];
      load8(x + 8 * i, v);
      float vm = v[0];
#pragma unroll
      for (int k = 1; k < 8; ++k) vm = fmaxf(vm, v[k]);
      const float nm = fmaxf(m, vm);
      float acc = 0.f;
#pragma unroll
      for (int k = 0; k < 8; ++k) acc += __expf(v[k] - nm);  // NaN in v propagates into acc
      s = (m == -INFINITY ? 0.f : s * __expf(m - nm)) + acc;
      m = nm;
    }
  } else {
    for (int64_t j = threadIdx.x; j < vocab; j += kCeThreads) {
      const float v = load1(x + j);
      const float nm = fmaxf(m, v);
      s = (m == -INFINITY ? 0.f : s * __expf(m - nm)) + __expf(v - nm);
      m = nm;
    }
  }
}

// Block reduction of the threads' (max, sum) pairs: within each warp, then across the warps. Every
// thread calls it (it synchronises the block); true in the one thread (lane 0 of warp 0) that then
// holds the row's pair.
__device__ __forceinline__ bool block_merge(float& m, float& s) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    merge(m, s, __shfl_xor_sync(0xffffffffu, m, off), __shfl_xor_sync(0xffffffffu, s, off));
  __shared__ float warp_m[kCeThreads / 32], warp_s[kCeThreads / 32];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_m[warp] = m, warp_s[warp] = s;
  __syncthreads();
  if (warp != 0) return false;
  m = lane < kCeThreads / 32 ? warp_m[lane] : -INFINITY;
  s = lane < kCeThreads / 32 ? warp_s[lane] : 0.f;
#pragma unroll
  for (int off = 16; off > 0; off >>= 1)
    merge(m, s, __shfl_xor_sync(0xffffffffu, m, off), __shfl_xor_sync(0xffffffffu, s, off));
  return lane == 0;
}

template <typename T, bool kVec>
__global__ void __launch_bounds__(kCeThreads)
    ce_forward_kernel(const T* __restrict__ logits, int64_t vocab,
                      const int64_t* __restrict__ targets, float* __restrict__ loss,
                      float* __restrict__ lse) {
  const int64_t row = blockIdx.x;
  const T* x = logits + row * vocab;
  float m, s;
  row_partial<T, kVec>(x, vocab, m, s);
  if (block_merge(m, s)) {
    const float l = m + logf(s);
    const int64_t t = targets[row];
    lse[row] = l;
    loss[row] = (t >= 0 && t < vocab) ? l - load1(x + t) : NAN;
  }
}

template <typename T, bool kVec>
__global__ void __launch_bounds__(kCeThreads)
    ce_backward_kernel(const T* __restrict__ logits, int64_t vocab,
                       const int64_t* __restrict__ targets, const float* __restrict__ lse,
                       const float* __restrict__ grad_loss, float scale, T* __restrict__ grad) {
  const int64_t row = blockIdx.x;
  const T* x = logits + row * vocab;
  T* g = grad + row * vocab;
  const float l = lse[row], c = *grad_loss * scale;
  const int64_t t = targets[row];
  if constexpr (kVec) {
    const int64_t n = vocab / 8;
#pragma unroll 2
    for (int64_t i = threadIdx.x; i < n; i += kCeThreads) {
      float v[8];
      load8(x + 8 * i, v);
#pragma unroll
      for (int k = 0; k < 8; ++k) v[k] = (__expf(v[k] - l) - (8 * i + k == t ? 1.f : 0.f)) * c;
      store8(g + 8 * i, v);
    }
  } else {
    for (int64_t j = threadIdx.x; j < vocab; j += kCeThreads)
      store1(g + j, (__expf(load1(x + j) - l) - (j == t ? 1.f : 0.f)) * c);
  }
}

template <typename T>
const char* ce_forward(const void* logits, int64_t rows, int64_t vocab, const int64_t* targets,
                       float* loss, float* lse, cudaStream_t st) {
  const T* x = static_cast<const T*>(logits);
  if (vocab % 8 == 0 && aligned16(logits))
    ce_forward_kernel<T, true><<<rows, kCeThreads, 0, st>>>(x, vocab, targets, loss, lse);
  else
    ce_forward_kernel<T, false><<<rows, kCeThreads, 0, st>>>(x, vocab, targets, loss, lse);
  return launch_status();
}

template <typename T>
const char* ce_backward(const void* logits, int64_t rows, int64_t vocab, const int64_t* targets,
                        const float* lse, const float* grad_loss, float scale, void* grad,
                        cudaStream_t st) {
  const T* x = static_cast<const T*>(logits);
  T* g = static_cast<T*>(grad);
  if (vocab % 8 == 0 && aligned16(logits) && aligned16(grad))
    ce_backward_kernel<T, true>
        <<<rows, kCeThreads, 0, st>>>(x, vocab, targets, lse, grad_loss, scale, g);
  else
    ce_backward_kernel<T, false>
        <<<rows, kCeThreads, 0, st>>>(x, vocab, targets, lse, grad_loss, scale, g);
  return launch_status();
}

// Loss and gradient in one kernel (the fused LM head, fused.h): the row is read once from memory
// for its (max, Σ exp) and once more, from L2 (a block's row is at most a few hundred KB and was
// just read), for the gradient, which is written in G (in place over the logits when G is their
// dtype, or E5M2 at one byte per element). 2 + 2 bytes per element from memory in bf16 (the
// separate forward and backward kernels: 2 + 2 + 2), 2 + 1 with an E5M2 gradient.
template <typename T, typename G, bool kVec>
__global__ void __launch_bounds__(kCeThreads)
    ce_forward_grad_kernel(const T* logits, int64_t vocab, const int64_t* __restrict__ targets,
                           float* __restrict__ loss, float grad_scale, G* grad) {
  const int64_t row = blockIdx.x;
  const T* x = logits + row * vocab;  // may alias g: each element is read before it is written
  G* g = grad + row * vocab;
  const int64_t t = targets[row];
  float m, s;
  row_partial<T, kVec>(x, vocab, m, s);
  __shared__ float row_lse;
  if (block_merge(m, s)) {
    const float l = m + logf(s);
    row_lse = l;
    loss[row] = (t >= 0 && t < vocab) ? l - load1(x + t) : NAN;  // before x[t] is overwritten
  }
  __syncthreads();
  const float l = row_lse;
  if constexpr (kVec) {
    for (int64_t i = threadIdx.x; i < vocab / 8; i += kCeThreads) {
      float v[8];
      load8(x + 8 * i, v);
#pragma unroll
      for (int k = 0; k < 8; ++k)
        v[k] = (__expf(v[k] - l) - (8 * i + k == t ? 1.f : 0.f)) * grad_scale;
      store8(g + 8 * i, v);
    }
  } else {
    for (int64_t j = threadIdx.x; j < vocab; j += kCeThreads)
      store1(g + j, (__expf(load1(x + j) - l) - (j == t ? 1.f : 0.f)) * grad_scale);
  }
}

template <typename T, typename G>
const char* ce_forward_grad(const void* logits, int64_t rows, int64_t vocab, const int64_t* targets,
                            float* loss, float grad_scale, void* grad, cudaStream_t st) {
  const T* x = static_cast<const T*>(logits);
  G* g = static_cast<G*>(grad);
  if (vocab % 8 == 0 && aligned16(logits) && aligned16(grad))
    ce_forward_grad_kernel<T, G, true>
        <<<rows, kCeThreads, 0, st>>>(x, vocab, targets, loss, grad_scale, g);
  else
    ce_forward_grad_kernel<T, G, false>
        <<<rows, kCeThreads, 0, st>>>(x, vocab, targets, loss, grad_scale, g);
  return launch_status();
}

// ---------------------------------------------------------------------------------------------
// Transpose of a (rows, cols) matrix of bytes (the FP8 LM head's operands: cuBLASLt's FP8 GEMMs
// take both operands K-major, so the weight gradient needs Gᵀ and xᵀ). 64 × 64 tiles through
// shared memory; each thread moves 4 bytes in and 4 out (one 32-bit load and store), so a warp
// touches two full 64-byte rows each way. rows % 4 == 0 and cols % 4 == 0, 4-byte aligned.
constexpr int kTile = 64;
__global__ void __launch_bounds__(256)
    transpose_bytes_kernel(const uint8_t* __restrict__ src, int64_t rows, int64_t cols,
                           uint8_t* __restrict__ dst) {
  __shared__ __align__(4) uint8_t tile[kTile][kTile + 4];
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;  // 16 × 16 threads
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * kTile,
                c0 = static_cast<int64_t>(blockIdx.x) * kTile;
#pragma unroll
  for (int k = 0; k < kTile; k += 16) {
    const int64_t r = r0 + ty + k, c = c0 + 4 * tx;
    if (r < rows && c < cols) {
      const uint32_t w = *reinterpret_cast<const uint32_t*>(src + r * cols + c);
      *reinterpret_cast<uint32_t*>(&tile[ty + k][4 * tx]) = w;
    }
  }
  __syncthreads();
  // dst (cols, rows): dst row c0 + j holds src column c0 + j; a thread writes 4 consecutive bytes,
  // the column's entries in src rows r0 + 4·tx … + 3.
#pragma unroll
  for (int k = 0; k < kTile; k += 16) {
    const int j = ty + k;
    const int64_t c = c0 + j, r = r0 + 4 * tx;
    if (c < cols && r < rows) {
      const uint32_t w = tile[4 * tx][j] | tile[4 * tx + 1][j] << 8 | tile[4 * tx + 2][j] << 16 |
                         static_cast<uint32_t>(tile[4 * tx + 3][j]) << 24;
      *reinterpret_cast<uint32_t*>(dst + c * rows + r) = w;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RoPE + QKV split. One thread per 8 consecutive elements of a head (head_dim % 8 == 0), so a
// thread's 4 pairs share one position. Forward reads QKV once and writes q, k, v once (2 × 2·C
// bytes per token in bf16); it replaces LibTorch's fp32 cast, complex multiply and cast back for q
// and k (≈ 10 passes) and V's contiguous copy. Backward writes one dQKV instead of three
// zero-filled slice gradients summed together.
constexpr int kEltThreads = 256;

__device__ __forceinline__ void rotate4(float x[8], const float* c, const float* s, float sign) {
#pragma unroll
  for (int p = 0; p < 4; ++p) {
    const float a = x[2 * p], b = x[2 * p + 1], cs = c[p], sn = sign * s[p];
    x[2 * p] = a * cs - b * sn;
    x[2 * p + 1] = a * sn + b * cs;
  }
}

template <typename T>
__global__ void __launch_bounds__(kEltThreads)
    rope_split_forward_kernel(const T* __restrict__ qkv, QkvShape sh, const float* __restrict__ cos,
                              const float* __restrict__ sin, int64_t max_pos,
                              const int64_t* __restrict__ positions, T* __restrict__ q,
                              T* __restrict__ k, T* __restrict__ v, int64_t chunks) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(kEltThreads) + threadIdx.x;
  if (idx >= chunks) return;
  const int64_t C = (sh.n_heads + 2 * sh.n_kv_heads) * sh.head_dim, per_row = C / 8;
  const int64_t row = idx / per_row, c = (idx % per_row) * 8;  // row = b·seq + t
  const int64_t head = c / sh.head_dim, within = c % sh.head_dim;
  float x[8];
  load8(qkv + row * C + c, x);
  if (head < sh.n_heads + sh.n_kv_heads) {
    const int64_t pos = positions[row % sh.seq], half = sh.head_dim / 2;
    if (pos < 0 || pos >= max_pos) {
#pragma unroll
      for (int i = 0; i < 8; ++i) x[i] = NAN;
    } else {
      rotate4(x, cos + pos * half + within / 2, sin + pos * half + within / 2, 1.f);
    }
    T* dst = head < sh.n_heads
                 ? q + (row * sh.n_heads + head) * sh.head_dim + within
                 : k + (row * sh.n_kv_heads + head - sh.n_heads) * sh.head_dim + within;
    store8(dst, x);
  } else {
    store8(v + (row * sh.n_kv_heads + head - sh.n_heads - sh.n_kv_heads) * sh.head_dim + within, x);
  }
}

template <typename T>
__global__ void __launch_bounds__(kEltThreads)
    rope_split_backward_kernel(const T* __restrict__ dq, Strides sq, const T* __restrict__ dk,
                               Strides sk, const T* __restrict__ dv, Strides sv, QkvShape sh,
                               const float* __restrict__ cos, const float* __restrict__ sin,
                               int64_t max_pos, const int64_t* __restrict__ positions,
                               T* __restrict__ dqkv, int64_t chunks) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(kEltThreads) + threadIdx.x;
  if (idx >= chunks) return;
  const int64_t C = (sh.n_heads + 2 * sh.n_kv_heads) * sh.head_dim, per_row = C / 8;
  const int64_t row = idx / per_row, c = (idx % per_row) * 8;
  const int64_t b = row / sh.seq, t = row % sh.seq;
  const int64_t head = c / sh.head_dim, within = c % sh.head_dim;
  const T* src = nullptr;
  if (head < sh.n_heads) {
    if (dq) src = dq + b * sq.batch + t * sq.seq + head * sq.head + within;
  } else if (head < sh.n_heads + sh.n_kv_heads) {
    if (dk) src = dk + b * sk.batch + t * sk.seq + (head - sh.n_heads) * sk.head + within;
  } else if (dv) {
    src = dv + b * sv.batch + t * sv.seq + (head - sh.n_heads - sh.n_kv_heads) * sv.head + within;
  }
  float x[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
  if (src) load8(src, x);
  if (head < sh.n_heads + sh.n_kv_heads) {
    const int64_t pos = positions[t], half = sh.head_dim / 2;
    if (pos < 0 || pos >= max_pos) {
#pragma unroll
      for (int i = 0; i < 8; ++i) x[i] = NAN;
    } else {
      rotate4(x, cos + pos * half + within / 2, sin + pos * half + within / 2, -1.f);
    }
  }
  store8(dqkv + row * C + c, x);
}

// ---------------------------------------------------------------------------------------------
// SwiGLU's elementwise part. Forward reads [a | b] and writes SiLU(a)·b (3 × 2·f bytes per token
// in bf16; LibTorch's SiLU then product move 5); backward reads a, b, g and writes da, db (5
// instead of ~9, and only the W1|W3 output stays saved, not SiLU(a) as well).
__device__ __forceinline__ float sigmoid(float a) { return 1.f / (1.f + __expf(-a)); }

template <typename T>
__global__ void __launch_bounds__(kEltThreads)
    swiglu_forward_kernel(const T* __restrict__ h, int64_t f, T* __restrict__ out, int64_t chunks) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(kEltThreads) + threadIdx.x;
  if (idx >= chunks) return;
  const int64_t per_row = f / 8, row = idx / per_row, j = (idx % per_row) * 8;
  float a[8], b[8];
  load8(h + row * 2 * f + j, a);
  load8(h + row * 2 * f + f + j, b);
#pragma unroll
  for (int i = 0; i < 8; ++i) a[i] = a[i] * sigmoid(a[i]) * b[i];
  store8(out + row * f + j, a);
}

template <typename T>
__global__ void __launch_bounds__(kEltThreads)
    swiglu_backward_kernel(const T* __restrict__ h, const T* __restrict__ dout, int64_t f,
                           T* __restrict__ dh, int64_t chunks) {
  const int64_t idx = blockIdx.x * static_cast<int64_t>(kEltThreads) + threadIdx.x;
  if (idx >= chunks) return;
  const int64_t per_row = f / 8, row = idx / per_row, j = (idx % per_row) * 8;
  float a[8], b[8], g[8];
  load8(h + row * 2 * f + j, a);
  load8(h + row * 2 * f + f + j, b);
  load8(dout + row * f + j, g);
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const float sg = sigmoid(a[i]), silu = a[i] * sg;
    const float da = g[i] * b[i] * sg * (1.f + a[i] * (1.f - sg));
    b[i] = g[i] * silu;
    a[i] = da;
  }
  store8(dh + row * 2 * f + j, a);
  store8(dh + row * 2 * f + f + j, b);
}

// ---------------------------------------------------------------------------------------------
// Residual add + RMSNorm. A group of G threads (8, 16 or 32: the fewest that give each thread at
// most kNormMaxChunks chunks of 8) owns a row; each thread keeps its ≤ K chunks in registers
// between the sum of squares and the scaling, so forward reads x and a once and writes h and y once
// (per element of the mixed-precision case: 4 + 2 read, 4 + 2 written, against LibTorch's add,
// norm, and cast: ≈ 30). Backward reads h, dy, dh once and writes dx, da once; the weight's
// gradient is summed per group in registers over the rows the group visits (grid-stride) and
// written once per group.
constexpr int kNormThreads = 256;
constexpr int kNormMaxChunks = 8;  // K's largest value
static_assert(8 * kNormMaxChunks * 32 == kMaxNormDim,
              "a row of kMaxNormDim fits a warp's registers");

template <int G>
__device__ __forceinline__ float group_sum(float v) {
#pragma unroll
  for (int off = G / 2; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

// Rows are visited warp by warp: every group of a warp runs the same number of iterations (a group
// past the last row computes on zeros and stores nothing), so the shuffles see the whole warp.
struct NormIndex {
  int lane;               // within the group
  int64_t group, groups;  // this group, all groups of the grid
  int64_t warp_first;     // first group of this thread's warp
};
template <int G>
__device__ __forceinline__ NormIndex norm_index() {
  NormIndex ix;
  ix.lane = threadIdx.x % G;
  ix.group = (static_cast<int64_t>(blockIdx.x) * kNormThreads + threadIdx.x) / G;
  ix.groups = static_cast<int64_t>(gridDim.x) * (kNormThreads / G);
  ix.warp_first = ix.group - (threadIdx.x % 32) / G;
  return ix;
}

template <typename X, typename A, typename Y, int G, int K>
__global__ void __launch_bounds__(kNormThreads)
    add_rms_norm_forward_kernel(const X* __restrict__ x, const A* __restrict__ a,
                                const float* __restrict__ w, int64_t rows, int64_t d, float eps,
                                X* __restrict__ h_out, Y* __restrict__ y,
                                float* __restrict__ rstd) {
  const NormIndex ix = norm_index<G>();
  const int64_t chunks = d / 8;
  for (int64_t base = ix.warp_first; base < rows; base += ix.groups) {
    const int64_t row = base + (ix.group - ix.warp_first);
    const bool valid = row < rows;
    float v[K][8];
    float ss = 0.f;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t c = ix.lane + k * G;
      if (valid && c < chunks) {
        load8(x + row * d + 8 * c, v[k]);
        if (a) {
          float t[8];
          load8(a + row * d + 8 * c, t);
#pragma unroll
          for (int i = 0; i < 8; ++i) v[k][i] += t[i];
          if (h_out) store8(h_out + row * d + 8 * c, v[k]);
        }
#pragma unroll
        for (int i = 0; i < 8; ++i) ss += v[k][i] * v[k][i];
      }
    }
    ss = group_sum<G>(ss);
    const float r = rsqrtf(ss / static_cast<float>(d) + eps);
    if (!valid) continue;
    if (ix.lane == 0) rstd[row] = r;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t c = ix.lane + k * G;
      if (c < chunks) {
        float wv[8];
        load8(w + 8 * c, wv);
#pragma unroll
        for (int i = 0; i < 8; ++i) v[k][i] = v[k][i] * r * wv[i];
        store8(y + row * d + 8 * c, v[k]);
      }
    }
  }
}

template <typename X, typename A, typename Y, int G, int K>
__global__ void __launch_bounds__(kNormThreads)
    add_rms_norm_backward_kernel(const X* __restrict__ h, const X* __restrict__ dh,
                                 const Y* __restrict__ dy, const float* __restrict__ w,
                                 const float* __restrict__ rstd, int64_t rows, int64_t d,
                                 X* __restrict__ dx, A* __restrict__ da,
                                 float* __restrict__ dw_partial) {
  const NormIndex ix = norm_index<G>();
  const int64_t chunks = d / 8;
  float dw[K][8];
#pragma unroll
  for (int k = 0; k < K; ++k)
#pragma unroll
    for (int i = 0; i < 8; ++i) dw[k][i] = 0.f;
  for (int64_t base = ix.warp_first; base < rows; base += ix.groups) {
    const int64_t row = base + (ix.group - ix.warp_first);
    const bool valid = row < rows;
    const float r = valid ? rstd[row] : 0.f;
    float xh[K][8];   // ĥ
    float dot = 0.f;  // Σ_j g_j ĥ_j over this thread's chunks
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t c = ix.lane + k * G;
      if (valid && c < chunks) {
        float g[8], wv[8];
        load8(h + row * d + 8 * c, xh[k]);
        load8(dy + row * d + 8 * c, g);
        load8(w + 8 * c, wv);
#pragma unroll
        for (int i = 0; i < 8; ++i) {
          xh[k][i] *= r;
          dw[k][i] += g[i] * xh[k][i];
          dot += g[i] * wv[i] * xh[k][i];
        }
      }
    }
    const float mean = group_sum<G>(dot) / static_cast<float>(d);
    if (!valid) continue;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const int64_t c = ix.lane + k * G;
      if (c < chunks) {
        float g[8], wv[8], out[8];
        load8(dy + row * d + 8 * c, g);  // again: this thread's own bytes, from L1
        load8(w + 8 * c, wv);
#pragma unroll
        for (int i = 0; i < 8; ++i) out[i] = r * (g[i] * wv[i] - xh[k][i] * mean);
        if (dh) {
          float t[8];
          load8(dh + row * d + 8 * c, t);
#pragma unroll
          for (int i = 0; i < 8; ++i) out[i] += t[i];
        }
        store8(dx + row * d + 8 * c, out);
        if (da) store8(da + row * d + 8 * c, out);
      }
    }
  }
#pragma unroll
  for (int k = 0; k < K; ++k) {
    const int64_t c = ix.lane + k * G;
    if (c < chunks) store8(dw_partial + ix.group * d + 8 * c, dw[k]);
  }
}

// Threads per row (G) and chunks per thread (K, a power of two) for rows of d elements.
struct NormShape {
  int G = 32, K = 1;
};
NormShape norm_shape(int64_t d) {
  const int64_t chunks = d / 8;
  NormShape s;
  s.G = chunks <= 8 ? 8 : chunks <= 16 ? 16 : 32;
  while (static_cast<int64_t>(s.G) * s.K < chunks) s.K *= 2;
  return s;
}
// Backward's grid: enough blocks to keep every multiprocessor busy, few enough that the partial
// weight gradients (one row of d floats per group) stay a small fraction of the traffic.
int64_t norm_backward_blocks(int64_t rows, int64_t d) {
  int dev = 0, sms = 132;
  if (cudaGetDevice(&dev) == cudaSuccess)
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  const int64_t per_block = kNormThreads / norm_shape(d).G;
  const int64_t need = (rows + per_block - 1) / per_block;
  return need < 2 * static_cast<int64_t>(sms) ? need : 2 * static_cast<int64_t>(sms);
}

// Calls f(X{}, A{}, Y{}) for the dtype triples the norm kernels take.
template <typename F>
const char* norm_types(Dtype x, Dtype a, Dtype y, F&& f) {
  using D = Dtype;
  if (x == D::kFp32 && a == D::kFp32 && y == D::kFp32) return f(float{}, float{}, float{});
  if (x == D::kFp32 && a == D::kBf16 && y == D::kBf16) return f(float{}, bf16{}, bf16{});
  if (x == D::kFp32 && a == D::kFp32 && y == D::kBf16) return f(float{}, float{}, bf16{});
  if (x == D::kBf16 && a == D::kBf16 && y == D::kBf16) return f(bf16{}, bf16{}, bf16{});
  return "scalelab's RMSNorm kernel takes x, a, y all fp32 or all bf16, or fp32 x with bf16 y";
}
// Calls f(std::integral_constant<int, G>{}, std::integral_constant<int, K>{}) for d's shape.
template <typename F>
void norm_config(int64_t d, F&& f) {
  using std::integral_constant;
  const NormShape s = norm_shape(d);
  if (s.G == 8) return f(integral_constant<int, 8>{}, integral_constant<int, 1>{});
  if (s.G == 16) return f(integral_constant<int, 16>{}, integral_constant<int, 1>{});
  switch (s.K) {
    case 1:
      return f(integral_constant<int, 32>{}, integral_constant<int, 1>{});
    case 2:
      return f(integral_constant<int, 32>{}, integral_constant<int, 2>{});
    case 4:
      return f(integral_constant<int, 32>{}, integral_constant<int, 4>{});
    default:
      return f(integral_constant<int, 32>{}, integral_constant<int, 8>{});
  }
}

// The launchers' element types: fp32 and bf16 (common/dtype.h names others the kernels lack).
bool supported(Dtype d) { return d == Dtype::kFp32 || d == Dtype::kBf16; }
constexpr const char* kUnsupported = "scalelab CUDA kernels take fp32 or bf16 only";

}  // namespace

const char* cross_entropy_forward(Dtype dtype, const void* logits, int64_t rows, int64_t vocab,
                                  const int64_t* targets, float* loss, float* lse, void* stream) {
  if (!supported(dtype)) return kUnsupported;
  if (rows == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  return dtype == Dtype::kBf16 ? ce_forward<bf16>(logits, rows, vocab, targets, loss, lse, st)
                               : ce_forward<float>(logits, rows, vocab, targets, loss, lse, st);
}

const char* cross_entropy_backward(Dtype dtype, const void* logits, int64_t rows, int64_t vocab,
                                   const int64_t* targets, const float* lse, const float* grad_loss,
                                   float scale, void* grad_logits, void* stream) {
  if (!supported(dtype)) return kUnsupported;
  if (rows == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  return dtype == Dtype::kBf16 ? ce_backward<bf16>(logits, rows, vocab, targets, lse, grad_loss,
                                                   scale, grad_logits, st)
                               : ce_backward<float>(logits, rows, vocab, targets, lse, grad_loss,
                                                    scale, grad_logits, st);
}

const char* cross_entropy_forward_grad(Dtype dtype, const void* logits, int64_t rows, int64_t vocab,
                                       const int64_t* targets, float* loss, float grad_scale,
                                       Dtype grad_dtype, void* grad, void* stream) {
  if (!supported(dtype)) return kUnsupported;
  if (grad_dtype != dtype && grad_dtype != Dtype::kFp8)
    return "cross_entropy_forward_grad: the gradient is the logits' dtype or fp8 (E5M2)";
  if (rows == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  if (grad_dtype == Dtype::kFp8)
    return dtype == Dtype::kBf16 ? ce_forward_grad<bf16, e5m2>(logits, rows, vocab, targets, loss,
                                                               grad_scale, grad, st)
                                 : ce_forward_grad<float, e5m2>(logits, rows, vocab, targets, loss,
                                                                grad_scale, grad, st);
  return dtype == Dtype::kBf16
             ? ce_forward_grad<bf16, bf16>(logits, rows, vocab, targets, loss, grad_scale, grad, st)
             : ce_forward_grad<float, float>(logits, rows, vocab, targets, loss, grad_scale, grad,
                                             st);
}

const char* transpose_bytes(const void* src, int64_t rows, int64_t cols, void* dst, void* stream) {
  if (rows % 4 != 0 || cols % 4 != 0 || reinterpret_cast<uintptr_t>(src) % 4 != 0 ||
      reinterpret_cast<uintptr_t>(dst) % 4 != 0)
    return "transpose_bytes: rows and cols must be multiples of 4, the buffers 4-byte aligned";
  if (rows == 0 || cols == 0) return nullptr;
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile),
                  static_cast<unsigned>((rows + kTile - 1) / kTile));
  transpose_bytes_kernel<<<grid, 256, 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<const uint8_t*>(src), rows, cols, static_cast<uint8_t*>(dst));
  return launch_status();
}

const char* rope_split_forward(Dtype dtype, const void* qkv, QkvShape sh, const float* cos,
                               const float* sin, int64_t max_pos, const int64_t* positions, void* q,
                               void* k, void* v, void* stream) {
  if (!supported(dtype)) return kUnsupported;
  const int64_t chunks = sh.batch * sh.seq * (sh.n_heads + 2 * sh.n_kv_heads) * sh.head_dim / 8;
  if (chunks == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  const auto grid = blocks_for(chunks, kEltThreads);
  if (dtype == Dtype::kBf16)
    rope_split_forward_kernel<bf16><<<grid, kEltThreads, 0, st>>>(
        static_cast<const bf16*>(qkv), sh, cos, sin, max_pos, positions, static_cast<bf16*>(q),
        static_cast<bf16*>(k), static_cast<bf16*>(v), chunks);
  else
    rope_split_forward_kernel<float><<<grid, kEltThreads, 0, st>>>(
        static_cast<const float*>(qkv), sh, cos, sin, max_pos, positions, static_cast<float*>(q),
        static_cast<float*>(k), static_cast<float*>(v), chunks);
  return launch_status();
}

const char* rope_split_backward(Dtype dtype, const void* dq, Strides sq, const void* dk, Strides sk,
                                const void* dv, Strides sv, QkvShape sh, const float* cos,
                                const float* sin, int64_t max_pos, const int64_t* positions,
                                void* dqkv, void* stream) {
  if (!supported(dtype)) return kUnsupported;
  const int64_t chunks = sh.batch * sh.seq * (sh.n_heads + 2 * sh.n_kv_heads) * sh.head_dim / 8;
  if (chunks == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  const auto grid = blocks_for(chunks, kEltThreads);
  if (dtype == Dtype::kBf16)
    rope_split_backward_kernel<bf16><<<grid, kEltThreads, 0, st>>>(
        static_cast<const bf16*>(dq), sq, static_cast<const bf16*>(dk), sk,
        static_cast<const bf16*>(dv), sv, sh, cos, sin, max_pos, positions,
        static_cast<bf16*>(dqkv), chunks);
  else
    rope_split_backward_kernel<float><<<grid, kEltThreads, 0, st>>>(
        static_cast<const float*>(dq), sq, static_cast<const float*>(dk), sk,
        static_cast<const float*>(dv), sv, sh, cos, sin, max_pos, positions,
        static_cast<float*>(dqkv), chunks);
  return launch_status();
}

const char* swiglu_forward(Dtype dtype, const void* h, int64_t rows, int64_t f, void* out,
                           void* stream) {
  if (!supported(dtype)) return kUnsupported;
  const int64_t chunks = rows * f / 8;
  if (chunks == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  const auto grid = blocks_for(chunks, kEltThreads);
  if (dtype == Dtype::kBf16)
    swiglu_forward_kernel<bf16><<<grid, kEltThreads, 0, st>>>(static_cast<const bf16*>(h), f,
                                                              static_cast<bf16*>(out), chunks);
  else
    swiglu_forward_kernel<float><<<grid, kEltThreads, 0, st>>>(static_cast<const float*>(h), f,
                                                               static_cast<float*>(out), chunks);
  return launch_status();
}

const char* swiglu_backward(Dtype dtype, const void* h, const void* dout, int64_t rows, int64_t f,
                            void* dh, void* stream) {
  if (!supported(dtype)) return kUnsupported;
  const int64_t chunks = rows * f / 8;
  if (chunks == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  const auto grid = blocks_for(chunks, kEltThreads);
  if (dtype == Dtype::kBf16)
    swiglu_backward_kernel<bf16><<<grid, kEltThreads, 0, st>>>(static_cast<const bf16*>(h),
                                                               static_cast<const bf16*>(dout), f,
                                                               static_cast<bf16*>(dh), chunks);
  else
    swiglu_backward_kernel<float><<<grid, kEltThreads, 0, st>>>(static_cast<const float*>(h),
                                                                static_cast<const float*>(dout), f,
                                                                static_cast<float*>(dh), chunks);
  return launch_status();
}

bool add_rms_norm_supported(Dtype x, Dtype a, Dtype y) {
  return norm_types(x, a, y, [](auto, auto, auto) -> const char* { return nullptr; }) == nullptr;
}

int64_t add_rms_norm_groups(int64_t rows, int64_t d) {
  return norm_backward_blocks(rows, d) * (kNormThreads / norm_shape(d).G);
}

const char* add_rms_norm_forward(Dtype x_dtype, const void* x, Dtype a_dtype, const void* a,
                                 const float* w, int64_t rows, int64_t d, float eps, void* h_out,
                                 Dtype y_dtype, void* y, float* rstd, void* stream) {
  if (d % 8 != 0 || d <= 0 || d > kMaxNormDim) return "RMSNorm kernel: d must be 8, 16, … 2048";
  if (rows == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  return norm_types(x_dtype, a_dtype, y_dtype, [&](auto xt, auto at, auto yt) -> const char* {
    using X = decltype(xt);
    using A = decltype(at);
    using Y = decltype(yt);
    norm_config(d, [&](auto g, auto k) {
      constexpr int G = decltype(g)::value, K = decltype(k)::value;
      const int64_t per_block = kNormThreads / G;
      add_rms_norm_forward_kernel<X, A, Y, G, K>
          <<<(rows + per_block - 1) / per_block, kNormThreads, 0, st>>>(
              static_cast<const X*>(x), static_cast<const A*>(a), w, rows, d, eps,
              static_cast<X*>(h_out), static_cast<Y*>(y), rstd);
    });
    return launch_status();
  });
}

const char* add_rms_norm_backward(Dtype x_dtype, const void* h, const void* dh, Dtype y_dtype,
                                  const void* dy, const float* w, const float* rstd, int64_t rows,
                                  int64_t d, void* dx, Dtype a_dtype, void* da, float* dw_partial,
                                  void* stream) {
  if (d % 8 != 0 || d <= 0 || d > kMaxNormDim) return "RMSNorm kernel: d must be 8, 16, … 2048";
  if (rows == 0) return nullptr;
  auto st = static_cast<cudaStream_t>(stream);
  const int64_t blocks = norm_backward_blocks(rows, d);
  return norm_types(x_dtype, a_dtype, y_dtype, [&](auto xt, auto at, auto yt) -> const char* {
    using X = decltype(xt);
    using A = decltype(at);
    using Y = decltype(yt);
    norm_config(d, [&](auto g, auto k) {
      constexpr int G = decltype(g)::value, K = decltype(k)::value;
      add_rms_norm_backward_kernel<X, A, Y, G, K><<<blocks, kNormThreads, 0, st>>>(
          static_cast<const X*>(h), static_cast<const X*>(dh), static_cast<const Y*>(dy), w, rstd,
          rows, d, static_cast<X*>(dx), static_cast<A*>(da), dw_partial);
    });
    return launch_status();
  });
}

}  // namespace scalelab::model::cuda
