#include "scaling/scaling_law.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

using testing::error_of;

// Numerical argmin of the IsoFLOP profile L(N | C) by golden-section search over log N.
double argmin_isoflop(const ScalingLaw& law, double C) {
  double lo = std::log(1e3), hi = std::log(1e15);
  const double g = (std::sqrt(5.0) - 1) / 2;
  for (int it = 0; it < 200; ++it) {
    double a = hi - g * (hi - lo), b = lo + g * (hi - lo);
    if (law.isoflop_loss(std::exp(a), C) < law.isoflop_loss(std::exp(b), C))
      hi = b;
    else
      lo = a;
  }
  return std::exp(0.5 * (lo + hi));
}

TEST(ScalingLaw, ClosedFormAllocationMatchesNumericalArgmin) {
  for (const ScalingLaw& law : {kHoffmann2022, ScalingLaw{1.8, 482, 2085, 0.35, 0.37},
                                ScalingLaw{0.5, 50, 900, 0.6, 0.2}}) {
    for (double C : {1e18, 1e21, 5.76e23, 1e26}) {
      Allocation a = law.allocate(C);
      EXPECT_NEAR(std::log(a.N), std::log(argmin_isoflop(law, C)), 1e-6) << C;
      EXPECT_NEAR(6 * a.N * a.D / C, 1.0, 1e-12);
      EXPECT_NEAR(a.loss, law.predict_loss(a.N, a.D), 1e-12);
      // adjust_D_to_N at the optimal N gives the optimal D.
      EXPECT_NEAR(law.adjust_D_to_N(a.N) / a.D, 1.0, 1e-10);
    }
  }
}

TEST(ScalingLaw, HoffmannAllocationIsChinchillaLike) {
  // Hoffmann et al.'s eq. 4 law puts ~5.76e23 FLOPs (Chinchilla's budget) at tens of billions of
  // params.
  Allocation a = kHoffmann2022.allocate(5.76e23);
  EXPECT_GT(a.N, 2e10);
  EXPECT_LT(a.N, 6e10);
  EXPECT_NEAR(kHoffmann2022.a(), 0.28 / 0.62, 1e-12);
  EXPECT_NEAR(kHoffmann2022.a() + kHoffmann2022.b(), 1.0, 1e-15);
}

// Sardana et al. 2024: with T inference tokens the least training + inference compute for the
// compute-optimal model's loss comes from a smaller model trained longer; T = 0 is Chinchilla's
// answer. Checked against a brute-force scan of the iso-loss curve.
TEST(ScalingLaw, InferenceAwareAllocationMinimisesTrainingPlusInference) {
  for (const ScalingLaw& law : {kHoffmann2022, ScalingLaw{1.8, 482, 2085, 0.35, 0.37}}) {
    const double C = 1e23;
    const Allocation opt = law.allocate(C);
    const InferenceAllocation zero = law.allocate_with_inference(C, 0);
    EXPECT_EQ(zero.N, opt.N);
    EXPECT_EQ(zero.D, opt.D);
    EXPECT_NEAR(zero.total_flops() / C, 1.0, 1e-12);
    double previous_n = opt.N;
    for (double T : {1e11, 1e12, 1e13}) {
      const InferenceAllocation r = law.allocate_with_inference(C, T);
      EXPECT_NEAR(r.loss / opt.loss, 1.0, 1e-10) << T;  // the same loss
      EXPECT_LT(r.N, previous_n) << T;                  // smaller as T grows
      EXPECT_GT(r.D, opt.D) << T;
      EXPECT_LT(r.total_flops(), C + 2 * opt.N * T) << T;  // cheaper than Chinchilla's model
      EXPECT_DOUBLE_EQ(r.compute_optimal_total_flops(), C + 2 * opt.N * T) << T;
      EXPECT_GT(r.saving(), 0) << T;
      previous_n = r.N;
      // No point of the iso-loss curve between N_min and N_opt does better (scan in log N).
      const double gap = opt.loss - law.E;
      const double lo = std::log(std::pow(law.A / gap, 1 / law.alpha)), hi = std::log(opt.N);
      for (int k = 1; k < 2000; ++k) {
        const double n = std::exp(lo + (hi - lo) * k / 2000.0);
        const double d = std::pow(law.B / (gap - law.A * std::pow(n, -law.alpha)), 1 / law.beta);
        EXPECT_GE(6 * n * d + 2 * n * T, r.total_flops() * (1 - 1e-9)) << T << " " << n;
      }
    }
  }
  EXPECT_EQ(error_of([] { kHoffmann2022.allocate_with_inference(1e21, -1); }),
            "inference tokens must be a non-negative number (got -1)");
  EXPECT_EQ(error_of([] { kHoffmann2022.allocate_with_inference(1e21, NAN); }),
            "inference tokens must be a non-negative number (got nan)");
}

