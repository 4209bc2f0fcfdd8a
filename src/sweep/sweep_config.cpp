// SweepConfig validation and JSON (see sweep_config.h).
#include "sweep/sweep_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace scalelab::sweep {

namespace {

void check_positive(const char* field, double v) {
  SCALELAB_CHECK(std::isfinite(v) && v > 0, "{}: must be positive (got {})", field, v);
}

}  // namespace

void SweepConfig::validate() const {
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
    SCALELAB_CHECK(val_fraction > 0 && val_fraction < 0.5,
                   "val_fraction: must be in (0, 0.5) (got {})", val_fraction);
    if (tokenizer.empty())
      SCALELAB_CHECK(vocab_size >= 257 && vocab_size <= 1 << 20,
                     "vocab_size: must be in [257, 1048576] (got {})", vocab_size);
  }
  if (!budgets.empty()) {
    SCALELAB_CHECK(budget_count == 0 && budget_min == 0 && budget_max == 0,
                   "budgets: give a list or budget_min/budget_max/budget_count, not both");
    for (size_t i = 0; i < budgets.size(); ++i)
      SCALELAB_CHECK(std::isfinite(budgets[i]) && budgets[i] > 0,
                     "budgets[{}]: must be a positive FLOP count (got {})", i, budgets[i]);
  } else {
    SCALELAB_CHECK(budget_count > 0,
                   "budgets: give a list (budgets) or a range (budget_min, budget_max, "
                   "budget_count)");
    check_positive("budget_min", budget_min);
    check_positive("budget_max", budget_max);
    SCALELAB_CHECK(budget_count == 1 ? budget_max == budget_min : budget_max > budget_min,
                   "budget_max: must exceed budget_min (got {} and {})", budget_max, budget_min);
  }
  SCALELAB_CHECK(models_per_budget >= 3,
                 "models_per_budget: an IsoFLOP parabola needs at least 3 (got {})",
                 models_per_budget);
  check_positive("tokens_per_param", tokens_per_param);
  SCALELAB_CHECK(std::isfinite(n_spread) && n_spread > 1, "n_spread: must be > 1 (got {})",
                 n_spread);
  SCALELAB_CHECK(flop_count == "6nd" || flop_count == "exact",
                 "flop_count: expected 6nd or exact, got '{}'", flop_count);
  SCALELAB_CHECK(architecture.context_length > 0,
                 "architecture.context_length: must be positive (got {})",
                 architecture.context_length);
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
  SCALELAB_CHECK(lr_rule == "constant" || lr_rule == "kaplan",
                 "lr_rule: expected constant or kaplan, got '{}'", lr_rule);
  check_positive("lr", lr);
  SCALELAB_CHECK(lr_min_ratio >= 0 && lr_min_ratio <= 1, "lr_min_ratio: must be in [0, 1] (got {})",
                 lr_min_ratio);
  SCALELAB_CHECK(warmup_fraction >= 0 && warmup_fraction < 1,
                 "warmup_fraction: must be in [0, 1) (got {})", warmup_fraction);
  SCALELAB_CHECK(weight_decay >= 0, "weight_decay: must be >= 0 (got {})", weight_decay);
  SCALELAB_CHECK(grad_clip >= 0, "grad_clip: must be >= 0 (got {})", grad_clip);
  SCALELAB_CHECK(beta1 >= 0 && beta1 < 1, "beta1: must be in [0, 1) (got {})", beta1);
  SCALELAB_CHECK(beta2 >= 0 && beta2 < 1, "beta2: must be in [0, 1) (got {})", beta2);
  SCALELAB_CHECK(min_steps >= 1, "min_steps: must be >= 1 (got {})", min_steps);
  SCALELAB_CHECK(curve_points >= 2, "curve_points: must be >= 2 (got {})", curve_points);
  SCALELAB_CHECK(eval_tokens >= 0, "eval_tokens: must be >= 0 (got {})", eval_tokens);
  for (size_t i = 0; i < targets.size(); ++i)
    SCALELAB_CHECK(std::isfinite(targets[i]) && targets[i] > 0,
                   "targets[{}]: must be a positive FLOP count (got {})", i, targets[i]);
  SCALELAB_CHECK(bootstrap_samples >= 0, "bootstrap_samples: must be >= 0 (got {})",
                 bootstrap_samples);
  SCALELAB_CHECK(verify_budget >= 0 && std::isfinite(verify_budget),
                 "verify_budget: must be >= 0 (got {})", verify_budget);
  SCALELAB_CHECK(device == "auto" || device == "cpu" || device == "cuda",
                 "device: expected auto, cpu or cuda, got '{}'", device);
  SCALELAB_CHECK(precision == "auto" || precision == "fp32" || precision == "bf16-mixed",
                 "precision: expected auto, fp32 or bf16-mixed, got '{}'", precision);
  for (size_t i = 0; i < gpus.size(); ++i) {
    SCALELAB_CHECK(gpus[i] >= 0, "gpus[{}]: must be a GPU index >= 0 (got {})", i, gpus[i]);
    for (size_t k = 0; k < i; ++k)
      SCALELAB_CHECK(gpus[k] != gpus[i], "gpus: GPU {} listed twice", gpus[i]);
  }
  SCALELAB_CHECK(gpus.empty() || device != "cpu", "gpus: given but device is cpu");
  SCALELAB_CHECK(workers >= 1, "workers: must be >= 1 (got {})", workers);
  SCALELAB_CHECK(gpus.empty() || workers == 1,
                 "workers: with gpus there is one worker per GPU; leave workers at 1");
  SCALELAB_CHECK(device_tflops >= 0, "device_tflops: must be >= 0 (got {})", device_tflops);
  check_positive("warn_epochs", warn_epochs);
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
  return verify_budget > 0 ? verify_budget : 2.0 * resolved_budgets().back();
}

