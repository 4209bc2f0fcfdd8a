// The learning rate at each optimizer step: cosine, or warmup-stable-decay (WSD). No LibTorch: the
// sweep planner uses it as the trainer does.
//
//   cosine (CS336 §4.4): t < Tw: t/Tw · lr_max; Tw ≤ t ≤ Tc: lr_min + ½(1 + cos(π(t − Tw)/(Tc −
//   Tw)))
//     · (lr_max − lr_min); t > Tc: lr_min.
//   wsd (Hägele et al. 2024, "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
//     Durations"): the same warmup, lr_max until the cooldown starts at Ts, then down to lr_min at
//     T: with s = (t − Ts)/(T − Ts), linear: lr_max − (lr_max − lr_min) · s; 1-sqrt (their best):
//     lr_max − (lr_max − lr_min) · √s; t ≥ T: lr_min. A cooldown of 20% of the steps matched a
//     cosine run of the same length there, and the constant phase makes every step before Ts a
//     point a cooldown can branch from.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

#include "common/fields.h"

namespace scalelab::train {

enum class LrScheduleKind { kCosine, kWsd };
enum class CooldownShape { kLinear, kOneMinusSqrt };

// The paper's recommendation (Hägele et al. 2024, §3): 20% of the steps, 1-sqrt.
inline constexpr double kDefaultCooldownFraction = 0.2;
// The cooldown shapes as the config tables describe them (train and sweep: one wording).
inline constexpr const char* kCooldownShapeHelp =
    "wsd: the cooldown's shape, linear or 1-sqrt (the paper's best)";

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kCosine;
  double lr_max = 3e-4, lr_min = 3e-5;
  int64_t warmup_steps = 0;    // Tw
  int64_t decay_end = 0;       // Tc (cosine) or T (wsd): where lr_min is reached
  int64_t cooldown_start = 0;  // Ts (wsd only)
  CooldownShape shape = CooldownShape::kOneMinusSqrt;
  double lr(int64_t step) const;
};

// The cooldown's first step of a WSD run of `steps` steps: steps − round(fraction · steps), at
// least 1 step of cooldown.
int64_t wsd_cooldown_start(int64_t steps, double cooldown_fraction);

}  // namespace scalelab::train

template <>
struct scalelab::fields::EnumNames<scalelab::train::LrScheduleKind> {
  using E = scalelab::train::LrScheduleKind;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kCosine, "cosine"}, {E::kWsd, "wsd"}}};
};

template <>
struct scalelab::fields::EnumNames<scalelab::train::CooldownShape> {
  using E = scalelab::train::CooldownShape;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kLinear, "linear"}, {E::kOneMinusSqrt, "1-sqrt"}}};
};
