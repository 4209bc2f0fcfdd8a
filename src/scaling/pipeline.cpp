// The analysis pipeline (see pipeline.h).
#include "scaling/pipeline.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "common/error.h"
#include "common/log.h"

namespace scalelab::scaling {

namespace {

// Runs one stage: its errors propagate (kThrow) or become a warning (kWarn) and `false`.
template <typename F>
bool stage(const PipelineOptions& o, Analysis& a, const char* name, const char* consequence,
           F&& body) {
  if (o.on_failure == OnFailure::kThrow) {
    body();
    return true;
  }
  try {
    body();
    return true;
  } catch (const Error& e) {
    a.warnings.push_back({name, std::string(e.what()) + consequence});
    return false;
  }
}

void check_options(const PipelineOptions& o) {
  for (double t : o.targets)
    SCALELAB_CHECK(std::isfinite(t) && t > 0, "targets: must be positive numbers (got {})", t);
  SCALELAB_CHECK(std::isfinite(o.unique_tokens) && o.unique_tokens >= 0,
                 "unique tokens: must be a positive number (got {})", o.unique_tokens);
  SCALELAB_CHECK(o.band_points == 0 || o.band_points >= 2,
                 "band_points: must be 0 or at least 2 (got {})", o.band_points);
  if (o.parametric) {
    o.fit.validate();
    if (o.bootstrap.samples > 0) o.bootstrap.validate();
  }
}

// C values log-spaced from the smallest run's C to the largest of the runs' and targets' C.
std::vector<double> band_grid(const std::vector<Observation>& runs,
                              const std::vector<double>& targets, int points) {
  double lo = INFINITY, hi = 0;
  for (const auto& r : runs) {
    lo = std::min(lo, r.C);
    hi = std::max(hi, r.C);
  }
  for (double t : targets) hi = std::max(hi, t);
  std::vector<double> grid;
  for (int i = 0; i < points; ++i)
    grid.push_back(std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * i / (points - 1)));
  return grid;
}

std::unique_ptr<ProgressBar> bar(const PipelineOptions& o, std::string_view stage, int64_t total) {
  return o.progress ? o.progress(stage, total) : nullptr;
}

// The runs for the data-constrained fit, and how many repeat their data.
std::vector<RepeatedRun> repeated_runs(const std::vector<Observation>& runs, size_t* repeating) {
  std::vector<RepeatedRun> out;
  *repeating = 0;
  for (const auto& r : runs) {
    out.push_back({r.N, r.D, r.unique_D, r.loss});
    if (r.unique_D > 0 && r.D > r.unique_D * (1 + 1e-9)) ++*repeating;
  }
  return out;
}

void repeat_stage(const std::vector<Observation>& runs, const PipelineOptions& o, Analysis& a) {
  if (o.repeat == RepeatStage::kOff) return;
  size_t repeating = 0;
  const std::vector<RepeatedRun> rr = repeated_runs(runs, &repeating);
  a.unique_tokens = o.unique_tokens;
  if (a.unique_tokens <= 0)
    for (const auto& r : runs) a.unique_tokens = std::max(a.unique_tokens, r.unique_D);
  if (o.repeat == RepeatStage::kRequire || (o.repeat == RepeatStage::kAuto && repeating >= 3)) {
    stage(o, a, "repeat", "; the constrained allocation uses the published R_D*, R_N*", [&] {
      // Two ways to fit, and the one that predicts every run better is kept (RMSE of log loss):
      // (1) as Muennighoff et al. do, the base law from the runs that see each token at most once,
      // then R_D* (R_N*) with it fixed; (2) jointly, alternating R* with the base fixed and the
      // base refitted on the effective N' and D' those R* give (a warm start from the fit of every
      // run, no grid), three rounds. (1) is exact when fresh runs span the compute of the repeating
      // ones; a sweep on a small corpus repeats at its largest budgets, where the fresh runs alone
      // extrapolate and the constants absorb their error, and (2) does better.
      const auto rmse_all = [&](const DataConstrainedFit& f) {
        double se = 0;
        for (const auto& r : rr)
          se += std::pow(std::log(f.law.predict_loss(r.N, r.D, r.U_D) / r.loss), 2);
        return std::sqrt(se / static_cast<double>(rr.size()));
      };
      std::optional<DataConstrainedFit> two_stage;
      FitData fresh;
      for (const auto& r : runs)
        if (!(r.unique_D > 0 && r.D > r.unique_D * (1 + 1e-9))) {
          fresh.N.push_back(r.N);
          fresh.D.push_back(r.D);
          fresh.loss.push_back(r.loss);
        }
      if (fresh.size() >= 5) {
        const FitResult f = fit_scaling_law(fresh, o.fit);
        if (f.law.alpha > 0 && f.law.beta > 0) two_stage = fit_data_constrained(f.law, rr);
      }
      ScalingLaw base = a.fit->law;
      DataConstrainedFit dc;
      for (int round = 0; round < 3; ++round) {
        dc = fit_data_constrained(base, rr);
        FitData eff;
        for (const auto& r : rr) {
          eff.N.push_back(dc.law.effective_params(r.N, r.U_D));
          eff.D.push_back(dc.law.effective_data(r.D, r.U_D));
          eff.loss.push_back(r.loss);
        }
        const FitResult refit = fit_from_start(eff, o.fit, base);
        if (!(refit.law.alpha > 0 && refit.law.beta > 0)) break;
        base = refit.law;
      }
      dc = fit_data_constrained(base, rr);
      if (!two_stage) {
        a.data_constrained = dc;
        return;
      }
      const double joint_rmse = rmse_all(dc), two_stage_rmse = rmse_all(*two_stage);
      SCALELAB_LOG_DEBUG(
          "repeat: RMSE of log loss over {} runs: two-stage {:.4g} ({}), joint "
          "{:.4g} ({})",
          rr.size(), two_stage_rmse, describe_constants(*two_stage), joint_rmse,
          describe_constants(dc));
      a.data_constrained = two_stage_rmse <= joint_rmse ? *two_stage : dc;
    });
  }
  if (a.unique_tokens > 0) {
    DataConstrainedLaw law{a.fit->law};
    if (a.data_constrained) law = a.data_constrained->law;
    for (double C : o.targets) a.constrained.push_back(law.allocate(C, a.unique_tokens));
  }
}

}  // namespace

