// Fitting the parametric law to runs (Hoffmann et al. 2022 approach 3). Parametrisation e = log E,
// a = log A, b = log B: log L̂ᵢ = LSE(a − α·log Nᵢ, b − β·log Dᵢ, e). Objective: the weighted mean
// of ρ over runs, with ρ one of the `chinchilla` package's five losses and its semantics:
//   log-huber      Huber_δ(log Lᵢ − log L̂ᵢ), δ = 1e-3 (the paper's)
//   huber          Huber_δ(Lᵢ − L̂ᵢ), δ = 1.0 (the package's default)
//   mse, mae       on Lᵢ − L̂ᵢ
//   asymmetric-mae |Lᵢ − L̂ᵢ| with over-prediction (L̂ᵢ > Lᵢ) weighted w = 10×
// Two methods (FitMethod), the same objective:
//   varpro  variable projection (varpro.cpp, the default): a search over (α, β) only, with the best
//           (E, A, B) solved exactly inside for each.
//   grid    L-BFGS (LBFGSpp) with analytic gradients from every point of a start grid (default the
//           paper's 4,500), spread over all cores; the best objective wins. Starts are run in
//           coordinates scaled by the grid's range per axis, as the package does. The reference.
// Not here: bootstrap (bootstrap.h), IsoFLOP (isoflop.h).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/fields.h"
#include "common/json.h"
#include "common/progress.h"
#include "scaling/scaling_law.h"

