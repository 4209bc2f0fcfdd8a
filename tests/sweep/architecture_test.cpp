// The model family: the stated rule, monotone shapes and sizes, the pick by convention.
#include "sweep/architecture.h"

#include <gtest/gtest.h>

#include <cmath>

#include "accounting/flops.h"
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

using scaling::SizeConvention;

TEST(Architecture, FamilyFollowsTheStatedRule) {
  const ArchitectureRule r = rule();
  const auto fam = model_family(r);
  ASSERT_GT(fam.size(), 50u);
  EXPECT_EQ(fam.front().shape.n_layers, 3);  // min_layers
  EXPECT_EQ(fam.front().shape.d_model, 64);
  for (size_t i = 0; i < fam.size(); ++i) {
    const auto& c = fam[i];
    const auto& s = c.shape;
    EXPECT_EQ(s.d_model % 64, 0);
    EXPECT_EQ(s.d_ff % 64, 0);
    EXPECT_EQ(s.head_dim(), 64);
    EXPECT_GE(s.d_ff, 8 * s.d_model / 3);
    EXPECT_LT(s.d_ff - 8 * s.d_model / 3, 64 + 1);
    EXPECT_LE(s.n_layers, r.max_layers);
    EXPECT_LE(s.d_model, r.max_d_model);
    const auto p = accounting::count_params(s);
    EXPECT_EQ(c.params, p.total);  // accounting's exact counts
    EXPECT_EQ(c.non_embedding, p.non_embedding);
    EXPECT_DOUBLE_EQ(c.flops_per_token, accounting::count_flops(s).training_per_token);
    EXPECT_LT(c.body_flops_per_token, c.flops_per_token);
    EXPECT_EQ(s.vocab_size, 8192);
    EXPECT_EQ(s.context_length, 512);
    if (i == 0) continue;
    // Each member adds exactly one layer or one width step to the previous one ...
    const auto& q = fam[i - 1].shape;
    const bool deeper = s.n_layers == q.n_layers + 1 && s.d_model == q.d_model;
    const bool wider = s.n_layers == q.n_layers && s.d_model == q.d_model + 64;
    EXPECT_TRUE(deeper || wider) << i;
    // ... the one that keeps the aspect ratio nearer 64.
    const double other = deeper ? static_cast<double>(q.d_model + 64) / q.n_layers
                                : static_cast<double>(q.d_model) / (q.n_layers + 1);
    if (s.n_layers < r.max_layers && s.d_model < r.max_d_model) {
      EXPECT_LE(std::abs(std::log(c.aspect() / 64)), std::abs(std::log(other / 64)) + 1e-12) << i;
    }
  }
}

// The sweep: vocab 8192 and budgets 1e15 … 1e16 once gave 1×64, 4×64, 4×128, 1×256,
// 12×192. Along any budget of any vocabulary, shapes now grow in depth and width together,
// under every convention.
TEST(Architecture, PicksAreMonotoneForAnyVocabularyAndTargets) {
  for (int64_t vocab : {256, 2048, 8192, 32000, 50304}) {
    for (bool tied : {false, true}) {
      ArchitectureRule r = rule();
      r.vocab_size = vocab;
      r.tied_embeddings = tied;
      const auto fam = model_family(r);
      for (auto conv :
           {SizeConvention::kTotal, SizeConvention::kNonEmbedding, SizeConvention::kFlops}) {
        for (size_t i = 1; i < fam.size(); ++i)
          ASSERT_GT(fam[i].size(conv), fam[i - 1].size(conv)) << vocab << " " << i;
        ShapeChoice prev = shape_for_size(fam, 1e3, conv);
        for (double target = 1e3; target < 1e10; target *= 1.2) {
          const ShapeChoice got = shape_for_size(fam, target, conv);
          EXPECT_GE(got.shape.n_layers, prev.shape.n_layers) << vocab << " " << target;
          EXPECT_GE(got.shape.d_model, prev.shape.d_model) << vocab << " " << target;
          // The nearest member in log space.
          for (const auto& m : fam)
            EXPECT_LE(std::abs(std::log(got.size(conv) / target)),
                      std::abs(std::log(m.size(conv) / target)) + 1e-12);
          prev = got;
        }
      }
    }
  }
}

TEST(Architecture, SizeConventionsCountWhatTheySay) {
  ArchitectureRule r = rule();
  const ShapeChoice c = shape_for_size(r, 1e7, SizeConvention::kTotal);
  EXPECT_DOUBLE_EQ(c.size(SizeConvention::kTotal), static_cast<double>(c.params));
  EXPECT_DOUBLE_EQ(c.size(SizeConvention::kNonEmbedding), static_cast<double>(c.non_embedding));
  // M/6 is the non-embedding matmul count plus the full-attention term (QKᵀ and AV: 4·L·T·d
  // forward FLOPs per token, ×3 for training, /6): within the norm gains of it.
  const auto& s = c.shape;
  const double attn = 2.0 * s.n_layers * s.context_length * s.d_model;
  EXPECT_NEAR(c.size(SizeConvention::kFlops), static_cast<double>(c.non_embedding) + attn,
              0.02 * c.size(SizeConvention::kFlops));
  // At vocab 8192 and ~10M parameters the vocabulary matrices are over 40% of N: the conventions
  // differ.
  EXPECT_LT(static_cast<double>(c.non_embedding), 0.6 * static_cast<double>(c.params));
}

TEST(Architecture, Gpt2SmallSizeGivesAGpt2LikeShape) {
  ArchitectureRule r;
  r.vocab_size = 50304;
  r.context_length = 1024;
  const ShapeChoice c = shape_for_size(r, 124e6, SizeConvention::kTotal);
  EXPECT_NEAR(static_cast<double>(c.params) / 124e6, 1.0, 0.05);
  EXPECT_GE(c.shape.n_layers, 6);
  EXPECT_LE(c.shape.n_layers, 16);
}

TEST(Architecture, BadRulesNameTheField) {
  ArchitectureRule r = rule();
  r.head_dim = 48;
  r.multiple = 64;
  try {
    model_family(r);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture.multiple"), std::string::npos) << e.what();
  }
  r = rule();
  r.vocab_size = 0;
  EXPECT_THROW(model_family(r), Error);
  r = rule();
  r.aspect_ratio = 0;
  EXPECT_THROW(model_family(r), Error);
  r = rule();
  r.min_layers = 0;
  EXPECT_THROW(model_family(r), Error);
  r = rule();
  r.min_layers = 8;
  r.max_layers = 6;
  try {
    model_family(r);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("architecture.max_layers"), std::string::npos) << e.what();
  }
  EXPECT_THROW(shape_for_size(rule(), -5, SizeConvention::kTotal), Error);
  EXPECT_THROW(shape_for_size(std::vector<ShapeChoice>{}, 5, SizeConvention::kTotal), Error);
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
