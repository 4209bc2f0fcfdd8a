#include "scaling/simulator.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

TEST(Simulator, DeterministicAndNoiseMatchesTheDistribution) {
  SimulatorOptions o;
  o.n_runs = 400;
  o.seed = 11;
  auto a = observations(simulate_runs(o)), b = observations(simulate_runs(o));
  ASSERT_EQ(a.size(), 400u);
  double mean_noise = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].loss, b[i].loss);
    double noise = a[i].loss - o.truth.predict_loss(a[i].N, a[i].D);
    EXPECT_GE(noise, 0);  // exponential noise: never better than the law
    mean_noise += noise;
  }
  // Exponential with mean 0.1: the sample mean of 400 draws has sd 0.005.
  EXPECT_NEAR(mean_noise / 400, 0.1, 0.02);
  o.noise = NoiseKind::kNone;
  for (const auto& r : observations(simulate_runs(o)))
    EXPECT_DOUBLE_EQ(r.loss, o.truth.predict_loss(r.N, r.D));
}

TEST(Simulator, NoiseFreeWideRangeFitRecoversTruthWithinHalfAPercent) {
  SimulatorOptions o;
  o.n_runs = 60;
  o.noise = NoiseKind::kNone;
  o.ranges = {1e17, 1e22, 5, 200};  // five decades of compute: identifiable
  FitResult f = fit_scaling_law(to_fit_data(observations(simulate_runs(o))), {});
  EXPECT_NEAR(f.law.E / o.truth.E, 1, 0.005);
  EXPECT_NEAR(f.law.A / o.truth.A, 1, 0.005);
  EXPECT_NEAR(f.law.B / o.truth.B, 1, 0.005);
  EXPECT_NEAR(f.law.alpha / o.truth.alpha, 1, 0.005);
  EXPECT_NEAR(f.law.beta / o.truth.beta, 1, 0.005);
}

TEST(Simulator, ScalingStepsAppendLargerBudgets) {
  SimulatorOptions o;
  o.n_runs = 40;
  o.scaling_steps = 2;
  o.noise = NoiseKind::kNone;
  o.ranges = {1e17, 1e19, 5, 100};
  FitOptions fit;
  fit.grid.e = {0, 1};
  fit.grid.a = {5};
  fit.grid.b = {5};
  fit.grid.alpha = {0.3};
  fit.grid.beta = {0.3};
  auto runs = simulate_runs(o, fit);
  ASSERT_EQ(runs.size(), 42u);
  EXPECT_NEAR(runs[40].run.C, 1e20, 1e10);
  EXPECT_NEAR(runs[41].run.C, 1e21, 1e11);
  EXPECT_TRUE(runs[39].seeded);
  EXPECT_FALSE(runs[41].seeded);
  EXPECT_EQ(runs[41].run.id, 42);
}

TEST(Simulator, BadOptions) {
  SimulatorOptions o;
  o.n_runs = 0;
  EXPECT_THROW(simulate_runs(o), Error);
  EXPECT_THROW(parse_noise_kind("pink"), Error);
}

}  // namespace
}  // namespace scalelab::scaling
