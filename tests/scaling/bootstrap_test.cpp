#include "scaling/bootstrap.h"

#include <gtest/gtest.h>

#include <random>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

FitData noisy(const ScalingLaw& law, uint64_t seed, double sigma) {
  FitData d = testing::grid_data(law, 8);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, sigma);
  for (double& l : d.loss) l *= std::exp(n(rng));
  return d;
}

TEST(Bootstrap, IntervalsCoverTheTruthAndAreDeterministicAcrossThreadCounts) {
  const ScalingLaw truth = kHoffmann2022;
  FitData d = noisy(truth, 7, 0.01);
  FitOptions o;
  FitResult f = fit_scaling_law(d, o);
  BootstrapOptions b;
  b.samples = 60;
  b.seed = 3;
  b.budgets = {1e21};
  o.threads = 1;
  BootstrapResult one = bootstrap_fit(d, o, f.law, b);
  o.threads = 2;
  BootstrapResult two = bootstrap_fit(d, o, f.law, b);
  EXPECT_EQ(one.params.at("alpha").lo, two.params.at("alpha").lo);
  EXPECT_EQ(one.params.at("beta").hi, two.params.at("beta").hi);
  const Interval& a = one.params.at("alpha");
  EXPECT_LT(a.lo, a.hi);
  EXPECT_LE(a.lo, truth.alpha * 1.02);
  EXPECT_GE(a.hi, truth.alpha * 0.98);
  const Interval& nopt = one.budgets.at(0).N_opt;
  EXPECT_LT(nopt.lo, nopt.hi);
  EXPECT_GT(truth.allocate(1e21).N, nopt.lo * 0.8);
  EXPECT_LT(truth.allocate(1e21).N, nopt.hi * 1.25);
  EXPECT_EQ(one.failed, 0);
}

TEST(Bootstrap, PercentileInterpolates) {
  std::vector<double> v{1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(percentile(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 0.5), 3);
  EXPECT_DOUBLE_EQ(percentile(v, 0.125), 1.5);
  EXPECT_DOUBLE_EQ(percentile(v, 1.0), 5);
  BootstrapOptions b;
  b.samples = 5;
  EXPECT_THROW(b.validate(), Error);
}

}  // namespace
}  // namespace scalelab::scaling
