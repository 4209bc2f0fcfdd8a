#include "accounting/flops.h"

#include <gtest/gtest.h>

namespace scalelab::accounting {
namespace {

TEST(Flops, GroundTruthForwardPerSequence) {
  EXPECT_EQ(count_flops(find_model_preset("gpt2-small").shape).matmul.total(), 349'630'365'696);
  EXPECT_EQ(count_flops(find_model_preset("gpt2-medium").shape).matmul.total(), 1'033'109'504'000);
  EXPECT_EQ(count_flops(find_model_preset("gpt2-large").shape).matmul.total(), 2'257'754'521'600);
  EXPECT_EQ(count_flops(find_model_preset("gpt2-xl").shape).matmul.total(), 4'513'336'524'800);
}

TEST(Flops, GroundTruthGpt2XlPerMatmul) {
  MatmulFlops m = count_flops(find_model_preset("gpt2-xl").shape).matmul;
  EXPECT_EQ(m.qkv, 754'974'720'000);
  EXPECT_EQ(m.qk, 161'061'273'600);
  EXPECT_EQ(m.av, 161'061'273'600);
  EXPECT_EQ(m.out_proj, 251'658'240'000);
  EXPECT_EQ(m.ffn(), 3'019'898'880'000);
  EXPECT_EQ(m.lm_head, 164'682'137'600);
}

TEST(Flops, GroundTruthGpt2XlLongContext) {
  ModelShape s = find_model_preset("gpt2-xl").shape;
  s.context_length = 16384;
  EXPECT_EQ(count_flops(s).matmul.total(), 149'522'795'724'800);
  // Same through the seq_len option on the 1,024-context shape.
  FlopOptions o;
  o.seq_len = 16384;
  EXPECT_EQ(count_flops(find_model_preset("gpt2-xl").shape, o).matmul.total(), 149'522'795'724'800);
}

TEST(Flops, PalmFormulaEqualsExactFullAttentionCount) {
  // 6·N_matmul + 12·L·d·T is exactly 3 × our forward matmul count per token with full attention.
  for (const auto& p : model_presets()) {
    FlopCounts f = count_flops(p.shape);
    EXPECT_DOUBLE_EQ(f.palm_per_token, f.training_per_token) << p.name;
    EXPECT_DOUBLE_EQ(f.backward_per_token, 2 * f.forward_per_token);
  }
}

TEST(Flops, CausalCountsTheUnmaskedTriangle) {
  ModelShape s = find_model_preset("gpt2-small").shape;
  FlopCounts full = count_flops(s);
  FlopCounts causal = count_flops(s, {AttentionCount::kCausal, 0});
  const int64_t T = 1024, d = 768, L = 12;
  EXPECT_EQ(causal.matmul.qk, T * (T + 1) * d * L);  // 2 · T(T+1)/2 · d · L
  EXPECT_EQ(causal.matmul.av, causal.matmul.qk);
  EXPECT_EQ(causal.matmul.qkv, full.matmul.qkv);
  EXPECT_EQ(causal.non_matmul.softmax, 6 * 12 * (T * (T + 1) / 2) * L);
  EXPECT_LT(causal.training_per_token, full.training_per_token);
}

TEST(Flops, NonMatmulHandComputed) {
  // Tiny model: V=10, T=4, d=8, L=1, H=2, f=16, SwiGLU, RoPE.
  ModelShape s;
  s.vocab_size = 10;
  s.context_length = 4;
  s.d_model = 8;
  s.n_layers = 1;
  s.n_heads = 2;
  s.d_ff = 16;
  FlopCounts f = count_flops(s);
  EXPECT_EQ(f.matmul.qkv, 2 * 4 * 8 * 24);
  EXPECT_EQ(f.matmul.qk, 2 * 16 * 8);
  EXPECT_EQ(f.non_matmul.rmsnorm, 3 * 4 * (4 * 8 + 3));
  EXPECT_EQ(f.non_matmul.softmax, 6 * 2 * 16);
  EXPECT_EQ(f.non_matmul.rope, 3 * 4 * 16);
  EXPECT_EQ(f.non_matmul.activation, 5 * 4 * 16);
  EXPECT_EQ(f.non_matmul.residual, 2 * 4 * 8);
  EXPECT_EQ(f.non_matmul.cross_entropy, 4 * (4 * 10 + 2));
  EXPECT_EQ(f.adamw_step, 15 * count_params(s).total);
  s.rope = false;
  EXPECT_EQ(count_flops(s).non_matmul.rope, 0);
}

TEST(Flops, GqaShrinksQkvOnly) {
  ModelShape s = find_model_preset("gpt2-small").shape;
  s.n_kv_heads = 4;
  FlopCounts f = count_flops(s);
  EXPECT_EQ(f.matmul.qkv, int64_t{2} * 1024 * 768 * (768 + 2 * 256) * 12);
  EXPECT_EQ(f.matmul.qk, int64_t{2} * 1024 * 1024 * 768 * 12);
  EXPECT_DOUBLE_EQ(f.palm_per_token, f.training_per_token);
}

TEST(Flops, OverflowIsAnErrorNotAWrap) {
  ModelShape s = find_model_preset("llama-7b").shape;
  s.context_length = 1 << 22;
  s.n_layers = 4096;
  EXPECT_THROW(count_flops(s), Error);
}

TEST(Flops, TrainingFlopsForTokens) {
  FlopCounts f = count_flops(find_model_preset("gpt2-small").shape);
  EXPECT_DOUBLE_EQ(training_flops(f, 1e9), 3.0 * 349'630'365'696.0 / 1024.0 * 1e9);
}

}  // namespace
}  // namespace scalelab::accounting
