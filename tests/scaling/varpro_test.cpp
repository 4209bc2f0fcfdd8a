// The variable projection fit against the grid reference (fit_test.cpp covers the grid itself).
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "common/csv.h"
#include "runs/run.h"
#include "scaling/bootstrap.h"
#include "scaling/fit.h"
#include "scaling/simulator.h"
#include "test_util.h"

namespace scalelab::scaling {
namespace {

using testing::error_of;
using testing::grid_data;

FitData paper_data() {
  const std::string path = testing::data_path("data/chinchilla_paper_runs.csv");
  return to_fit_data(runs::observations(runs::runs_from_csv(csv::read_file(path), path)));
}

// varpro reaches the grid's objective to 1e-9 relative, or a lower one, and the same parameters to
// 4 significant digits (relative 5e-4; a parameter the grid drove to 0, as E without a loss floor,
// is 0 or as small in both).
void expect_same_optimum(const FitData& d, FitOptions o, const std::string& what) {
  o.method = FitMethod::kGrid;
  const FitResult grid = fit_scaling_law(d, o);
  o.method = FitMethod::kVarPro;
  const FitResult vp = fit_scaling_law(d, o);
  EXPECT_EQ(vp.method, FitMethod::kVarPro);
  EXPECT_LE(vp.objective, grid.objective * (1 + 1e-9)) << what;
  if (vp.objective < grid.objective * (1 - 1e-9)) return;  // a better optimum: nothing to match
  for (const auto& [name, v, g] :
       {std::tuple{"E", vp.law.E, grid.law.E}, std::tuple{"A", vp.law.A, grid.law.A},
        std::tuple{"B", vp.law.B, grid.law.B}, std::tuple{"alpha", vp.law.alpha, grid.law.alpha},
        std::tuple{"beta", vp.law.beta, grid.law.beta}}) {
    if (g < 1e-6)
      EXPECT_LT(v, 1e-6) << what << " " << name;
    else
      EXPECT_NEAR(v / g, 1, 5e-4) << what << " " << name;
  }
}

struct LossCase {
  LossFunction loss;
  double delta;
};
constexpr LossCase kVarProLosses[] = {
    {LossFunction::kLogHuber, 1e-3}, {LossFunction::kHuber, 1.0},
    {LossFunction::kHuber, 1e-3},    {LossFunction::kMse, 0},
    {LossFunction::kMae, 0},         {LossFunction::kAsymmetricMae, 0}};

TEST(VarPro, SameOptimumAsTheGridOnThePaperDataForEveryLoss) {
  const FitData d = paper_data();
  for (const auto& c : kVarProLosses) {
    FitOptions o;
    o.loss = c.loss;
    o.delta = c.delta;
    expect_same_optimum(d, o, fmt::format("{} delta {}", to_string(c.loss), c.delta));
  }
}

TEST(VarPro, SameOptimumAsTheGridOnSimulatedRuns) {
  for (const uint64_t seed : {0, 1, 2}) {
    SimulatorOptions sim;
    sim.seed = seed;
    const FitData d = to_fit_data(observations(simulate_runs(sim)));
    for (const auto& c : {kVarProLosses[0], kVarProLosses[1], kVarProLosses[5]}) {
      FitOptions o;
      o.loss = c.loss;
      o.delta = c.delta;
      expect_same_optimum(d, o, fmt::format("seed {} {}", seed, to_string(c.loss)));
    }
  }
}

TEST(VarPro, NoiseFreeDataRecoveredToNearMachinePrecision) {
  const ScalingLaw truth{1.8, 482, 2085, 0.35, 0.37};
  const FitData d = grid_data(truth);
  for (const auto& c : kVarProLosses) {
    FitOptions o;
    o.loss = c.loss;
    o.delta = c.delta;
    const FitResult r = fit_scaling_law(d, o);  // the default method, for every loss
    const std::string what(to_string(c.loss));
    EXPECT_EQ(r.method, FitMethod::kVarPro) << what;
    EXPECT_NEAR(r.law.E / truth.E, 1, 1e-8) << what;
    EXPECT_NEAR(r.law.A / truth.A, 1, 1e-8) << what;
    EXPECT_NEAR(r.law.B / truth.B, 1, 1e-8) << what;
    EXPECT_NEAR(r.law.alpha / truth.alpha, 1, 1e-8) << what;
    EXPECT_NEAR(r.law.beta / truth.beta, 1, 1e-8) << what;
  }
}

TEST(VarPro, SameBitsForAnyThreadCountAlsoInTheBootstrap) {
  const FitData d = paper_data();
  FitOptions o;
  o.threads = 1;
  const FitResult ref = fit_scaling_law(d, o);
  BootstrapOptions bo;
  bo.samples = 40;
  bo.budgets = {1e21};
  const BootstrapResult bref = bootstrap_fit(d, o, ref.law, bo);
  for (const size_t threads : {2, 8, 1, 8, 2}) {
    o.threads = threads;
    const FitResult r = fit_scaling_law(d, o);
    EXPECT_EQ(r.objective, ref.objective) << threads;
    EXPECT_EQ(r.law.E, ref.law.E) << threads;
    EXPECT_EQ(r.law.A, ref.law.A) << threads;
    EXPECT_EQ(r.law.B, ref.law.B) << threads;
    EXPECT_EQ(r.law.alpha, ref.law.alpha) << threads;
    EXPECT_EQ(r.law.beta, ref.law.beta) << threads;
    const BootstrapResult b = bootstrap_fit(d, o, ref.law, bo);
    ASSERT_EQ(b.laws.size(), bref.laws.size()) << threads;
    for (size_t k = 0; k < b.laws.size(); ++k) {
      EXPECT_EQ(b.laws[k].alpha, bref.laws[k].alpha) << threads << " sample " << k;
      EXPECT_EQ(b.laws[k].E, bref.laws[k].E) << threads << " sample " << k;
    }
  }
}

// The bootstrap's warm start refines from the full fit's exponents: the same answer as a fit from
// scratch on the same data.
TEST(VarPro, WarmStartReachesTheSameOptimum) {
  const FitData d = paper_data();
  const FitResult full = fit_scaling_law(d, {});
  const FitResult warm = fit_from_start(d, {}, ScalingLaw{1.5, 300, 900, 0.3, 0.3});
  EXPECT_NEAR(warm.objective / full.objective, 1, 1e-12);
  EXPECT_NEAR(warm.law.alpha / full.law.alpha, 1, 1e-6);
  EXPECT_NEAR(warm.law.beta / full.law.beta, 1, 1e-6);
}

TEST(VarPro, OptimumOnTheSearchBoundWarns) {
  const FitData d = grid_data(ScalingLaw{1.8, 482, 2085, 0.35, 0.37});
  FitOptions o;
  o.alpha_max = 0.3;  // the data's alpha, 0.35, is outside
  const FitResult r = fit_scaling_law(d, o);
  EXPECT_DOUBLE_EQ(r.law.alpha, 0.3);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings[0].find("is at its search bound"), std::string::npos) << r.warnings[0];
}

TEST(VarPro, BadSearchBoundsAndMethodsAreOneLineErrors) {
  const FitData d = grid_data(kHoffmann2022);
  FitOptions o;
  o.alpha_min = 0.5;
  o.alpha_max = 0.5;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, o); }),
            "alpha_min: the search range for alpha is empty (0.5 is not below alpha_max 0.5)");
  o = {};
  o.beta_min = 1.5;
  o.beta_max = 1.2;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, o); }),
            "beta_min: the search range for beta is empty (1.5 is not below beta_max 1.2)");
  o = {};
  o.alpha_max = 2;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, o); }), "alpha_max: must be in (0, 2) (got 2)");
  o = {};
  o.beta_min = 0;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, o); }), "beta_min: must be in (0, 2) (got 0)");
  o = {};
  o.precision = Precision::kLongDouble;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, o); }),
            "precision: long-double is for method grid (varpro works in double)");
  o = {};
  o.search_step = 0;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, o); }), "search_step: must be in (0, 1] (got 0)");
}

}  // namespace
}  // namespace scalelab::scaling
