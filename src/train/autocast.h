// RAII bf16 autocast on CUDA for one forward pass: sets the CUDA autocast dtype to bf16 and enables
// autocast when `on`; on scope exit restores both and clears autocast's cache of bf16 weight copies
// (so they are rebuilt from the updated fp32 weights next step). The dtype must be set: CUDA
// autocast defaults to fp16, which without a loss scaler loses small gradients (training stalled
// and diverged on the H100 until this was found). A no-op when `on` is false or LibTorch is older
// than 2.0 (bf16-mixed is refused there before any forward runs).
#pragma once

#include <torch/version.h>
#if TORCH_VERSION_MAJOR >= 2
#include <ATen/autocast_mode.h>
#endif

namespace scalelab::train {

class AutocastGuard {
 public:
  explicit AutocastGuard(bool on) : on_(on) {
#if TORCH_VERSION_MAJOR >= 2
    if (on_) {
      previous_ = get_dtype();
      set_dtype(at::kBFloat16);
      at::autocast::set_autocast_enabled(at::kCUDA, true);
    }
#endif
  }
  ~AutocastGuard() {
#if TORCH_VERSION_MAJOR >= 2
    if (on_) {
      at::autocast::set_autocast_enabled(at::kCUDA, false);
      set_dtype(previous_);
      at::autocast::clear_cache();
    }
#endif
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
#if TORCH_VERSION_MAJOR >= 2
  // set/get_autocast_dtype(device) replaced the per-device *_gpu_dtype calls in LibTorch 2.4.
  static at::ScalarType get_dtype() {
#if TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 4
    return at::autocast::get_autocast_dtype(at::kCUDA);
#else
    return at::autocast::get_autocast_gpu_dtype();
#endif
  }
  static void set_dtype(at::ScalarType t) {
#if TORCH_VERSION_MAJOR > 2 || TORCH_VERSION_MINOR >= 4
    at::autocast::set_autocast_dtype(at::kCUDA, t);
#else
    at::autocast::set_autocast_gpu_dtype(t);
#endif
  }
  at::ScalarType previous_ = at::kHalf;
#endif
  bool on_;
};

}  // namespace scalelab::train
