// Helpers shared by the scaling tests.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"
#include "scaling/observation.h"
#include "scaling/scaling_law.h"
#include "test_support.h"

namespace scalelab::scaling::testing {

using scalelab::testing::error_of;

inline std::string data_path(const std::string& rel) {
  return std::string(SCALELAB_SOURCE_DIR) + "/" + rel;
}

// Noise-free runs on a log grid of N and D (every combination): well spread, identifiable.
inline FitData grid_data(const ScalingLaw& law, int n_per_axis = 7) {
  FitData d;
  for (int i = 0; i < n_per_axis; ++i)
    for (int j = 0; j < n_per_axis; ++j) {
      double N = std::pow(10.0, 7 + 3.0 * i / (n_per_axis - 1));  // 1e7 .. 1e10
      double D = std::pow(10.0, 8 + 4.0 * j / (n_per_axis - 1));  // 1e8 .. 1e12
      d.N.push_back(N);
      d.D.push_back(D);
      d.loss.push_back(law.predict_loss(N, D));
    }
  return d;
}

// IsoFLOP sweep: `per` models per budget, log-spaced over ±span decades around the law's optimum.
inline std::vector<Observation> isoflop_runs(const ScalingLaw& law,
                                             const std::vector<double>& budgets, int per = 7,
                                             double span = 0.6, double shift = 0.0) {
  std::vector<Observation> runs;
  int64_t id = 1;
  for (double C : budgets) {
    double n0 = law.allocate(C).N;
    for (int k = 0; k < per; ++k) {
      Observation r;
      r.id = id++;
      r.N = n0 * std::pow(10.0, shift - span + 2 * span * k / (per - 1));
      r.D = C / (6 * r.N);
      r.C = C;
      r.loss = law.predict_loss(r.N, r.D);
      runs.push_back(r);
    }
  }
  return runs;
}

}  // namespace scalelab::scaling::testing
