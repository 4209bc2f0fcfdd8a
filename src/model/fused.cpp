// Autograd functions over scalelab's CUDA kernels. Each checks that the kernel applies (CUDA
// tensor, fp32 or bf16, sizes the 8-wide kernels take) and otherwise returns undefined tensors, so
// that the caller runs its LibTorch reference instead.
#include "model/fused.h"

#include <atomic>

#include "common/error.h"

#if SCALELAB_WITH_CUDA
#include <c10/cuda/CUDAStream.h>

#include "model/cuda/kernels.h"
#endif

namespace scalelab::model {

namespace {
std::atomic<bool> g_custom_kernels{true};
}  // namespace

bool custom_kernels_built() { return SCALELAB_WITH_CUDA != 0; }
void set_custom_kernels(bool on) { g_custom_kernels = on; }
bool custom_kernels_enabled() { return custom_kernels_built() && g_custom_kernels; }

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

}  // namespace

torch::Tensor fused_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  if (!takes(logits) || logits.dim() < 1 || logits.numel() == 0 || !targets.is_cuda() ||
      targets.numel() * logits.size(-1) != logits.numel())
    return {};
  return CrossEntropyKernelFn::apply(logits, targets);
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

#else  // no CUDA kernels in this build: every caller takes its reference path

torch::Tensor fused_cross_entropy(const torch::Tensor&, const torch::Tensor&) { return {}; }
std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> fused_rope_split(const torch::Tensor&,
                                                                         int64_t, int64_t,
                                                                         const torch::Tensor&,
                                                                         const torch::Tensor&,
                                                                         const torch::Tensor&) {
  return {};
}
torch::Tensor fused_swiglu(const torch::Tensor&) { return {}; }

#endif

}  // namespace scalelab::model
