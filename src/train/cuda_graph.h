// CUDA-graph capture of the training step (LibTorch >= 2 in a SCALELAB_WITH_CUDA build): a small
// model's step is hundreds of kernel launches of microseconds each, so the host, not the GPU, sets
// its pace (docs/benchmarks.md: a 4×64 model at vocab 8192 runs at ~5% MFU). Replaying a captured
// graph launches all of them at once. Two graphs, replayed in order, share one memory pool:
//   micro:  static inputs x, y (B, T) → forward under autocast (cache off, as capture requires),
//           loss, backward into the parameters' gradients (kept allocated; zeroed in place),
//           loss_sum += loss. Replayed grad_accum times per step with new inputs copied in.
//   update: clip the global gradient norm, fused AdamW with the learning rate read from a device
//           tensor (so the schedule is not baked into the graph; the step count is already a
//           device tensor), zero the gradients in place.
// The arithmetic is the eager step's: same kernels, same order (tests/train/gpu_test.cpp compares
// the losses of a graphed and an eager run). Before the capture the caller runs a few eager steps
// on the graph's side stream (warm_up), as PyTorch's CUDA-graph notes require, so that cuBLAS
// workspaces and autocast state exist outside the capture.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "train/optim.h"

namespace scalelab::train {

class GraphedStep {
 public:
  // Whether this build and `device` can capture (CUDA device, LibTorch >= 2, SCALELAB_WITH_CUDA).
  static bool available(const torch::Device& device);

  // loss_fn(x, y) computes one micro-batch's mean loss (forward only; the graph adds backward).
  using LossFn = std::function<torch::Tensor(const torch::Tensor& x, const torch::Tensor& y)>;
  struct Setup {
    std::vector<torch::Tensor> params;
    AdamW* optimizer = nullptr;
    double grad_clip = 0;    // 0 = none
    int64_t grad_accum = 1;  // the micro loss is divided by this before backward
    torch::Tensor loss_sum;  // 0-d fp32 device tensor the micro graph adds each loss into
    int64_t batch_size = 0;  // static input shape (B, T)
    int64_t context = 0;
    torch::Device device = torch::kCPU;
  };

  explicit GraphedStep(Setup setup);  // throws when !available(setup.device)
  ~GraphedStep();
  GraphedStep(const GraphedStep&) = delete;
  GraphedStep& operator=(const GraphedStep&) = delete;

  // Runs `eager_step` on the side stream the graphs are captured on, synchronised with the
  // current stream before and after: the warm-up steps before capture.
  void warm_up(const std::function<void()>& eager_step);
  // Captures both graphs (nothing runs). Throws naming the cause when capture fails.
  void capture(const LossFn& loss_fn);
  bool captured() const;
  // One micro-batch: copies x, y into the static inputs and replays the micro graph.
  void micro(const torch::Tensor& x, const torch::Tensor& y);
  // Clip + AdamW at `lr` + zero grads: replays the update graph. Returns the pre-clip gradient norm
  // (0-d device tensor, overwritten by the next replay). Also advances the optimizer's host count.
  torch::Tensor update(double lr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scalelab::train
