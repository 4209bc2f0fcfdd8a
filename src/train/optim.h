// The pieces of a training step, as free functions over tensors so each can be tested alone:
// cross-entropy with a stable log-sum-exp, AdamW (Loshchilov & Hutter 2019; our own, equal to
// torch.optim.AdamW), the cosine schedule with linear warmup, and global-norm gradient clipping.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "model/transformer.h"

namespace scalelab::train {

// Mean cross-entropy with a stable log-sum-exp. logits: (..., V) any float dtype (reduced in fp32),
// targets: (...) int64. One autograd node: saves the logits in their dtype, one fp32 gradient in
// backward.
torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets);

// The training loss of a language model on ids x and targets y: on CUDA with an untied head and
// gradients on, the head and the loss as one node (model::fused_linear_cross_entropy; its matmuls
// in FP8 with fp8_head), else cross_entropy(m(x), y). fp8_head where the fused node cannot run
// (CPU, a tied head, kernels off) throws rather than training in another precision.
torch::Tensor lm_loss(model::TransformerLM& m, const torch::Tensor& x, const torch::Tensor& y,
                      bool fp8_head = false);

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

// AdamW with decoupled weight decay and bias correction, torch.optim.AdamW's arithmetic:
//   p ← p − lr·λ·p;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;
//   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
// On CUDA with LibTorch ≥ 2 the multi-tensor fused kernel at::_fused_adamw_ does the same in one
// launch.
class AdamW {
 public:
  AdamW(std::vector<torch::Tensor> params, AdamWOptions options);
  void step(double lr);
  // The fused path with the learning rate read from a 0-d fp32 device tensor, so that a captured
  // CUDA graph (train/cuda_graph.h) takes each step's rate. Throws unless fused().
  void step(const torch::Tensor& lr);
  void zero_grad();
  int64_t steps() const { return step_; }
  // A replayed graph stepped the device's count; this keeps the host's in line.
  void count_replayed_step() { ++step_; }
  const AdamWOptions& options() const { return options_; }
  // State for checkpoints: exp_avg and exp_avg_sq per parameter, in parameter order.
  std::vector<torch::Tensor>& exp_avg() { return m_; }
  std::vector<torch::Tensor>& exp_avg_sq() { return v_; }
  // Sets the step count (checkpoint resume), on the device too: the fused kernel's bias
  // correction reads it there.
  void set_steps(int64_t s);
  bool fused() const { return fused_; }

 private:
  // The fused kernel's lists over parameters with a gradient: params, grads, exp_avg,
  // exp_avg_sq, step counts; and the step count bumped first, as torch.optim.AdamW(fused=True).
  std::array<std::vector<torch::Tensor>, 5> fused_lists_and_bump();
  std::vector<torch::Tensor> params_, m_, v_;
  AdamWOptions options_;
  int64_t step_ = 0;
  bool fused_ = false;
  torch::Tensor step_tensor_;  // fused path: the step count as a tensor
};

// Scales gradients in place so their global L2 norm is at most max_norm: g ← g · min(1,
// max_norm/(‖g‖+ε)), ε = 1e-6 as in CS336. Returns the norm before clipping as a 0-d tensor on the
// gradients' device (no host sync; read it only when logging). max_norm <= 0 only measures.
torch::Tensor clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm,
                             double eps = 1e-6);

}  // namespace scalelab::train
