// The full accounting of one model for `scalelab account`: parameters, FLOPs, memory, the largest
// batch that fits a GPU and time to train D tokens, as one struct with a text table and a JSON
// form. Configuration lives in AccountOptions (the CLI binds to it; its defaults are the defaults).
#pragma once

#include <string>

#include "accounting/flops.h"
#include "accounting/hardware.h"
#include "accounting/memory.h"
#include "accounting/mfu.h"
#include "accounting/params.h"

namespace scalelab::accounting {

struct AccountOptions {
  FlopOptions flops;             // attention counting, sequence length
  MemoryOptions memory;          // batch size, precision, fused attention, recompute
  std::string gpu = "h100-sxm";  // see gpu_table()
  int64_t n_gpus = 1;
  double tokens = 0;         // D for totals; 0 = 20 tokens per parameter (Hoffmann et al.)
  double mfu = 0.4;          // assumed MFU for time to train
  double reserve_gib = 1.0;  // memory kept free (CUDA context, allocator slack)
  int kv_cache_bytes = 2;    // bytes per element of the inference KV cache
  void validate() const;
};

struct AccountSummary {
  std::string model_label;  // "gpt2-small (preset)", "model.json", "flags"
  ModelShape shape;         // resolved
  AccountOptions options;
  ParamCounts params;
  FlopCounts flops;
  MemoryBreakdown memory;
  const GpuSpec* gpu = nullptr;
  Dtype dtype = Dtype::kBf16;
  double tokens = 0;          // D used
  double training_flops = 0;  // exact matmul, D tokens
  double six_nd = 0;          // 6·N·D with N total
  double palm_flops = 0;      // PaLM per token · D
  double kv_bytes_per_token = 0;
  double kv_bytes_context = 0;
  int64_t max_batch = 0;
  double time_to_train_s = 0;
};

AccountSummary summarize(const ModelShape& shape, const AccountOptions& options,
                         std::string model_label);
std::string to_text(const AccountSummary& s);
json::Json to_json(const AccountSummary& s);

}  // namespace scalelab::accounting
