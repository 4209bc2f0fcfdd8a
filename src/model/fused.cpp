// Autograd functions over scalelab's CUDA kernels. Each checks that the kernel applies (CUDA
// tensor, fp32 or bf16, sizes the 8-wide kernels take) and otherwise returns undefined tensors, so
// that the caller runs its LibTorch reference instead.
#include "model/fused.h"

#include <atomic>
#include <optional>

#include "common/error.h"

#if SCALELAB_WITH_CUDA
#include <ATen/autocast_mode.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/version.h>

#include "model/cuda/kernels.h"
#endif

namespace scalelab::model {

namespace {
std::atomic<bool> g_custom_kernels{true};
std::atomic<bool> g_fused_norm{true};
std::atomic<bool> g_fused_head{true};
}  // namespace

bool custom_kernels_built() { return SCALELAB_WITH_CUDA != 0; }
void set_custom_kernels(bool on) { g_custom_kernels = on; }
bool custom_kernels_enabled() { return custom_kernels_built() && g_custom_kernels; }
void set_fused_norm(bool on) { g_fused_norm = on; }
void set_fused_head(bool on) { g_fused_head = on; }

#if SCALELAB_WITH_CUDA
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool takes(const torch::Tensor& t) {
  return custom_kernels_enabled() && t.defined() && t.is_cuda() &&
         (t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kFloat32);
}
scalelab::Dtype dtype_of(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 ? scalelab::Dtype::kBf16 : scalelab::Dtype::kFp32;
}
void* stream_of(const torch::Tensor& t) {
  return c10::cuda::getCurrentCUDAStream(t.device().index()).stream();
}
void check_launch(const char* error, const char* kernel) {
  SCALELAB_CHECK(error == nullptr, "CUDA kernel {} failed: {}", kernel, error);
}
// A gradient the 8-wide kernels can read in place: last dimension contiguous, the other strides
// multiples of 8 elements and a 16-byte aligned start; otherwise a contiguous copy.
torch::Tensor readable8(const torch::Tensor& g) {
  if (!g.defined()) return g;
  bool ok = g.stride(-1) == 1 && reinterpret_cast<uintptr_t>(g.data_ptr()) % 16 == 0;
  for (int64_t i = 0; i + 1 < g.dim(); ++i) ok = ok && g.stride(i) % 8 == 0;
  return ok ? g : g.contiguous();
}

// A contiguous tensor with a 16-byte aligned start (what the row kernels read 8 at a time).
torch::Tensor readable_rows(const torch::Tensor& t) {
  auto c = t.contiguous();
  return reinterpret_cast<uintptr_t>(c.data_ptr()) % 16 == 0 ? c : c.clone();
}
bool aligned_rows(const torch::Tensor& t) {
  return t.is_contiguous() && reinterpret_cast<uintptr_t>(t.data_ptr()) % 16 == 0;
}

class CrossEntropyKernelFn : public torch::autograd::Function<CrossEntropyKernelFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets) {
    const int64_t V = logits.size(-1);
    auto l = logits.reshape({-1, V}).contiguous();  // (N, V), a view of the logits
    auto t = targets.reshape({-1}).to(torch::kLong).contiguous();
    const int64_t N = l.size(0);
    auto f32 = l.options().dtype(torch::kFloat32);
    auto loss = torch::empty({N}, f32), lse = torch::empty({N}, f32);
    check_launch(
        cuda::cross_entropy_forward(dtype_of(l), l.data_ptr(), N, V, t.data_ptr<int64_t>(),
                                    loss.data_ptr<float>(), lse.data_ptr<float>(), stream_of(l)),
        "cross_entropy_forward");
    ctx->save_for_backward({l, t, lse});
    ctx->saved_data["sizes"] = logits.sizes().vec();
    return loss.mean();
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    const auto &l = saved[0], &t = saved[1], &lse = saved[2];
    const int64_t N = l.size(0), V = l.size(1);
    auto g = grad_out[0].to(torch::kFloat32).contiguous();  // a scalar on the device: no sync
    auto grad = torch::empty_like(l);
    check_launch(
        cuda::cross_entropy_backward(dtype_of(l), l.data_ptr(), N, V, t.data_ptr<int64_t>(),
                                     lse.data_ptr<float>(), g.data_ptr<float>(),
                                     1.0f / static_cast<float>(N), grad.data_ptr(), stream_of(l)),
        "cross_entropy_backward");
    return {grad.view(ctx->saved_data["sizes"].toIntVector()), torch::Tensor()};
  }
};

