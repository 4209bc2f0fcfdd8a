// The data-constrained law of Muennighoff et al. 2023: its limits, the allocation, and recovery of
// R_D* and R_N* from simulated runs that repeat data.
#include "scaling/data_constrained.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/error.h"

namespace scalelab::scaling {
namespace {

constexpr ScalingLaw kBase = kHoffmann2022;

TEST(DataConstrained, FreshDataIsTheBaseLaw) {
  const DataConstrainedLaw law{kBase};
  const double N = 1e9, D = 2e10;
  // One epoch or less, and a model the data can use: the base law exactly.
  EXPECT_DOUBLE_EQ(law.effective_data(D, 2e10), D);
  EXPECT_DOUBLE_EQ(law.effective_data(D, 1e12), D);
  EXPECT_DOUBLE_EQ(law.predict_loss(N, D, 1e12), kBase.predict_loss(N, D));
  // Unknown unique tokens (0) mean fresh data.
  EXPECT_DOUBLE_EQ(law.predict_loss(N, D, 0), kBase.predict_loss(N, D));
}

TEST(DataConstrained, RepeatedTokensAreWorthLessAndSaturate) {
  const DataConstrainedLaw law{kBase};
  const double U = 1e10;
  // 4 epochs: nearly fresh (the paper: "up to 4 epochs … negligible"); the value decays after.
  EXPECT_GT(law.effective_data(4 * U, U), 0.9 * 4 * U);
  EXPECT_LT(law.effective_data(4 * U, U), 4 * U);
  EXPECT_LT(law.effective_data(40 * U, U), 0.5 * 40 * U);
  // Saturation: D' → U·(1 + R_D*) as repetitions grow.
  EXPECT_NEAR(law.effective_data(1e6 * U, U), U * (1 + law.R_D_star), 1e-6 * U);
  // Excess parameters saturate the same way, at U_N·(1 + R_N*).
  const double U_N = law.useful_params(U);
  EXPECT_NEAR(kBase.adjust_D_to_N(U_N), U, 1e-6 * U);  // U_N is the optimal size for U tokens
  EXPECT_DOUBLE_EQ(law.effective_params(0.5 * U_N, U), 0.5 * U_N);
  EXPECT_NEAR(law.effective_params(1e6 * U_N, U), U_N * (1 + law.R_N_star), 1e-6 * U_N);
}

TEST(DataConstrained, AllocationMinimisesTheLossAndShrinksWithTheCorpus) {
  const DataConstrainedLaw law{kBase};
  const double C = 1e23;
  const Allocation fresh = kBase.allocate(C);
  // A corpus as large as the fresh optimum's D: the same answer.
  const Allocation big = law.allocate(C, 100 * fresh.D);
  EXPECT_NEAR(big.N / fresh.N, 1.0, 1e-4);
  // A corpus a tenth of that: more epochs, fewer of the FLOPs on data, a higher loss.
  const Allocation small = law.allocate(C, fresh.D / 10);
  EXPECT_GT(small.loss, fresh.loss);
  EXPECT_GT(small.D / (fresh.D / 10), 1.0);  // it repeats the data
  // It is the minimum along the IsoFLOP profile.
  for (double f : {0.8, 0.95, 1.05, 1.25}) {
    const double N = small.N * f;
    EXPECT_GE(law.predict_loss(N, C / (6 * N), fresh.D / 10), small.loss - 1e-12) << f;
  }
  EXPECT_THROW(law.allocate(C, 0), Error);
  EXPECT_THROW(law.allocate(C, -1), Error);
  EXPECT_THROW(law.allocate(C, NAN), Error);
}

// Simulated runs of a known law with 0.3% log-normal noise: the fit recovers R_D* and R_N*.
TEST(DataConstrained, FitRecoversTheConstants) {
  DataConstrainedLaw truth{kBase, 8.0, 3.0};
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 0.003);
  std::vector<RepeatedRun> runs;
  const double U = 2e9;
  for (double N : {5e7, 1e8, 2e8, 4e8, 8e8, 1.6e9, 3.2e9}) {
    for (double epochs : {0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0}) {
      const double D = epochs * U;
      runs.push_back({N, D, U, truth.predict_loss(N, D, U) * std::exp(noise(rng))});
    }
  }
  const DataConstrainedFit fit = fit_data_constrained(kBase, runs);
  EXPECT_TRUE(fit.R_D_fitted);
  EXPECT_TRUE(fit.R_N_fitted);
  EXPECT_GE(fit.repeated_runs, 30u);
  EXPECT_NEAR(fit.law.R_D_star / 8.0, 1.0, 0.15) << fit.law.R_D_star;
  EXPECT_NEAR(fit.law.R_N_star / 3.0, 1.0, 0.3) << fit.law.R_N_star;
  EXPECT_LT(fit.rmse_log, 0.005);
  EXPECT_GT(fit.rmse_log_base, 2 * fit.rmse_log);  // treating repeats as fresh fits worse
  // JSON round trip.
  const DataConstrainedLaw back =
      data_constrained_law_from_json(to_json(fit.law), "data_constrained");
  EXPECT_DOUBLE_EQ(back.R_D_star, fit.law.R_D_star);
  EXPECT_DOUBLE_EQ(back.base.alpha, kBase.alpha);
}

// Runs whose repeats cost nothing measurable do not pin R_D* down (its fit runs to the edge of the
// range): the published value is kept, and the note says why.
TEST(DataConstrained, UnmeasurableRepeatsKeepThePublishedConstant) {
  std::vector<RepeatedRun> runs;
  const double U = 2e10;
  for (double N : {1e8, 2e8, 4e8})
    for (double epochs : {1.5, 2.0, 3.0})
      runs.push_back({N, epochs * U, U, kBase.predict_loss(N, epochs * U)});
  const DataConstrainedFit fit = fit_data_constrained(kBase, runs);
  EXPECT_FALSE(fit.R_D_fitted);
  EXPECT_DOUBLE_EQ(fit.law.R_D_star, kMuennighoffRDStar);
  EXPECT_NE(fit.note.find("not pinned down"), std::string::npos) << fit.note;
}

// Runs that repeat data lose to R_D* = 8 but have excess parameters that cost nothing: the
// published R_N* = 5.3 would predict them far worse than no decay, so the fit rejects it (kNoDecay)
// and says so; the law with R_N* = ∞ round-trips through JSON as null.
TEST(DataConstrained, ExcessParametersThatCostNothingRejectThePublishedConstant) {
  const DataConstrainedLaw truth{kBase, 8.0, kNoDecay};
  std::vector<RepeatedRun> runs;
  const double U = 2e9;
  for (double N : {1e8, 4e8, 1.6e9, 6.4e9})
    for (double epochs : {1.0, 2.0, 4.0, 8.0, 16.0})
      runs.push_back({N, epochs * U, U, truth.predict_loss(N, epochs * U, U)});
  const DataConstrainedFit fit = fit_data_constrained(kBase, runs);
  EXPECT_TRUE(std::isinf(fit.law.R_N_star)) << fit.law.R_N_star;
  EXPECT_FALSE(fit.R_N_fitted);
  EXPECT_NE(fit.note.find("the published R_N* = 5.31 misfits"), std::string::npos) << fit.note;
  EXPECT_NE(describe_constants(fit).find("R_N* = ∞ (no decay)"), std::string::npos);
  EXPECT_TRUE(fit.R_D_fitted);
  EXPECT_NEAR(fit.law.R_D_star / 8.0, 1.0, 0.05) << fit.law.R_D_star;
  EXPECT_LT(fit.rmse_log, 1e-3);
  // No decay: excess parameters count in full, and the law's JSON writes null for it.
  EXPECT_DOUBLE_EQ(fit.law.effective_params(6.4e9, U), 6.4e9);
  const json::Json j = to_json(fit.law);
  EXPECT_TRUE(j.at("R_N_star").is_null());
  const DataConstrainedLaw back = data_constrained_law_from_json(j, "data_constrained");
  EXPECT_TRUE(std::isinf(back.R_N_star));
  EXPECT_DOUBLE_EQ(back.predict_loss(6.4e9, 8 * U, U), fit.law.predict_loss(6.4e9, 8 * U, U));
  EXPECT_THROW(data_constrained_law_from_json(
                   {{"base", to_json(kBase)}, {"R_D_star", "x"}, {"R_N_star", 1.0}}, "law"),
               Error);
}

TEST(DataConstrained, NoRepeatedRunsCannotIdentifyRDStar) {
  std::vector<RepeatedRun> runs;
  for (double N : {1e8, 2e8, 4e8}) runs.push_back({N, 1e9, 1e10, kBase.predict_loss(N, 1e9)});
  try {
    fit_data_constrained(kBase, runs);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("R_D* is not identified"), std::string::npos) << e.what();
  }
  runs.push_back({1e8, -1, 1e9, 3});
  EXPECT_THROW(fit_data_constrained(kBase, runs), Error);
}

}  // namespace
}  // namespace scalelab::scaling
