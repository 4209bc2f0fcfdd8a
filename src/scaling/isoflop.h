// IsoFLOP analysis (Hoffmann et al. 2022 approach 2) and the training-curve envelope (approach 1).
// Approach 2: group runs by budget (a budget label, or C within a tolerance in log C), fit a
// parabola of loss against log N per budget, take its vertex as N_opt(C) (D_opt = C/(6·N_opt)),
// then fit the power laws N_opt = k·C^a and D_opt = k'·C^b across budgets by least squares in
// log-log space. Approach 1: from loss curves, the minimum loss reached at each FLOP level across
// runs gives (N, D) at the frontier; the same power laws are fitted to it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "scaling/observation.h"

namespace scalelab::scaling {

// y = coefficient · C^exponent, fitted as ln y = exponent · ln C + ln coefficient.
struct PowerLaw {
  double exponent = 0, coefficient = 0;
  double r2 = 0;
  size_t points = 0;
  double predict(double C) const;
};
PowerLaw fit_power_law(const std::vector<double>& C, const std::vector<double>& y);

struct BudgetGroup {
  std::string label;         // the budget label, or the C of the group formatted
  double C = 0;              // label value if numeric, else geometric mean of the runs' C
  std::vector<size_t> runs;  // indices into the input runs
};

// Groups runs: by exact planned budget (budget_C) when every run has one, else by label when every
// run has one, else by C (a run joins a group when
// |ln C − ln C_first| <= tolerance; runs sorted by C). Runs off the grid (Observation::isoflop
// false) join no group.
std::vector<BudgetGroup> group_by_budget(const std::vector<Observation>& runs, double tolerance);

struct BudgetFit {
  BudgetGroup group;
  std::vector<double> N, loss;    // the group's runs
  double p0 = 0, p1 = 0, p2 = 0;  // loss ≈ p0 + p1·x + p2·x², x = ln N
  bool convex = false;            // p2 > 0 (a minimum exists)
  bool vertex_inside = false;     // the vertex lies within [min N, max N]
  double N_opt = 0, D_opt = 0, loss_opt = 0;
  double rmse = 0;  // parabola residual RMSE
  std::string warning;
};

struct IsoflopOptions {
  double tolerance = 0.05;      // in ln C (≈ 5% relative)
  size_t min_runs = 3;          // per budget
  bool skip_small = false;      // drop budgets with fewer runs (warning) instead of failing
  std::vector<double> targets;  // budgets to extrapolate to
  // Fewer than 2 convex budgets: return the per-budget fits with a warning and no power laws
  // (points = 0, no targets) instead of failing — for reports, which still show the curves.
  bool partial_ok = false;
  // A budget whose parabola vertex lies outside its sampled N range gives an extrapolated optimum;
  // by default it is left out of the power laws (with a warning), as Hoffmann et al. fit only
  // interior minima. true keeps it.
  bool include_extrapolated = false;
};

struct IsoflopResult {
  std::vector<BudgetFit> budgets;
  PowerLaw n_opt, d_opt;  // over convex budgets
  struct Target {
    double C = 0, N = 0, D = 0;
  };
  std::vector<Target> targets;
  std::vector<std::string> warnings;
};

IsoflopResult isoflop_analysis(const std::vector<Observation>& runs, const IsoflopOptions& options);

struct EnvelopeResult {
  struct Point {
    double flops = 0, loss = 0, N = 0, D = 0;
    int64_t run_id = 0;
  };
  std::vector<Point> frontier;
  PowerLaw n_opt, d_opt;
  std::vector<std::string> warnings;
};
// levels: number of log-spaced FLOP levels over the range covered by at least two runs.
// curves: by Observation::id; runs without a curve of 2+ points are left out.
EnvelopeResult envelope_analysis(const std::vector<Observation>& runs, const Curves& curves,
                                 int levels = 50);

json::Json to_json(const PowerLaw& p);
json::Json to_json(const IsoflopResult& r);
json::Json to_json(const EnvelopeResult& r);

}  // namespace scalelab::scaling
