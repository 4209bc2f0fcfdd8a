// Sweep analysis on a synthetic IsoFLOP database drawn from a known law: both approaches recover
// the law's allocation, the bootstrap brackets it, the held-out check predicts the largest budget,
// the recommendation carries a buildable shape.
#include "sweep/results.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"
#include "test_util.h"

namespace scalelab::sweep {
namespace {

constexpr scaling::ScalingLaw kTruth{1.8, 400.0, 900.0, 0.34, 0.30};

TEST(Results, RecoversTheAllocationWithIntervalsAndAShape) {
  const auto dir = testing::fresh_dir("results");
  runs::RunDb db(dir / "runs.db");
  testing::fill_isoflop_db(db, kTruth);
  AnalysisOptions o;
  o.targets = {1e20};
  o.bootstrap_samples = 60;
  o.inference_tokens = 1e12;
  ArchitectureRule rule;
  rule.vocab_size = 32000;
  rule.context_length = 1024;
  o.architecture = rule;
  const SweepAnalysis a = analyze_runs(db, o);
  ASSERT_TRUE(a.fit && a.iso && a.boot && a.holdout);
  EXPECT_EQ(a.runs.size(), 20u);
  EXPECT_EQ(a.iso->budgets.size(), 4u);
  ASSERT_EQ(a.recommendations.size(), 1u);
  const auto& r = a.recommendations[0];
  const double want = kTruth.allocate(1e20).N;
  // Tolerance: 0.3% loss noise on 20 runs two decades below the target; the exponent error
  // compounds over those decades, so 25% on N is what the fit can promise here.
  EXPECT_NEAR(r.law.N / want, 1.0, 0.25) << r.law.N << " vs " << want;
  ASSERT_TRUE(r.N_ci);
  EXPECT_LE(r.N_ci->lo, r.law.N * 1.0001);
  EXPECT_GE(r.N_ci->hi, r.law.N * 0.9999);
  EXPECT_GT(r.iso_N, 0);
  EXPECT_NEAR(r.iso_N / want, 1.0, 0.35);
  ASSERT_TRUE(r.shape);
  EXPECT_NEAR(static_cast<double>(r.shape->params) / r.law.N, 1.0, 0.15);
  // The built model spends C exactly, and is the family's best member under the law.
  EXPECT_NEAR(r.shape_D * r.shape->flops_per_token, 1e20, 1e20 * 1e-9);
  for (const auto& m : model_family(rule))
    EXPECT_GE(a.fit->law.predict_loss(static_cast<double>(m.params), 1e20 / m.flops_per_token),
              r.shape_loss - 1e-12);
  EXPECT_LT(a.holdout->mean_abs_rel_error, 0.01);
  EXPECT_EQ(a.band.size(), 24u);
  const json::Json j = to_json(a);
  EXPECT_EQ(j["recommendations"].size(), 1u);
  EXPECT_TRUE(j["recommendations"][0].contains("shape"));
  const std::string text = format_recommendations(a);
  EXPECT_NE(text.find("recommendation for C = 1.00e+20"), std::string::npos) << text;
  EXPECT_NE(text.find("build:"), std::string::npos) << text;

  // The decision's uncertainty: tokens per parameter with its interval, and what the usual
  // alternatives (20 tokens/param, the IsoFLOP answer) cost by the law, with intervals.
  ASSERT_TRUE(r.tokens_per_param_ci);
  EXPECT_LE(r.tokens_per_param_ci->lo, r.law.tokens_per_param() * 1.0001);
  EXPECT_GE(r.tokens_per_param_ci->hi, r.law.tokens_per_param() * 0.9999);
  ASSERT_EQ(r.alternatives.size(), 2u);
  const Alternative& rule20 = r.alternatives[0];
  EXPECT_EQ(rule20.name, "20 tokens/param");
  EXPECT_NEAR(rule20.D / rule20.N, 20.0, 1e-9);
  EXPECT_NEAR(6 * rule20.N * rule20.D, 1e20, 1e20 * 1e-12);
  EXPECT_NEAR(rule20.excess, a.fit->law.excess_compute(1e20, rule20.N), 1e-15);
  EXPECT_GE(rule20.excess, 0);
  EXPECT_GT(rule20.loss, r.law.loss);
  ASSERT_TRUE(rule20.excess_ci);
  EXPECT_GE(rule20.excess_ci->lo, -1e-12);
  EXPECT_LE(rule20.excess_ci->lo, rule20.excess_ci->hi);
  EXPECT_EQ(r.alternatives[1].name, "IsoFLOP");
  EXPECT_EQ(r.alternatives[1].N, r.iso_N);
  const json::Json& alts = j["recommendations"][0]["alternatives"];
  ASSERT_EQ(alts.size(), 2u);
  EXPECT_EQ(alts[0]["name"], "20 tokens/param");
  EXPECT_TRUE(alts[0]["excess_compute_interval"].is_object());
  EXPECT_TRUE(j["recommendations"][0]["tokens_per_param_interval"].is_object());
  EXPECT_NE(text.find("20 tokens/param instead: N = "), std::string::npos) << text;
  EXPECT_NE(text.find("more compute than its loss needs ["), std::string::npos) << text;

  // Inference tokens: the model that reaches the same loss for the least 6ND + 2N·T.
  ASSERT_TRUE(r.with_inference);
  EXPECT_LT(r.with_inference->N, r.law.N);
  EXPECT_NEAR(r.with_inference->loss, r.law.loss, 1e-9);
  EXPECT_LT(r.with_inference->total_flops(), 1e20 + 2 * r.law.N * 1e12);
  EXPECT_TRUE(j["recommendations"][0].contains("with_inference"));
  EXPECT_NE(text.find("to serve 1.00T tokens: N = "), std::string::npos) << text;
}

// Three seeds per model: the fits see each model once at its mean loss, the seed spread per budget
// is reported, and only the budget whose seed noise rivals its models' spread is warned about.
TEST(Results, SeedsEnterTheFitsAsMeansAndTheirNoiseIsReported) {
  const auto dir = testing::fresh_dir("results-seeds");
  runs::RunDb db(dir / "runs.db");
  testing::fill_seeded_db(db, kTruth);
  AnalysisOptions o;
  o.targets = {1e20};
  o.bootstrap_samples = 0;
  const SweepAnalysis a = analyze_runs(db, o);
  EXPECT_EQ(a.runs.size(), 60u);  // every run is listed …
  ASSERT_TRUE(a.fit);
  EXPECT_EQ(a.fit->n_runs, 20u);  // … and each model enters the fit once
  ASSERT_EQ(a.seed_noise.size(), 4u);
  EXPECT_EQ(a.seed_noise[0].budget, "1e+17");
  EXPECT_EQ(a.seed_noise[0].models, 5);
  EXPECT_EQ(a.seed_noise[0].runs, 15);
  EXPECT_NEAR(a.seed_noise[0].sd, 0.2, 1e-9);
  EXPECT_NEAR(a.seed_noise[3].sd, 0.002, 1e-9);
  // The means are the law's losses exactly: the fit recovers it.
  EXPECT_NEAR(a.fit->law.alpha, kTruth.alpha, 0.02);
  int noisy = 0;
  for (const auto& w : a.warnings)
    if (w.find("seeds of one model differ") != std::string::npos) {
      ++noisy;
      EXPECT_NE(w.find("budget 1e+17"), std::string::npos) << w;
    }
  EXPECT_EQ(noisy, 1);
  const json::Json j = to_json(a);
  ASSERT_EQ(j["seed_noise"].size(), 4u);
  EXPECT_EQ(j["seed_noise"][0]["runs"], 15);
  EXPECT_NE(format_recommendations(a).find("seed noise (pooled SD"), std::string::npos);
}

TEST(Results, TooFewRunsGiveWarningsNotACrash) {
  const auto dir = testing::fresh_dir("results_few");
  runs::RunDb db(dir / "runs.db");
  for (int i = 0; i < 3; ++i) {
    runs::Run r;
    r.N = 1e6 * (i + 1);
    r.D = 2e7;
    r.loss = 3.0 - 0.1 * i;
    db.add(r);
  }
  AnalysisOptions o;
  o.targets = {1e20};
  const SweepAnalysis a = analyze_runs(db, o);
  EXPECT_FALSE(a.fit);
  EXPECT_TRUE(a.recommendations.empty());
  bool warned = false;
  for (const auto& w : a.warnings) warned |= w.find("at least 5") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Results, EmptyDatabaseIsAnError) {
  const auto dir = testing::fresh_dir("results_empty");
  runs::RunDb db(dir / "runs.db");
  EXPECT_THROW(analyze_runs(db, {}), Error);
}

}  // namespace
}  // namespace scalelab::sweep
