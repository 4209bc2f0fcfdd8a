#include "scaling/fit.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/csv.h"
#include "runs/run.h"
#include "scaling/fit_kernel.h"
#include "test_util.h"

namespace scalelab::scaling {
namespace {

using testing::error_of;
using testing::grid_data;

// A small grid keeps unit tests fast; the paper grid is exercised on real data below.
ParamGrid small_grid() {
  ParamGrid g;
  g.e = {-1, 0, 1};
  g.a = {0, 5, 10};
  g.b = {0, 5, 10};
  g.alpha = {0.2, 0.6};
  g.beta = {0.2, 0.6};
  return g;
}

TEST(FitKernel, VectorisedKernelMatchesScalarReferenceForEveryLoss) {
  FitData d = grid_data(kHoffmann2022);
  // Perturb the losses so residuals take both signs and both Huber branches.
  for (size_t i = 0; i < d.size(); ++i) d.loss[i] *= 1.0 + 0.02 * std::sin(static_cast<double>(i));
  ScalingLaw at{1.5, 300, 600, 0.3, 0.31};
  for (LossFunction f : kAllLossFunctions) {
    FitOptions o;
    o.loss = f;
    o.delta = f == LossFunction::kHuber ? 0.01 : 0;
    std::array<double, 5> gk{}, gr{};
    double fk = fit_objective(d, o, at, &gk, false);
    double fr = fit_objective(d, o, at, &gr, true);
    // Tolerance: libmvec's exp/log are within 4 ulp and the vector sum reorders additions.
    EXPECT_NEAR(fk, fr, 1e-12 * std::abs(fr)) << to_string(f);
    for (int k = 0; k < 5; ++k)
      EXPECT_NEAR(gk[k], gr[k], 1e-9 * (std::abs(gr[k]) + 1e-12)) << to_string(f) << k;
  }
}

TEST(FitKernel, GradientMatchesFiniteDifferences) {
  FitData d = grid_data(kHoffmann2022);
  for (size_t i = 0; i < d.size(); ++i)
    d.loss[i] *= 1.0 + 0.03 * std::cos(3.0 * static_cast<double>(i));
  ScalingLaw at{1.5, 300, 600, 0.3, 0.31};
  for (LossFunction f : {LossFunction::kLogHuber, LossFunction::kHuber, LossFunction::kMse}) {
    FitOptions o;
    o.loss = f;
    std::array<double, 5> g{};
    fit_objective(d, o, at, &g);
    // Central differences in (log E, log A, log B, alpha, beta).
    const double h = 1e-6;
    for (int k = 0; k < 5; ++k) {
      auto shifted = [&](double s) {
        ScalingLaw l = at;
        if (k == 0) l.E = std::exp(std::log(l.E) + s);
        if (k == 1) l.A = std::exp(std::log(l.A) + s);
        if (k == 2) l.B = std::exp(std::log(l.B) + s);
        if (k == 3) l.alpha += s;
        if (k == 4) l.beta += s;
        return fit_objective(d, o, l);
      };
      double fd = (shifted(h) - shifted(-h)) / (2 * h);
      EXPECT_NEAR(g[k], fd, 1e-5 * std::abs(fd) + 1e-12) << to_string(f) << " param " << k;
    }
  }
}

TEST(Fit, NoiseFreeDataRecoverTrueParametersWithinHalfAPercent) {
  const ScalingLaw truth = kHoffmann2022;
  FitData d = grid_data(truth);
  FitOptions o;  // the paper's grid and loss
  o.method = FitMethod::kGrid;
  FitResult r = fit_scaling_law(d, o);
  EXPECT_NEAR(r.law.E / truth.E, 1, 0.005);
  EXPECT_NEAR(r.law.A / truth.A, 1, 0.005);
  EXPECT_NEAR(r.law.B / truth.B, 1, 0.005);
  EXPECT_NEAR(r.law.alpha / truth.alpha, 1, 0.005);
  EXPECT_NEAR(r.law.beta / truth.beta, 1, 0.005);
  EXPECT_EQ(r.starts, 4500u);
  EXPECT_GT(r.starts_near_best, 1u);
  EXPECT_LT(r.rmse_log, 1e-4);
  EXPECT_GT(r.r2, 0.9999);
}

// Data with no loss floor (E = 0): the fit drives E to the edge and says it is not identified.
TEST(Fit, ELandingAtZeroWarnsThatTheFloorIsNotIdentified) {
  FitData d;
  for (double N : {1e7, 3e7, 1e8, 3e8, 1e9})
    for (double D : {1e9, 3e9, 1e10, 3e10}) {
      d.N.push_back(N);
      d.D.push_back(D);
      d.loss.push_back(400 / std::pow(N, 0.34) + 410 / std::pow(D, 0.28));
    }
  FitOptions o;
  o.grid = small_grid();
  const FitResult r = fit_scaling_law(d, o);
  EXPECT_LT(r.law.E, kEffectivelyZeroE * 0.1);
  bool warned = false;
  for (const auto& w : r.warnings) warned |= w.find("effectively 0") != std::string::npos;
  EXPECT_TRUE(warned);
  // A law with a floor does not warn.
  const FitResult h = fit_scaling_law(grid_data(kHoffmann2022), o);
  for (const auto& w : h.warnings) EXPECT_EQ(w.find("effectively 0"), std::string::npos) << w;
}

TEST(Fit, EveryLossRecoversNoiseFreeLaw) {
  const ScalingLaw truth{1.8, 482, 2085, 0.35, 0.37};
  FitData d = grid_data(truth);
  for (LossFunction f : kAllLossFunctions) {
    FitOptions o;
    o.loss = f;
    o.method = FitMethod::kGrid;
    o.grid = small_grid();
    FitResult r = fit_scaling_law(d, o);
    // Noise-free data: every loss has its minimum (zero) at the truth. Non-smooth MAE losses stop a
    // little short of the kink, hence 2%.
    double tol = (f == LossFunction::kMae || f == LossFunction::kAsymmetricMae) ? 0.02 : 0.005;
    EXPECT_NEAR(r.law.alpha / truth.alpha, 1, tol) << to_string(f);
    EXPECT_NEAR(r.law.beta / truth.beta, 1, tol) << to_string(f);
    EXPECT_NEAR(r.law.E / truth.E, 1, tol) << to_string(f);
  }
}

TEST(Fit, LongDoubleFindsTheSameOptimum) {
  FitData d = grid_data(kHoffmann2022);
  for (size_t i = 0; i < d.size(); ++i) d.loss[i] += 0.01 * std::sin(static_cast<double>(i));
  FitOptions o;
  o.method = FitMethod::kGrid;
  o.grid = small_grid();
  FitResult rd = fit_scaling_law(d, o);
  o.precision = Precision::kLongDouble;
  FitResult rl = fit_scaling_law(d, o);
  EXPECT_NEAR(rl.law.alpha, rd.law.alpha, 1e-4 * rd.law.alpha);
  EXPECT_NEAR(rl.law.beta, rd.law.beta, 1e-4 * rd.law.beta);
  EXPECT_NEAR(rl.law.E, rd.law.E, 1e-4 * rd.law.E);
}

TEST(Fit, PaperDataSameOptimumWithAndWithoutPruning) {
  std::string path = testing::data_path("data/chinchilla_paper_runs.csv");
  FitData d = to_fit_data(runs::observations(runs::runs_from_csv(csv::read_file(path), path)));
  ASSERT_EQ(d.size(), 234u);
  FitOptions o;
  o.method = FitMethod::kGrid;
  o.prune_radius = 0;
  FitResult full = fit_scaling_law(d, o);
  o.prune_radius = 1e-2;
  FitResult pruned = fit_scaling_law(d, o);
  EXPECT_EQ(full.starts_pruned, 0u);
  EXPECT_GT(pruned.starts_pruned, 0u);
  // Same optimum to 4 significant digits (the benchmark's acceptance is 3).
  EXPECT_NEAR(pruned.law.E / full.law.E, 1, 1e-4);
  EXPECT_NEAR(pruned.law.A / full.law.A, 1, 1e-4);
  EXPECT_NEAR(pruned.law.B / full.law.B, 1, 1e-4);
  EXPECT_NEAR(pruned.law.alpha / full.law.alpha, 1, 1e-4);
  EXPECT_NEAR(pruned.law.beta / full.law.beta, 1, 1e-4);
  // And the compute-optimal exponents are ~0.5 on this data, as Hoffmann et al. report.
  EXPECT_NEAR(full.law.a(), 0.5, 0.05);
}

// The same input gives the same bits for any thread count and scheduling: pruning runs in fixed
// waves, so which start carries a basin does not depend on which thread got there first.
TEST(Fit, SameBitsForAnyThreadCount) {
  std::string path = testing::data_path("data/chinchilla_paper_runs.csv");
  FitData d = to_fit_data(runs::observations(runs::runs_from_csv(csv::read_file(path), path)));
  FitOptions o;
  o.method = FitMethod::kGrid;
  o.loss = LossFunction::kLogHuber;
  o.threads = 1;
  const FitResult ref = fit_scaling_law(d, o);
  EXPECT_GT(ref.starts_pruned, 0u);
  for (const size_t threads : {2, 8, 1, 8, 2}) {
    o.threads = threads;
    const FitResult r = fit_scaling_law(d, o);
    EXPECT_EQ(r.objective, ref.objective) << threads << " threads";
    EXPECT_EQ(r.law.E, ref.law.E) << threads << " threads";
    EXPECT_EQ(r.law.A, ref.law.A) << threads << " threads";
    EXPECT_EQ(r.law.B, ref.law.B) << threads << " threads";
    EXPECT_EQ(r.law.alpha, ref.law.alpha) << threads << " threads";
    EXPECT_EQ(r.law.beta, ref.law.beta) << threads << " threads";
    EXPECT_EQ(r.starts_pruned, ref.starts_pruned) << threads << " threads";
    EXPECT_EQ(r.starts_near_best, ref.starts_near_best) << threads << " threads";
    EXPECT_EQ(r.evaluations, ref.evaluations) << threads << " threads";
  }
}

TEST(Fit, BadInputNamesTheRow) {
  FitData d = grid_data(kHoffmann2022);
  d.loss[3] = NAN;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, {}); }),
            "run 4: loss must be a finite positive number (got nan)");
  d = grid_data(kHoffmann2022);
  d.N[0] = -5;
  EXPECT_EQ(error_of([&] { fit_scaling_law(d, {}); }),
            "run 1: N must be a finite positive number (got -5)");
  FitData few;
  few.N = {1e8, 1e9};
  few.D = {1e9, 1e10};
  few.loss = {3, 2.5};
  EXPECT_EQ(error_of([&] { fit_scaling_law(few, {}); }),
            "need at least 5 runs to fit the scaling law, got 2");
  EXPECT_EQ(error_of([] { parse_loss_function("l2"); }),
            "loss: expected log-huber, huber, mse, mae or asymmetric-mae, got 'l2'");
  FitOptions o;
  o.grid.alpha.clear();
  EXPECT_EQ(error_of([&] { fit_scaling_law(grid_data(kHoffmann2022), o); }),
            "grid.alpha: needs at least one start value");
}