// The LM head and the loss as one node: logits = x·Wᵀ are made, reduced to the loss and
// overwritten by their own gradient in one kernel, so neither a second read of the logits nor a
// gradient buffer is needed; backward is the two matmuls of that gradient, scaled by the upstream
// gradient on their small outputs.
//
// FP8 (fp8 = true; the recipe of modded-nanogpt's FP8 head, with per-tensor scales from the amax
// of each step): x and W in E4M3 scaled to its 448, the logits in bf16 from cuBLASLt's FP8 GEMM,
// the gradient written by the loss kernel in E5M2 at a fixed scale of 2¹⁵ (|softmax − onehot| ≤ 1,
// so no amax pass: E5M2's 57,344 is never reached and probabilities down to 2⁻³¹ survive), then
// dx = G·W and dW = Gᵀ·x as FP8 GEMMs (cuBLASLt takes both operands K-major, hence the byte
// transposes of W, G and x). Forward accumulates with fast accumulation (K = d_model), backward
// without (K = V or N).
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define SCALELAB_HAS_FP8 1
#else
#define SCALELAB_HAS_FP8 0
#endif
constexpr float kFp8GradScale = 32768.0f;  // 2¹⁵
constexpr double kE4m3Max = 448.0;

#if SCALELAB_HAS_FP8
// src (rows, cols) of 1-byte elements → its transpose, contiguous.
torch::Tensor transpose8(const torch::Tensor& src) {
  auto dst = torch::empty({src.size(1), src.size(0)}, src.options());
  check_launch(cuda::transpose_bytes(src.data_ptr(), src.size(0), src.size(1), dst.data_ptr(),
                                     stream_of(src)),
               "transpose_bytes");
  return dst;
}
// {E4M3 copy of t scaled into ±448, the fp32 scale that undoes it}.
std::pair<torch::Tensor, torch::Tensor> to_e4m3(const torch::Tensor& t) {
  auto scale = t.abs().amax().to(torch::kFloat32).clamp_min(1e-30) / kE4m3Max;
  auto q =
      (t.to(torch::kFloat32) / scale).clamp(-kE4m3Max, kE4m3Max).to(c10::ScalarType::Float8_e4m3fn);
  return {q, scale};
}
#endif