// The least compute for a loss inverts the optimal loss; an allocation off N_opt spends more
// compute than the loss it reaches needs, and the excess grows away from N_opt on either side.
TEST(ScalingLaw, ComputeForLossAndExcessCompute) {
  for (const ScalingLaw& law : {kHoffmann2022, ScalingLaw{1.8, 482, 2085, 0.35, 0.37}}) {
    for (double C : {1e19, 1e23}) {
      const Allocation a = law.allocate(C);
      EXPECT_NEAR(law.compute_for_loss(a.loss) / C, 1.0, 1e-10) << C;
      EXPECT_NEAR(law.excess_compute(C, a.N), 0.0, 1e-10) << C;
      const double half = law.excess_compute(C, a.N / 2), twice = law.excess_compute(C, 2 * a.N);
      EXPECT_GT(half, 0.01);
      EXPECT_GT(twice, 0.01);
      EXPECT_GT(law.excess_compute(C, a.N / 4), half);
      // By definition: the optimal allocation of C / (1 + excess) reaches the same loss.
      const double L = law.predict_loss(2 * a.N, C / (12 * a.N));
      EXPECT_NEAR(law.allocate(C / (1 + twice)).loss / L, 1.0, 1e-10);
    }
  }
  EXPECT_EQ(error_of([] { kHoffmann2022.compute_for_loss(1.5); }),
            "loss 1.5 is not above the law's irreducible loss E = 1.69: no compute reaches it");
}

TEST(ScalingLaw, PredictArraysAndValidation) {
  std::vector<double> N{1e8, 1e9}, D{1e10, 2e10};
  auto L = kHoffmann2022.predict_loss(N, D);
  ASSERT_EQ(L.size(), 2u);
  EXPECT_DOUBLE_EQ(L[1], 1.69 + 406.4 / std::pow(1e9, 0.34) + 410.7 / std::pow(2e10, 0.28));
  EXPECT_EQ(error_of([] {
              ScalingLaw{1, 1, 1, -0.1, 0.3}.validate();
            }),
            "scaling law parameter alpha must be finite and > 0 (got -0.1)");
  EXPECT_EQ(error_of([] { kHoffmann2022.allocate(-1); }),
            "compute budget C must be a positive number (got -1)");
  EXPECT_THROW(kHoffmann2022.adjust_D_to_N(0), Error);
}

TEST(ScalingLaw, JsonRoundTripAndFitResultWrapper) {
  EXPECT_EQ(scaling_law_from_json(to_json(kHoffmann2022), "x"), kHoffmann2022);
  json::Json wrapped{{"law", to_json(kHoffmann2022)}, {"fit", {{"objective", 1}}}};
  EXPECT_EQ(scaling_law_from_json(wrapped, "fit.json"), kHoffmann2022);
  json::Json bad = to_json(kHoffmann2022);
  bad.erase("beta");
  EXPECT_EQ(error_of([&] { scaling_law_from_json(bad, "p.json"); }),
            "p.json.beta: missing required field");
  bad = to_json(kHoffmann2022);
  bad["A"] = -3;
  EXPECT_EQ(error_of([&] { scaling_law_from_json(bad, "p.json"); }),
            "p.json: scaling law parameter A must be finite and > 0 (got -3)");
}

}  // namespace
}  // namespace scalelab::scaling
