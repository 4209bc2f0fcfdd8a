#include "scaling/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

using testing::error_of;

// A small start grid around the truth keeps these fits fast.
FitOptions quick_fit() {
  FitOptions o;
  o.grid.e = {0, 0.5};
  o.grid.a = {5, 6};
  o.grid.b = {5, 6};
  o.grid.alpha = {0.3};
  o.grid.beta = {0.3};
  o.threads = 1;
  return o;
}

TEST(Pipeline, EveryStageOnAnIdentifiableSweep) {
  const auto runs = testing::isoflop_runs(kHoffmann2022, {1e17, 1e18, 1e19, 1e20, 1e21}, 6);
  PipelineOptions o;
  o.targets = {1e22, 1e23};
  o.fit = quick_fit();
  o.bootstrap.samples = 10;
  o.band_points = 5;
  o.holdout = HoldoutSpec{.largest_budget = true};
  o.isoflop = IsoflopOptions{};
  const Analysis a = analyze(runs, o);
  EXPECT_EQ(a.n_runs, 30u);
  ASSERT_TRUE(a.fit && a.bootstrap && a.holdout && a.isoflop);
  EXPECT_NEAR(a.fit->law.alpha, kHoffmann2022.alpha, 1e-3);
  // One allocation per target, from the fitted law.
  ASSERT_EQ(a.allocations.size(), 2u);
  EXPECT_DOUBLE_EQ(a.allocations[1].N, a.fit->law.allocate(1e23).N);
  // Bootstrap budgets: the targets, then the band from the smallest run to the largest target.
  ASSERT_EQ(a.bootstrap->budgets.size(), 7u);
  ASSERT_EQ(a.band.size(), 5u);
  EXPECT_NEAR(a.band.front().C / 1e17, 1.0, 1e-9);
  EXPECT_NEAR(a.band.back().C / 1e23, 1.0, 1e-9);
  EXPECT_EQ(a.holdout->rows.size(), 6u);
  EXPECT_EQ(a.isoflop->targets.size(), 2u);  // the pipeline's targets reach the IsoFLOP stage
  EXPECT_TRUE(a.comparison.empty());         // not asked for
}

// A sweep on a small corpus repeats it at its largest budgets only, as the H200 example does. The
// truth here: repeated tokens decay with the published R_D*, excess parameters cost nothing. Of the
// two fits (base law from the fresh runs, then R*; or both jointly) the pipeline keeps the one that
// predicts every run better, and R_N* does not stay at the published value.
TEST(Pipeline, RepeatsAtTheLargestBudgetsAndNoExcessParameterDecay) {
  auto runs = testing::isoflop_runs(kHoffmann2022, {1e17, 1e18, 1e19, 1e20, 1e21}, 6, 0.3);
  double U = INFINITY;
  for (const auto& r : runs)
    if (r.C == 1e21) U = std::min(U, 0.9 * r.D);
  const DataConstrainedLaw truth{kHoffmann2022, kMuennighoffRDStar, kNoDecay};
  for (auto& r : runs) {
    r.unique_D = U;
    r.loss = truth.predict_loss(r.N, r.D, U);
    if (r.C >= 1e21) {
      ASSERT_GT(r.D, U);  // every run of the largest budget repeats
    }
    if (r.C <= 1e19) {
      ASSERT_LE(r.D, U);  // and none two decades below
    }
  }
  PipelineOptions o;
  o.targets = {1e22};
  o.fit = quick_fit();
  const Analysis a = analyze(runs, o);
  ASSERT_TRUE(a.data_constrained.has_value());
  const DataConstrainedFit& dc = *a.data_constrained;
  // Not the published 5.3: fitted far above it (here ~50, where these runs' excess parameters lose
  // nothing measurable) or rejected for no decay.
  EXPECT_GT(dc.law.R_N_star, 20.0) << dc.note;
  EXPECT_LT(dc.rmse_log, 1e-3);
  EXPECT_NEAR(dc.law.base.alpha, kHoffmann2022.alpha, 0.01);
  // The corpus answer uses that law.
  ASSERT_EQ(a.constrained.size(), 1u);
  EXPECT_NEAR(a.constrained[0].N / dc.law.allocate(1e22, U).N, 1.0, 1e-9);
}

TEST(Pipeline, FailureThrowsOrWarnsAsAsked) {
  // Two runs: no parametric fit; one budget of two models: no IsoFLOP parabola.
  const auto runs = testing::isoflop_runs(kHoffmann2022, {1e18}, 2);
  PipelineOptions o;
  o.fit = quick_fit();
  o.bootstrap.samples = 10;
  o.isoflop = IsoflopOptions{};
  EXPECT_EQ(error_of([&] { analyze(runs, o); }),
            "need at least 5 runs to fit the scaling law, got 2");
  o.on_failure = OnFailure::kWarn;
  const Analysis a = analyze(runs, o);
  EXPECT_FALSE(a.fit.has_value());
  EXPECT_FALSE(a.bootstrap.has_value());  // needs the fit: skipped, not failed
  EXPECT_FALSE(a.isoflop.has_value());
  std::vector<std::string> stages;
  for (const auto& w : a.warnings) stages.push_back(w.stage);
  EXPECT_NE(std::find(stages.begin(), stages.end(), "fit"), stages.end());
  EXPECT_NE(std::find(stages.begin(), stages.end(), "isoflop"), stages.end());
  for (const auto& w : a.warnings) {
    if (w.stage == "fit") {
      EXPECT_EQ(w.str(),
                "fit: need at least 5 runs to fit the scaling law, got 2; no recommendation");
    }
  }
}

TEST(Pipeline, OptionsAreCheckedFirstWhateverTheFailurePolicy) {
  const auto runs = testing::isoflop_runs(kHoffmann2022, {1e18, 1e19}, 4);
  PipelineOptions o;
  o.on_failure = OnFailure::kWarn;
  o.targets = {-1};
  EXPECT_EQ(error_of([&] { analyze(runs, o); }), "targets: must be positive numbers (got -1)");
  o.targets = {};
  o.fit.prune_radius = 1;
  EXPECT_EQ(error_of([&] { analyze(runs, o); }), "prune_radius: must be in [0, 1) (got 1)");
  o.fit = {};
  o.bootstrap.confidence = 1.5;
  EXPECT_EQ(error_of([&] { analyze(runs, o); }), "confidence: must be in (0, 1) (got 1.5)");
}

TEST(Pipeline, IsoflopOnlySkipsTheParametricStages) {
  const auto runs = testing::isoflop_runs(kHoffmann2022, {1e18, 1e19, 1e20}, 5);
  PipelineOptions o;
  o.parametric = false;
  o.isoflop = IsoflopOptions{};
  o.targets = {1e22};
  const Analysis a = analyze(runs, o);
  EXPECT_FALSE(a.fit.has_value());
  EXPECT_TRUE(a.allocations.empty());
  ASSERT_TRUE(a.isoflop.has_value());
  EXPECT_NEAR(a.isoflop->n_opt.exponent, kHoffmann2022.a(), 0.02);
}

}  // namespace
}  // namespace scalelab::scaling
