// The one analysis of finished runs that `scalelab fit`, `isoflop`, `report` and `sweep` share:
// plain observations in, one Analysis out. Stages, in order:
//   data       identifiability warnings from the runs alone (compute, N and D ranges)
//   fit        the parametric law L(N, D) (approach 3), which must have α, β > 0
//   bootstrap  percentile intervals of the parameters and of N_opt, D_opt, L_opt at the targets
//              (and at `band_points` budgets for a plot band)
//   holdout    refit without the held-out runs and predict them
//   compare    the fit under every loss function, N_opt at each target
//   repeat     the data-constrained law (data_constrained.h) when runs repeat their data (3 or
//              more) or when asked (RepeatStage): the base law from the runs that do not repeat (5
//              or more; else alternated with R* on effective N' and D'), then R_D* (and R_N*) with
//              it fixed; then the constrained allocation at each target for a corpus of
//              unique_tokens (fitted constants, or the published ones without repeated runs)
//   isoflop    IsoFLOP parabolas and power laws (approach 2)
// Options are checked first and always throw. What the data cannot support fails its stage: with
// OnFailure::kThrow (the analysis commands) the error propagates; with kWarn (sweeps and reports,
// which show what they can) the stage is left empty, a warning says why, and the stages that need
// it are skipped.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/progress.h"
#include "scaling/analysis.h"
#include "scaling/bootstrap.h"
#include "scaling/data_constrained.h"
#include "scaling/fit.h"
#include "scaling/isoflop.h"
#include "scaling/observation.h"

namespace scalelab::scaling {

enum class OnFailure { kThrow, kWarn };
// The repeat stage: when 3+ runs repeat their data (auto), always (an error when the runs cannot
// identify R_D*), or never (a second view of the same runs that needs only the fit).
enum class RepeatStage { kAuto, kRequire, kOff };

// A progress bar for a stage ("fit": total starts; "bootstrap": total resamples), or null for none.
using ProgressFactory =
    std::function<std::unique_ptr<ProgressBar>(std::string_view stage, int64_t total)>;

struct PipelineOptions {
  std::vector<double> targets;  // budgets (FLOPs) to allocate, bootstrap and extrapolate to
  bool parametric = true;       // the data, fit, bootstrap, holdout and compare stages
  FitOptions fit;
  BootstrapOptions bootstrap;  // samples 0 = no bootstrap; its budgets are set here (targets, band)
  int band_points = 0;         // also intervals at this many log-spaced C, smallest run → largest
                               // target or run (the report's N_opt/D_opt band)
  std::optional<HoldoutSpec> holdout;
  bool compare_losses = false;
  RepeatStage repeat = RepeatStage::kAuto;
  double unique_tokens = 0;  // corpus for the constrained allocation (0 = the runs' largest)
  std::optional<IsoflopOptions> isoflop;  // its targets are set here
  OnFailure on_failure = OnFailure::kThrow;
  ProgressFactory progress;
};

struct Warning {
  std::string stage;  // data, fit, bootstrap, holdout, compare, isoflop
  std::string text;
  std::string str() const { return stage + ": " + text; }
};

struct Analysis {
  size_t n_runs = 0;
  std::optional<FitResult> fit;
  std::vector<Allocation> allocations;       // the fitted law at each target (with a fit)
  std::optional<BootstrapResult> bootstrap;  // budgets: the targets, then the band
  std::vector<BootstrapResult::BudgetIntervals> band;
  std::optional<HoldoutResult> holdout;
  std::vector<LossComparison> comparison;
  std::optional<DataConstrainedFit> data_constrained;  // fitted R_D* (R_N*) and base law
  double unique_tokens = 0;                            // the corpus of the constrained allocations
  std::vector<Allocation> constrained;  // at each target for unique_tokens (with a fit and U)
  std::optional<IsoflopResult> isoflop;
  std::vector<Warning> warnings;  // in stage order
};

Analysis analyze(const std::vector<Observation>& runs, const PipelineOptions& options);

}  // namespace scalelab::scaling
