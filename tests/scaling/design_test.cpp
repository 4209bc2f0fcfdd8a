#include "scaling/design.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

using testing::error_of;

const ScalingLaw kTruth{1.69, 406.4, 410.7, 0.34, 0.28};
constexpr double kNoise = 0.01;  // σ of log loss per run
constexpr double kTarget = 1e21;

void add_run(FitData& d, double N, double D, std::mt19937_64& rng) {
  std::normal_distribution<double> z;
  d.N.push_back(N);
  d.D.push_back(D);
  d.loss.push_back(kTruth.predict_loss(N, D) * std::exp(kNoise * z(rng)));
}

// An IsoFLOP grid like a sweep's: 3 budgets a half-decade apart, 5 sizes around N_opt each.
FitData grid_runs(std::mt19937_64& rng) {
  FitData d;
  for (double C : {1e17, 3.16e17, 1e18}) {
    const double n_opt = kTruth.allocate(C).N;
    for (double f : {0.25, 0.5, 1.0, 2.0, 4.0}) add_run(d, n_opt * f, C / (6 * n_opt * f), rng);
  }
  return d;
}

// Width of the bootstrap interval on N_opt(target) after refitting, as log(hi / lo).
double refit_width(const FitData& d) {
  const FitResult f = fit_scaling_law(d, {});
  BootstrapOptions bo;
  bo.samples = 100;
  bo.budgets = {kTarget};
  const BootstrapResult b = bootstrap_fit(d, {}, f.law, bo);
  return std::log(b.budgets[0].N_opt.hi / b.budgets[0].N_opt.lo);
}

TEST(Design, ProposalsFitTheSpendAndNarrowTheExpectedInterval) {
  std::mt19937_64 rng(7);
  const FitData d = grid_runs(rng);
  const FitResult f = fit_scaling_law(d, {});
  DesignOptions o;
  o.target = kTarget;
  const Design des = design_next_runs(d, f.law, o);
  // The default spend is what the grid's next budget costs: 5 runs at 1e18 × 3.16.
  EXPECT_NEAR(des.grid_step.C, 3.16e18, 0.01e18);
  EXPECT_EQ(des.grid_step.N.size(), 5u);
  EXPECT_DOUBLE_EQ(des.spend, des.grid_step.cost);
  ASSERT_FALSE(des.runs.empty());
  double prev = des.N_opt_now.hi / des.N_opt_now.lo;
  for (const DesignRun& r : des.runs) {
    EXPECT_LE(r.spent, des.spend * (1 + 1e-9));
    EXPECT_NEAR(6 * r.N * r.D, r.C, 1e-6 * r.C);
    const double w = r.N_opt.hi / r.N_opt.lo;
    EXPECT_LT(w, prev);  // every proposal narrows it
    prev = w;
  }
  // Spending the same FLOPs the proposed way is expected to narrow it more than the grid's step.
  EXPECT_LT(des.runs.back().N_opt.hi / des.runs.back().N_opt.lo,
            des.grid_step.N_opt.hi / des.grid_step.N_opt.lo);
  EXPECT_NEAR(des.sigma, kNoise, 0.5 * kNoise);  // estimated from the residuals
}

// The check in simulation: over seeds, runs done as proposed (simulated from the true law with the
// same noise) narrow the refitted bootstrap interval more than the grid's next budget at the same
// spend.
TEST(Design, FollowingTheAdviceNarrowsTheIntervalFasterThanTheGridsNextBudget) {
  double advised = 0, grid = 0, before = 0;
  const int seeds = 6;
  for (int s = 0; s < seeds; ++s) {
    std::mt19937_64 rng(100 + static_cast<uint64_t>(s));
    const FitData d = grid_runs(rng);
    const FitResult f = fit_scaling_law(d, {});
    DesignOptions o;
    o.target = kTarget;
    const Design des = design_next_runs(d, f.law, o);
    FitData a = d, g = d;
    for (const DesignRun& r : des.runs) add_run(a, r.N, r.D, rng);
    for (double N : des.grid_step.N) add_run(g, N, des.grid_step.C / (6 * N), rng);
    before += refit_width(d);
    advised += refit_width(a);
    grid += refit_width(g);
  }
  EXPECT_LT(advised, grid) << "mean log-width: before " << before / seeds << ", advised "
                           << advised / seeds << ", grid " << grid / seeds;
  EXPECT_LT(grid, before);
}

TEST(Design, BadInputIsAOneLineError) {
  std::mt19937_64 rng(1);
  FitData d = grid_runs(rng);
  DesignOptions o;
  EXPECT_EQ(error_of([&] { design_next_runs(d, kTruth, o); }),
            "target: give the budget (FLOPs) to design for, e.g. --target 1e21");
  o.target = kTarget;
  FitData few;
  for (size_t i = 0; i < 3; ++i) {
    few.N.push_back(d.N[i]);
    few.D.push_back(d.D[i]);
    few.loss.push_back(d.loss[i]);
  }
  EXPECT_EQ(error_of([&] { design_next_runs(few, kTruth, o); }),
            "design: needs at least 5 runs (the law has 5 parameters) to say what to run next, "
            "got 3");
  for (size_t i = 3; i < 5; ++i) {
    few.N.push_back(d.N[i]);
    few.D.push_back(d.D[i]);
    few.loss.push_back(d.loss[i]);
  }
  EXPECT_EQ(error_of([&] { design_next_runs(few, kTruth, o); }),
            "design: 5 runs leave no degrees of freedom to estimate the noise; give --noise (the "
            "standard deviation of a run's log loss) or add runs");
  o.noise = 0.01;
  EXPECT_NO_THROW(design_next_runs(few, kTruth, o));
  few.weight.assign(few.size(), 0.0);
  EXPECT_EQ(error_of([&] { design_next_runs(few, kTruth, o); }), "design: every run has weight 0");
  o.target = -1;
  EXPECT_EQ(error_of([&] { design_next_runs(d, kTruth, o); }), "target: must be >= 0 (got -1)");
  o.target = kTarget;
  o.max_runs = 0;
  EXPECT_EQ(error_of([&] { design_next_runs(d, kTruth, o); }),
            "max_runs: must be in [1, 1000] (got 0)");
}

}  // namespace
}  // namespace scalelab::scaling
