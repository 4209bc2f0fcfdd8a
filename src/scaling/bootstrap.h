// Bootstrap confidence intervals for the parametric fit: resample runs with replacement (or, when
// FitData::group is set, groups of runs that share noise, each drawn whole), refit each
// sample from the full-data optimum (warm start, one L-BFGS run), take percentile intervals of E,
// A, B, α, β, a = β/(α+β), b = α/(α+β), and of N_opt, D_opt, L_opt at the requested budgets.
// Deterministic for a seed whatever the thread count: sample i draws from its own generator.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/fields.h"
#include "common/progress.h"
#include "scaling/fit.h"

namespace scalelab::scaling {

// Fields and defaults: bootstrap_options_fields() (budgets is set by the caller, not a field).
struct BootstrapOptions {
  int samples = 200;
  uint64_t seed = 0;
  double confidence = 0.95;     // central percentile interval
  std::vector<double> budgets;  // C values for N_opt / D_opt / L_opt intervals
  void validate() const;        // the table's ranges; at least 10 samples; budgets positive
};
const fields::Table<BootstrapOptions>& bootstrap_options_fields();

struct Interval {
  double lo = 0, median = 0, hi = 0;
};

struct BootstrapResult {
  int samples = 0;
  int failed = 0;  // samples whose refit gave invalid parameters (excluded)
  double confidence = 0.95;
  std::map<std::string, Interval> params;  // E, A, B, alpha, beta, a, b
  struct BudgetIntervals {
    double C = 0;
    Interval N_opt, D_opt, L_opt, tokens_per_param;
  };
  std::vector<BudgetIntervals> budgets;
  // The refitted laws that count (failed ones left out), in sample order: intervals of anything
  // else a caller derives from the law (interval_of).
  std::vector<ScalingLaw> laws;
  // The central interval (confidence) of f over the laws.
  template <typename F>
  Interval interval_of(F&& f) const;
};

BootstrapResult bootstrap_fit(const FitData& data, const FitOptions& options,
                              const ScalingLaw& optimum, const BootstrapOptions& boot,
                              ProgressBar* progress = nullptr);

// Percentile of sorted values with linear interpolation (q in [0, 1]).
double percentile(const std::vector<double>& sorted, double q);

json::Json to_json(const BootstrapResult& r);

template <typename F>
Interval BootstrapResult::interval_of(F&& f) const {
  std::vector<double> v;
  v.reserve(laws.size());
  for (const auto& l : laws) v.push_back(f(l));
  std::sort(v.begin(), v.end());
  const double q = (1 - confidence) / 2;
  return Interval{percentile(v, q), percentile(v, 0.5), percentile(v, 1 - q)};
}

}  // namespace scalelab::scaling
