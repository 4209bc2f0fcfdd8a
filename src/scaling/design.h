// What to run next (`scalelab design`): given the runs so far and a target budget, the runs (budget
// C and model size N, D = C/6N) that narrow the interval on N_opt(target) the most per FLOP.
//
// By Fisher information, linearised: the law's parameters y = (E, log A, log B, α, β) have
// covariance Σ = σ²(JᵀWJ)⁻¹ with J the Jacobian of log L̂ over the runs and σ the residual
// standard deviation of log loss (n − 5 degrees of freedom, or given). The variance of
// g = log N_opt(target) is ∇gᵀΣ∇g; one more run with Jacobian row j cuts it by
// (∇gᵀΣj)² / (σ² + jᵀΣj) (Sherman–Morrison). Greedy: repeatedly take the candidate with the largest
// cut per FLOP that still fits the spend, update Σ, and report the expected interval after each.
// Candidates: budgets log-spaced (budgets_per_decade) from the smallest recorded C to the largest
// × max_budget_factor (and at most the target), at sizes N_opt(C)·10^(k/8), k = −8…8, kept where
// the law was checked: tokens per parameter within the recorded runs' range widened 2× either way,
// and N at least half the smallest recorded model. Each candidate is proposed at most once.
// The comparison: the same spend on the recorded grid's next budget (the largest budget × its step
// from the one before, the largest budget's runs moved along N_opt ∝ C^a). A linear approximation
// around the current fit: where the fit is poorly identified the expected intervals are rough;
// the bootstrap after the runs are done is the real check.
#pragma once

#include <vector>

#include "common/fields.h"
#include "common/json.h"
#include "scaling/bootstrap.h"
#include "scaling/fit.h"

namespace scalelab::scaling {

// Fields and defaults: design_options_fields() (flags of `scalelab design`, docs/config.md).
struct DesignOptions {
  double target = 0;  // C (FLOPs) where N_opt's interval should narrow; required
  double spend = 0;   // FLOPs for the proposed runs (0 = what the grid's next budget costs)
  int max_runs = 12;  // proposals at most
  int budgets_per_decade = 4;      // candidate budgets
  double max_budget_factor = 100;  // candidates up to the largest recorded C × this
  double noise = 0;                // σ of log loss per run (0 = from the fit's residuals)
  double confidence = 0.95;
  void validate() const;
};
const fields::Table<DesignOptions>& design_options_fields();

struct DesignRun {
  double C = 0, N = 0, D = 0;
  double spent = 0;  // cumulative FLOPs of the proposals up to this one
  Interval N_opt;    // expected interval on N_opt(target) after this run and those before
};

struct GridStep {
  double C = 0;           // the next budget
  std::vector<double> N;  // its model sizes
  double cost = 0;        // FLOPs of those runs
  Interval N_opt;         // expected interval after them
};

struct Design {
  double target = 0;
  double sigma = 0;  // σ of log loss used
  bool sigma_from_fit = true;
  double spend = 0;
  Interval N_opt_now;  // from the runs so far (median = the fit's N_opt)
  std::vector<DesignRun> runs;
  GridStep grid_step;  // the same spend's comparison (or the default spend itself)
};
json::Json to_json(const Design& d);

// Throws on fewer runs than the law's parameters (plus one for the noise unless given), a
// non-positive target or an invalid law.
Design design_next_runs(const FitData& data, const ScalingLaw& law, const DesignOptions& o);

}  // namespace scalelab::scaling