namespace scalelab::scaling {

enum class LossFunction { kLogHuber, kHuber, kMse, kMae, kAsymmetricMae };
std::string_view to_string(LossFunction f);
LossFunction parse_loss_function(std::string_view s);  // log-huber|huber|mse|mae|asymmetric-mae
inline constexpr LossFunction kAllLossFunctions[] = {LossFunction::kLogHuber, LossFunction::kHuber,
                                                     LossFunction::kMse, LossFunction::kMae,
                                                     LossFunction::kAsymmetricMae};

enum class FitMethod { kVarPro, kGrid };
std::string_view to_string(FitMethod m);

enum class Precision { kDouble, kLongDouble };
std::string_view to_string(Precision p);
Precision parse_precision(std::string_view s);  // double|long-double

// Start values per parameter; the grid is their Cartesian product.
struct ParamGrid {
  std::vector<double> e{-1, -0.5, 0, 0.5, 1};
  std::vector<double> a{0, 5, 10, 15, 20, 25};
  std::vector<double> b{0, 5, 10, 15, 20, 25};
  std::vector<double> alpha{0, 0.5, 1, 1.5, 2};
  std::vector<double> beta{0, 0.5, 1, 1.5, 2};
  size_t size() const { return e.size() * a.size() * b.size() * alpha.size() * beta.size(); }
  void validate() const;
};
json::Json to_json(const ParamGrid& g);
// {"e": [...], "a": [...], "b": [...], "alpha": [...], "beta": [...]} with e, a, b the logs of E,
// A, B; or "E", "A", "B" as plain values (the chinchilla package's README grids), converted to
// logs. Any axis may be {"start": x, "stop": y, "num": n} (a linspace). Missing axes keep the
// paper's values.
ParamGrid param_grid_from_json(const json::Json& j, std::string_view context);

// The runs to fit: parallel arrays; weight empty = all 1 (weights are normalised to mean 1).
// A fitted E below this fraction of the smallest loss counts as 0: the fit ran E to the edge of its
// parameterisation (E = exp(e)) and warns that the irreducible loss is not identified.
inline constexpr double kEffectivelyZeroE = 1e-3;

struct FitData {
  std::vector<double> N, D, loss, weight;
  // Optional, one per run: runs with the same group are resampled together by the bootstrap
  // (a cluster bootstrap: their losses share noise). Empty = every run its own group.
  std::vector<int64_t> group;
  size_t size() const { return N.size(); }
  // Throws naming the row (1-based) of the first non-finite or non-positive value.
  void validate(size_t min_runs = 5) const;
};

// Fields and defaults: fit_options_fields() (flags of `scalelab fit`, docs/config.md). The grid is
// not in the table: `--grid FILE` reads it with param_grid_from_json.
struct FitOptions {
  LossFunction loss = LossFunction::kLogHuber;
  FitMethod method = FitMethod::kVarPro;
  // varpro: the box searched for (α, β), inside (0, 2), and the coarse grid's spacing in it.
  double alpha_min = 0.01, alpha_max = 1.99;
  double beta_min = 0.01, beta_max = 1.99;
  double search_step = 0.1;
  double delta = 0;               // Huber δ; 0 = the loss's default (1e-3 log-Huber, 1.0 Huber)
  double asymmetric_weight = 10;  // asymmetric MAE: weight of over-prediction
  ParamGrid grid;                 // default: the paper's 4,500 starts
  Precision precision = Precision::kDouble;
  size_t threads = 0;         // 0 = all cores
  int max_iterations = 1000;  // L-BFGS iterations per start
  // Starts whose iterate comes within this distance (scaled coordinates) of an already converged
  // minimum, with an objective no better, stop there and count as that basin. 0 disables.
  double prune_radius = 1e-2;
  double near_best_rtol = 1e-6;  // "landed within" tolerance (relative objective)
  void validate() const;         // the table's ranges, the search box, then the grid
  double resolved_delta() const;
  double huber_delta() const;  // resolved_delta() for the Huber losses (what a fit reports), else 0
};
const fields::Table<FitOptions>& fit_options_fields();

struct FitResult {
  ScalingLaw law;
  FitMethod method = FitMethod::kGrid;
  LossFunction loss = LossFunction::kLogHuber;
  double delta = 0;
  double objective = 0;  // weighted mean ρ at the optimum
  size_t n_runs = 0;
  // grid: a start is a point of the start grid; varpro: a local minimum of the coarse (α, β) grid
  // (grid_cells points) refined by L-BFGS-B.
  size_t starts = 0;
  size_t grid_cells = 0;
  size_t starts_converged = 0;  // finished by a convergence test (or joined a converged basin)
  size_t starts_pruned = 0;     // of those, stopped early on reaching a known basin
  size_t starts_failed = 0;     // never finite, or stopped by the iteration cap
  size_t starts_near_best = 0;  // objective within near_best_rtol of the best
  int best_iterations = 0;      // L-BFGS iterations of the winning start (0: ended by line search)
  int best_evaluations = 0;     // objective evaluations of the winning start (grid)
  uint64_t evaluations = 0;     // objective evaluations (grid), inner solves (varpro)
  double rmse_log = 0;          // RMSE of log L̂ − log L
  double max_abs_err_log = 0;
  double r2 = 0;  // R² of L̂ vs L
  double seconds = 0;
  std::vector<std::string> warnings;
};
json::Json to_json(const FitResult& r);

// Fits by options.method. Throws when data are invalid or no start gives a finite
// objective.
FitResult fit_scaling_law(const FitData& data, const FitOptions& options,
                          ProgressBar* progress = nullptr);
// A local fit from `start` (the bootstrap's warm start): grid, one L-BFGS run, no pruning; varpro,
// one refinement from the start's (α, β), no coarse grid.
FitResult fit_from_start(const FitData& data, const FitOptions& options, const ScalingLaw& start);

// The objective (weighted mean ρ) of a law on data and, optionally, its gradient with respect to
// (log E, log A, log B, α, β). reference = true uses the plain scalar code instead of the
// vectorised kernel (tests compare the two).
double fit_objective(const FitData& data, const FitOptions& options, const ScalingLaw& law,
                     std::array<double, 5>* grad = nullptr, bool reference = false);

}  // namespace scalelab::scaling

template <>
struct scalelab::fields::EnumNames<scalelab::scaling::LossFunction> {
  using E = scalelab::scaling::LossFunction;
  static constexpr std::array<std::pair<E, std::string_view>, 5> kNames{
      {{E::kLogHuber, "log-huber"},
       {E::kHuber, "huber"},
       {E::kMse, "mse"},
       {E::kMae, "mae"},
       {E::kAsymmetricMae, "asymmetric-mae"}}};
};
template <>
struct scalelab::fields::EnumNames<scalelab::scaling::FitMethod> {
  using E = scalelab::scaling::FitMethod;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kVarPro, "varpro"}, {E::kGrid, "grid"}}};
};
template <>
struct scalelab::fields::EnumNames<scalelab::scaling::Precision> {
  using E = scalelab::scaling::Precision;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kDouble, "double"}, {E::kLongDouble, "long-double"}}};
};
