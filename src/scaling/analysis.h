// Checks no other tool offers: a held-out test of the fitted law on the largest budget (or runs
// above a C threshold), warnings when the runs cannot identify the law, and the sensitivity of the
// recommendation to the choice of loss function.
#pragma once

#include <string>
#include <vector>

#include "scaling/fit.h"
#include "scaling/observation.h"

namespace scalelab::scaling {

struct HoldoutSpec {
  bool largest_budget = false;  // hold out the largest budget group
  double c_threshold = 0;       // or every run with C >= this
  double tolerance = 0.05;      // budget grouping tolerance in ln C
};
// "largest-budget" or a number (C threshold); throws on anything else.
HoldoutSpec parse_holdout(const std::string& s);

struct HoldoutResult {
  FitResult fit;  // on the remaining runs
  struct Row {
    int64_t id = 0;
    double N = 0, D = 0, C = 0, actual = 0, predicted = 0,
           rel_error = 0;  // (predicted − actual)/actual
  };
  std::vector<Row> rows;
  double mean_abs_rel_error = 0;
  double threshold_C = 0;  // smallest held-out C
};
// With largest_budget, points off the IsoFLOP grid (Observation::isoflop false) are neither held
// out nor fitted on when their C exceeds every kept budget's runs' (by more than the tolerance):
// the test stays an extrapolation in compute.
HoldoutResult holdout_check(const std::vector<Observation>& runs, const HoldoutSpec& spec,
                            const FitOptions& options);

// Identifiability warnings from the runs alone (compute range, N and D ranges).
std::vector<std::string> data_warnings(const std::vector<Observation>& runs);

struct LossComparison {
  LossFunction loss;
  FitResult fit;
  std::vector<double> N_opt;  // at each budget
};
std::vector<LossComparison> compare_losses(const FitData& data, const FitOptions& options,
                                           const std::vector<double>& budgets);

json::Json to_json(const HoldoutResult& r);

}  // namespace scalelab::scaling