class LinearCrossEntropyFn : public torch::autograd::Function<LinearCrossEntropyFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               const torch::Tensor& targets, bool fp8) {
    const int64_t d = x.size(-1), V = w.size(0);
    auto x2 = x.reshape({-1, d}).contiguous();  // (N, d)
    auto t = targets.reshape({-1}).to(torch::kLong).contiguous();
    const int64_t N = x2.size(0);
    auto loss = torch::empty({N}, x2.options().dtype(torch::kFloat32));
    ctx->saved_data["x_sizes"] = x.sizes().vec();
    ctx->saved_data["w_type"] = static_cast<int64_t>(w.scalar_type());
    ctx->saved_data["fp8"] = fp8;
    if (!fp8) {
      auto wc = w.to(x2.scalar_type());     // (V, d): bf16 under autocast, as autocast casts it
      auto logits = torch::mm(x2, wc.t());  // (N, V)
      check_launch(cuda::cross_entropy_forward_grad(dtype_of(logits), logits.data_ptr(), N, V,
                                                    t.data_ptr<int64_t>(), loss.data_ptr<float>(),
                                                    1.0f / static_cast<float>(N), dtype_of(logits),
                                                    logits.data_ptr(), stream_of(logits)),
                   "cross_entropy_forward_grad");
      ctx->save_for_backward({x2, wc, logits});  // the logits now hold their gradient
      return loss.mean();
    }
#if SCALELAB_HAS_FP8
    auto [x8, sx] = to_e4m3(x2);  // (N, d)
    auto [w8, sw] = to_e4m3(w);   // (V, d)
    auto logits = at::_scaled_mm(x8, w8.t(), sx, sw, std::nullopt, std::nullopt, torch::kBFloat16,
                                 /*use_fast_accum=*/true);  // (N, V)
    auto g8 = torch::empty({N, V}, logits.options().dtype(c10::ScalarType::Float8_e5m2));
    check_launch(cuda::cross_entropy_forward_grad(Dtype::kBf16, logits.data_ptr(), N, V,
                                                  t.data_ptr<int64_t>(), loss.data_ptr<float>(),
                                                  kFp8GradScale, Dtype::kFp8, g8.data_ptr(),
                                                  stream_of(logits)),
                 "cross_entropy_forward_grad");
    ctx->save_for_backward({x8, sx, w8, sw, g8});
    ctx->saved_data["x_type"] = static_cast<int64_t>(x2.scalar_type());
    return loss.mean();
#else
    SCALELAB_FAIL("fp8_head: this build has no FP8 (LibTorch {} < 2.1)", TORCH_VERSION);
#endif
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    const auto x_sizes = ctx->saved_data["x_sizes"].toIntVector();
    const auto w_type = static_cast<torch::ScalarType>(ctx->saved_data["w_type"].toInt());
    auto g = grad_out[0].to(torch::kFloat32);  // a scalar on the device: no sync
    torch::Tensor dx, dw;
    if (!ctx->saved_data["fp8"].toBool()) {
      const auto &x2 = saved[0], &wc = saved[1], &grad = saved[2];
      dx = torch::mm(grad, wc).mul_(g);                 // (N, d)
      dw = torch::mm(grad.t(), x2).to(w_type).mul_(g);  // (V, d)
    } else {
#if SCALELAB_HAS_FP8
      const auto &x8 = saved[0], &sx = saved[1], &w8 = saved[2], &sw = saved[3], &g8 = saved[4];
      const int64_t N = g8.size(0);
      // The gradient's scale with the upstream gradient folded in: G8 · 2⁻¹⁵ / N · g.
      auto sg = g * (1.0 / (static_cast<double>(kFp8GradScale) * static_cast<double>(N)));
      const auto x_type = static_cast<torch::ScalarType>(ctx->saved_data["x_type"].toInt());
      dx = at::_scaled_mm(g8, transpose8(w8).t(), sg, sw, std::nullopt, std::nullopt, x_type,
                          false);  // (N, V)·(V, d)
      dw = at::_scaled_mm(transpose8(g8), transpose8(x8).t(), sg, sx, std::nullopt, std::nullopt,
                          torch::kFloat32, false)
               .to(w_type);  // (V, N)·(N, d)
#endif
    }
    return {dx.view(x_sizes), dw, torch::Tensor(), torch::Tensor()};
  }
};

cuda::QkvShape qkv_shape(const torch::Tensor& qkv, int64_t n_heads, int64_t n_kv_heads) {
  cuda::QkvShape s;
  s.batch = qkv.size(0);
  s.seq = qkv.size(1);
  s.n_heads = n_heads;
  s.n_kv_heads = n_kv_heads;
  s.head_dim = qkv.size(2) / (n_heads + 2 * n_kv_heads);
  return s;
}

