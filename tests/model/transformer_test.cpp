#include "model/transformer.h"

#include <gtest/gtest.h>

#include "accounting/params.h"
#include "common/error.h"
#include "model/generate.h"

namespace scalelab::model {
namespace {

accounting::ModelShape tiny(int64_t kv_heads = 0, bool tied = false,
                            accounting::FfnKind ffn = accounting::FfnKind::kSwiGlu) {
  accounting::ModelShape s;
  s.vocab_size = 50;
  s.context_length = 16;
  s.d_model = 32;
  s.n_layers = 2;
  s.n_heads = 4;
  s.n_kv_heads = kv_heads;
  s.tied_embeddings = tied;
  s.ffn = ffn;
  return s;
}

TEST(Transformer, ParameterCountEqualsAccounting) {
  for (const auto& s :
       {tiny(), tiny(2), tiny(1, true), tiny(0, false, accounting::FfnKind::kGeluMlp),
        accounting::find_model_preset("cs336-tinystories").shape}) {
    TransformerLM m(s);
    EXPECT_EQ(m->num_parameters(), accounting::count_params(s).total)
        << accounting::to_json(s).dump();
  }
}

TEST(Transformer, LogitsShapeAndTiedHead) {
  TransformerLM m(tiny(0, true));
  EXPECT_FALSE(m->lm_head);
  auto ids = torch::randint(0, 50, {3, 10}, torch::kLong);
  auto logits = m(ids);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 10, 50}));
  EXPECT_THROW(m(torch::randint(0, 50, {1, 17}, torch::kLong)), Error);
}

// With the σ = 1 embedding init, a tied head without the d_model^-1/2 rescaling starts with logits
// of standard deviation ≈ √d_model (≈ 11 at d = 128) and losses far above ln V; rescaled, they
// start near 1 (bounds: [0.3, 3], well apart from √128).
TEST(Transformer, TiedHeadStartsWithUnitScaleLogits) {
  torch::manual_seed(3);
  accounting::ModelShape s = tiny(0, true);
  s.d_model = 128;
  s.n_heads = 4;
  s.d_ff = 0;
  TransformerLM m(s);
  torch::NoGradGuard ng;
  const double sd = m(torch::randint(0, 50, {4, 16}, torch::kLong)).std().item<double>();
  EXPECT_GT(sd, 0.3);
  EXPECT_LT(sd, 3.0);
}

TEST(Transformer, CausalMaskLaterTokensNeverChangeEarlierLogits) {
  torch::manual_seed(7);
  TransformerLM m(tiny(2));
  m->eval();
  torch::NoGradGuard ng;
  auto ids = torch::randint(0, 50, {1, 12}, torch::kLong);
  auto a = m(ids);
  auto ids2 = ids.clone();
  ids2[0][8] = (ids[0][8].item<int64_t>() + 1) % 50;
  ids2[0][11] = (ids[0][11].item<int64_t>() + 7) % 50;
  auto b = m(ids2);
  using torch::indexing::Slice;
  EXPECT_TRUE(torch::allclose(a.index({0, Slice(0, 8)}), b.index({0, Slice(0, 8)}), 0,
                              0));  // bit-identical
  EXPECT_FALSE(torch::allclose(a.index({0, 8}), b.index({0, 8})));
}

TEST(Transformer, GroupedQueryAttentionEqualsMhaWithSharedKv) {
  // GQA with 2 K/V heads equals MHA whose K/V weights repeat each group's head.
  torch::manual_seed(8);
  auto sg = tiny(2);
  sg.n_layers = 1;
  auto sm = tiny(4);
  sm.n_layers = 1;
  CausalSelfAttention g(sg, ModelOptions{}), m(sm, ModelOptions{});
  {
    torch::NoGradGuard ng;
    const int64_t d = 32, hd = 8;
    auto W = g->qkv->weight;  // (d + 2·16, d)
    auto q = W.narrow(0, 0, d), k = W.narrow(0, d, 16), v = W.narrow(0, d + 16, 16);
    auto rep = [&](const torch::Tensor& x) {
      return x.view({2, hd, d}).repeat_interleave(2, 0).reshape({4 * hd, d});
    };
    m->qkv->weight.copy_(torch::cat({q, rep(k), rep(v)}, 0));
    m->out->weight.copy_(g->out->weight);
  }
  auto x = torch::randn({2, 6, 32});
  auto pos = torch::arange(6, torch::kLong);
  EXPECT_TRUE(torch::allclose(g(x, pos), m(x, pos), 1e-5, 1e-6));
}

TEST(Transformer, FusedAttentionMatchesPlainWhenAvailable) {
  if (!fused_attention_available())
    GTEST_SKIP() << "LibTorch < 2: no at::scaled_dot_product_attention";
  torch::manual_seed(9);
  auto s = tiny(2);
  TransformerLM a(s, ModelOptions{10000.0, AttentionImpl::kAuto});
  TransformerLM b(s, ModelOptions{10000.0, AttentionImpl::kPlain});
  {
    torch::NoGradGuard ng;
    auto pa = a->parameters(), pb = b->parameters();
    for (size_t i = 0; i < pa.size(); ++i) pb[i].copy_(pa[i]);
  }
  auto ids = torch::randint(0, 50, {2, 16}, torch::kLong);
  EXPECT_TRUE(torch::allclose(a(ids), b(ids), 1e-4, 1e-5));
}

// A vocabulary padded past the tokenizer's (50 rows, 40 real tokens): sampling never draws a
// padding id, even at temperature 1 and top-p 1 on an untrained model (near-uniform over all 50, so
// 200 unrestricted draws would hit the padding ~40 times).
TEST(Generate, PaddedVocabularyIdsAreNeverSampled) {
  torch::manual_seed(0);
  TransformerLM m(tiny());
  SampleOptions o;
  o.max_new_tokens = 200;
  o.temperature = 1;
  o.top_p = 1;
  o.vocab_limit = 40;
  const std::vector<int64_t> out = generate(m, {1, 2, 3}, o);
  ASSERT_EQ(out.size(), 200u);
  for (const int64_t id : out) EXPECT_LT(id, 40);
  o.vocab_limit = 0;  // the whole vocabulary: the padding rows are drawn
  int64_t above = 0;
  for (const int64_t id : generate(m, {1, 2, 3}, o)) above += id >= 40;
  EXPECT_GT(above, 0);
  o.vocab_limit = 60;
  EXPECT_THROW(generate(m, {1}, o), Error);
  o.vocab_limit = 40;
  EXPECT_THROW(generate(m, {45}, o), Error);  // a prompt id the tokenizer does not have
  // Ids the tokenizer leaves unused inside its range (a tiktoken file's gaps) are not drawn either.
  o.excluded_ids = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (const int64_t id : generate(m, {1, 2, 3}, o)) {
    EXPECT_GE(id, 10);
    EXPECT_LT(id, 40);
  }
}

}  // namespace
}  // namespace scalelab::model
