#include "scaling/analysis.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

using testing::error_of;

TEST(Analysis, HoldoutOfLargestBudgetPredictsNoiseFreeRunsClosely) {
  auto runs = testing::isoflop_runs(kHoffmann2022, {1e17, 1e18, 1e19, 1e20, 1e21}, 6);
  FitOptions o;
  HoldoutResult h = holdout_check(runs, parse_holdout("largest-budget"), o);
  EXPECT_EQ(h.rows.size(), 6u);
  EXPECT_EQ(h.fit.n_runs, 24u);
  EXPECT_LT(h.mean_abs_rel_error, 1e-3);
  EXPECT_NEAR(h.threshold_C, 1e21, 1e12);
  HoldoutResult t = holdout_check(runs, parse_holdout("5e19"), o);
  EXPECT_EQ(t.rows.size(), 12u);
  EXPECT_EQ(error_of([] { parse_holdout("biggest"); }),
            "holdout: expected 'largest-budget' or a positive C threshold, got 'biggest'");
  EXPECT_EQ(error_of([&] { holdout_check(runs, parse_holdout("1e15"), o); }),
            "holdout: only 0 runs remain to fit on; need at least 5");
}

// Points off the IsoFLOP grid (a WSD sweep's extra branches) join no budget; with the largest
// budget held out, those above the kept budgets' compute are neither fitted on nor held out, and
// those below are fitted on.
TEST(Analysis, HoldoutFitsOnExtraPointsOnlyBelowTheKeptBudgets) {
  auto runs = testing::isoflop_runs(kHoffmann2022, {1e17, 1e18, 1e19, 1e20, 1e21}, 6);
  const auto extra = [&](double C, double N) {
    Observation r;
    r.id = static_cast<int64_t>(runs.size()) + 1;
    r.N = N;
    r.D = C / (6 * N);
    r.C = C;
    r.loss = kHoffmann2022.predict_loss(r.N, r.D);
    r.isoflop = false;
    runs.push_back(r);
  };
  extra(5e19, 3e9);  // below the kept budgets' largest C (1e20): fitted on
  extra(5e20, 3e9);  // between the kept 1e20 and the held-out 1e21: neither
  extra(2e21, 3e9);  // above every budget: neither
  const HoldoutResult h = holdout_check(runs, parse_holdout("largest-budget"), FitOptions{});
  EXPECT_EQ(h.rows.size(), 6u);  // the largest budget's grid points only
  EXPECT_EQ(h.fit.n_runs, 25u);  // the other 24 and the one extra point below 1e20
  for (const auto& row : h.rows) EXPECT_LE(row.id, 30);
  EXPECT_NEAR(h.threshold_C, 1e21, 1e12);
}

TEST(Analysis, DataWarningsFlagANarrowComputeRange) {
  auto narrow = testing::isoflop_runs(kHoffmann2022, {1e18, 3e18}, 5);
  auto w = data_warnings(narrow);
  ASSERT_FALSE(w.empty());
  EXPECT_NE(w[0].find("decades of compute (under 1.5)"), std::string::npos);
  auto wide = testing::isoflop_runs(kHoffmann2022, {1e17, 1e19, 1e21}, 5, 1.0);
  EXPECT_TRUE(data_warnings(wide).empty());
}

TEST(Analysis, CompareLossesCoversAllFive) {
  FitData d = testing::grid_data(kHoffmann2022, 6);
  FitOptions o;
  o.grid.e = {0, 0.5};
  o.grid.a = {3, 6};
  o.grid.b = {3, 6};
  o.grid.alpha = {0.2, 0.5};
  o.grid.beta = {0.2, 0.5};
  auto c = compare_losses(d, o, {1e21});
  ASSERT_EQ(c.size(), 5u);
  for (const auto& x : c) {
    ASSERT_EQ(x.N_opt.size(), 1u);
    EXPECT_NEAR(x.N_opt[0] / kHoffmann2022.allocate(1e21).N, 1.0, 0.1) << to_string(x.loss);
  }
}

}  // namespace
}  // namespace scalelab::scaling
