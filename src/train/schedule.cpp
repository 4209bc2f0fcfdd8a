// Learning-rate schedules (see schedule.h).
#include "train/schedule.h"

#include <algorithm>
#include <cmath>

namespace scalelab::train {

double LrSchedule::lr(int64_t t) const {
  if (t < warmup_steps) return lr_max * static_cast<double>(t) / static_cast<double>(warmup_steps);
  if (kind == LrScheduleKind::kCosine) {
    if (t <= decay_end && decay_end > warmup_steps) {
      const double frac =
          static_cast<double>(t - warmup_steps) / static_cast<double>(decay_end - warmup_steps);
      return lr_min + 0.5 * (1.0 + std::cos(M_PI * frac)) * (lr_max - lr_min);
    }
    return lr_min;
  }
  if (t < cooldown_start) return lr_max;
  if (t >= decay_end) return lr_min;
  const double s =
      static_cast<double>(t - cooldown_start) / static_cast<double>(decay_end - cooldown_start);
  const double down = shape == CooldownShape::kLinear ? s : std::sqrt(s);
  return lr_max - (lr_max - lr_min) * down;
}

int64_t wsd_cooldown_start(int64_t steps, double cooldown_fraction) {
  const auto cooldown = std::max<int64_t>(
      1, static_cast<int64_t>(std::llround(cooldown_fraction * static_cast<double>(steps))));
  return steps - cooldown;
}

}  // namespace scalelab::train