class RopeSplitFn : public torch::autograd::Function<RopeSplitFn> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& qkv, int64_t n_heads,
                               int64_t n_kv_heads, const torch::Tensor& cos,
                               const torch::Tensor& sin, const torch::Tensor& positions) {
    auto x = qkv.contiguous();  // (B, T, C)
    const cuda::QkvShape s = qkv_shape(x, n_heads, n_kv_heads);
    auto q = torch::empty({s.batch, s.seq, n_heads, s.head_dim}, x.options());
    auto k = torch::empty({s.batch, s.seq, n_kv_heads, s.head_dim}, x.options());
    auto v = torch::empty_like(k);
    check_launch(
        cuda::rope_split_forward(dtype_of(x), x.data_ptr(), s, cos.data_ptr<float>(),
                                 sin.data_ptr<float>(), cos.size(0), positions.data_ptr<int64_t>(),
                                 q.data_ptr(), k.data_ptr(), v.data_ptr(), stream_of(x)),
        "rope_split_forward");
    ctx->save_for_backward({cos, sin, positions});
    ctx->saved_data["n_heads"] = n_heads;
    ctx->saved_data["n_kv_heads"] = n_kv_heads;
    ctx->saved_data["sizes"] = x.sizes().vec();
    ctx->set_materialize_grads(false);  // an unused output's gradient stays undefined: zeros
    return {q, k, v};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto &cos = saved[0], &sin = saved[1], &positions = saved[2];
    const auto sizes = ctx->saved_data["sizes"].toIntVector();
    const int64_t n_heads = ctx->saved_data["n_heads"].toInt();
    const int64_t n_kv_heads = ctx->saved_data["n_kv_heads"].toInt();
    torch::Tensor like;
    for (auto& g : grads) {
      g = readable8(g);
      if (g.defined() && !like.defined()) like = g;
    }
    auto dqkv = torch::empty(sizes, like.options());  // (B, T, C), contiguous
    const cuda::QkvShape s = qkv_shape(dqkv, n_heads, n_kv_heads);
    auto strides = [](const torch::Tensor& g) {
      return g.defined() ? cuda::Strides{g.stride(0), g.stride(1), g.stride(2)} : cuda::Strides{};
    };
    auto ptr = [](const torch::Tensor& g) -> const void* {
      return g.defined() ? g.data_ptr() : nullptr;
    };
    check_launch(
        cuda::rope_split_backward(dtype_of(dqkv), ptr(grads[0]), strides(grads[0]), ptr(grads[1]),
                                  strides(grads[1]), ptr(grads[2]), strides(grads[2]), s,
                                  cos.data_ptr<float>(), sin.data_ptr<float>(), cos.size(0),
                                  positions.data_ptr<int64_t>(), dqkv.data_ptr(), stream_of(dqkv)),
        "rope_split_backward");
    return {dqkv,           torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

class SwigluFn : public torch::autograd::Function<SwigluFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& h) {
    auto x = h.contiguous();  // (..., 2f)
    const int64_t f = x.size(-1) / 2, rows = x.numel() / (2 * f);
    auto sizes = x.sizes().vec();
    sizes.back() = f;
    auto out = torch::empty(sizes, x.options());
    check_launch(
        cuda::swiglu_forward(dtype_of(x), x.data_ptr(), rows, f, out.data_ptr(), stream_of(x)),
        "swiglu_forward");
    ctx->save_for_backward({x});
    return out;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    auto x = ctx->get_saved_variables()[0];
    auto g = grad_out[0].contiguous();
    const int64_t f = x.size(-1) / 2, rows = x.numel() / (2 * f);
    auto dh = torch::empty_like(x);
    check_launch(cuda::swiglu_backward(dtype_of(x), x.data_ptr(), g.to(x.scalar_type()).data_ptr(),
                                       rows, f, dh.data_ptr(), stream_of(x)),
                 "swiglu_backward");
    return {dh};
  }
};

// Residual add + RMSNorm. Saves h (the add's output, or x when there is no add: the residual
// stream that the graph keeps anyway), the fp32 weight and the per-row rstd.
struct NormForward {
  torch::Tensor h, y, rstd;
};
NormForward norm_forward(const torch::Tensor& x, const torch::Tensor& a, const torch::Tensor& w,
                         double eps, torch::ScalarType y_type) {
  const int64_t d = x.size(-1), rows = x.numel() / d;
  NormForward r;
  r.h = a.defined() ? torch::empty_like(x) : x;
  r.y = torch::empty(x.sizes(), x.options().dtype(y_type));
  r.rstd = torch::empty({rows}, x.options().dtype(torch::kFloat32));
  const auto a_type = a.defined() ? dtype_of(a) : dtype_of(x);
  check_launch(cuda::add_rms_norm_forward(dtype_of(x), x.data_ptr(), a_type,
                                          a.defined() ? a.data_ptr() : nullptr, w.data_ptr<float>(),
                                          rows, d, static_cast<float>(eps),
                                          a.defined() ? r.h.data_ptr() : nullptr, dtype_of(r.y),
                                          r.y.data_ptr(), r.rstd.data_ptr<float>(), stream_of(x)),
               "add_rms_norm_forward");
  return r;
}
// {dx, da (undefined without an add), dw}.
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> norm_backward(
    const torch::Tensor& h, torch::Tensor dh, torch::Tensor dy, const torch::Tensor& w,
    const torch::Tensor& rstd, bool add, torch::ScalarType a_type, torch::ScalarType y_type) {
  const int64_t d = h.size(-1), rows = h.numel() / d;
  if (!dy.defined()) dy = torch::zeros(h.sizes(), h.options().dtype(y_type));
  dy = readable_rows(dy.to(y_type));
  if (dh.defined()) dh = readable_rows(dh.to(h.scalar_type()));
  auto dx = torch::empty_like(h);
  torch::Tensor da = add ? torch::empty(h.sizes(), h.options().dtype(a_type)) : torch::Tensor();
  auto partial =
      torch::empty({cuda::add_rms_norm_groups(rows, d), d}, h.options().dtype(torch::kFloat32));
  check_launch(cuda::add_rms_norm_backward(
                   dtype_of(h), h.data_ptr(), dh.defined() ? dh.data_ptr() : nullptr, dtype_of(dy),
                   dy.data_ptr(), w.data_ptr<float>(), rstd.data_ptr<float>(), rows, d,
                   dx.data_ptr(), add ? dtype_of(da) : dtype_of(h), add ? da.data_ptr() : nullptr,
                   partial.data_ptr<float>(), stream_of(h)),
               "add_rms_norm_backward");
  return {dx, da, partial.sum(0)};
}

