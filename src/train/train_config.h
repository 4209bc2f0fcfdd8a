// The training run's configuration and result as plain structs with JSON: TrainConfig (the single
// source of training defaults for `scalelab train`, config files and the sweep) and TrainResult
// (what result.json holds). No LibTorch here, so the sweep planner and the report use them without
// it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accounting/memory.h"
#include "accounting/model_shape.h"
#include "common/fields.h"
#include "common/json.h"
#include "train/schedule.h"

namespace scalelab::train {

enum class Attention { kAuto, kPlain };  // auto: fused (SDPA) on LibTorch >= 2; plain: reference

struct TrainConfig {
  accounting::ModelShape model;
  double rope_theta = 10000.0;
  Attention attention = Attention::kAuto;
  std::string train_data;  // token file (.bin + .bin.json)
  std::string val_data;    // optional; evaluation uses it
  std::string tokenizer;   // optional tokenizer directory, recorded for `generate`
  // When the model's vocabulary comes from the training data (`scalelab train` without a
  // vocabulary of its own), round it up to a multiple of this: nanoGPT's and llm.c's padding of
  // GPT-2's 50,257 to 50,304, which keeps the embedding and LM-head matmuls on whole tiles. The
  // padding rows are never sampled (generate) and never targets. 1 = the data's vocabulary exactly.
  int64_t vocab_multiple = 64;
  std::string out_dir = "run";
  int64_t batch_size = 16;  // sequences per micro-batch
  int64_t grad_accum = 1;   // micro-batches per optimizer step
  int64_t max_steps = 0;    // optimizer steps; or
  double max_tokens = 0;    // a token budget (steps = ceil(tokens / tokens per step))
  double lr_max = 1e-3, lr_min = 1e-4;
  int64_t warmup_steps = -1;  // -1 = 5% of the steps
  int64_t cosine_steps = 0;   // 0 = the last step (cosine only)
  LrScheduleKind lr_schedule = LrScheduleKind::kCosine;
  double cooldown_fraction = kDefaultCooldownFraction;  // wsd: the cooldown's share of the steps
  CooldownShape cooldown_shape = CooldownShape::kOneMinusSqrt;  // wsd
  // Cooldown branches (wsd; docs/training.md, "Cooldown branches"): a parent keeps a checkpoint at
  // each of branch_steps (out_dir/branch-STEP), steps of its constant phase; a branch starts from
  // one (branch_from) at its own cooldown's first step and trains only the cooldown.
  std::vector<int64_t> branch_steps;
  std::string branch_from;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
  double grad_clip = 1.0;  // 0 = no clipping
  int64_t log_interval = 10;
  int64_t eval_interval = 0;        // 0 = only at the end
  int64_t eval_tokens = 0;          // validation tokens per evaluation (0 = the whole file)
  int64_t checkpoint_interval = 0;  // 0 = only at the end
  uint64_t seed = 0;
  std::string device = "auto";  // auto (the GPU when there is one) | cpu | cuda | cuda:N
  // fp32 | bf16-mixed (autocast, fp32 master weights; CUDA). Pure bf16 is accounting-only.
  accounting::Precision precision = accounting::Precision::kFp32;
  double peak_tflops = 0;   // for MFU; 0 = from the GPU table when the device is known
  bool cuda_graphs = true;  // capture the step as CUDA graphs (CUDA, LibTorch >= 2; else unused)
  bool fp8_head = false;    // the LM head's matmuls in FP8 (model/fused.h; CUDA, bf16-mixed)
  // Data parallel (docs/distributed.md): ranks come from the launcher's environment (torchrun,
  // srun; train/world.h); nproc_per_node > 1 makes `scalelab train` start that many ranks itself.
  // batch_size stays the global micro-batch: each rank trains batch_size / world size of it.
  int64_t nproc_per_node = 1;
  double dist_timeout = 600;   // seconds a rendezvous or a collective may take before the run fails
  double dist_bucket_mb = 32;  // gradient all-reduce bucket size in MiB (DDP's bucket_cap_mb)
  bool resume = true;          // continue from out_dir/checkpoint when it exists
  int64_t stop_at_step = 0;  // stop (with a checkpoint) after this step, as if interrupted; 0 = end
  bool quiet = false;        // no progress bar; start-up and per-interval lines at debug level

  void validate() const;
  int64_t tokens_per_step() const { return batch_size * grad_accum * model.context_length; }
  int64_t resolved_steps() const;
  int64_t resolved_warmup() const;
  LrSchedule schedule() const;  // the lr at every step (schedule.h); needs the steps resolved
  // The first step a branch trains (its cooldown's first step); 0 when branch_from is empty.
  int64_t branch_start_step() const;
};

// Where a run keeps the checkpoint it resumes from: out_dir/checkpoint.
std::string resume_checkpoint_dir(const std::string& out_dir);
// Where a parent run keeps its branch checkpoint of a step: out_dir/branch-{step}.
std::string branch_checkpoint_dir(const std::string& out_dir, int64_t step);

// The field table (common/fields.h): JSON, the CLI flags of `scalelab train`, docs/training.md.
const fields::Table<TrainConfig>& train_config_fields();
json::Json to_json(const TrainConfig& c);
// Strict: unknown fields are errors naming them; the "model" object is a ModelShape.
TrainConfig train_config_from_json(const json::Json& j, std::string_view context);

struct TrainResult {
  std::string status;  // done | interrupted
  int64_t steps = 0;
  double tokens = 0;
  double flops = 0;  // exact training FLOPs (accounting, matmul, full attention)
  double flops_6nd = 0;
  int64_t params = 0;
  double final_train_loss = 0;
  double final_val_loss = 0;  // NaN when there is no validation data
  double wall_seconds = 0;
  double tokens_per_second = 0;  // tokens / wall_seconds: start-up and final evaluation included
  double mfu = 0;                // 0 when the peak is unknown (CPU)
  // Steady state: the steps after the first tenth of this process's steps (at least 3), without
  // evaluation and checkpoint time; 0 when the run was too short to have such a window.
  double steady_tokens_per_second = 0;
  double steady_mfu = 0;
  // A cooldown branch (branch_from): the step it started from, and the compute it spent itself
  // (`flops` counts all its tokens, the parent's included: the point it stands for).
  int64_t branch_step = 0;  // 0 = not a branch
  double flops_spent = 0;   // = flops for a run that is not a branch
};
json::Json to_json(const TrainResult& r);

// Reads a run's result.json (the fields of to_json(TrainResult)); errors name the file.
TrainResult read_train_result(const std::string& path);
TrainResult train_result_from_json(const json::Json& j, std::string_view context);

// A checkpoint's state.json (train/checkpoint.h): here, without LibTorch, so that the reader of
// this untrusted file is fuzzed with the other readers (tests/fuzz).
struct CheckpointState {
  int64_t step = 0;
  int64_t optimizer_steps =
      0;  // AdamW's step count (bias correction); the training step when absent
  double tokens = 0;
  double wall_seconds = 0;  // training wall time up to this checkpoint, summed over resumes
  std::string rng;          // std::mt19937_64 state, as its stream text
  int64_t world_size = 1;   // data-parallel ranks that trained up to here
  json::Json config = json::Json::object();
};
// Errors name `context` (the file) and the field.
CheckpointState checkpoint_state_from_json(const json::Json& j, std::string_view context);

}  // namespace scalelab::train

template <>
struct scalelab::fields::EnumNames<scalelab::train::Attention> {
  using E = scalelab::train::Attention;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kAuto, "auto"}, {E::kPlain, "plain"}}};
};
