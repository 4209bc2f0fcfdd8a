// The sweep plan: for each budget C, models_per_budget target sizes log-spaced from guess/n_spread
// to guess·n_spread around the tokens-per-parameter guess N = √(C / (6·r)) (Hoffmann et al. 2022:
// r ≈ 20; N under the sweep's size convention), each snapped to the model family's nearest member
// (architecture.h; exact counts from accounting), D set so the run spends C (exact FLOPs per token
// by default, or 6ND) in whole optimizer steps, and the training hyperparameters of each run.
// Checks what can be checked before anything trains: budgets too small for the smallest model, too
// few steps, a corpus too short for the planned tokens. Not here: running the plan (executor.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "sweep/architecture.h"
#include "sweep/sweep_config.h"
#include "train/train_config.h"

namespace scalelab::sweep {

// What the planner needs to know of the data (prepare_data in executor.h fills it).
struct DataInfo {
  int64_t vocab_size = 0;
  int64_t train_tokens = 0;
  int64_t val_tokens = 0;
  std::string tokenizer_dir, train_bin, val_bin;  // the runs' files
};

struct PlannedRun {
  std::string key;     // "b2-m3": budget 2, model 3 (1-based), stable across re-plans
  std::string budget;  // label, e.g. "1e+12"
  double budget_C = 0;
  double target_N = 0;                     // target size under the sweep's convention
  ShapeChoice choice;                      // shape and its exact counts
  int64_t batch_size = 0, grad_accum = 1;  // sequences per micro-batch, micro-batches per step
  int64_t steps = 0;
  int64_t batch_tokens = 0;  // per optimizer step (batch_rule)
  double D = 0;              // tokens = steps · batch_tokens
  double C = 0;              // FLOPs under the configured convention (6ND or exact)
  double flops_exact = 0;    // accounting's training FLOPs (matmul, full attention)
  double flops_6nd = 0;
  double lr = 0;
  double epochs = 0;       // D / training tokens
  double est_seconds = 0;  // flops_spent / device FLOP/s + its own steps · per-step overhead
  // A cooldown branch (lr_schedule wsd with branches): the key of the run it branches from, and the
  // step it starts at (its cooldown's first); empty and 0 otherwise.
  std::string parent;
  int64_t branch_step = 0;
  double flops_spent = 0;  // what training it costs: flops_exact, or only its cooldown's share
  // One of an IsoFLOP budget's points; false for an extra branch point along D (extra_branches):
  // its budget_C is its own exact C, and the IsoFLOP parabolas leave it out.
  bool isoflop = true;
  // Everything the trainer gets: shape, data, out_dir (out_dir/runs/<key>), batch, steps, lr
  // schedule (warmup_fraction, lr_min_ratio), AdamW, clipping, log/eval/checkpoint intervals,
  // device and precision. Decided here and nowhere else.
  train::TrainConfig train;
};

struct Plan {
  std::vector<PlannedRun> runs;
  scaling::SizeConvention convention = scaling::SizeConvention::kTotal;
  std::vector<ShapeChoice> family;  // the model family the runs were picked from
  double max_epochs = 0;            // the config's cap on repetitions of the training split
  int64_t seeds = 1;                // runs per model (the config's seeds)
  double family_aspect_ratio = 0;
  std::vector<std::string> warnings;
  DataInfo data;
  double device_flops_per_second = 0;
  double step_overhead_seconds = 0;
  // Shapes whose rate was measured on finished runs (estimate_from_measured_rates); 0: the
  // estimates are at device_flops_per_second plus step_overhead_seconds per step.
  size_t measured_shapes = 0;
  // Runs trained at once, as a speedup on the one-at-a-time time: the GPUs, times the measured gain
  // of packing runs_per_gpu > 1 runs on each (kPackingGain, kPackingGainMps).
  double concurrency = 1;
  double total_flops() const;    // the points' exact FLOPs: what they cost as separate runs
  double spent_flops() const;    // what training them costs (less with cooldown branches)
  double total_seconds() const;  // the runs' estimated times, one after another
  double wall_seconds() const { return total_seconds() / concurrency; }
  bool has_branches() const;
};

// What packing runs_per_gpu > 1 runs on a GPU gains over training them one at a time (wall time of
// the one-at-a-time estimate ÷ that of the packed sweep), measured on examples/h200-sweep.json
// packed 4 per GPU on an H200 (2026-12-03, docs/benchmarks.md): its plan estimated 216 s one at a
// time; time-sliced (the processes take turns) it took 175–180 s, under a CUDA MPS daemon
// (sweep/mps.h) 134–142 s. Sweeps of larger models gain less (the 1e15–3.2e16 one, time-sliced:
// 25.1 min estimated, ~19 min trained, 1.3×).
inline constexpr double kPackingGain = 1.2;
inline constexpr double kPackingGainMps = 1.5;

// The config given to the functions below has passed SweepConfig::validate() (once, where it was
// read) and has its device and precision resolved (an unresolved device plans for the CPU).
//
// One run of budget_C for a chosen shape: batch and accumulation, whole steps so that 6ND (or the
// exact count, as configured) lands on budget_C, FLOP counts, learning rate, epochs over the
// training tokens, and the run's complete TrainConfig. No checks and no time estimate (make_plan
// adds both). Also plans the --verify run.
PlannedRun plan_run(const SweepConfig& config, std::string key, double budget_C, double target_N,
                    const ShapeChoice& choice, const DataInfo& data);

// Throws (one line naming the budget/run and what to change) for the errors above.
// With lr_schedule wsd and branches (Hägele et al. 2024, §4): the points that share a shape and
// seed share one trajectory. The one with the largest budget is the parent: it keeps checkpoints
// at the others' cooldown starts (branch_steps); each other point takes the parent's batch,
// micro-batch, lr and warmup, its own whole steps for its budget, and trains only its cooldown from
// the parent's checkpoint (branch_from). All take the batch and lr the rules give the smallest D
// among them (extra points included), so that none trains with a larger batch than its own. A point
// whose cooldown would start inside the parent's warmup, or that the parent's batch leaves with too
// few steps or too many epochs, stays a run of its own. With extra_branches > 0 every parent (a
// shape seen at one budget too) also gets extra branch points at D = its D · 2^(−k/extra_branches),
// k = 1 … 2·extra_branches (the same checks; a step already taken is not taken twice), appended
// after the grid's points: keys "<its key>-x<k>" (before a seed suffix), isoflop false. Time
// estimates: exact FLOPs at device_flops_per_second plus step_overhead_seconds per optimizer step
// (launches and data movement that dominate tiny models).
Plan make_plan(const SweepConfig& config, const DataInfo& data, double device_flops_per_second,
               double step_overhead_seconds = 0);

// The time estimates again from rates measured per shape on finished runs (FLOP/s by exact FLOPs
// per token: measured_rates_by_shape in executor.h; a run's measured rate includes its per-step
// overhead). A run of a measured shape takes that shape's rate; one between two measured shapes
// the rate interpolated linearly in log rate against log FLOPs per token; one beyond them the
// nearest measured shape's. Small models train at a fraction of a large one's FLOP/s (launches and
// memory-bound kernels), so one rate for all misjudges the sweep by its mix of shapes. No
// measured rate: nothing changes.
void estimate_from_measured_rates(Plan& plan,
                                  const std::map<double, double>& rate_by_flops_per_token);

// DeepSeek LLM's compute for the hyperparameter rules: C_M = M · D, M the non-embedding training
// FLOPs per token (body_flops_per_token), D the run's tokens.
double deepseek_compute(const ShapeChoice& choice, double D);
// The peak learning rate the rule gives a model trained on D tokens.
double learning_rate(const SweepConfig& config, const ShapeChoice& choice, double D);
// Tokens per optimizer step the rule gives a model trained on D tokens: whole sequences (whole
// micro-batches when micro_batch_tokens is set), at least one, at most batch_tokens.
int64_t batch_tokens_for(const SweepConfig& config, const ShapeChoice& choice, double D);

// A stable JSON of what decides the runs (keys, shapes, D, hyperparameters): a sweep's database
// stores it so running again with a changed plan is refused instead of mixing two sweeps.
json::Json plan_fingerprint(const Plan& plan);

// The run table for people: budget, target size, exact total and non-embedding N, shape, D,
// tokens/param (under the convention), exact FLOPs, epochs, estimated time; then the family's
// members the plan spans.
std::string format_plan(const Plan& plan);

}  // namespace scalelab::sweep
