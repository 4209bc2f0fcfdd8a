// Synthetic runs for testing fits (and for users to study identifiability before spending compute).
#include "scaling/simulator.h"

#include <cmath>

#include "common/error.h"

namespace scalelab::scaling {

std::string_view to_string(NoiseKind k) {
  switch (k) {
    case NoiseKind::kExponential:
      return "exponential";
    case NoiseKind::kGaussian:
      return "gaussian";
    case NoiseKind::kNone:
      return "none";
  }
  return "?";
}

NoiseKind parse_noise_kind(std::string_view s) {
  for (NoiseKind k : {NoiseKind::kExponential, NoiseKind::kGaussian, NoiseKind::kNone})
    if (s == to_string(k)) return k;
  SCALELAB_FAIL("unknown noise '{}' (expected exponential, gaussian or none)", s);
}

void SimulatorOptions::validate() const {
  truth.validate();
  ranges.validate();
  SCALELAB_CHECK(n_runs > 0, "runs: must be positive (got {})", n_runs);
  SCALELAB_CHECK(scaling_steps >= 0, "scaling-steps: must be >= 0 (got {})", scaling_steps);
  SCALELAB_CHECK(std::isfinite(scaling_factor) && scaling_factor > 1,
                 "scaling-factor: must be > 1 (got {})", scaling_factor);
  SCALELAB_CHECK(std::isfinite(noise_scale) && noise_scale >= 0,
                 "noise-scale: must be >= 0 (got {})", noise_scale);
}

double draw_noise(NoiseKind kind, double scale, std::mt19937_64& rng) {
  switch (kind) {
    case NoiseKind::kExponential:
      return scale > 0 ? std::exponential_distribution<double>(1.0 / scale)(rng) : 0.0;
    case NoiseKind::kGaussian:
      return scale > 0 ? std::normal_distribution<double>(0.0, scale)(rng) : 0.0;
    case NoiseKind::kNone:
      return 0.0;
  }
  return 0.0;
}

std::vector<SimulatedRun> simulate_runs(const SimulatorOptions& o, const FitOptions& fit) {
  o.validate();
  std::mt19937_64 rng(o.seed);
  std::vector<SimulatedRun> runs;
  std::vector<Observation> seen;  // the same, for the fits of the scaling steps
  auto pseudo_train = [&](const Proposal& p) {
    Observation r;
    r.id = static_cast<int64_t>(runs.size()) + 1;
    r.N = p.N;
    r.D = p.D;
    r.C = 6.0 * p.N * p.D;
    r.loss = o.truth.predict_loss(p.N, p.D) + draw_noise(o.noise, o.noise_scale, rng);
    // Gaussian noise can push a tiny loss below zero; a loss is positive by definition.
    SCALELAB_CHECK(r.loss > 0, "simulated loss {} is not positive: lower --noise-scale", r.loss);
    seen.push_back(r);
    runs.push_back({std::move(r), p.seeded});
  };
  for (int64_t i = 0; i < o.n_runs; ++i) pseudo_train(seed(o.ranges, rng));
  for (int64_t s = 0; s < o.scaling_steps; ++s) {
    FitResult f = fit_scaling_law(to_fit_data(seen), fit);
    pseudo_train(scale(f.law, next_budget(o.ranges, seen, o.scaling_factor)));
  }
  return runs;
}

std::vector<Observation> observations(const std::vector<SimulatedRun>& runs) {
  std::vector<Observation> out;
  out.reserve(runs.size());
  for (const auto& r : runs) out.push_back(r.run);
  return out;
}

}  // namespace scalelab::scaling