class AddRmsNormFn : public torch::autograd::Function<AddRmsNormFn> {
 public:
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& a,
                               const torch::Tensor& w, double eps, int64_t y_type) {
    auto r = norm_forward(x, a, w, eps, static_cast<torch::ScalarType>(y_type));
    ctx->save_for_backward({r.h, w, r.rstd});
    ctx->saved_data["a_type"] = static_cast<int64_t>(a.scalar_type());
    ctx->saved_data["y_type"] = y_type;
    ctx->set_materialize_grads(false);  // an unused h (the last norm's) has no gradient: zeros
    return {r.h, r.y};
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto [dx, da, dw] =
        norm_backward(saved[0], grads[0], grads[1], saved[1], saved[2], /*add=*/true,
                      static_cast<torch::ScalarType>(ctx->saved_data["a_type"].toInt()),
                      static_cast<torch::ScalarType>(ctx->saved_data["y_type"].toInt()));
    return {dx, da, dw, torch::Tensor(), torch::Tensor()};
  }
};

class RmsNormFn : public torch::autograd::Function<RmsNormFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& w,
                               double eps, int64_t y_type) {
    auto r = norm_forward(x, torch::Tensor(), w, eps, static_cast<torch::ScalarType>(y_type));
    ctx->save_for_backward({x, w, r.rstd});
    ctx->saved_data["y_type"] = y_type;
    ctx->set_materialize_grads(false);
    return r.y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto [dx, da, dw] = norm_backward(
        saved[0], torch::Tensor(), grads[0], saved[1], saved[2], /*add=*/false,
        saved[0].scalar_type(), static_cast<torch::ScalarType>(ctx->saved_data["y_type"].toInt()));
    return {dx, dw, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor fused_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (!takes(logits) || logits.dim() < 1 || logits.numel() == 0 || !targets.is_cuda() ||
      targets.numel() * logits.size(-1) != logits.numel())
    return {};
  return CrossEntropyKernelFn::apply(logits, targets);
}

bool fp8_head_built() { return SCALELAB_HAS_FP8 != 0; }

torch::Tensor fused_linear_cross_entropy(const torch::Tensor& x, const torch::Tensor& weight,
                                         const torch::Tensor& targets, bool fp8) {
  if (!torch::GradMode::is_enabled() || !takes(x) || x.dim() < 2 || x.numel() == 0 ||
      !weight.is_cuda() || weight.dim() != 2 || weight.size(1) != x.size(-1) ||
      !targets.is_cuda() || targets.numel() * x.size(-1) != x.numel() ||
      (weight.scalar_type() != torch::kFloat32 && weight.scalar_type() != x.scalar_type()))
    return {};
  const int64_t d = x.size(-1), V = weight.size(0), n = targets.numel();
  if (fp8) {
    SCALELAB_CHECK(fp8_head_built(), "fp8_head: this build has no FP8 (LibTorch {} < 2.1)",
                   TORCH_VERSION);
    SCALELAB_CHECK(d % 16 == 0 && V % 16 == 0 && n % 16 == 0,
                   "fp8_head: FP8 matmuls need d_model ({}), the vocabulary ({}) and the tokens "
                   "per micro-batch ({}) to be multiples of 16",
                   d, V, n);
  } else if (V % 8 != 0 || !g_fused_head) {
    return {};
  }
  return LinearCrossEntropyFn::apply(x, weight, targets, fp8);
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> fused_rope_split(
    const torch::Tensor& qkv, int64_t n_heads, int64_t n_kv_heads, const torch::Tensor& cos,
    const torch::Tensor& sin, const torch::Tensor& positions) {
  const int64_t heads = n_heads + 2 * n_kv_heads;
  if (!takes(qkv) || qkv.dim() != 3 || heads <= 0 || qkv.size(2) % heads != 0) return {};
  const int64_t hd = qkv.size(2) / heads;
  if (hd % 8 != 0 || qkv.numel() == 0 || !positions.is_cuda() || positions.dim() != 1 ||
      positions.size(0) != qkv.size(1) || positions.scalar_type() != torch::kLong ||
      !positions.is_contiguous() || cos.scalar_type() != torch::kFloat32 || !cos.is_cuda() ||
      !cos.is_contiguous() || !sin.is_contiguous() || cos.sizes() != sin.sizes() ||
      cos.dim() != 2 || cos.size(1) != hd / 2)
    return {};
  auto out = RopeSplitFn::apply(qkv, n_heads, n_kv_heads, cos, sin, positions);
  return {out[0], out[1], out[2]};
}

torch::Tensor fused_swiglu(const torch::Tensor& h) {
  if (!takes(h) || h.dim() < 1 || h.size(-1) % 16 != 0 || h.numel() == 0) return {};
  return SwigluFn::apply(h);
}

std::pair<torch::Tensor, torch::Tensor> fused_add_rms_norm(const torch::Tensor& x,
                                                           const torch::Tensor& a,
                                                           const torch::Tensor& weight,
                                                           double eps) {
  if (!g_fused_norm || !takes(x) || x.dim() < 1 || x.numel() == 0) return {};
  const int64_t d = x.size(-1);
  if (d % 8 != 0 || d > cuda::kMaxNormDim || !aligned_rows(x)) return {};
  if (a.defined() && (!takes(a) || a.sizes() != x.sizes() || !aligned_rows(a))) return {};
  if (!weight.is_cuda() || weight.scalar_type() != torch::kFloat32 || weight.dim() != 1 ||
      weight.size(0) != d || !weight.is_contiguous())
    return {};
  // y in the dtype its matmul computes in: autocast would cast an fp32 y to bf16 at once.
  auto y_type = x.scalar_type();
  if (at::autocast::is_autocast_enabled(at::kCUDA) &&
      at::autocast::get_autocast_dtype(at::kCUDA) == torch::kBFloat16)
    y_type = torch::kBFloat16;
  const auto a_type = a.defined() ? dtype_of(a) : dtype_of(x);
  if (!cuda::add_rms_norm_supported(dtype_of(x), a_type,
                                    y_type == torch::kBFloat16 ? Dtype::kBf16 : Dtype::kFp32))
    return {};
  if (!a.defined()) return {x, RmsNormFn::apply(x, weight, eps, static_cast<int64_t>(y_type))};
  auto out = AddRmsNormFn::apply(x, a, weight, eps, static_cast<int64_t>(y_type));
  return {out[0], out[1]};
}

#else  // no CUDA kernels in this build: every caller takes its reference path

torch::Tensor fused_cross_entropy(const torch::Tensor&, const torch::Tensor&) { return {}; }
bool fp8_head_built() { return false; }
torch::Tensor fused_linear_cross_entropy(const torch::Tensor&, const torch::Tensor&,
                                         const torch::Tensor&, bool fp8) {
  SCALELAB_CHECK(!fp8,
                 "fp8_head: needs a build with CUDA (SCALELAB_WITH_CUDA) and LibTorch >= 2.1");
  return {};
}
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> fused_rope_split(const torch::Tensor&,
                                                                         int64_t, int64_t,
                                                                         const torch::Tensor&,
                                                                         const torch::Tensor&,
                                                                         const torch::Tensor&) {
  return {};
}
torch::Tensor fused_swiglu(const torch::Tensor&) { return {}; }
std::pair<torch::Tensor, torch::Tensor> fused_add_rms_norm(const torch::Tensor&,
                                                           const torch::Tensor&,
                                                           const torch::Tensor&, double) {
  return {};
}

#endif

}  // namespace scalelab::model
