// The chinchilla package's workflow: seed (sample a run from the seed regime), scale (allocate a
// larger budget with the fitted law) and step (seed until enough seed runs exist, then fit and
// scale). A model search callback snaps a target N to a buildable model's exact N (the sweep passes
// accounting's).
#pragma once

#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "scaling/fit.h"
#include "scaling/observation.h"
#include "scaling/scaling_law.h"

namespace scalelab::scaling {

struct SeedRanges {
  double c_min = 1e15, c_max = 1e16;       // FLOPs
  double ratio_min = 10, ratio_max = 100;  // D/N, tokens per parameter
  void validate() const;
  bool contains_c(double C) const { return C >= c_min && C <= c_max; }
};

// Returns the exact N of the buildable model closest to the target N.
using ModelSizeSearch = std::function<double(double target_N)>;

struct Proposal {
  double N = 0, D = 0, C = 0;
  bool seeded = false;  // from the seed regime (true) or a scaled allocation (false)
  std::string note;     // e.g. "scaling saturated: C not above the largest run"
};

// C log-uniform in [c_min, c_max], D/N log-uniform in [ratio_min, ratio_max]; N = √(C/(6r)), D =
// rN. With a search, N is snapped and C = 6ND recomputed; draws are retried (up to 1024) until C
// and D/N land in range. Throws when no draw does.
Proposal seed(const SeedRanges& ranges, std::mt19937_64& rng, const ModelSizeSearch& search = {});

// Allocation of C with the law; with a search, N is snapped and D = adjust_D_to_N(N).
Proposal scale(const ScalingLaw& law, double C, const ModelSizeSearch& search = {});

// The next budget: max(c_max, largest C so far) × factor.
double next_budget(const SeedRanges& ranges, const std::vector<Observation>& runs, double factor);

struct StepOptions {
  SeedRanges ranges;
  int64_t num_seeding_steps = 0;  // seed until this many done runs lie in the seed range
  double scaling_factor = 0;      // or
  double target_C = 0;            // a fixed budget for the scaled run
  FitOptions fit;
};

// step()'s rule: true while fewer than num_seeding_steps runs (finished ones) have C in the seed
// range (num_seeding_steps must be positive).
bool seeding_needed(const SeedRanges& ranges, const std::vector<Observation>& runs,
                    int64_t num_seeding_steps);

// Seed while seeding_needed(); then fit and scale. fitted receives the fit when one was made.
Proposal step(const StepOptions& options, const std::vector<Observation>& runs,
              std::mt19937_64& rng, const ModelSizeSearch& search = {},
              std::optional<FitResult>* fitted = nullptr);

}  // namespace scalelab::scaling
