// SweepConfig validation and JSON (see sweep_config.h).
#include "sweep/sweep_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/log.h"

namespace scalelab::sweep {

namespace {

void check_positive(const char* field, double v) {
  SCALELAB_CHECK(std::isfinite(v) && v > 0, "{}: must be positive (got {})", field, v);
}

}  // namespace

accounting::Precision default_precision(Device device) {
  return device == Device::kCuda ? accounting::Precision::kBf16Mixed : accounting::Precision::kFp32;
}

void SweepConfig::validate() const {
  sweep_config_fields().check(*this);
  // The analysis pipeline's own rule, checked here so that it fails before any run trains.
  SCALELAB_CHECK(bootstrap_samples == 0 || bootstrap_samples >= 10,
                 "bootstrap_samples: 0 (no intervals) or at least 10 (got {})", bootstrap_samples);
  const bool text = !corpus.empty();
  const bool bin = !train_tokens.empty();
  SCALELAB_CHECK(text != bin,
                 "corpus: give text files (corpus) or an encoded token file (train_tokens), "
                 "exactly one");
  if (bin) {
    SCALELAB_CHECK(!val_tokens.empty(), "val_tokens: required with train_tokens");
    SCALELAB_CHECK(!tokenizer.empty(), "tokenizer: required with train_tokens (its directory)");
  } else {
    SCALELAB_CHECK(val_tokens.empty(), "val_tokens: only with train_tokens");
  }
  if (!budgets.empty()) {
    SCALELAB_CHECK(budget_count == 0 && budget_min == 0 && budget_max == 0,
                   "budgets: give a list or budget_min/budget_max/budget_count, not both");
  } else {
    SCALELAB_CHECK(budget_count > 0,
                   "budgets: give a list (budgets) or a range (budget_min, budget_max, "
                   "budget_count)");
    check_positive("budget_min", budget_min);
    check_positive("budget_max", budget_max);
    SCALELAB_CHECK(budget_count == 1 ? budget_max == budget_min : budget_max > budget_min,
                   "budget_max: must exceed budget_min (got {} and {})", budget_max, budget_min);
  }
  {
    ArchitectureRule rule = architecture;  // its vocabulary comes from the tokenizer later
    rule.vocab_size = std::max<int64_t>(rule.vocab_size, 1);
    rule.validate("architecture");
  }
  if (lr_schedule == train::LrScheduleKind::kWsd)
    SCALELAB_CHECK(warmup_fraction + cooldown_fraction <= 1,
                   "cooldown_fraction: {} with warmup_fraction {} leaves the runs no room (their "
                   "sum must be at most 1)",
                   cooldown_fraction, warmup_fraction);
  SCALELAB_CHECK(batch_tokens > 0 && batch_tokens % architecture.context_length == 0,
                 "batch_tokens: must be a positive multiple of architecture.context_length {} "
                 "(got {})",
                 architecture.context_length, batch_tokens);
  if (micro_batch_tokens != 0)
    SCALELAB_CHECK(micro_batch_tokens > 0 &&
                       micro_batch_tokens % architecture.context_length == 0 &&
                       batch_tokens % micro_batch_tokens == 0,
                   "micro_batch_tokens: must be a multiple of architecture.context_length that "
                   "divides batch_tokens (got {})",
                   micro_batch_tokens);
  for (size_t i = 0; i < gpus.size(); ++i) {
    for (size_t k = 0; k < i; ++k)
      SCALELAB_CHECK(gpus[k] != gpus[i], "gpus: GPU {} listed twice", gpus[i]);
  }
  SCALELAB_CHECK(precision != accounting::Precision::kBf16,
                 "precision: bf16 (pure) is an accounting policy; training takes fp32 or "
                 "bf16-mixed");
  SCALELAB_CHECK(gpus.empty() || device != Device::kCpu, "gpus: given but device is cpu");
  SCALELAB_CHECK(gpus.empty() || workers == 1,
                 "workers: with gpus there is one worker per GPU; leave workers at 1");
  SCALELAB_CHECK(runs_per_gpu == 1 || device != Device::kCpu,
                 "runs_per_gpu: packs runs on a GPU but device is cpu (use workers)");
  SCALELAB_CHECK(runs_per_gpu == 1 || workers == 1,
                 "workers: with runs_per_gpu the workers are runs_per_gpu per GPU; leave workers "
                 "at 1");
  SCALELAB_CHECK(max_epochs >= warn_epochs, "max_epochs: must be >= warn_epochs {} (got {})",
                 warn_epochs, max_epochs);
  SCALELAB_CHECK(!out_dir.empty(), "out_dir: required");
}

std::vector<double> SweepConfig::resolved_budgets() const {
  std::vector<double> out = budgets;
  if (out.empty()) {
    for (int64_t i = 0; i < budget_count; ++i) {
      const double t = budget_count == 1 ? 0.0 : static_cast<double>(i) / (budget_count - 1);
      out.push_back(
          i == 0 ? budget_min
          : i == budget_count - 1
              ? budget_max
              : std::exp(std::log(budget_min) + t * (std::log(budget_max) - std::log(budget_min))));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<double> SweepConfig::resolved_targets() const {
  if (!targets.empty()) return targets;
  return {100.0 * resolved_budgets().back()};
}

double SweepConfig::resolved_verify_budget() const {
  return verify_budget > 0 ? verify_budget : 10.0 * resolved_budgets().back();
}

const fields::Table<SweepConfig>& sweep_config_fields() {
  using fields::Opt;
  using fields::Range;
  using S = SweepConfig;
  static const auto t =
      fields::Table<S>()
          // corpus
          .add("corpus", &S::corpus, "Text files (tokenizer trained, then encoded)")
          .add("train_tokens", &S::train_tokens, "Or: an encoded training token file")
          .add("val_tokens", &S::val_tokens, "Its validation token file")
          .add("tokenizer", &S::tokenizer,
               "Reuse this tokenizer: a directory, a tokenizer.json or a .tiktoken file (empty = "
               "train one)")
          .add("vocab_size", &S::vocab_size, "Vocabulary when training a tokenizer",
               Range::in(257, 1 << 20))
          .add("tokenizer_pattern", &S::tokenizer_pattern,
               "Pre-tokenizer pattern when training a tokenizer: gpt2, cl100k, o200k or llama3")
          .add("val_fraction", &S::val_fraction, "Validation share of a text corpus",
               Range::in(0, 0.5, true, true))
          // budgets
          .add("budgets", &S::budgets, "FLOP budgets (list)", Range::positive())
          .add("budget_min", &S::budget_min, "Or: smallest budget of a log range")
          .add("budget_max", &S::budget_max, "Largest budget of the range")
          .add("budget_count", &S::budget_count, "Budgets in the range")
          .add("models_per_budget", &S::models_per_budget,
               "Models per budget (an IsoFLOP parabola needs 3)", Range::at_least(3))
          .add("tokens_per_param", &S::tokens_per_param,
               "Tokens per parameter the grid centres on (Hoffmann et al. 2022)", Range::positive())
          .add("n_spread", &S::n_spread, "Grid spans guess/n_spread .. guess·n_spread",
               Range{1.0, std::nullopt, true, false})
          .add("flop_count", &S::flop_count,
               "How a budget sets D: exact accounting (every run spends its budget), or C = 6ND")
          .add("size_convention", &S::size_convention,
               "What N is when the grid is centred, models are picked and the law is fitted: total "
               "parameters, non-embedding parameters, or FLOPs per token / 6 (docs/scaling.md)")
          .nest("architecture", &S::architecture, architecture_rule_fields(),
                "The architecture rule (sweep/architecture.h)",
                {"context_length", "head_dim", "multiple", "aspect_ratio", "min_layers",
                 "tied_embeddings", "vocab_multiple"})
          // training
          .add("batch_rule", &S::batch_rule,
               "Tokens per step: constant (batch_tokens), or DeepSeek's 0.2920 · C_M^0.3271 "
               "(C_M = non-embedding FLOPs/token × D), whole sequences, at most batch_tokens")
          .add("batch_tokens", &S::batch_tokens,
               "Tokens per optimizer step (the deepseek batch rule's cap)")
          .add("micro_batch_tokens", &S::micro_batch_tokens,
               "Tokens per micro-batch (0 = batch_tokens; smaller = gradient accumulation)")
          .add("lr_rule", &S::lr_rule,
               "Peak lr: constant (lr), Kaplan's 0.003239 − 0.0001395 ln N_nonemb, or DeepSeek's "
               "0.3118 · C_M^−0.125")
          .add("lr", &S::lr, "Peak lr of the constant rule", Range::positive())
          .add("lr_min_ratio", &S::lr_min_ratio, "Final lr = ratio · peak", Range::in(0, 1))
          .add("warmup_fraction", &S::warmup_fraction, "Warmup share of each run",
               Range::in(0, 1, false, true))
          .add("lr_schedule", &S::lr_schedule,
               "Each run's schedule: cosine to its end, or wsd (warmup, constant, then a cooldown "
               "over its last cooldown_fraction; Hägele et al. 2024)")
          .add("cooldown_fraction", &S::cooldown_fraction, "wsd: the cooldown's share of each run",
               Range::in(0, 1, true, true))
          .add("cooldown_shape", &S::cooldown_shape, train::kCooldownShapeHelp)
          .add("branches", &S::branches,
               "wsd: train each model once, to its largest D, and its other points as cooldown "
               "branches of that run (false: every point is its own run)")
          .add("extra_branches", &S::extra_branches,
               "wsd with branches: extra cooldown branches per doubling of D over the two "
               "doublings below each model's largest D, points for the parametric fit (the IsoFLOP "
               "parabolas use the grid's points only)",
               Range::in(0, 8))
          .add("weight_decay", &S::weight_decay, "AdamW decoupled weight decay", Range::at_least(0))
          .add("grad_clip", &S::grad_clip, "Global gradient-norm clip (0 = none)",
               Range::at_least(0))
          .add("beta1", &S::beta1, "AdamW beta1", Range::in(0, 1, false, true))
          .add("beta2", &S::beta2, "AdamW beta2", Range::in(0, 1, false, true))
          .add("min_steps", &S::min_steps, "A run with fewer optimizer steps is an error",
               Range::at_least(1))
          .add("curve_points", &S::curve_points, "Loss-curve points recorded per run",
               Range::at_least(2))
          .add("eval_tokens", &S::eval_tokens,
               "Validation tokens for each run's final loss (0 = all)", Range::at_least(0))
          .add("seed", &S::seed, "Seed of every run and of the bootstrap")
          .add("seeds", &S::seeds,
               "Runs per planned model, seeded seed, seed+1, …; fits use each model's mean loss",
               Range::in(1, 64))
          // targets and analysis
          .add("targets", &S::targets,
               "Target budgets to recommend for (empty = 100 × the largest)", Range::positive())
          .add("inference_tokens", &S::inference_tokens,
               "Tokens the model will serve: each target also gets the model that reaches its "
               "loss for the least training + inference compute 6ND + 2N·T (Sardana et al. 2024; "
               "0 = none)",
               Range::at_least(0))
          .add("loss", &S::loss, "Parametric fit loss (see `scalelab fit`)")
          .add("bootstrap_samples", &S::bootstrap_samples, "Bootstrap resamples",
               Range::at_least(0))
          .add("holdout", &S::holdout, "Refit without the largest budget and predict it")
          .add("verify", &S::verify,
               "Train the recommended model and the 20-tokens-per-parameter one at verify_budget; "
               "report predicted vs achieved loss")
          .add("verify_budget", &S::verify_budget,
               "Budget of the verification runs (0 = 10 × the largest)", Range::at_least(0))
          // execution
          .add("device", &S::device, "Where runs train (auto = cuda when available)")
          .add("precision", &S::precision,
               "Training precision (auto = bf16-mixed on CUDA, fp32 on CPU)")
          .add("gpus", &S::gpus, "One worker process per GPU id (e.g. 0,1,2,3)", Range::at_least(0))
          .add("runs_per_gpu", &S::runs_per_gpu,
               "Runs trained at once on each GPU (worker processes sharing it; micro-batches cut "
               "to fit each run's share of memory)",
               Range::in(1, 64))
          .add("mps", &S::mps,
               "Packed runs share each GPU through a private CUDA MPS daemon when "
               "nvidia-cuda-mps-control is on PATH (kernels of several runs at once); false: the "
               "GPU time-slices them")
          .add("workers", &S::workers,
               "Without gpus: worker processes sharing the CPU (threads split)", Range::at_least(1))
          .add("device_tflops", &S::device_tflops,
               "Achieved TFLOP/s for time estimates (0 = measured or default)", Range::at_least(0))
          .add("warn_epochs", &S::warn_epochs, "Warn above this many epochs", Range::positive())
          .add("max_epochs", &S::max_epochs,
               "Error above this many epochs (past ~16 a repeated token adds almost nothing: "
               "Muennighoff et al. 2023)")
          .add("retry_failed", &S::retry_failed, "Run failed runs again")
          .add("out_dir", &S::out_dir, "Output directory (runs.db, runs/, report/)",
               Opt::named("--out"));
  return t;
}

json::Json to_json(const SweepConfig& c) { return sweep_config_fields().to_json(c); }

SweepConfig sweep_config_from_json(const json::Json& j, std::string_view context) {
  // architecture.aspect_range bounded the shapes before the model family replaced the band
  // (2026-12): configs and sweep databases written then still load, with a warning.
  if (j.is_object() && j.contains("architecture") && j["architecture"].is_object() &&
      j["architecture"].contains("aspect_range")) {
    json::Json k = j;
    k["architecture"].erase("aspect_range");
    SCALELAB_LOG_WARN(
        "{}: architecture.aspect_range is no longer used (the model family follows aspect_ratio; "
        "docs/sweep.md); ignored",
        context);
    return sweep_config_fields().from_json(k, context);
  }
  return sweep_config_fields().from_json(j, context);
}

std::string budget_label(double C) {
  for (int p = 1; p <= 6; ++p) {
    std::string s = fmt::format("{:.{}g}", C, p);
    if (std::abs(std::stod(s) - C) <= 1e-3 * C) return s;
  }
  return fmt::format("{:.6g}", C);
}

}  // namespace scalelab::sweep
