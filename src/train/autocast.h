// RAII bf16 autocast on CUDA for one forward pass: enables autocast when `on`, and on scope exit
// disables it and clears its cache of bf16 weight copies (so they are rebuilt from the updated fp32
// weights next step). A no-op when `on` is false or LibTorch is older than 2.0 (bf16-mixed is
// refused there before any forward runs).
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
    if (on_) at::autocast::set_autocast_enabled(at::kCUDA, true);
#endif
  }
  ~AutocastGuard() {
#if TORCH_VERSION_MAJOR >= 2
    if (on_) {
      at::autocast::set_autocast_enabled(at::kCUDA, false);
      at::autocast::clear_cache();
    }
#endif
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool on_;
};

}  // namespace scalelab::train
