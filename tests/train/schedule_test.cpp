// The WSD schedule's values and the TrainConfig fields that choose it (schedule.h).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "train/schedule.h"
#include "train/train_config.h"

namespace scalelab::train {
namespace {

TEST(Schedule, CosineValues) {
  // CS336 §4.4's example parameters: lr_max 1, lr_min 0.1, warmup 7, cosine end 21.
  LrSchedule s{.lr_max = 1.0, .lr_min = 0.1, .warmup_steps = 7, .decay_end = 21};
  EXPECT_DOUBLE_EQ(s.lr(0), 0.0);
  EXPECT_NEAR(s.lr(3), 3.0 / 7.0, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(7), 1.0);
  EXPECT_NEAR(s.lr(14), 0.1 + 0.5 * (1 + std::cos(M_PI * 0.5)) * 0.9, 1e-15);
  EXPECT_NEAR(s.lr(21), 0.1, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(25), 0.1);
  // Monotone non-increasing after warmup.
  for (int t = 7; t < 25; ++t) EXPECT_GE(s.lr(t), s.lr(t + 1));
}

TEST(Schedule, WsdWarmsUpHoldsThenCoolsDownLinearly) {
  // 100 steps, warmup 10, cooldown 20% (from step 80), lr 1 → 0.1.
  const LrSchedule s{.kind = LrScheduleKind::kWsd,
                     .lr_max = 1.0,
                     .lr_min = 0.1,
                     .warmup_steps = 10,
                     .decay_end = 100,
                     .cooldown_start = wsd_cooldown_start(100, 0.2),
                     .shape = CooldownShape::kLinear};
  EXPECT_EQ(s.cooldown_start, 80);
  EXPECT_DOUBLE_EQ(s.lr(0), 0.0);
  EXPECT_DOUBLE_EQ(s.lr(5), 0.5);
  for (int t = 10; t < 80; ++t) EXPECT_DOUBLE_EQ(s.lr(t), 1.0) << t;
  EXPECT_DOUBLE_EQ(s.lr(80), 1.0);
  EXPECT_NEAR(s.lr(90), 1.0 - 0.9 * 0.5, 1e-15);
  EXPECT_NEAR(s.lr(95), 1.0 - 0.9 * 0.75, 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(100), 0.1);
  EXPECT_DOUBLE_EQ(s.lr(150), 0.1);
}

TEST(Schedule, WsdOneMinusSqrtCoolsDownFasterAtFirst) {
  LrSchedule s{.kind = LrScheduleKind::kWsd,
               .lr_max = 2.0,
               .lr_min = 0.0,
               .warmup_steps = 0,
               .decay_end = 100,
               .cooldown_start = 60,
               .shape = CooldownShape::kOneMinusSqrt};
  EXPECT_DOUBLE_EQ(s.lr(0), 2.0);  // no warmup
  EXPECT_DOUBLE_EQ(s.lr(59), 2.0);
  EXPECT_NEAR(s.lr(70), 2.0 * (1 - std::sqrt(0.25)), 1e-15);
  EXPECT_NEAR(s.lr(90), 2.0 * (1 - std::sqrt(0.75)), 1e-15);
  EXPECT_DOUBLE_EQ(s.lr(100), 0.0);
  for (int t = 60; t < 100; ++t) {
    EXPECT_GE(s.lr(t), s.lr(t + 1)) << t;  // monotone down
    const double linear = 2.0 * (1 - (t - 60) / 40.0);
    EXPECT_LE(s.lr(t), linear + 1e-15) << t;  // below the linear cooldown
  }
}

TEST(Schedule, CooldownIsAtLeastOneStep) {
  EXPECT_EQ(wsd_cooldown_start(10, 0.01), 9);
  EXPECT_EQ(wsd_cooldown_start(1000, 0.2), 800);
  EXPECT_EQ(wsd_cooldown_start(7, 0.5), 3);  // round(3.5) = 4 steps of cooldown
}

TrainConfig wsd_config() {
  TrainConfig c;
  c.train_data = "t.bin";
  c.max_steps = 100;
  c.lr_max = 1e-3;
  c.lr_min = 1e-4;
  c.warmup_steps = 10;
  c.lr_schedule = LrScheduleKind::kWsd;
  return c;
}

TEST(Schedule, TrainConfigBuildsTheScheduleItNames) {
  TrainConfig c = wsd_config();
  c.validate();
  const LrSchedule s = c.schedule();
  EXPECT_EQ(s.kind, LrScheduleKind::kWsd);
  EXPECT_EQ(s.cooldown_start, 80);  // the default 20%
  EXPECT_EQ(s.decay_end, 100);
  EXPECT_EQ(s.shape, CooldownShape::kOneMinusSqrt);
  EXPECT_DOUBLE_EQ(s.lr(50), 1e-3);
  // JSON round trip names the schedule and its fields.
  c.cooldown_fraction = 0.1;
  c.cooldown_shape = CooldownShape::kLinear;
  const json::Json j = to_json(c);
  EXPECT_EQ(j["lr_schedule"], "wsd");
  EXPECT_EQ(j["cooldown_shape"], "linear");
  const TrainConfig back = train_config_from_json(j, "config.json");
  EXPECT_EQ(back.schedule().cooldown_start, 90);
  // The default stays cosine, to cosine_steps or the last step.
  TrainConfig cos = wsd_config();
  cos.lr_schedule = LrScheduleKind::kCosine;
  cos.cosine_steps = 50;
  EXPECT_EQ(cos.schedule().decay_end, 50);
  EXPECT_DOUBLE_EQ(cos.schedule().lr(60), 1e-4);
}

void expect_error(const TrainConfig& c, const std::string& needle) {
  try {
    c.validate();
    ADD_FAILURE() << "no error; expected " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Schedule, BadWsdConfigsNameTheField) {
  for (double f : {0.0, 1.0, -0.2, 1.5, std::nan("")}) {
    TrainConfig c = wsd_config();
    c.cooldown_fraction = f;
    expect_error(c, "cooldown_fraction");
  }
  TrainConfig overlap = wsd_config();
  overlap.cooldown_fraction = 0.95;  // cooldown from step 5, warmup to 10
  expect_error(overlap, "cooldown_fraction: the cooldown (95 of 100 steps) would start before");
  TrainConfig branches = wsd_config();  // constant phase [10, 80)
  for (const auto& [steps, needle] : std::vector<std::pair<std::vector<int64_t>, std::string>>{
           {{5}, "branch_steps: step 5 is not in the constant phase [10, 80)"},
           {{80}, "branch_steps: step 80 is not in the constant phase"},
           {{40, 20}, "branch_steps: must be increasing and positive (got 20 after 40)"}}) {
    branches.branch_steps = steps;
    expect_error(branches, needle);
  }
  branches.branch_steps = {20, 40};
  EXPECT_NO_THROW(branches.validate());
  branches.branch_from = "p/branch-80";
  expect_error(branches, "branch_from: a branch keeps no branch_steps");
  TrainConfig cosine_branch = wsd_config();
  cosine_branch.lr_schedule = LrScheduleKind::kCosine;
  cosine_branch.branch_from = "p/branch-80";
  expect_error(cosine_branch, "branch_from: cooldown branches need lr_schedule wsd");
  cosine_branch.branch_from.clear();
  cosine_branch.branch_steps = {20};
  expect_error(cosine_branch, "branch_steps: cooldown branches need lr_schedule wsd");
  TrainConfig cosine_steps = wsd_config();
  cosine_steps.cosine_steps = 50;
  expect_error(cosine_steps, "cosine_steps: is for lr_schedule cosine");
  TrainConfig fp8 = wsd_config();
  fp8.fp8_head = true;
  expect_error(fp8, "fp8_head: needs precision bf16-mixed (got fp32)");
  fp8.precision = accounting::Precision::kBf16Mixed;
  fp8.model.tied_embeddings = true;
  expect_error(fp8, "fp8_head: needs an untied LM head");
  fp8.model.tied_embeddings = false;
  EXPECT_NO_THROW(fp8.validate());
  EXPECT_THROW(train_config_from_json(
                   json::Json{{"train_data", "t.bin"}, {"max_steps", 10}, {"lr_schedule", "step"}},
                   "c.json"),
               Error);
}

}  // namespace
}  // namespace scalelab::train
