// Scaling with repeated data: Muennighoff et al. 2023, "Scaling Data-Constrained Language Models"
// (NeurIPS), §3, eqs. 5–6. A token seen again is worth less than a fresh one, and parameters beyond
// what the unique data can use are worth less than useful ones:
//
//   R_D = D/U_D − 1 (repetitions beyond the first epoch, ≥ 0)
//   D'  = U_D + U_D·R_D*·(1 − exp(−R_D/R_D*))                        effective data
//   U_N = min(N, N_opt(U_D))   (the compute-optimal size for U_D tokens under the base law)
//   R_N = N/U_N − 1
//   N'  = U_N + U_N·R_N*·(1 − exp(−R_N/R_N*))                        effective parameters
//   L(N, D | U_D) = E + A/N'^α + B/D'^β
//
// with E, A, B, α, β the fresh-data (Chinchilla) law. R_D* is how many repetitions the value of a
// token decays over (the paper fits 15.4: ~4 epochs are nearly as good as fresh data, past ~16
// returns vanish); R_N* the same for excess parameters (5.3). With U_D → ∞ the law is the base law.
// Fitting (fit_data_constrained): the base law from runs that see each token at most once, then
// R_D* (and R_N* when some run has excess parameters) from the runs that repeat.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "scaling/scaling_law.h"

namespace scalelab::scaling {

// The constants Muennighoff et al. 2023 fit (their eq. 7 / Fig. 3).
inline constexpr double kMuennighoffRDStar = 15.387;
inline constexpr double kMuennighoffRNStar = 5.309;
// R* = ∞: no decay (a repeated token, or an excess parameter, is worth a fresh one). JSON writes it
// as null.
inline constexpr double kNoDecay = std::numeric_limits<double>::infinity();
// How much worse (RMS of log loss) the runs may fit with a published constant than with no decay
// before the fit rejects the constant: 0.5% of the loss, about a run's seed-to-seed noise at the
// H200 example's budgets (docs/examples/h200-sweep, "Seeds").
inline constexpr double kRejectMargin = 0.005;

struct DataConstrainedLaw {
  ScalingLaw base;
  double R_D_star = kMuennighoffRDStar;
  double R_N_star = kMuennighoffRNStar;

  void validate() const;  // base valid, R_D*, R_N* positive (+∞: no decay); names the field

  double effective_data(double D, double U_D) const;
  // U_N of the definition above.
  double useful_params(double U_D) const;
  double effective_params(double N, double U_D) const;
  double predict_loss(double N, double D, double U_D) const;
  // Minimises L(N, C/(6N) | U_D) over N (golden section on log N, bracketed around the base
  // law's optimum): the compute-optimal model for C FLOPs when the corpus holds U_D unique tokens.
  Allocation allocate(double C, double U_D) const;
};

json::Json to_json(const DataConstrainedLaw& law);
// {"base": {E, A, B, alpha, beta}, "R_D_star": …, "R_N_star": …}
DataConstrainedLaw data_constrained_law_from_json(const json::Json& j, std::string_view context);

// One run for the fit: N parameters trained on D tokens drawn from U_D unique ones.
struct RepeatedRun {
  double N = 0, D = 0, U_D = 0, loss = 0;
};

struct DataConstrainedFit {
  DataConstrainedLaw law;
  size_t repeated_runs = 0;      // runs with D > U_D (they identify R_D*)
  size_t excess_param_runs = 0;  // runs with N > U_N (they identify R_N*)
  bool R_D_fitted = false;       // false: the runs do not pin R_D* down (its fit ran to the edge of
                            // [0.1, 1000] or improved the RMSE by under 1%): the published 15.4,
                            // or kNoDecay when the runs reject it (kRejectMargin)
  bool R_N_fitted = false;   // false: the published 5.309 (same tests, or < 3 runs), or kNoDecay
  std::string note;          // why a constant was not fitted, and what was used instead
  double objective = 0;      // mean Huber ρ (δ = 1e-3) of log residuals over repeated runs
  double rmse_log = 0;       // over the repeated runs
  double rmse_log_base = 0;  // the same runs predicted by the base law (every token fresh)
};
json::Json to_json(const DataConstrainedFit& f);
// "R_D* = 8.1, R_N* = 5.31 (published)": each constant, marked when it is the published value.
std::string describe_constants(const DataConstrainedFit& f);
// One R* for text: "∞ (no decay)" or its value to 3 significant digits.
std::string format_r_star(double r);

// Fits R_D* (and R_N* when at least 3 runs have excess parameters) with the base law fixed, by a
// log-spaced grid over [0.1, 1000] and a local refinement. Throws when fewer than 3 runs repeat
// data: without them R_D* is not identified. A constant the runs do not pin down (see R_D_fitted)
// is set back to the published value, or to kNoDecay when the runs fit the published value worse
// than no decay by more than kRejectMargin, with `note` saying which and why.
DataConstrainedFit fit_data_constrained(const ScalingLaw& base,
                                        const std::vector<RepeatedRun>& runs);

}  // namespace scalelab::scaling
