// MFU and time-to-train arithmetic, with input validation naming the bad option.
#include "accounting/mfu.h"

#include <cmath>

#include "common/error.h"

namespace scalelab::accounting {

MfuResult compute_mfu(const FlopCounts& f, const MfuInput& in) {
  SCALELAB_CHECK(std::isfinite(in.tokens_per_second) && in.tokens_per_second > 0,
                 "tokens-per-sec: must be a positive number (got {})", in.tokens_per_second);
  SCALELAB_CHECK(in.n_gpus > 0, "n-gpus: must be positive (got {})", in.n_gpus);
  SCALELAB_CHECK(in.peak_tflops_per_gpu > 0, "peak TFLOP/s must be positive");
  const double peak = in.peak_tflops_per_gpu * 1e12 * static_cast<double>(in.n_gpus);
  MfuResult r;
  r.model_flops_per_token = f.palm_per_token;
  r.exact_flops_per_token = f.training_per_token;
  r.achieved_tflops =
      in.tokens_per_second * f.palm_per_token / 1e12 / static_cast<double>(in.n_gpus);
  r.mfu = in.tokens_per_second * f.palm_per_token / peak;
  r.mfu_exact = in.tokens_per_second * f.training_per_token / peak;
  r.hfu_with_recompute = in.tokens_per_second * (f.training_per_token + f.forward_per_token) / peak;
  return r;
}

double time_to_train_s(const FlopCounts& f, double tokens, double mfu, double peak_tflops,
                       int64_t n_gpus) {
  SCALELAB_CHECK(std::isfinite(tokens) && tokens > 0, "tokens: must be a positive number (got {})",
                 tokens);
  SCALELAB_CHECK(std::isfinite(mfu) && mfu > 0 && mfu <= 1, "mfu: must be in (0, 1] (got {})", mfu);
  SCALELAB_CHECK(n_gpus > 0, "n-gpus: must be positive (got {})", n_gpus);
  return training_flops(f, tokens) / (mfu * peak_tflops * 1e12 * static_cast<double>(n_gpus));
}

}  // namespace scalelab::accounting