json::Json to_json(const SweepConfig& c) {
  json::Json j;
  j["corpus"] = c.corpus;
  j["train_tokens"] = c.train_tokens;
  j["val_tokens"] = c.val_tokens;
  j["tokenizer"] = c.tokenizer;
  j["vocab_size"] = c.vocab_size;
  j["val_fraction"] = c.val_fraction;
  j["budgets"] = c.budgets;
  j["budget_min"] = c.budget_min;
  j["budget_max"] = c.budget_max;
  j["budget_count"] = c.budget_count;
  j["models_per_budget"] = c.models_per_budget;
  j["tokens_per_param"] = c.tokens_per_param;
  j["n_spread"] = c.n_spread;
  j["flop_count"] = c.flop_count;
  j["architecture"] = to_json(c.architecture);
  j["batch_tokens"] = c.batch_tokens;
  j["micro_batch_tokens"] = c.micro_batch_tokens;
  j["lr_rule"] = c.lr_rule;
  j["lr"] = c.lr;
  j["lr_min_ratio"] = c.lr_min_ratio;
  j["warmup_fraction"] = c.warmup_fraction;
  j["weight_decay"] = c.weight_decay;
  j["grad_clip"] = c.grad_clip;
  j["beta1"] = c.beta1;
  j["beta2"] = c.beta2;
  j["min_steps"] = c.min_steps;
  j["curve_points"] = c.curve_points;
  j["eval_tokens"] = c.eval_tokens;
  j["seed"] = c.seed;
  j["targets"] = c.targets;
  j["loss"] = c.loss;
  j["bootstrap_samples"] = c.bootstrap_samples;
  j["holdout"] = c.holdout;
  j["verify"] = c.verify;
  j["verify_budget"] = c.verify_budget;
  j["device"] = c.device;
  j["precision"] = c.precision;
  j["gpus"] = c.gpus;
  j["workers"] = c.workers;
  j["device_tflops"] = c.device_tflops;
  j["warn_epochs"] = c.warn_epochs;
  j["max_epochs"] = c.max_epochs;
  j["retry_failed"] = c.retry_failed;
  j["out_dir"] = c.out_dir;
  return j;
}

SweepConfig sweep_config_from_json(const json::Json& j, std::string_view context) {
  SweepConfig c;
  json::ObjectReader r(j, std::string(context));
  r.get("corpus", c.corpus);
  r.get("train_tokens", c.train_tokens);
  r.get("val_tokens", c.val_tokens);
  r.get("tokenizer", c.tokenizer);
  r.get("vocab_size", c.vocab_size);
  r.get("val_fraction", c.val_fraction);
  r.get("budgets", c.budgets);
  r.get("budget_min", c.budget_min);
  r.get("budget_max", c.budget_max);
  r.get("budget_count", c.budget_count);
  r.get("models_per_budget", c.models_per_budget);
  r.get("tokens_per_param", c.tokens_per_param);
  r.get("n_spread", c.n_spread);
  r.get("flop_count", c.flop_count);
  if (r.has("architecture"))
    c.architecture =
        architecture_rule_from_json(r.at("architecture"), std::string(context) + ".architecture");
  r.accept("architecture");
  r.get("batch_tokens", c.batch_tokens);
  r.get("micro_batch_tokens", c.micro_batch_tokens);
  r.get("lr_rule", c.lr_rule);
  r.get("lr", c.lr);
  r.get("lr_min_ratio", c.lr_min_ratio);
  r.get("warmup_fraction", c.warmup_fraction);
  r.get("weight_decay", c.weight_decay);
  r.get("grad_clip", c.grad_clip);
  r.get("beta1", c.beta1);
  r.get("beta2", c.beta2);
  r.get("min_steps", c.min_steps);
  r.get("curve_points", c.curve_points);
  r.get("eval_tokens", c.eval_tokens);
  r.get("seed", c.seed);
  r.get("targets", c.targets);
  r.get("loss", c.loss);
  r.get("bootstrap_samples", c.bootstrap_samples);
  r.get("holdout", c.holdout);
  r.get("verify", c.verify);
  r.get("verify_budget", c.verify_budget);
  r.get("device", c.device);
  r.get("precision", c.precision);
  r.get("gpus", c.gpus);
  r.get("workers", c.workers);
  r.get("device_tflops", c.device_tflops);
  r.get("warn_epochs", c.warn_epochs);
  r.get("max_epochs", c.max_epochs);
  r.get("retry_failed", c.retry_failed);
  r.get("out_dir", c.out_dir);
  r.finish();
  return c;
}

std::string budget_label(double C) {
  for (int p = 1; p <= 6; ++p) {
    std::string s = fmt::format("{:.{}g}", C, p);
    if (std::abs(std::stod(s) - C) <= 1e-3 * C) return s;
  }
  return fmt::format("{:.6g}", C);
}

}  // namespace scalelab::sweep
