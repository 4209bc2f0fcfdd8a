// The sweep's configuration: one struct whose default member initialisers are the defaults of
// `scalelab sweep` (its JSON file and its CLI flags) and of the docs. Strict JSON: an unknown field
// is an error naming it. validate() names the first bad field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounting/memory.h"
#include "common/fields.h"
#include "common/json.h"
#include "scaling/fit.h"
#include "scaling/observation.h"
#include "sweep/architecture.h"
#include "tokenizer/pretokenizer.h"
#include "train/schedule.h"

namespace scalelab::sweep {

enum class FlopCount { k6nd, kExact };  // how a budget sets D: C = 6ND, or exact accounting
// Peak lr: lr; Kaplan et al. 2020's 0.003239 − 0.0001395 ln N_nonemb; or DeepSeek LLM (2024)'s
// 0.3118 · C_M^−0.125 with C_M = non-embedding FLOPs per token (M) × D.
enum class LrRule { kConstant, kKaplan, kDeepSeek };
// Tokens per step: batch_tokens; or DeepSeek LLM (2024)'s 0.2920 · C_M^0.3271, at most
// batch_tokens.
enum class BatchRule { kConstant, kDeepSeek };
enum class Device { kCpu, kCuda };  // where runs train (std::nullopt = auto)

struct SweepConfig {
  // --- corpus: text files (tokenizer trained or reused, then encoded), or encoded token files
  std::vector<std::string> corpus;  // text files, concatenated in order
  std::string train_tokens;         // instead of corpus: a token file (.bin + .bin.json) …
  std::string val_tokens;           // … and its validation file
  std::string tokenizer;            // reuse this tokenizer (any format); empty = train one
  int64_t vocab_size = 4096;        // when training a tokenizer
  tokenizer::Pattern tokenizer_pattern = tokenizer::Pattern::kGpt2;  // … and its pattern
  double val_fraction = 0.05;  // text corpus: the last fraction of bytes is validation
  // --- budgets (FLOPs): a list, or a log-spaced range
  std::vector<double> budgets;
  double budget_min = 0, budget_max = 0;
  int64_t budget_count = 0;
  int64_t models_per_budget = 5;  // log-spaced N around the tokens-per-parameter guess
  double tokens_per_param = 20;   // the guess the grid centres on (Hoffmann et al. 2022)
  double n_spread = 3;            // models from guess/n_spread to guess·n_spread
  FlopCount flop_count = FlopCount::kExact;
  // What N is (docs/scaling.md, "The parameter convention": flops predicted held-out runs best).
  scaling::SizeConvention size_convention = scaling::SizeConvention::kFlops;
  ArchitectureRule architecture;
  // --- training (per run)
  // Batch and peak lr by DeepSeek's rules (docs/sweep.md, "Batch and learning rate": on the H200
  // sweep they cut the held-out error from 6% to 1.3% against a fixed batch and lr).
  BatchRule batch_rule = BatchRule::kDeepSeek;
  int64_t batch_tokens = 65536;    // tokens per optimizer step (the deepseek rule's cap)
  int64_t micro_batch_tokens = 0;  // 0 = batch_tokens; smaller = gradient accumulation
  LrRule lr_rule = LrRule::kDeepSeek;
  double lr = 2e-3;               // peak lr of the constant rule
  double lr_min_ratio = 0.1;      // final lr = ratio · peak
  double warmup_fraction = 0.05;  // of each run's steps
  // Each run's schedule: cosine to its end, or WSD with a cooldown over its last cooldown_fraction
  // (train/schedule.h).
  train::LrScheduleKind lr_schedule = train::LrScheduleKind::kCosine;
  double cooldown_fraction = train::kDefaultCooldownFraction;
  train::CooldownShape cooldown_shape = train::CooldownShape::kOneMinusSqrt;
  // wsd: each model shape trains once, to the largest D the plan gives it, and its other points are
  // cooldown branches of that run (planner.h); false trains every point as its own WSD run.
  bool branches = true;
  // wsd with branches: besides the grid's points, this many extra cooldown branches per doubling of
  // D along each model's trajectory, over the two doublings below its largest D (planner.h). They
  // are points for the parametric fit; the IsoFLOP parabolas use the grid's only.
  int64_t extra_branches = 3;
  double weight_decay = 0.1, grad_clip = 1.0, beta1 = 0.9, beta2 = 0.95;
  int64_t min_steps = 20;     // a run with fewer optimizer steps is an error
  int64_t curve_points = 25;  // loss-curve points recorded per run
  int64_t eval_tokens = 0;    // validation tokens for each run's final loss (0 = all)
  uint64_t seed = 0;
  // Runs per planned model, with seeds seed, seed + 1, …: at small budgets two seeds of one model
  // can differ by more than neighbouring models do (docs/sweep.md, "Seed noise"); the fits then use
  // each model's mean loss, and the analysis gives the spread between seeds per budget.
  int64_t seeds = 1;
  // --- targets and analysis
  std::vector<double> targets;  // budgets to recommend for; empty = 100 × the largest budget
  // Tokens the recommended model will serve (0 = none): each target then also gets the model that
  // reaches its compute-optimal loss for the least training + inference compute (Sardana et al.
  // 2024; ScalingLaw::allocate_with_inference).
  double inference_tokens = 0;
  scaling::LossFunction loss = scaling::LossFunction::kLogHuber;  // see `scalelab fit`
  int64_t bootstrap_samples = 200;
  bool holdout = true;  // refit without the largest budget and predict it
  // Train the recommended model and the 20-tokens-per-parameter one at verify_budget; compare
  // each with its predicted loss.
  bool verify = false;
  double verify_budget = 0;  // 0 = 10 × the largest sweep budget
  // --- execution
  std::optional<Device> device;  // auto (cuda when available) | cpu | cuda
  // auto (bf16-mixed on CUDA, fp32 on CPU) | fp32 | bf16-mixed
  std::optional<accounting::Precision> precision;
  std::vector<int64_t> gpus;  // one worker process per GPU id (CUDA_VISIBLE_DEVICES)
  // Runs trained at once on each GPU (worker processes sharing it): small models leave a GPU
  // mostly idle. Each run's micro-batch is cut to fit its share of the GPU's memory.
  int64_t runs_per_gpu = 1;
  // Packed runs share each GPU through a private CUDA MPS daemon when nvidia-cuda-mps-control is
  // on PATH (sweep/mps.h); false: the GPU time-slices their processes.
  bool mps = true;
  int64_t workers = 1;       // without gpus: worker processes (> 1: CPU threads split)
  double device_tflops = 0;  // achieved TFLOP/s for time estimates; 0 = by device
  double warn_epochs = 4;    // warn when a run repeats its training data more than this
  // A run needing more epochs is an error (corpus too short). 16: past ~16 repetitions a token is
  // worth almost nothing more (Muennighoff et al. 2023, R_D* ≈ 15).
  double max_epochs = 16;
  bool retry_failed = false;  // run failed runs again
  std::string out_dir = "sweep";

