// Replicated runs (one model trained with several seeds): folded into one mean-loss run for the
// fits, and their spread per budget. Runs that share a trajectory (a WSD parent and its branches):
// one family, which the bootstrap resamples whole.
#include <gtest/gtest.h>

#include <cmath>

#include "runs/run.h"
#include "scaling/fit.h"

namespace scalelab::runs {
namespace {

Run run(int64_t id, const char* budget, double N, double D, double loss,
        RunStatus status = RunStatus::kDone) {
  Run r;
  r.id = id;
  r.status = status;
  r.budget = budget;
  r.N = N;
  r.D = D;
  r.C = 6 * N * D;
  r.loss = loss;
  return r;
}

TEST(Seeds, ReplicatesBecomeOneRunWithTheirMeanLossInOrder) {
  const std::vector<runs::Run> runs = {
      run(1, "1e15", 1e6, 1e8, 3.0), run(2, "1e15", 2e6, 5e7, 2.9),
      run(3, "1e15", 1e6, 1e8, 3.4), run(4, "1e15", 2e6, 5e7, 3.1),
      run(5, "1e15", 1e6, 1e8, 3.2), run(6, "1e15", 4e6, 2.5e7, NAN, RunStatus::kPlanned),
      run(7, "3e15", 1e6, 1e8, 2.5)};  // same N, D, other budget
  const std::vector<runs::Run> m = mean_over_seeds(runs);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m[0].id, 1);
  EXPECT_DOUBLE_EQ(m[0].loss, 3.2);  // (3.0 + 3.4 + 3.2) / 3
  EXPECT_EQ(m[0].extra["seeds"], 3);
  EXPECT_EQ(m[1].id, 2);
  EXPECT_DOUBLE_EQ(m[1].loss, 3.0);
  EXPECT_EQ(m[2].id, 6);  // not done: passed through untouched
  EXPECT_EQ(m[2].status, RunStatus::kPlanned);
  EXPECT_EQ(m[3].id, 7);
  EXPECT_DOUBLE_EQ(m[3].loss, 2.5);
  EXPECT_FALSE(m[3].extra.contains("seeds"));
}

TEST(Seeds, SpreadIsThePooledStandardDeviationNextToTheRangeOfModelMeans) {
  const std::vector<runs::Run> runs = {
      run(1, "1e15", 1e6, 1e8, 3.0), run(2, "1e15", 1e6, 1e8, 3.4), run(3, "1e15", 1e6, 1e8, 3.2),
      run(4, "1e15", 2e6, 5e7, 2.9), run(5, "1e15", 2e6, 5e7, 3.1), run(6, "1e15", 4e6, 2.5e7, 2.6),
      run(7, "3e14", 1e6, 3e7, 3.5), run(8, "1e16", 1e6, 1e9, 2.0)};
  const std::vector<SeedSpread> s = seed_spread(runs);
  ASSERT_EQ(s.size(), 1u);  // 3e14 and 1e16 have no replicated model
  EXPECT_EQ(s[0].budget, "1e15");
  EXPECT_EQ(s[0].models, 2);
  EXPECT_EQ(s[0].runs, 5);
  // Σ squared deviations: 0.04 + 0.04 + 0 (model 1), 0.01 + 0.01 (model 2); 3 degrees of freedom.
  EXPECT_NEAR(s[0].sd, std::sqrt(0.10 / 3), 1e-12);
  EXPECT_NEAR(s[0].model_range, 3.2 - 2.6, 1e-12);  // the unreplicated 4e6 model counts here
  EXPECT_NEAR(s[0].budget_C, 6e14, 1e3);            // no budget_C recorded: the runs' mean C
  EXPECT_TRUE(seed_spread({run(1, "1e15", 1e6, 1e8, 3.0)}).empty());
}

TEST(Families, ABranchAndItsParentShareOneGroupOtherRunsAreTheirOwn) {
  runs::Run parent = run(1, "b2", 1e6, 2e7, 3.0), branch = run(2, "b1", 1e6, 1e7, 3.2),
            alone = run(3, "b1", 2e6, 5e6, 3.1), csv = run(4, "b1", 3e6, 3e6, 3.3);
  parent.extra["key"] = "b2-m1";
  parent.config["branch_steps"] = {400};
  branch.extra = {{"key", "b1-m1"}, {"parent_key", "b2-m1"}, {"branch_step", 400}};
  alone.extra["key"] = "b1-m2";   // a sweep run with no branches
  csv.extra["parent_key"] = 7.0;  // not a key: no family
  EXPECT_EQ(trajectory_family(parent), "b2-m1");
  EXPECT_EQ(trajectory_family(branch), "b2-m1");
  EXPECT_EQ(trajectory_family(alone), "");
  EXPECT_EQ(trajectory_family(csv), "");
  const scaling::FitData d = scaling::to_fit_data(observations({parent, branch, alone, csv}));
  ASSERT_EQ(d.group.size(), 4u);
  EXPECT_EQ(d.group[0], d.group[1]);
  EXPECT_NE(d.group[2], d.group[0]);
  EXPECT_NE(d.group[3], d.group[2]);
  // No shared family: no groups (the plain run bootstrap).
  EXPECT_TRUE(scaling::to_fit_data(observations({alone, csv})).group.empty());
}

// A WSD sweep's extra branch points (extra "isoflop": false) are points of the fits but of no
// IsoFLOP budget: observations carry the flag, and the seed spread per budget leaves them out.
TEST(Families, ExtraBranchPointsAreOffTheIsoflopGrid) {
  runs::Run grid = run(1, "1e15", 1e6, 1e8, 3.0), grid2 = run(2, "1e15", 1e6, 1e8, 3.2);
  runs::Run x1 = run(3, "3.5e+14", 1e6, 5e7, 3.3), x2 = run(4, "3.5e+14", 1e6, 5e7, 3.9);
  x1.extra = {{"key", "b1-m1-x1-s0"}, {"parent_key", "b1-m1-s0"}, {"isoflop", false}};
  x2.extra = {{"key", "b1-m1-x1-s1"}, {"parent_key", "b1-m1-s1"}, {"isoflop", false}};
  grid2.extra["isoflop"] = true;
  EXPECT_TRUE(on_isoflop_grid(grid));
  EXPECT_TRUE(on_isoflop_grid(grid2));
  EXPECT_FALSE(on_isoflop_grid(x1));
  const auto obs = observations({grid, grid2, x1, x2});
  ASSERT_EQ(obs.size(), 4u);
  EXPECT_TRUE(obs[0].isoflop);
  EXPECT_FALSE(obs[2].isoflop);
  const auto s = seed_spread({grid, grid2, x1, x2});
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].budget, "1e15");
  EXPECT_NEAR(s[0].sd, std::sqrt(0.02), 1e-12);
  // The fits still fold the extra point's seeds into their mean.
  const auto m = mean_over_seeds({grid, grid2, x1, x2});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[1].loss, 3.6, 1e-12);
}

}  // namespace
}  // namespace scalelab::runs
