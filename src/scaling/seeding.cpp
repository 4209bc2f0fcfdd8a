// seed / scale / step.
#include "scaling/seeding.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace scalelab::scaling {

void SeedRanges::validate() const {
  SCALELAB_CHECK(std::isfinite(c_min) && c_min > 0 && std::isfinite(c_max) && c_max >= c_min,
                 "seed range C: need 0 < min <= max (got [{}, {}])", c_min, c_max);
  SCALELAB_CHECK(std::isfinite(ratio_min) && ratio_min > 0 && std::isfinite(ratio_max) &&
                     ratio_max >= ratio_min,
                 "seed range D/N: need 0 < min <= max (got [{}, {}])", ratio_min, ratio_max);
}

namespace {
double log_uniform(double lo, double hi, std::mt19937_64& rng) {
  if (lo == hi) return lo;
  std::uniform_real_distribution<double> u(std::log(lo), std::log(hi));
  return std::exp(u(rng));
}
bool between(double v, double lo, double hi) {
  // Tolerate rounding at the range ends (N is rounded by the model search).
  return v >= lo * (1 - 1e-12) && v <= hi * (1 + 1e-12);
}
}  // namespace

Proposal seed(const SeedRanges& r, std::mt19937_64& rng, const ModelSizeSearch& search) {
  r.validate();
  constexpr int kMaxTries = 1024;
  for (int i = 0; i < kMaxTries; ++i) {
    Proposal p;
    p.seeded = true;
    p.C = log_uniform(r.c_min, r.c_max, rng);
    const double ratio = log_uniform(r.ratio_min, r.ratio_max, rng);
    p.N = std::sqrt(p.C / (6.0 * ratio));
    p.D = p.N * ratio;
    if (search) {
      p.N = search(p.N);
      SCALELAB_CHECK(std::isfinite(p.N) && p.N > 0, "model search returned N = {}", p.N);
      p.C = 6.0 * p.N * p.D;
    }
    if (between(p.C, r.c_min, r.c_max) && between(p.D / p.N, r.ratio_min, r.ratio_max)) return p;
  }
  SCALELAB_FAIL(
      "no seed draw landed in the seed ranges after {} tries: the model search cannot reach N in "
      "[{:.3g}, {:.3g}]; widen the ranges",
      kMaxTries, std::sqrt(r.c_min / (6 * r.ratio_max)), std::sqrt(r.c_max / (6 * r.ratio_min)));
}

Proposal scale(const ScalingLaw& law, double C, const ModelSizeSearch& search) {
  law.validate();
  Allocation a = law.allocate(C);
  Proposal p{a.N, a.D, C, false, ""};
  if (search) {
    p.N = search(a.N);
    SCALELAB_CHECK(std::isfinite(p.N) && p.N > 0, "model search returned N = {}", p.N);
    p.D = law.adjust_D_to_N(p.N);
    p.C = 6.0 * p.N * p.D;
  }
  return p;
}

double next_budget(const SeedRanges& r, const std::vector<Observation>& runs, double factor) {
  SCALELAB_CHECK(std::isfinite(factor) && factor > 0, "scaling factor must be positive (got {})",
                 factor);
  double c = r.c_max;
  for (const auto& run : runs) c = std::max(c, run.C);
  return c * factor;
}

bool seeding_needed(const SeedRanges& ranges, const std::vector<Observation>& runs,
                    int64_t num_seeding_steps) {
  ranges.validate();
  SCALELAB_CHECK(num_seeding_steps > 0, "num-seeding-steps: must be positive (got {})",
                 num_seeding_steps);
  int64_t seeds = 0;
  for (const auto& r : runs) seeds += ranges.contains_c(r.C) ? 1 : 0;
  return seeds < num_seeding_steps;
}

Proposal step(const StepOptions& o, const std::vector<Observation>& runs, std::mt19937_64& rng,
              const ModelSizeSearch& search, std::optional<FitResult>* fitted) {
  const bool seeding = seeding_needed(o.ranges, runs, o.num_seeding_steps);
  SCALELAB_CHECK((o.scaling_factor > 0) != (o.target_C > 0),
                 "step: give exactly one of scaling factor and target C (got {} and {})",
                 o.scaling_factor, o.target_C);
  if (seeding) return seed(o.ranges, rng, search);
  double max_c = 0;
  for (const auto& r : runs) max_c = std::max(max_c, r.C);
  FitResult f = fit_scaling_law(to_fit_data(runs), o.fit);
  const double C = o.target_C > 0 ? o.target_C : next_budget(o.ranges, runs, o.scaling_factor);
  Proposal p = scale(f.law, C, search);
  if (p.C <= max_c) p.note = "scaling saturated: the proposed C is not above the largest run's";
  if (fitted != nullptr) *fitted = std::move(f);
  return p;
}

}  // namespace scalelab::scaling