  void validate() const;  // everything that does not need the data
  // The budgets: the list, or budget_count log-spaced values from budget_min to budget_max.
  std::vector<double> resolved_budgets() const;
  std::vector<double> resolved_targets() const;
  double resolved_verify_budget() const;
};

// The precision a device trains in when the config says auto: bf16-mixed on CUDA, fp32 on the CPU.
accounting::Precision default_precision(Device device);

// The field tables (common/fields.h): JSON, CLI flags, per-field checks and docs/sweep.md's table.
const fields::Table<SweepConfig>& sweep_config_fields();
json::Json to_json(const SweepConfig& c);
SweepConfig sweep_config_from_json(const json::Json& j, std::string_view context);

// "1e18" style label of a budget: the shortest of %.3g that round-trips to within 0.1%.
std::string budget_label(double C);

}  // namespace scalelab::sweep

template <>
struct scalelab::fields::EnumNames<scalelab::sweep::FlopCount> {
  using E = scalelab::sweep::FlopCount;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::k6nd, "6nd"}, {E::kExact, "exact"}}};
};
template <>
struct scalelab::fields::EnumNames<scalelab::sweep::LrRule> {
  using E = scalelab::sweep::LrRule;
  static constexpr std::array<std::pair<E, std::string_view>, 3> kNames{
      {{E::kConstant, "constant"}, {E::kKaplan, "kaplan"}, {E::kDeepSeek, "deepseek"}}};
};
template <>
struct scalelab::fields::EnumNames<scalelab::sweep::BatchRule> {
  using E = scalelab::sweep::BatchRule;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kConstant, "constant"}, {E::kDeepSeek, "deepseek"}}};
};
template <>
struct scalelab::fields::EnumNames<scalelab::sweep::Device> {
  using E = scalelab::sweep::Device;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kCpu, "cpu"}, {E::kCuda, "cuda"}}};
};
