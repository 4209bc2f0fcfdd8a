#include "scaling/isoflop.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

using testing::error_of;
using testing::isoflop_runs;

TEST(Isoflop, RecoversTheLawsAllocationExponents) {
  const ScalingLaw law = kHoffmann2022;
  std::vector<double> budgets{1e18, 1e19, 1e20, 1e21};
  IsoflopOptions o;
  o.targets = {1e23};
  IsoflopResult r = isoflop_analysis(isoflop_runs(law, budgets), o);
  ASSERT_EQ(r.budgets.size(), 4u);
  for (const auto& b : r.budgets) {
    EXPECT_TRUE(b.convex);
    EXPECT_TRUE(b.vertex_inside);
    // A parabola in log N approximates the IsoFLOP profile near its minimum: within 5% of the
    // closed form.
    EXPECT_NEAR(b.N_opt / law.allocate(b.group.C).N, 1.0, 0.05) << b.group.label;
    EXPECT_DOUBLE_EQ(b.D_opt, b.group.C / (6 * b.N_opt));
  }
  EXPECT_NEAR(r.n_opt.exponent, law.a(), 0.01);
  EXPECT_NEAR(r.d_opt.exponent, law.b(), 0.01);
  EXPECT_NEAR(r.n_opt.exponent + r.d_opt.exponent, 1.0, 1e-9);  // D_opt = C/(6 N_opt)
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_NEAR(r.targets[0].N / law.allocate(1e23).N, 1.0, 0.1);
}

TEST(Isoflop, GroupsByToleranceOrLabel) {
  std::vector<Observation> runs = isoflop_runs(kHoffmann2022, {1e18, 1e19}, 4);
  // Jitter C by < 5%: still two groups.
  for (size_t i = 0; i < runs.size(); ++i) runs[i].C *= 1.0 + 0.01 * static_cast<double>(i % 3);
  auto g = group_by_budget(runs, 0.05);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].runs.size(), 4u);
  for (auto& r : runs) r.budget = r.C < 5e18 ? "1e18" : "1e19";
  g = group_by_budget(runs, 0.05);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_DOUBLE_EQ(g[1].C, 1e19);  // numeric labels give the budget exactly
  // The exact planned budget wins over a rounded label: one group per value, C to the bit.
  const double exact = 1.2345678901234567e19;
  for (auto& r : runs) {
    r.budget_C = r.C < 5e18 ? 1e18 : exact;
    r.budget = r.C < 5e18 ? "1e+18" : "1.2e+19";
  }
  g = group_by_budget(runs, 0.05);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[1].C, exact);
  EXPECT_EQ(g[1].label, "1.2e+19");
  EXPECT_EQ(g[1].runs.size(), 4u);
  // A point off the grid (a WSD sweep's extra branch, budget_C its own C) joins no group.
  Observation off = runs.back();
  off.isoflop = false;
  off.budget_C = off.C * 0.7;
  off.budget = "7e+18";
  runs.push_back(off);
  g = group_by_budget(runs, 0.05);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].runs.size() + g[1].runs.size(), 8u);
}

TEST(Isoflop, WarnsWhenTheMinimumLiesOutsideTheSampledRange) {
  // Sample only models larger than the optimum at the last budget.
  auto runs = isoflop_runs(kHoffmann2022, {1e18, 1e19, 1e20}, 5, 0.3);
  auto big = isoflop_runs(kHoffmann2022, {1e21}, 5, 0.2, 0.8);
  runs.insert(runs.end(), big.begin(), big.end());
  IsoflopResult r = isoflop_analysis(runs, {});
  ASSERT_EQ(r.budgets.size(), 4u);
  EXPECT_FALSE(r.budgets[3].vertex_inside);
  bool warned = false;
  bool left_out = false;
  for (const auto& w : r.warnings) {
    warned |= w.find("outside the sampled N range") != std::string::npos;
    left_out |= w.find("budget 1e+21: its extrapolated optimum is left out") != std::string::npos;
  }
  EXPECT_TRUE(warned);
  EXPECT_TRUE(left_out);
  EXPECT_EQ(r.n_opt.points, 3u);  // the three interior minima only
  IsoflopOptions keep;
  keep.include_extrapolated = true;
  EXPECT_EQ(isoflop_analysis(runs, keep).n_opt.points, 4u);
}

