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

// FitData::group: runs of one group are drawn together. Groups of one run each, in order, are the
// plain run bootstrap (the same draws); one group holding every run makes every resample the data
// itself, so every refit is the optimum; a group per row that does not match is an error.
TEST(Bootstrap, GroupsAreResampledWhole) {
  FitData d = noisy(kHoffmann2022, 7, 0.01);
  FitOptions o;
  const FitResult f = fit_scaling_law(d, o);
  BootstrapOptions b;
  b.samples = 20;
  b.seed = 5;
  b.budgets = {1e21};
  const BootstrapResult plain = bootstrap_fit(d, o, f.law, b);
  for (size_t i = 0; i < d.size(); ++i) d.group.push_back(static_cast<int64_t>(i) * 3 + 1);
  const BootstrapResult singles = bootstrap_fit(d, o, f.law, b);
  for (const char* p : {"E", "alpha", "beta", "a"}) {
    EXPECT_EQ(plain.params.at(p).lo, singles.params.at(p).lo) << p;
    EXPECT_EQ(plain.params.at(p).hi, singles.params.at(p).hi) << p;
  }
  d.group.assign(d.size(), 42);
  const BootstrapResult whole = bootstrap_fit(d, o, f.law, b);
  for (const char* p : {"alpha", "beta"}) {
    EXPECT_NEAR(whole.params.at(p).lo, whole.params.at(p).hi, 1e-9 * whole.params.at(p).hi) << p;
    EXPECT_NEAR(whole.params.at(p).median, p[0] == 'a' ? f.law.alpha : f.law.beta, 1e-6) << p;
  }
  d.group.pop_back();
  EXPECT_THROW(bootstrap_fit(d, o, f.law, b), Error);
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