Analysis analyze(const std::vector<Observation>& runs, const PipelineOptions& o) {
  check_options(o);
  Analysis a;
  a.n_runs = runs.size();

  if (o.parametric) {
    const FitData data = to_fit_data(runs);
    for (auto& w : data_warnings(runs)) a.warnings.push_back({"data", std::move(w)});
    const bool fitted = stage(o, a, "fit", "; no recommendation", [&] {
      data.validate();
      // The grid method's 4,500 starts take a while; varpro takes milliseconds: no bar.
      auto progress = o.fit.method == FitMethod::kGrid
                          ? bar(o, "fit", static_cast<int64_t>(o.fit.grid.size()))
                          : nullptr;
      FitResult f = fit_scaling_law(data, o.fit, progress.get());
      if (progress) progress->close();
      SCALELAB_CHECK(f.law.alpha > 0 && f.law.beta > 0,
                     "the best fit has alpha = {:.4g}, beta = {:.4g}: not a valid scaling law (the "
                     "runs do not identify it; widen the compute range)",
                     f.law.alpha, f.law.beta);
      a.fit = std::move(f);
    });
    if (fitted) {
      for (const auto& w : a.fit->warnings) a.warnings.push_back({"fit", w});
      for (double C : o.targets) a.allocations.push_back(a.fit->law.allocate(C));
      if (o.bootstrap.samples > 0)
        stage(o, a, "bootstrap", "; no intervals", [&] {
          BootstrapOptions b = o.bootstrap;
          b.budgets = o.targets;
          if (o.band_points > 0) {
            const auto grid = band_grid(runs, o.targets, o.band_points);
            b.budgets.insert(b.budgets.end(), grid.begin(), grid.end());
          }
          auto progress = bar(o, "bootstrap", b.samples);
          a.bootstrap = bootstrap_fit(data, o.fit, a.fit->law, b, progress.get());
          if (progress) progress->close();
          a.band.assign(
              a.bootstrap->budgets.begin() + static_cast<std::ptrdiff_t>(o.targets.size()),
              a.bootstrap->budgets.end());
        });
      if (o.holdout)
        stage(o, a, "holdout", "", [&] { a.holdout = holdout_check(runs, *o.holdout, o.fit); });
      if (o.compare_losses)
        stage(o, a, "compare", "", [&] { a.comparison = compare_losses(data, o.fit, o.targets); });
      repeat_stage(runs, o, a);
    }
  }

  if (o.isoflop) {
    stage(o, a, "isoflop", "", [&] {
      IsoflopOptions io = *o.isoflop;
      io.targets = o.targets;
      a.isoflop = isoflop_analysis(runs, io);
      for (const auto& w : a.isoflop->warnings) a.warnings.push_back({"isoflop", w});
    });
  }
  return a;
}

}  // namespace scalelab::scaling
