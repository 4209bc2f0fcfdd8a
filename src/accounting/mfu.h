// Model FLOPs utilisation (Chowdhery et al. 2022 App. B): achieved model FLOP/s over the hardware's
// dense peak. Model FLOPs per token default to the PaLM formula 6N + 12·L·H·Q·T; hardware FLOPs
// (HFU) add the recomputed forward when activation recomputation is on.
#pragma once

#include "accounting/flops.h"
#include "accounting/hardware.h"

namespace scalelab::accounting {

struct MfuInput {
  double tokens_per_second = 0;  // whole job, all GPUs together
  int64_t n_gpus = 1;
  double peak_tflops_per_gpu = 0;
};

struct MfuResult {
  double model_flops_per_token = 0;  // PaLM formula
  double exact_flops_per_token = 0;  // our exact matmul count (training)
  double achieved_tflops = 0;        // per GPU, PaLM formula
  double mfu = 0;                    // PaLM formula / peak
  double mfu_exact = 0;              // exact count / peak
  double hfu_with_recompute = 0;     // (exact + one more forward) / peak
};

MfuResult compute_mfu(const FlopCounts& flops, const MfuInput& in);

// Seconds to train `tokens` at a given MFU on n_gpus GPUs of `peak_tflops` each (exact matmul
// FLOPs).
double time_to_train_s(const FlopCounts& flops, double tokens, double mfu, double peak_tflops,
                       int64_t n_gpus);

}  // namespace scalelab::accounting