TEST(Isoflop, ConcaveBudgetIsExcludedAndTooFewRunsIsAnError) {
  auto runs = isoflop_runs(kHoffmann2022, {1e18, 1e19, 1e20}, 5);
  for (int k = 10; k < 15; ++k)
    runs[static_cast<size_t>(k)].loss = 3.0 - 0.01 * (k - 12) * (k - 12);  // concave
  IsoflopResult r = isoflop_analysis(runs, {});
  EXPECT_FALSE(r.budgets[2].convex);
  EXPECT_EQ(r.n_opt.points, 2u);
  auto few = isoflop_runs(kHoffmann2022, {1e18, 1e19}, 5);
  few.pop_back();
  few.pop_back();
  few.pop_back();
  EXPECT_EQ(error_of([&] { isoflop_analysis(few, {}); }),
            "budget 1e+19 has 2 runs; an IsoFLOP budget needs at least 3 (or pass --skip-small)");
  IsoflopOptions skip;
  skip.skip_small = true;
  EXPECT_EQ(
      error_of([&] { isoflop_analysis(few, skip); }),
      "IsoFLOP analysis needs at least 2 budgets whose curves have a minimum, got 1 of 2 budgets");
}

// Runs at scattered C (not planned as budgets) give one warning for all the budgets too small to
// fit, not one per budget; a wider tolerance groups them.
TEST(Isoflop, SmallBudgetsAreSkippedWithOneWarning) {
  auto runs = isoflop_runs(kHoffmann2022, {1e18, 1e19}, 5);
  for (double C : {3e18, 3.3e18, 3.6e18, 4e18}) {  // four strays, one run each, unlabelled
    Observation o = runs.front();
    o.C = C;
    o.budget.clear();
    o.budget_C = 0;
    runs.push_back(o);
  }
  for (auto& r : runs) {  // every run by C only
    r.budget.clear();
    r.budget_C = 0;
  }
  IsoflopOptions o;
  o.skip_small = true;
  const IsoflopResult r = isoflop_analysis(runs, o);
  EXPECT_EQ(r.budgets.size(), 2u);
  int aggregated = 0;
  for (const auto& w : r.warnings) {
    EXPECT_EQ(w.find("runs, fewer than"), std::string::npos) << w;  // no per-budget line
    if (w.find("4 budgets with fewer than 3 runs skipped (4 runs in all; C = 3e+18, 3.3e+18, "
               "3.6e+18, 4e+18)") != std::string::npos)
      ++aggregated;
  }
  EXPECT_EQ(aggregated, 1);
  o.tolerance = 0.3;  // > ln(4/3): the four strays form one budget, apart from 1e18 and 1e19
  const IsoflopResult wide = isoflop_analysis(runs, o);
  EXPECT_EQ(wide.budgets.size(), 3u);
}

TEST(Isoflop, PowerLawFitIsExactOnAPowerLaw) {
  std::vector<double> C{1e18, 1e19, 1e20}, y;
  for (double c : C) y.push_back(3.0 * std::pow(c, 0.45));
  PowerLaw p = fit_power_law(C, y);
  EXPECT_NEAR(p.exponent, 0.45, 1e-12);
  EXPECT_NEAR(p.coefficient / 3.0, 1.0, 1e-9);
  EXPECT_NEAR(p.r2, 1.0, 1e-12);
}

TEST(Envelope, FrontierFollowsTheComputeOptimalModels) {
  // Loss curves of runs of several sizes trained on the same data: each curve follows the law along
  // D.
  const ScalingLaw law = kHoffmann2022;
  std::vector<Observation> runs;
  Curves curves;
  int64_t id = 1;
  for (double N : {1e7, 3e7, 1e8, 3e8, 1e9, 3e9}) {
    Observation r;
    r.id = id;
    r.N = N;
    r.D = 1e11;
    r.C = 6 * N * r.D;
    r.loss = law.predict_loss(N, r.D);
    runs.push_back(r);
    for (int s = 1; s <= 60; ++s) {
      double D = r.D * std::pow(10.0, -3.0 + 3.0 * s / 60);
      curves[id].push_back({D, 6 * N * D, law.predict_loss(N, D)});
    }
    ++id;
  }
  EnvelopeResult e = envelope_analysis(runs, curves, 30);
  ASSERT_GE(e.frontier.size(), 5u);
  // The frontier moves to larger models as compute grows.
  EXPECT_GT(e.n_opt.exponent, 0.2);
  EXPECT_LT(e.n_opt.exponent, 0.8);
  EXPECT_THROW(envelope_analysis(runs, {}, 30), Error);
}

}  // namespace
}  // namespace scalelab::scaling
