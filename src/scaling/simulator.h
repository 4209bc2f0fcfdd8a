// Synthetic runs from a known law (the chinchilla package's Simulator): (C, D/N) sampled
// log-uniformly in seed ranges, loss = L_true(N, D) + noise. Noise: exponential with a given mean
// (the package's default, random.expovariate(10), mean 0.1: training is never better than the law),
// Gaussian with a given σ, or none. Optional scaling steps fit the law so far and append a run at
// the scaled budget.
#pragma once

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "scaling/fit.h"
#include "scaling/observation.h"
#include "scaling/seeding.h"

namespace scalelab::scaling {

enum class NoiseKind { kExponential, kGaussian, kNone };
std::string_view to_string(NoiseKind k);
NoiseKind parse_noise_kind(std::string_view s);  // exponential|gaussian|none

// The package's simulation defaults (its README): Hoffmann et al.'s law to more digits.
inline constexpr ScalingLaw kPackageSimulationLaw{1.69337368, 406.401018, 410.722827, 0.33917084,
                                                  0.2849083};

struct SimulatorOptions {
  ScalingLaw truth = kPackageSimulationLaw;
  SeedRanges ranges;             // C in [1e15, 1e16], D/N in [10, 100]
  int64_t n_runs = 100;          // seed runs
  int64_t scaling_steps = 0;     // fit + scale + one pseudo-run each
  double scaling_factor = 10.0;  // next budget = max C so far × factor
  NoiseKind noise = NoiseKind::kExponential;
  double noise_scale = 0.1;  // exponential: mean; gaussian: σ
  uint64_t seed = 0;
  void validate() const;
};

// A pseudo-run: the observation (id 1, 2, … in order; C = 6ND; no budget label) and whether it
// came from the seed regime or a scaling step.
struct SimulatedRun {
  Observation run;
  bool seeded = false;
};
// Deterministic for a seed. Scaling steps use `fit` options (default: the paper's grid, log-Huber).
std::vector<SimulatedRun> simulate_runs(const SimulatorOptions& options,
                                        const FitOptions& fit = {});
// The observations alone.
std::vector<Observation> observations(const std::vector<SimulatedRun>& runs);

// Noise-free loss of the true law plus one noise draw.
double draw_noise(NoiseKind kind, double scale, std::mt19937_64& rng);

}  // namespace scalelab::scaling
