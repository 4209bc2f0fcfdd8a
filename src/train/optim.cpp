#include "train/optim.h"

#include <torch/version.h>

#include <cmath>

#include "common/error.h"
#include "model/fused.h"

namespace scalelab::train {

namespace {
// Cross-entropy as one autograd node. Saves the logits in their own dtype (bf16 under autocast) and
// the per-row log-sum-exp; backward builds the gradient softmax − onehot in a single fp32 buffer
// and casts it back. The composite of logsumexp and gather kept three vocabulary-sized fp32 buffers
// alive in backward (measured on the H200: +2.2 GiB at TinyStories batch 128); this keeps one, and
// makes fewer passes.
class CrossEntropyFn : public torch::autograd::Function<CrossEntropyFn> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& targets) {
    auto l = logits.reshape({-1, logits.size(-1)});  // (N, V)
    auto t = targets.reshape({-1, 1});               // (N, 1)
    // log_softmax is one fused, max-subtracted kernel writing fp32 directly (no separate fp32 copy
    // of the logits and no (l − max) temporary, which torch::logsumexp allocates): forward holds
    // 6·V bytes per token at most, below backward's 8·V. lse = l − log p at any column; column 0 is
    // as good as any.
    auto logp = at::log_softmax(l, -1, torch::kFloat32);                  // (N, V)
    auto lse = l.select(-1, 0).to(torch::kFloat32) - logp.select(-1, 0);  // (N)
    auto nll = -logp.gather(-1, t).squeeze(-1);                           // (N)
    ctx->save_for_backward({logits, targets, lse});
    return nll.mean();
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_out) {
    auto saved = ctx->get_saved_variables();
    const auto& logits = saved[0];
    auto l = logits.reshape({-1, logits.size(-1)});
    auto t = saved[1].reshape({-1, 1});
    const auto& lse = saved[2];
    const double n = static_cast<double>(l.size(0));
    // A copy even for fp32 logits: the in-place ops must never touch the caller's (saved) tensor.
    auto g =
        l.to(torch::kFloat32, /*non_blocking=*/false, /*copy=*/true).sub_(lse.unsqueeze(-1)).exp_();
    g.scatter_add_(-1, t, torch::full_like(t, -1.0, g.options()));  // − onehot
    g.mul_(grad_out[0].to(torch::kFloat32) / n);
    return {g.to(logits.scalar_type()).view_as(logits), torch::Tensor()};
  }
};
}  // namespace

torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  // On CUDA, scalelab's kernel (model/fused.h): one read of the logits forward, one read and one
  // write backward, no fp32 (N, V) buffer at all.
  if (auto fused = model::fused_cross_entropy(logits, targets); fused.defined()) return fused;
  return CrossEntropyFn::apply(logits, targets);
}

torch::Tensor lm_loss(model::TransformerLM& m, const torch::Tensor& x, const torch::Tensor& y,
                      bool fp8_head) {
  if (m->lm_head && x.is_cuda()) {
    auto h = m->hidden(x);  // (B, T, d)
    auto loss = model::fused_linear_cross_entropy(h, m->lm_head->weight, y, fp8_head);
    if (loss.defined()) return loss;
    SCALELAB_CHECK(!fp8_head,
                   "fp8_head: the fused LM head does not apply here (scalelab's CUDA "
                   "kernels off, or gradients off)");
    return cross_entropy(m->head(h), y);
  }
  SCALELAB_CHECK(!fp8_head, "fp8_head: needs an untied LM head on a CUDA device");
  return cross_entropy(m->forward(x), y);
}

AdamW::AdamW(std::vector<torch::Tensor> params, AdamWOptions o)
    : params_(std::move(params)), options_(o) {
  SCALELAB_CHECK(o.beta1 >= 0 && o.beta1 < 1 && o.beta2 >= 0 && o.beta2 < 1,
                 "adamw betas must be in [0, 1)");
  SCALELAB_CHECK(o.eps > 0 && o.weight_decay >= 0, "adamw eps must be > 0 and weight decay >= 0");
  for (const auto& p : params_) {
    m_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    v_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
#if TORCH_VERSION_MAJOR >= 2
  fused_ = !params_.empty() && params_.front().is_cuda() &&
           params_.front().scalar_type() == torch::kFloat32;
  if (fused_) step_tensor_ = torch::zeros({}, params_.front().options());
#endif
}

void AdamW::set_steps(int64_t s) {
  step_ = s;
  if (step_tensor_.defined()) step_tensor_.fill_(static_cast<double>(s));
}

void AdamW::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined())
      p.mutable_grad() = torch::Tensor();  // set_to_none, as torch.optim defaults
}

