// The architecture rule: exact N from accounting, head dim, multiples, aspect band, nearest shape.
#include "sweep/architecture.h"

#include <gtest/gtest.h>

#include <cmath>

#include "accounting/params.h"
#include "common/error.h"

namespace scalelab::sweep {
namespace {

ArchitectureRule rule() {
  ArchitectureRule r;
  r.vocab_size = 8192;
  r.context_length = 512;
  return r;
}

TEST(Architecture, CandidatesFollowTheStatedRule) {
  const ArchitectureRule r = rule();
  const auto cands = candidate_shapes(r);
  ASSERT_GT(cands.size(), 50u);
  for (const auto& c : cands) {
    const auto& s = c.shape;
    EXPECT_EQ(s.d_model % 64, 0);
    EXPECT_EQ(s.d_ff % 64, 0);
    EXPECT_EQ(s.head_dim(), 64);
    EXPECT_GE(s.d_ff, 8 * s.d_model / 3);
    EXPECT_LT(s.d_ff - 8 * s.d_model / 3, 64 + 1);
    EXPECT_GE(c.aspect(), 64.0 / 4 - 1e-9);
    EXPECT_LE(c.aspect(), 64.0 * 4 + 1e-9);
    EXPECT_EQ(c.params, accounting::count_params(s).total);  // accounting's exact N
    EXPECT_EQ(s.vocab_size, 8192);
    EXPECT_EQ(s.context_length, 512);
  }
  for (size_t i = 1; i < cands.size(); ++i) EXPECT_LE(cands[i - 1].params, cands[i].params);
}

TEST(Architecture, PicksTheClosestExactNThenTheAspectRatio) {
  const ArchitectureRule r = rule();
  const auto cands = candidate_shapes(r);
  for (double target : {2e6, 1e7, 3.3e7, 1.24e8, 4e8}) {
    const ShapeChoice got = shape_for_params(r, target);
    double best = INFINITY;
    for (const auto& c : cands)
      best = std::min(best, std::abs(std::log(static_cast<double>(c.params) / target)));
    const double dist = std::abs(std::log(static_cast<double>(got.params) / target));
    EXPECT_LE(dist, best + 0.01 + 1e-12) << target;
    // Among shapes as close, none has an aspect ratio nearer 64.
    for (const auto& c : cands) {
      const double d = std::abs(std::log(static_cast<double>(c.params) / target));
      if (d <= best + 0.01) {
        EXPECT_GE(std::abs(std::log(c.aspect() / 64)) + 1e-12,
                  std::abs(std::log(got.aspect() / 64)));
      }
    }
  }
}

TEST(Architecture, Gpt2SmallSizeGivesAGpt2LikeShape) {
  ArchitectureRule r;
  r.vocab_size = 50304;
  r.context_length = 1024;
  const ShapeChoice c = shape_for_params(r, 124e6);
  EXPECT_NEAR(static_cast<double>(c.params) / 124e6, 1.0, 0.05);
  EXPECT_GE(c.shape.n_layers, 6);
  EXPECT_LE(c.shape.n_layers, 16);
}

TEST(Architecture, BadRulesNameTheField) {
  ArchitectureRule r = rule();
  r.head_dim = 48;
  r.multiple = 64;
  try {
    candidate_shapes(r);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture.multiple"), std::string::npos) << e.what();
  }
  r = rule();
  r.vocab_size = 0;
  EXPECT_THROW(candidate_shapes(r), Error);
  r = rule();
  r.aspect_range = 0.5;
  EXPECT_THROW(candidate_shapes(r), Error);
  EXPECT_THROW(shape_for_params(rule(), -5), Error);
}

TEST(Architecture, JsonRoundTripAndUnknownField) {
  ArchitectureRule r = rule();
  r.head_dim = 32;
  r.multiple = 32;
  r.tied_embeddings = true;
  const ArchitectureRule back = architecture_rule_from_json(to_json(r), "architecture");
  EXPECT_EQ(back.head_dim, 32);
  EXPECT_EQ(back.multiple, 32);
  EXPECT_TRUE(back.tied_embeddings);
  json::Json j = to_json(r);
  j["heads"] = 3;
  try {
    architecture_rule_from_json(j, "sweep.architecture");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("heads"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scalelab::sweep
