#include "scaling/seeding.h"

#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"

namespace scalelab::scaling {
namespace {

TEST(Seeding, SeedsLandInTheRanges) {
  SeedRanges r{1e15, 1e16, 10, 100};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 200; ++i) {
    Proposal p = seed(r, rng);
    EXPECT_TRUE(p.seeded);
    EXPECT_GE(p.C, 1e15 * (1 - 1e-9));
    EXPECT_LE(p.C, 1e16 * (1 + 1e-9));
    EXPECT_GE(p.D / p.N, 10 * (1 - 1e-9));
    EXPECT_LE(p.D / p.N, 100 * (1 + 1e-9));
    EXPECT_NEAR(6 * p.N * p.D / p.C, 1, 1e-12);
  }
}

TEST(Seeding, ModelSearchSnapsN) {
  SeedRanges r{1e15, 1e16, 10, 100};
  std::mt19937_64 rng(2);
  auto snap = [](double n) {
    return std::round(n / 1e5) * 1e5;
  };  // buildable models: multiples of 100k params
  for (int i = 0; i < 50; ++i) {
    Proposal p = seed(r, rng, snap);
    EXPECT_DOUBLE_EQ(std::fmod(p.N, 1e5), 0.0);
    EXPECT_NEAR(p.C, 6 * p.N * p.D, 1e-6 * p.C);
  }
  auto impossible = [](double) { return 1e12; };
  EXPECT_THROW(seed(r, rng, impossible), Error);
}

TEST(Seeding, ScaleAndStep) {
  Proposal p = scale(kHoffmann2022, 1e21);
  EXPECT_FALSE(p.seeded);
  EXPECT_NEAR(p.N, kHoffmann2022.allocate(1e21).N, 1e-6 * p.N);
  auto snap = [](double n) { return std::round(n / 1e8) * 1e8; };
  Proposal s = scale(kHoffmann2022, 1e21, snap);
  EXPECT_DOUBLE_EQ(s.D, kHoffmann2022.adjust_D_to_N(s.N));

  StepOptions o;
  o.ranges = {1e15, 1e16, 10, 100};
  o.num_seeding_steps = 30;
  o.scaling_factor = 10;
  std::vector<Observation> runs;
  std::mt19937_64 rng(4);
  // Seed until 30 runs exist (pseudo-training with the true law).
  for (int i = 0; i < 30; ++i) {
    Proposal q = step(o, runs, rng);
    ASSERT_TRUE(q.seeded);
    Observation r;
    r.N = q.N;
    r.D = q.D;
    r.C = q.C;
    r.loss = kHoffmann2022.predict_loss(q.N, q.D);
    runs.push_back(r);
  }
  std::optional<FitResult> fitted;
  Proposal next = step(o, runs, rng, {}, &fitted);
  EXPECT_FALSE(next.seeded);
  ASSERT_TRUE(fitted.has_value());
  // The package's rule: next budget = max(seed range max, largest run) × factor = 1e16 × 10 here.
  double max_c = 1e16;
  for (const auto& r : runs) max_c = std::max(max_c, r.C);
  EXPECT_NEAR(next.C, max_c * 10, 1e-6 * next.C);
  EXPECT_NEAR(next.N, fitted->law.allocate(next.C).N, 1e-6 * next.N);
  EXPECT_THROW(step(StepOptions{o.ranges, 3, 0, 0, {}}, runs, rng), Error);  // neither factor nor C
}

TEST(Seeding, SeedingIsNeededUntilEnoughRunsLieInTheSeedRange) {
  const SeedRanges r{1e15, 1e16, 10, 100};
  std::vector<Observation> runs;
  for (double c : {5e14, 1e15, 3e15, 1e16, 2e16}) runs.push_back(Observation{.C = c});
  // 1e15, 3e15 and 1e16 lie in the range (ends included); 5e14 and 2e16 do not count.
  EXPECT_TRUE(seeding_needed(r, runs, 4));
  EXPECT_FALSE(seeding_needed(r, runs, 3));
  EXPECT_TRUE(seeding_needed(r, {}, 1));
  EXPECT_THROW(seeding_needed(r, runs, 0), Error);
  EXPECT_THROW(seeding_needed(SeedRanges{1e16, 1e15, 10, 100}, runs, 3), Error);
}

}  // namespace
}  // namespace scalelab::scaling