std::array<std::vector<torch::Tensor>, 5> AdamW::fused_lists_and_bump() {
  std::array<std::vector<torch::Tensor>, 5> l;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].grad().defined()) continue;
    l[0].push_back(params_[i]);
    l[1].push_back(params_[i].grad());
    l[2].push_back(m_[i]);
    l[3].push_back(v_[i]);
    l[4].push_back(step_tensor_);
  }
  // The kernel only reads state_steps (all parameters share one step tensor here).
  step_tensor_.add_(1);
  return l;
}

void AdamW::step(double lr) {
  torch::NoGradGuard ng;
  ++step_;
  const auto& o = options_;
#if TORCH_VERSION_MAJOR >= 2
  if (fused_) {
    auto [ps, gs, ms, vs, steps] = fused_lists_and_bump();
    at::_fused_adamw_(ps, gs, ms, vs, {}, steps, lr, o.beta1, o.beta2, o.weight_decay, o.eps, false,
                      false, {}, {});
    return;
  }
#endif
  const double bc1 = 1.0 - std::pow(o.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(o.beta2, static_cast<double>(step_));
  const double step_size = lr / bc1, bc2_sqrt = std::sqrt(bc2);
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    if (!p.grad().defined()) continue;
    const auto& g = p.grad();
    p.mul_(1.0 - lr * o.weight_decay);
    m_[i].mul_(o.beta1).add_(g, 1.0 - o.beta1);
    v_[i].mul_(o.beta2).addcmul_(g, g, 1.0 - o.beta2);
    auto denom = (v_[i].sqrt() / bc2_sqrt).add_(o.eps);
    p.addcdiv_(m_[i], denom, -step_size);
  }
}

void AdamW::step(const torch::Tensor& lr) {
  SCALELAB_CHECK(fused_, "adamw: a device learning rate needs the fused CUDA path (LibTorch >= 2)");
#if TORCH_VERSION_MAJOR >= 2
  torch::NoGradGuard ng;
  ++step_;
  const auto& o = options_;
  auto [ps, gs, ms, vs, steps] = fused_lists_and_bump();
  at::_fused_adamw_(ps, gs, ms, vs, {}, steps, lr, o.beta1, o.beta2, o.weight_decay, o.eps, false,
                    false, {}, {});
#else
  (void)lr;
#endif
}

torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm,
                             double eps) {
  torch::NoGradGuard ng;
#if TORCH_VERSION_MAJOR >= 2
  // On CUDA with LibTorch 2.x: the multi-tensor kernels torch.nn.utils.clip_grad_norm_ uses (a few
  // launches for all parameters instead of four per parameter). Same arithmetic up to summation
  // order (GPU test).
  std::vector<torch::Tensor> grads;
  bool multi_tensor = true;
  for (const auto& p : params) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    multi_tensor = multi_tensor && p.grad().is_cuda() && p.grad().scalar_type() == torch::kFloat32;
  }
  if (multi_tensor && !grads.empty()) {
    auto total = at::stack(at::_foreach_norm(grads, 2)).norm();  // stays on the device
    if (max_norm > 0) at::_foreach_mul_(grads, (max_norm / (total + eps)).clamp_max(1.0));
    return total;
  }
#endif
  std::vector<torch::Tensor> norms;
  for (const auto& p : params)
    if (p.grad().defined()) norms.push_back(p.grad().to(torch::kFloat32).pow(2).sum());
  if (norms.empty()) return torch::zeros({});
  auto total = torch::stack(norms).sum().sqrt();  // stays on the device: no host sync per step
  if (max_norm > 0) {
    auto coef = (max_norm / (total + eps)).clamp_max(1.0);
    for (const auto& p : params)
      if (p.grad().defined()) p.grad().mul_(coef.to(p.grad().scalar_type()));
  }
  return total;
}

}  // namespace scalelab::train
