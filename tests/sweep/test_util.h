// Shared helpers of the sweep/report tests: fresh temp directories and a synthetic IsoFLOP run
// database drawn from a known law.
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <random>
#include <string>

#include "runs/run_db.h"
#include "scaling/scaling_law.h"
#include "test_support.h"

namespace scalelab::testing {

// Four budgets (1e17 … 1e18·3) × 5 models from N_opt/4 to N_opt·4, loss = truth + N(0, sigma),
// each with a short loss curve; budgets labelled. With `embedding` > 0 the truth's N is the
// non-embedding count (extra["n_non_embedding"]) and each run's total N adds `embedding`.
inline void fill_isoflop_db(runs::RunDb& db, const scaling::ScalingLaw& truth, double sigma = 0.003,
                            uint64_t seed = 1, double embedding = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, sigma);
  for (double C : {1e17, 3e17, 1e18, 3e18}) {
    const double n_opt = truth.allocate(C).N;
    for (int m = 0; m < 5; ++m) {
      const double N = n_opt * std::pow(4.0, -1.0 + m / 2.0);
      const double D = C / (6 * N);
      runs::Run r;
      r.N = std::round(N) + embedding;
      r.D = std::round(D);
      r.C = 6 * std::round(N) * r.D;
      r.loss = truth.predict_loss(std::round(N), r.D) + noise(rng);
      r.budget = C == 1e17 ? "1e17" : C == 3e17 ? "3e17" : C == 1e18 ? "1e18" : "3e18";
      r.extra = {{"budget_C", C}, {"key", "b-m" + std::to_string(m)}, {"wall_seconds", 1.5}};
      if (embedding > 0) r.extra["n_non_embedding"] = std::round(N);
      r.config = {{"model", {{"n_layers", 2}, {"d_model", 128}, {"n_heads", 2}}}};
      const int64_t id = db.add(r);
      std::vector<runs::CurvePoint> curve;
      // Logged every 10 steps, the last interval shorter (a run's end), as the trainer records.
      for (int64_t s : {10, 20, 30, 40, 44})
        curve.push_back({s, r.D * s / 44, r.C * s / 44, r.loss + 10.0 / static_cast<double>(s)});
      db.add_curve(id, curve);
    }
  }
}

// The same four budgets × 5 models, each model trained with 3 "seeds" whose losses sit at the
// truth − sd, truth and truth + sd (so the pooled SD between seeds is sd exactly): sd = 0.2 at
// 1e17, 0.002 elsewhere. Keys b-m<model>-s<seed>.
inline void fill_seeded_db(runs::RunDb& db, const scaling::ScalingLaw& truth) {
  for (double C : {1e17, 3e17, 1e18, 3e18}) {
    const double n_opt = truth.allocate(C).N, sd = C == 1e17 ? 0.2 : 0.002;
    for (int m = 0; m < 5; ++m) {
      const double N = std::round(n_opt * std::pow(4.0, -1.0 + m / 2.0));
      const double D = std::round(C / (6 * N));
      for (int s = 0; s < 3; ++s) {
        runs::Run r;
        r.N = N;
        r.D = D;
        r.C = 6 * N * D;
        r.loss = truth.predict_loss(N, D) + sd * (s - 1);  // seeds at −sd, 0, +sd: SD = sd
        r.budget = fmt::format("{:g}", C);
        r.extra = {{"budget_C", C}, {"key", fmt::format("b-m{}-s{}", m, s)}};
        db.add(r);
      }
    }
  }
}

}  // namespace scalelab::testing
