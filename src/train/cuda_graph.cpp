// The captured training step (see cuda_graph.h). Everything CUDA-specific is behind
// SCALELAB_CUDA_GRAPHS; other builds have the class, whose constructor says why it cannot run.
#include "train/cuda_graph.h"

#include <torch/version.h>

#include <string>
#include <utility>

#include "common/error.h"

#if SCALELAB_WITH_CUDA && TORCH_VERSION_MAJOR >= 2
#define SCALELAB_CUDA_GRAPHS 1
#include <ATen/autocast_mode.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#else
#define SCALELAB_CUDA_GRAPHS 0
#endif

namespace scalelab::train {

#if SCALELAB_CUDA_GRAPHS

struct GraphedStep::Impl {
  Setup s;
  c10::cuda::CUDAStream side;
  at::cuda::CUDAGraph micro_graph, update_graph;
  torch::Tensor x, y, lr, gnorm;  // static inputs, the device learning rate, the norm output
  std::vector<torch::Tensor> grads;
  bool captured = false;

  explicit Impl(Setup setup)
      : s(std::move(setup)), side(c10::cuda::getStreamFromPool(false, s.device.index())) {}
  c10::cuda::CUDAStream current() const {
    return c10::cuda::getCurrentCUDAStream(s.device.index());
  }
};

bool GraphedStep::available(const torch::Device& device) {
  return device.is_cuda() && torch::cuda::is_available();
}

GraphedStep::GraphedStep(Setup setup) {
  SCALELAB_CHECK(available(setup.device), "train: CUDA graphs need a CUDA device");
  SCALELAB_CHECK(setup.optimizer && setup.optimizer->fused(),
                 "train: CUDA graphs need the fused AdamW (fp32 parameters on CUDA)");
  SCALELAB_CHECK(
      setup.loss_sum.defined() && setup.batch_size > 0 && setup.context > 0 && setup.grad_accum > 0,
      "train: CUDA graph set-up is incomplete");
  impl_ = std::make_unique<Impl>(std::move(setup));
}

GraphedStep::~GraphedStep() = default;

void GraphedStep::warm_up(const std::function<void()>& eager_step) {
  auto& m = *impl_;
  m.current().synchronize();
  {
    c10::cuda::CUDAStreamGuard guard(m.side);
    eager_step();
  }
  m.side.synchronize();
}

namespace {
std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}
}  // namespace

void GraphedStep::capture(const LossFn& loss_fn) {
  auto& m = *impl_;
  const auto& s = m.s;
  const auto ids = torch::TensorOptions().dtype(torch::kLong).device(s.device);
  m.x = torch::zeros({s.batch_size, s.context}, ids);
  m.y = torch::zeros({s.batch_size, s.context}, ids);
  m.lr = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(s.device));
  // The gradients stay allocated from here on: backward accumulates into them in place and the
  // update graph zeroes them, so their addresses are the ones the graphs hold.
  m.grads.clear();
  for (const auto& p : s.params) {
    torch::Tensor param = p;
    if (param.grad().defined())
      param.mutable_grad().zero_();
    else
      param.mutable_grad() = torch::zeros_like(param);
    m.grads.push_back(param.grad());
  }
  const int64_t host_steps = s.optimizer->steps();
  m.current().synchronize();
  // Autocast's cache of bf16 weight copies cannot live across a capture (PyTorch's notes).
  const bool cache = at::autocast::is_autocast_cache_enabled();
  at::autocast::set_autocast_cache_enabled(false);
  try {
    c10::cuda::CUDAStreamGuard guard(m.side);
    m.micro_graph.capture_begin();
    {
      torch::Tensor loss = loss_fn(m.x, m.y);
      (loss / static_cast<double>(s.grad_accum)).backward();
      torch::NoGradGuard ng;
      s.loss_sum.add_(loss.detach());
    }
    m.micro_graph.capture_end();
    m.update_graph.capture_begin(m.micro_graph.pool());
    {
      torch::NoGradGuard ng;
      m.gnorm = clip_grad_norm(s.params, s.grad_clip);
      s.optimizer->step(m.lr);
      at::_foreach_zero_(m.grads);
    }
    m.update_graph.capture_end();
  } catch (const std::exception& e) {
    at::autocast::set_autocast_cache_enabled(cache);
    SCALELAB_FAIL(
        "train: CUDA graph capture failed ({}); set cuda_graphs to false to train "
        "without graphs",
        first_line(e.what()));
  }
  at::autocast::set_autocast_cache_enabled(cache);
  s.optimizer->set_steps(host_steps);  // capturing ran nothing
  m.side.synchronize();
  m.captured = true;
}

bool GraphedStep::captured() const { return impl_->captured; }

void GraphedStep::micro(const torch::Tensor& x, const torch::Tensor& y) {
  auto& m = *impl_;
  m.x.copy_(x, /*non_blocking=*/true);
  m.y.copy_(y, /*non_blocking=*/true);
  m.micro_graph.replay();
}

torch::Tensor GraphedStep::update(double lr) {
  auto& m = *impl_;
  m.lr.fill_(lr);
  m.update_graph.replay();
  m.s.optimizer->count_replayed_step();
  return m.gnorm;
}

#else  // !SCALELAB_CUDA_GRAPHS

struct GraphedStep::Impl {};

bool GraphedStep::available(const torch::Device&) { return false; }

GraphedStep::GraphedStep(Setup) {
  SCALELAB_FAIL("train: CUDA graphs need a CUDA build (SCALELAB_WITH_CUDA) with LibTorch >= 2");
}

GraphedStep::~GraphedStep() = default;
void GraphedStep::warm_up(const std::function<void()>& eager_step) { eager_step(); }
void GraphedStep::capture(const LossFn&) {}
bool GraphedStep::captured() const { return false; }
void GraphedStep::micro(const torch::Tensor&, const torch::Tensor&) {}
torch::Tensor GraphedStep::update(double) { return {}; }

#endif

}  // namespace scalelab::train
