// Sweep planning (see planner.h).
#include "sweep/planner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "accounting/flops.h"
#include "accounting/hardware.h"
#include "accounting/memory.h"
#include "accounting/params.h"
#include "common/error.h"
#include "common/format.h"
#include "common/progress.h"
#include "sweep/mps.h"
#include "train/schedule.h"

namespace scalelab::sweep {

double Plan::total_flops() const {
  double s = 0;
  for (const auto& r : runs) s += r.flops_exact;
  return s;
}

double Plan::spent_flops() const {
  double s = 0;
  for (const auto& r : runs) s += r.flops_spent;
  return s;
}

double Plan::total_seconds() const {
  double s = 0;
  for (const auto& r : runs) s += r.est_seconds;
  return s;
}

bool Plan::has_branches() const {
  return std::any_of(runs.begin(), runs.end(),
                     [](const PlannedRun& r) { return !r.parent.empty(); });
}

namespace {

// Training FLOPs per token of a model of size s (the convention's units), interpolated log-log
// between the family's members and extended along the nearest segment beyond its ends.
double flops_per_token_at(const std::vector<ShapeChoice>& family, scaling::SizeConvention conv,
                          double s) {
  if (family.size() == 1) return family.front().flops_per_token * s / family.front().size(conv);
  size_t i = 0;
  while (i + 2 < family.size() && family[i + 1].size(conv) < s) ++i;
  const double x0 = std::log(family[i].size(conv)), x1 = std::log(family[i + 1].size(conv));
  const double y0 = std::log(family[i].flops_per_token);
  const double y1 = std::log(family[i + 1].flops_per_token);
  const double t = x1 > x0 ? (std::log(s) - x0) / (x1 - x0) : 0.0;
  return std::exp(y0 + t * (y1 - y0));
}

// The grid's centre for budget C: the size N at which a model spending C exactly, D = C / its
// exact FLOPs per token, trains on D = r·N. Under `total` this is close to √(C / 6r); under
// `non-embedding` at small scale the LM head's FLOPs make it much smaller. Bisection on log N:
// r·N·FLOPs/token(N) grows with N.
double centre_size(const std::vector<ShapeChoice>& family, scaling::SizeConvention conv, double C,
                   double r) {
  double lo = std::log(1.0), hi = std::log(1e15);
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi), n = std::exp(mid);
    (r * n * flops_per_token_at(family, conv, n) < C ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

// What a CUDA process holds besides the run's training state (context, cuBLAS workspaces, the
// caching allocator's slack): an assumed 1 GiB, not measured per shape.
constexpr double kProcessReserveBytes = 1024.0 * 1024.0 * 1024.0;

// On CUDA, each of runs_per_gpu runs gets 1/runs_per_gpu of the GPU's memory (the default
// training GPU's, accounting/hardware.h). When a step's micro-batch does not fit that share by the
// memory model (accounting/memory.h, the CUDA path's fused kernels), it is cut to the largest
// number of sequences that fits and divides the batch, the rest accumulated.
void fit_micro_batch(const SweepConfig& c, accounting::Precision precision, PlannedRun& r) {
  const auto& gpu = accounting::default_training_gpu();
  const double share = gpu.memory_bytes() / static_cast<double>(c.runs_per_gpu);
  accounting::MemoryOptions mo;
  mo.precision = precision;
  mo.fused_kernels = true;
  const int64_t fit = accounting::max_batch_size(r.choice.shape, mo, share, kProcessReserveBytes);
  const auto& s = r.choice.shape;
  SCALELAB_CHECK(fit >= 1,
                 "runs_per_gpu: run {} ({}×{}) does not fit in 1/{} of the {}'s memory even one "
                 "sequence at a time; lower runs_per_gpu",
                 r.key, s.n_layers, s.d_model, c.runs_per_gpu, gpu.name);
  if (r.batch_size <= fit) return;
  SCALELAB_CHECK(c.micro_batch_tokens == 0,
                 "micro_batch_tokens: run {} ({}×{}) fits {} sequences per micro-batch in 1/{} of "
                 "the {}'s memory, fewer than the {} asked for; lower it, or leave it 0 to have "
                 "it chosen",
                 r.key, s.n_layers, s.d_model, fit, c.runs_per_gpu, gpu.name, r.batch_size);
  const int64_t seqs = r.batch_size * r.grad_accum;
  int64_t m = std::min(fit, seqs);
  while (seqs % m != 0) --m;
  r.batch_size = m;
  r.grad_accum = seqs / m;
}

// FLOPs per token by the sweep's count: exact accounting, or 6N.
double per_token_of(const SweepConfig& c, const ShapeChoice& choice) {
  return c.flop_count == FlopCount::kExact ? choice.flops_per_token
                                           : 6.0 * static_cast<double>(choice.params);
}

// r's whole optimizer steps of r.batch_tokens for its budget, and what follows from them: D, the
// FLOP counts, epochs, and the trainer's steps, warmup, log and checkpoint intervals. One place for
// plan_run and the re-planned points of a WSD parent (with_hyperparameters_of).
void set_whole_steps(const SweepConfig& c, PlannedRun& r, const DataInfo& data) {
  const double bt = static_cast<double>(r.batch_tokens);
  r.steps = std::max<int64_t>(1, std::llround(r.budget_C / per_token_of(c, r.choice) / bt));
  r.D = static_cast<double>(r.steps) * bt;
  r.flops_exact = r.choice.flops_per_token * r.D;
  r.flops_6nd = 6.0 * static_cast<double>(r.choice.params) * r.D;
  r.C = c.flop_count == FlopCount::kExact ? r.flops_exact : r.flops_6nd;
  r.flops_spent = r.flops_exact;
  r.epochs = r.D / static_cast<double>(data.train_tokens);
  train::TrainConfig& t = r.train;
  t.max_steps = r.steps;
  t.warmup_steps = std::llround(c.warmup_fraction * static_cast<double>(r.steps));
  t.log_interval = std::max<int64_t>(1, r.steps / c.curve_points);
  t.checkpoint_interval = std::max<int64_t>(1, r.steps / 10);
}

// The training time of a planned run: the FLOPs it spends at the device's rate plus the per-step
// overhead of the steps it trains itself.
double estimate_seconds(const PlannedRun& r, double flops_per_second, double step_overhead) {
  const double own_steps = static_cast<double>(r.steps - r.branch_step);
  return (flops_per_second > 0 ? r.flops_spent / flops_per_second : 0) + own_steps * step_overhead;
}

// Point r re-planned with another run's batch, micro-batch and lr (`like`): its own whole steps
// for its budget, warmup as configured for them.
PlannedRun with_hyperparameters_of(const SweepConfig& c, const PlannedRun& r,
                                   const PlannedRun& like, const DataInfo& data) {
  PlannedRun b = r;
  b.batch_tokens = like.batch_tokens;
  b.batch_size = like.batch_size;
  b.grad_accum = like.grad_accum;
  b.lr = like.lr;
  train::TrainConfig& t = b.train;
  t.batch_size = like.train.batch_size;
  t.grad_accum = like.train.grad_accum;
  t.lr_max = like.train.lr_max;
  t.lr_min = like.train.lr_min;
  set_whole_steps(c, b, data);
  return b;
}

// Point r as a cooldown branch of parent p: p's batch, lr and warmup, its own steps, and only its
// cooldown trained, from p's checkpoint at the cooldown's first step.
PlannedRun as_branch(const SweepConfig& c, const PlannedRun& r, const PlannedRun& p,
                     const DataInfo& data) {
  PlannedRun b = with_hyperparameters_of(c, r, p, data);
  b.parent = p.key;
  b.branch_step = train::wsd_cooldown_start(b.steps, c.cooldown_fraction);
  b.flops_spent =
      b.flops_exact * static_cast<double>(b.steps - b.branch_step) / static_cast<double>(b.steps);
  train::TrainConfig& t = b.train;
  t.warmup_steps = p.train.warmup_steps;
  t.log_interval = std::max<int64_t>(1, (b.steps - b.branch_step) / c.curve_points);
  t.checkpoint_interval = std::max<int64_t>(1, (b.steps - b.branch_step) / 10);
  t.branch_from = train::branch_checkpoint_dir(p.train.out_dir, b.branch_step);
  return b;
}

// The key of extra point k of the grid point `key`: "-x<k>" before a seed suffix ("b5-m2-x1",
// "b5-m2-x1-s0").
std::string extra_key(const std::string& key, int64_t seeds, int64_t k) {
  const size_t cut = seeds > 1 ? key.rfind("-s") : std::string::npos;
  const std::string tag = fmt::format("-x{}", k);
  return cut == std::string::npos ? key + tag : key.substr(0, cut) + tag + key.substr(cut);
}

// Groups the plan's points by shape and seed and turns each group into one parent and its
// branches, then adds the extra branch points along each parent's trajectory (see make_plan in
// planner.h).
void plan_branches(const SweepConfig& c, Plan& plan) {
  std::map<std::string, std::vector<size_t>> groups;  // shape and seed → indices into plan.runs
  for (size_t i = 0; i < plan.runs.size(); ++i) {
    const auto& r = plan.runs[i];
    groups[accounting::to_json(r.choice.shape).dump() + "/" + std::to_string(r.train.seed)]
        .push_back(i);
  }
  const auto by_budget = [&](size_t a, size_t b) {
    return plan.runs[a].budget_C < plan.runs[b].budget_C;
  };
  std::vector<PlannedRun> extras;
  for (auto& [shape, idx] : groups) {
    if (idx.size() < 2 && c.extra_branches == 0) continue;
    // The parent is the largest budget's point (the longest run); the batch and lr of all are
    // the rules' for the smallest budget's, so that no point trains with a larger batch (fewer
    // steps) than the rules give it: on the H200 example, branches with the largest budget's
    // batch (up to 2.3× theirs) lost up to 10% against cosine runs (docs/sweep.md).
    // With extra points the smallest D is the lower of the smallest budget's and a quarter of
    // the parent's.
    const size_t pi = *std::max_element(idx.begin(), idx.end(), by_budget);
    PlannedRun smallest = plan.runs[*std::min_element(idx.begin(), idx.end(), by_budget)];
    if (const double lowest = plan.runs[pi].budget_C / 4;
        c.extra_branches > 0 && lowest < smallest.budget_C)
      smallest = plan_run(c, smallest.key, lowest, smallest.target_N, smallest.choice, plan.data);
    PlannedRun parent = with_hyperparameters_of(c, plan.runs[pi], smallest, plan.data);
    if (parent.epochs > c.max_epochs) continue;  // every point stays a run of its own
    const int64_t warmup = parent.train.resolved_warmup();
    const int64_t parent_cooldown = train::wsd_cooldown_start(parent.steps, c.cooldown_fraction);
    std::set<int64_t> steps;  // the branch steps, increasing
    const auto usable = [&](const PlannedRun& b) {
      return b.branch_step >= warmup && b.branch_step < parent_cooldown && b.steps >= c.min_steps &&
             b.epochs <= c.max_epochs &&
             steps.insert(b.branch_step).second;  // a step taken already: not again
    };
    std::vector<std::pair<size_t, PlannedRun>> branches;  // index into plan.runs, its branch
    for (const size_t i : idx) {
      if (i == pi) continue;
      PlannedRun b = as_branch(c, plan.runs[i], parent, plan.data);
      if (usable(b)) branches.emplace_back(i, std::move(b));  // else a run of its own
    }
    // Extra points at D ≈ parent's D · 2^(−k/extra_branches), k = 1 … 2·extra_branches.
    std::vector<PlannedRun> mine;
    for (int64_t k = 1; k <= 2 * c.extra_branches; ++k) {
      PlannedRun point = plan.runs[pi];
      point.budget_C *= std::exp2(-static_cast<double>(k) / static_cast<double>(c.extra_branches));
      PlannedRun b = as_branch(c, point, parent, plan.data);
      if (!usable(b)) continue;
      b.key = extra_key(plan.runs[pi].key, plan.seeds, k);
      b.budget_C = b.C;
      b.budget = budget_label(b.C);
      b.isoflop = false;
      b.train.out_dir = (std::filesystem::path(c.out_dir) / "runs" / b.key).string();
      mine.push_back(std::move(b));
    }
    if (branches.empty() && mine.empty()) continue;
    parent.train.branch_steps.assign(steps.begin(), steps.end());
    plan.runs[pi] = std::move(parent);
    for (auto& [i, b] : branches) plan.runs[i] = std::move(b);
    for (auto& b : mine) extras.push_back(std::move(b));
  }
  for (auto& b : extras) plan.runs.push_back(std::move(b));
}

}  // namespace

double deepseek_compute(const ShapeChoice& choice, double D) {
  return choice.body_flops_per_token * D;
}

// DeepSeek LLM (Bi et al. 2024, eq. 1): η_opt = 0.3118 · C^−0.1250, B_opt = 0.2920 · C^0.3271
// tokens, fitted on budgets of 1e17 to 3e20 FLOPs with C = M · D. Below that range, where a small
// sweep's budgets lie, both are extrapolations; they still track what matters there, a smaller
// batch (more steps) and a larger lr for a smaller budget.
double learning_rate(const SweepConfig& c, const ShapeChoice& choice, double D) {
  switch (c.lr_rule) {
    case LrRule::kConstant:
      return c.lr;
    case LrRule::kKaplan: {
      // Kaplan et al. 2020, eq. D.1: LR(N) ≈ 0.003239 − 0.0001395 · log N (N non-embedding).
      // Floored at 1e-4: the fit was made for N up to ~1e9 and goes negative far beyond.
      const double n = static_cast<double>(choice.non_embedding);
      return std::max(1e-4, 0.003239 - 0.0001395 * std::log(n));
    }
    case LrRule::kDeepSeek:
      return 0.3118 * std::pow(deepseek_compute(choice, D), -0.1250);
  }
  return c.lr;
}

int64_t batch_tokens_for(const SweepConfig& c, const ShapeChoice& choice, double D) {
  if (c.batch_rule == BatchRule::kConstant) return c.batch_tokens;
  const int64_t unit =
      c.micro_batch_tokens > 0 ? c.micro_batch_tokens : c.architecture.context_length;
  const double b = 0.2920 * std::pow(deepseek_compute(choice, D), 0.3271);
  const int64_t units = std::max<int64_t>(1, std::llround(b / static_cast<double>(unit)));
  return std::min(c.batch_tokens, units * unit);
}

PlannedRun plan_run(const SweepConfig& c, std::string key, double budget_C, double target_N,
                    const ShapeChoice& choice, const DataInfo& data) {
  PlannedRun r;
  r.key = std::move(key);
  r.budget = budget_label(budget_C);
  r.budget_C = budget_C;
  r.target_N = target_N;
  r.choice = choice;
  const double D_budget = budget_C / per_token_of(c, choice);  // before rounding to whole steps
  r.batch_tokens = batch_tokens_for(c, choice, D_budget);
  const int64_t micro_tokens =
      c.micro_batch_tokens > 0 ? std::min(c.micro_batch_tokens, r.batch_tokens) : r.batch_tokens;
  r.batch_size = micro_tokens / c.architecture.context_length;
  r.grad_accum = r.batch_tokens / micro_tokens;
  set_whole_steps(c, r, data);
  r.lr = learning_rate(c, choice, D_budget);
  const Device device = c.device.value_or(Device::kCpu);
  const accounting::Precision precision = c.precision.value_or(default_precision(device));
  if (device == Device::kCuda) fit_micro_batch(c, precision, r);

  train::TrainConfig& t = r.train;
  t.model = choice.shape;
  t.train_data = data.train_bin;
  t.val_data = data.val_bin;
  t.tokenizer = data.tokenizer_dir;
  t.out_dir = (std::filesystem::path(c.out_dir) / "runs" / r.key).string();
  t.batch_size = r.batch_size;
  t.grad_accum = r.grad_accum;
  t.lr_max = r.lr;
  t.lr_min = r.lr * c.lr_min_ratio;
  t.lr_schedule = c.lr_schedule;
  t.cooldown_fraction = c.cooldown_fraction;
  t.cooldown_shape = c.cooldown_shape;
  t.beta1 = c.beta1;
  t.beta2 = c.beta2;
  t.weight_decay = c.weight_decay;
  t.grad_clip = c.grad_clip;
  t.eval_tokens = c.eval_tokens;
  t.seed = c.seed;
  t.device = std::string(fields::enum_name(device));
  t.precision = precision;
  t.quiet = true;
  return r;
}

void estimate_from_measured_rates(Plan& plan,
                                  const std::map<double, double>& rate_by_flops_per_token) {
  const auto& m = rate_by_flops_per_token;
  if (m.empty()) return;
  auto rate_at = [&](double fpt) {
    const auto hi = m.lower_bound(fpt);
    if (hi == m.begin() || (hi != m.end() && hi->first == fpt)) return hi->second;
    if (hi == m.end()) return std::prev(hi)->second;
    const auto lo = std::prev(hi);
    const double t = std::log(fpt / lo->first) / std::log(hi->first / lo->first);
    return std::exp(std::log(lo->second) + t * std::log(hi->second / lo->second));
  };
  for (auto& r : plan.runs) r.est_seconds = r.flops_spent / rate_at(r.choice.flops_per_token);
  plan.measured_shapes = m.size();
}

Plan make_plan(const SweepConfig& c, const DataInfo& data, double flops_per_second,
               double step_overhead) {
  SCALELAB_CHECK(data.train_tokens > 0, "corpus: the training split has no tokens");
  SCALELAB_CHECK(data.val_tokens > c.architecture.context_length,
                 "corpus: the validation split has {} tokens, fewer than one window of "
                 "context_length + 1 = {}; raise val_fraction or use more text",
                 data.val_tokens, c.architecture.context_length + 1);
  ArchitectureRule rule = c.architecture;
  rule.vocab_size = rule.padded_vocabulary(data.vocab_size);
  const std::vector<ShapeChoice> family = model_family(rule);
  const scaling::SizeConvention conv = c.size_convention;
  const std::string_view conv_name = fields::enum_name(conv);
  const ShapeChoice& smallest = family.front();
  const ShapeChoice& largest = family.back();

  Plan plan;
  plan.data = data;
  plan.convention = conv;
  plan.family = family;
  plan.max_epochs = c.max_epochs;
  plan.seeds = c.seeds;
  plan.family_aspect_ratio = rule.aspect_ratio;
  plan.device_flops_per_second = flops_per_second;
  plan.step_overhead_seconds = step_overhead;
  if (c.device == Device::kCuda) {
    plan.concurrency = static_cast<double>(std::max<size_t>(1, c.gpus.size()));
    if (c.runs_per_gpu > 1)
      plan.concurrency *= c.mps && MpsDaemon::available() ? kPackingGainMps : kPackingGain;
  }
  const std::vector<double> budgets = c.resolved_budgets();
  for (size_t b = 0; b < budgets.size(); ++b) {
    const double C = budgets[b];
    const std::string label = budget_label(C);
    // The grid's centre, a size in the convention's units with D = r·N (r = tokens_per_param).
    const double guess = centre_size(family, conv, C, c.tokens_per_param);
    const double lowest = guess / c.n_spread, highest = guess * c.n_spread;
    // The end targets may snap to the family's end members, but not by more than the gap the
    // grid itself leaves between neighbours.
    const double step_ratio =
        std::pow(c.n_spread * c.n_spread, 1.0 / static_cast<double>(c.models_per_budget - 1));
    // The smallest budget whose grid starts within reach of the smallest member.
    const double first = smallest.size(conv) * c.n_spread / std::sqrt(step_ratio);
    const double needed = c.tokens_per_param * first * flops_per_token_at(family, conv, first);
    SCALELAB_CHECK(lowest * std::sqrt(step_ratio) >= smallest.size(conv),
                   "budgets: C = {} is too small for the model family: its grid starts at N ≈ {} "
                   "({}) but the family's smallest member ({} layers × d_model {}, vocab {}) has "
                   "{}; use budgets >= {}, a smaller vocabulary or a smaller "
                   "architecture.min_layers",
                   label, format_si(lowest), conv_name, smallest.shape.n_layers,
                   smallest.shape.d_model, data.vocab_size, format_si(smallest.size(conv)),
                   format_sci(needed, 2));
    SCALELAB_CHECK(highest / std::sqrt(step_ratio) <= largest.size(conv),
                   "budgets: C = {} needs models up to N ≈ {} ({}) but the family's largest "
                   "member ({} layers × d_model {}) has {}; raise architecture.max_layers or "
                   "architecture.max_d_model, or lower the budget",
                   label, format_si(highest), conv_name, largest.shape.n_layers,
                   largest.shape.d_model, format_si(largest.size(conv)));
    std::set<int64_t> seen;
    int64_t distinct = 0;
    for (int64_t m = 0; m < c.models_per_budget; ++m) {
      const double t = -1.0 + 2.0 * static_cast<double>(m) / (c.models_per_budget - 1);
      const double target = guess * std::pow(c.n_spread, t);
      const ShapeChoice choice = shape_for_size(family, target, conv);
      if (!seen.insert(choice.params).second) continue;  // same shape as a smaller target
      ++distinct;
      PlannedRun r = plan_run(c, fmt::format("b{}-m{}", b + 1, m + 1), C, target, choice, data);
      SCALELAB_CHECK(r.steps >= c.min_steps,
                     "budgets: C = {} gives run {} (N = {}) only {} optimizer steps of {} tokens "
                     "(min_steps {}); raise the budget or lower batch_tokens",
                     label, r.key, format_int(choice.params), r.steps, format_int(r.batch_tokens),
                     c.min_steps);
      SCALELAB_CHECK(
          r.epochs <= c.max_epochs,
          "corpus too short: run {} (C = {}, N = {}) needs {} training tokens but the "
          "training split has {} ({:.1f} epochs > max_epochs {}; at that cap the corpus "
          "supports C up to {} for this model); add text, lower the budgets or raise "
          "max_epochs",
          r.key, label, format_int(choice.params), format_int(std::llround(r.D)),
          format_int(data.train_tokens), r.epochs, c.max_epochs,
          format_sci(c.max_epochs * static_cast<double>(data.train_tokens) * choice.flops_per_token,
                     2));
      if (c.seeds == 1) {
        plan.runs.push_back(std::move(r));
        continue;
      }
      for (int64_t k = 0; k < c.seeds; ++k) {  // replicates: same model and data, seed + k
        PlannedRun rep = r;
        rep.key = fmt::format("{}-s{}", r.key, k);
        rep.train.seed = c.seed + static_cast<uint64_t>(k);
        rep.train.out_dir = (std::filesystem::path(c.out_dir) / "runs" / rep.key).string();
        plan.runs.push_back(std::move(rep));
      }
    }
    SCALELAB_CHECK(distinct >= 3,
                   "budgets: C = {} yields only {} distinct model shapes (an IsoFLOP parabola "
                   "needs 3); raise n_spread or the budget, or lower architecture.multiple",
                   label, distinct);
    if (distinct < c.models_per_budget)
      plan.warnings.push_back(fmt::format(
          "budget {}: {} of {} models are distinct (the family's steps are coarse at this size)",
          label, distinct, c.models_per_budget));
  }
  if (c.lr_schedule == train::LrScheduleKind::kWsd && c.branches) plan_branches(c, plan);
  for (auto& r : plan.runs) r.est_seconds = estimate_seconds(r, flops_per_second, step_overhead);
  double worst = 0;
  std::string worst_key;
  int64_t repeating = 0;
  for (const auto& r : plan.runs) {
    if (r.epochs > c.warn_epochs) ++repeating;
    if (r.epochs > worst) {
      worst = r.epochs;
      worst_key = r.key;
    }
  }
  if (repeating > 0)
    plan.warnings.push_back(fmt::format(
        "{} of {} runs repeat the training data more than {} epochs (up to {:.1f}, run {}); "
        "losses there are pessimistic for a fresh-data law (Muennighoff et al. 2023)",
        repeating, plan.runs.size(), c.warn_epochs, worst, worst_key));
  return plan;
}

json::Json plan_fingerprint(const Plan& plan) {
  json::Json runs = json::Json::array();
  for (const auto& r : plan.runs) {
    json::Json x{{"key", r.key},
                 {"budget", r.budget},
                 {"shape", accounting::to_json(r.choice.shape)},
                 {"steps", r.steps},
                 {"batch_size", r.batch_size},
                 {"grad_accum", r.grad_accum},
                 {"lr", r.lr}};
    if (r.train.seed != 0) x["seed"] = r.train.seed;  // seed 0 as before seeds were recorded
    if (r.train.lr_schedule != train::LrScheduleKind::kCosine)  // cosine as before wsd existed
      x["schedule"] = {{"kind", fields::enum_name(r.train.lr_schedule)},
                       {"cooldown_fraction", r.train.cooldown_fraction},
                       {"cooldown_shape", fields::enum_name(r.train.cooldown_shape)}};
    if (!r.parent.empty()) x["branch"] = {{"parent", r.parent}, {"step", r.branch_step}};
    if (!r.isoflop) x["isoflop"] = false;
    if (!r.train.branch_steps.empty()) x["branch_steps"] = r.train.branch_steps;
    runs.push_back(std::move(x));
  }
  return {{"runs", runs}};
}

std::string format_plan(const Plan& plan) {
  const std::string conv(fields::enum_name(plan.convention));
  const bool branches = plan.has_branches();
  std::vector<std::string> header{
      "run", "budget C", "target N", "N total", "N non-emb",   "layers×d/heads", "d_ff",     "D",
      "D/N", "batch",    "steps",    "lr",      "exact FLOPs", "epochs",         "est. time"};
  // With cooldown branches: where each point's training starts (a parent's key and step).
  if (branches) header.push_back("from");
  TextTable t(header);
  for (const auto& r : plan.runs) {
    const auto& s = r.choice.shape;
    std::vector<std::string> row{r.key,
                                 r.budget,
                                 format_si(r.target_N),
                                 format_int(r.choice.params),
                                 format_int(r.choice.non_embedding),
                                 fmt::format("{}×{}/{}", s.n_layers, s.d_model, s.n_heads),
                                 std::to_string(s.d_ff),
                                 format_si(r.D),
                                 fmt::format("{:.1f}", r.D / r.choice.size(plan.convention)),
                                 format_si(static_cast<double>(r.batch_tokens)),
                                 std::to_string(r.steps),
                                 fmt::format("{:.2e}", r.lr),
                                 format_sci(r.flops_exact, 3),
                                 fmt::format("{:.2f}", r.epochs),
                                 r.est_seconds > 0 ? format_duration_s(r.est_seconds) : "-"};
    if (branches)
      row.push_back(!r.parent.empty()               ? fmt::format("{} @{}", r.parent, r.branch_step)
                    : !r.train.branch_steps.empty() ? "parent"
                                                    : "-");
    t.add_row(row);
  }
  std::string out = t.str();
  // The family between the plan's smallest and largest model: every shape it could have used.
  if (!plan.family.empty() && !plan.runs.empty()) {
    int64_t lo = plan.runs.front().choice.params, hi = lo;
    for (const auto& r : plan.runs) {
      lo = std::min(lo, r.choice.params);
      hi = std::max(hi, r.choice.params);
    }
    std::string members;
    for (const auto& m : plan.family)
      if (m.params >= lo && m.params <= hi)
        members +=
            fmt::format("{}{}×{}", members.empty() ? "" : ", ", m.shape.n_layers, m.shape.d_model);
    out += fmt::format("model family (layers×d_model, aspect ratio {:g}): {}; N is {}\n",
                       plan.family_aspect_ratio, members, conv);
  }
  // What the corpus limits: the most epochs a run needs, and the budget at which the plan's
  // smallest model would reach max_epochs.
  if (!plan.runs.empty() && plan.data.train_tokens > 0 && plan.max_epochs > 0) {
    const PlannedRun* most = &plan.runs.front();
    const PlannedRun* smallest = &plan.runs.front();
    for (const auto& r : plan.runs) {
      if (r.epochs > most->epochs) most = &r;
      if (r.choice.params < smallest->choice.params) smallest = &r;
    }
    out += fmt::format(
        "corpus: {} training tokens; the most repeated run ({}) sees them {:.2f} times; at "
        "max_epochs {:g} the smallest model ({}) can use budgets up to {}\n",
        format_int(plan.data.train_tokens), most->key, most->epochs, plan.max_epochs,
        format_int(smallest->choice.params),
        format_sci(plan.max_epochs * static_cast<double>(plan.data.train_tokens) *
                       smallest->choice.flops_per_token,
                   2));
  }
  out += fmt::format(
      "{} runs{}, {} FLOPs in all (exact); estimated {} at {}{}{}; data: {} training "
      "tokens, {} validation tokens, vocabulary {}\n",
      plan.runs.size(),
      plan.seeds > 1 ? fmt::format(" ({} models × {} seeds)",
                                   plan.runs.size() / static_cast<size_t>(plan.seeds), plan.seeds)
                     : "",
      format_sci(plan.total_flops(), 3), format_duration_s(plan.wall_seconds()),
      plan.measured_shapes > 0
          ? fmt::format("the FLOP/s measured on {} shape{} of finished runs", plan.measured_shapes,
                        plan.measured_shapes == 1 ? "" : "s")
          : format_sci(plan.device_flops_per_second, 2) + " FLOP/s",
      plan.measured_shapes == 0 && plan.step_overhead_seconds > 0
          ? fmt::format(" + {:.2g} ms per step", 1e3 * plan.step_overhead_seconds)
          : "",
      plan.concurrency != 1 ? fmt::format(" ({} one at a time, ÷ {:.3g} run at once)",
                                          format_duration_s(plan.total_seconds()), plan.concurrency)
                            : "",
      format_int(plan.data.train_tokens), format_int(plan.data.val_tokens),
      format_int(plan.data.vocab_size));
  if (branches) {
    size_t n_branches = 0, n_parents = 0;
    for (const auto& r : plan.runs) {
      n_branches += r.parent.empty() ? 0 : 1;
      n_parents += r.train.branch_steps.empty() ? 0 : 1;
    }
    size_t n_extra = 0;
    for (const auto& r : plan.runs) n_extra += r.isoflop ? 0 : 1;
    out += fmt::format(
        "wsd with cooldown branches: {} points are branches of {} parent runs{}; training them "
        "costs {} FLOPs, {:.1f}% of the {} the same points cost as separate runs\n",
        n_branches, n_parents,
        n_extra > 0 ? fmt::format(" ({} of them extra points along D for the parametric fit; the "
                                  "IsoFLOP parabolas use the grid's {})",
                                  n_extra, plan.runs.size() - n_extra)
                    : "",
        format_sci(plan.spent_flops(), 3), 100 * plan.spent_flops() / plan.total_flops(),
        format_sci(plan.total_flops(), 3));
  }
  return out;
}

}  // namespace scalelab::sweep