TEST(Fit, FailsFromEveryStartSaysWhy) {
  FitOptions o;
  o.method = FitMethod::kGrid;
  o.grid = small_grid();
  o.max_iterations = 1;
  std::string msg = error_of([&] { fit_scaling_law(grid_data(kHoffmann2022), o); });
  EXPECT_NE(
      msg.find(
          "the fit failed from every one of 108 starts: none converged within 1 L-BFGS iterations"),
      std::string::npos)
      << msg;
}

TEST(Fit, GridFromJsonAcceptsLinspacesAndPackageStyleAxes) {
  json::Json j = json::parse(R"({"E": {"start": 1.1, "stop": 1.5, "num": 5}, "A": [200, 1000],
                                 "b": [0, 5], "alpha": [0.1], "beta": {"start": 0.1, "stop": 0.5, "num": 3}})",
                             "grid");
  ParamGrid g = param_grid_from_json(j, "grid.json");
  ASSERT_EQ(g.e.size(), 5u);
  EXPECT_NEAR(g.e[0], std::log(1.1), 1e-15);
  EXPECT_NEAR(g.a[1], std::log(1000.0), 1e-15);
  EXPECT_EQ(g.b, (std::vector<double>{0, 5}));
  EXPECT_NEAR(g.beta[1], 0.3, 1e-15);
  EXPECT_EQ(g.size(), 5u * 2 * 2 * 1 * 3);
  EXPECT_EQ(
      error_of([] { param_grid_from_json(json::parse(R"({"A": [0, 5]})", "g"), "grid.json"); }),
      "grid.json.A: start values must be positive to take their log (got 0)");
  EXPECT_EQ(error_of([] {
              param_grid_from_json(json::parse(R"({"e": [0], "E": [1]})", "g"), "grid.json");
            }),
            "grid.json: give e or E, not both");
  EXPECT_EQ(error_of([] {
              param_grid_from_json(json::parse(R"({"gamma": [1]})", "g"), "grid.json");
            }).rfind("grid.json.gamma: unknown field", 0),
            0u);
}

TEST(Fit, WeightsChangeTheFit) {
  FitData d = grid_data(kHoffmann2022);
  for (size_t i = 0; i < d.size(); ++i) d.loss[i] += (i % 2 ? 0.05 : -0.05);
  FitOptions o;
  o.grid = small_grid();
  FitResult unweighted = fit_scaling_law(d, o);
  d.weight.assign(d.size(), 1.0);
  FitResult ones = fit_scaling_law(d, o);
  // Equal up to summation order (threads prune basins in timing order; the ASan build differs in
  // the 12th digit).
  EXPECT_NEAR(ones.objective, unweighted.objective, 1e-9 * unweighted.objective);
  for (size_t i = 0; i < d.size(); ++i) d.weight[i] = i % 2 ? 10.0 : 0.1;
  FitResult skewed = fit_scaling_law(d, o);
  EXPECT_GT(std::abs(skewed.law.E - unweighted.law.E), 1e-3);
}

}  // namespace
}  // namespace scalelab::scaling
