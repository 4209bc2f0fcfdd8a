#include "accounting/memory.h"

#include <gtest/gtest.h>

namespace scalelab::accounting {
namespace {

// V=10, T=4, d=8, L=1, H=2, f=16, SwiGLU: N = 824 (80 emb + 24 norms + 256 attn + 384 FFN + 80
// head), N_matmul = 720. Values below are computed by hand from the formulas in memory.cpp's
// header.
ModelShape tiny() {
  ModelShape s;
  s.vocab_size = 10;
  s.context_length = 4;
  s.d_model = 8;
  s.n_layers = 1;
  s.n_heads = 2;
  s.d_ff = 16;
  return s;
}

TEST(Memory, HandComputedFp32) {
  MemoryOptions o;
  o.precision = Precision::kFp32;
  MemoryBreakdown m = estimate_memory(tiny(), o);
  EXPECT_DOUBLE_EQ(m.weights, 3296);
  EXPECT_DOUBLE_EQ(m.gradients, 3296);
  EXPECT_DOUBLE_EQ(m.optimizer, 6592);
  EXPECT_DOUBLE_EQ(m.working_copy, 0);
  // per token: norms 2·(2·32+4)=136, QKV in 32, Q,K 64, V 32, O in 32, FFN in 32, SwiGLU 4·4·16=256
  // → 584; fused core: its output e·d = 32 + fp32 LSE 4·H = 8 → 624 · T=4 = 2496; plain core
  // 4·H·T = 32 → 616 · 4 = 2464. Final norm and LM head input: 4·(2·32 + 4 + 32) = 400.
  EXPECT_DOUBLE_EQ(m.activations_per_layer_per_seq_flash, 2496);
  EXPECT_DOUBLE_EQ(m.activations_per_layer_per_seq_plain, 2464);
  EXPECT_DOUBLE_EQ(m.activations, 2496 + 400);
  // logits: saved fp32 (4V) + fp32 gradient (4V), the cast being a no-op: 8·V per token.
  EXPECT_DOUBLE_EQ(m.logits, 4 * 8 * 10);
  EXPECT_DOUBLE_EQ(m.total(), 13184 + 2896 + 320);
}

TEST(Memory, Bf16MixedAndPure) {
  MemoryOptions o;
  o.precision = Precision::kBf16Mixed;
  MemoryBreakdown m = estimate_memory(tiny(), o);
  EXPECT_DOUBLE_EQ(m.weights, 4 * 824);
  EXPECT_DOUBLE_EQ(m.working_copy, 2 * 720);
  EXPECT_DOUBLE_EQ(m.gradients, 4 * 824);
  EXPECT_DOUBLE_EQ(m.optimizer, 8 * 824);
  // e=2, r=4: 136 + 2·(8+16+8+8+8+64) = 136 + 224 = 360; + fused 2·8 + 8 = 24 → 384 · 4 = 1536.
  EXPECT_DOUBLE_EQ(m.activations_per_layer_per_seq_flash, 1536);
  // logits: saved bf16 (2V) + fp32 gradient (4V) + bf16 gradient (2V).
  EXPECT_DOUBLE_EQ(m.logits, 4 * 8 * 10);
  o.precision = Precision::kBf16;
  MemoryBreakdown p = estimate_memory(tiny(), o);
  EXPECT_DOUBLE_EQ(p.static_total(), 8 * 824);
  EXPECT_LT(p.activations, m.activations);
}

TEST(Memory, BatchScalesActivationsNotStatic) {
  MemoryOptions o;
  MemoryBreakdown one = estimate_memory(find_model_preset("gpt2-small").shape, o);
  o.batch_size = 8;
  MemoryBreakdown eight = estimate_memory(find_model_preset("gpt2-small").shape, o);
  EXPECT_DOUBLE_EQ(eight.static_total(), one.static_total());
  EXPECT_DOUBLE_EQ(eight.activations, 8 * one.activations);
  EXPECT_DOUBLE_EQ(eight.per_sequence(), one.per_sequence());
}

TEST(Memory, FlashAndRecomputeSaveMemoryOnRealShapes) {
  ModelShape s = find_model_preset("gpt2-medium").shape;
  MemoryOptions o;
  o.flash_attention = false;
  double plain = estimate_memory(s, o).activations;
  o.flash_attention = true;
  double flash = estimate_memory(s, o).activations;
  o.recompute = true;
  double rec = estimate_memory(s, o).activations;
  EXPECT_GT(plain, flash);
  EXPECT_GT(flash, 4 * rec);
}

// The CUDA path with fused kernels: the logits cost 2·e·V per token instead of (e + 4 + e)·V in
// bf16-mixed (the same 8·V in fp32); SwiGLU saves 3·e·f instead of 4·e·f, each RMSNorm r·d + 4
// instead of 2·r·d + 4, and the O-projection input is attention's output.
TEST(Memory, FusedKernelsSaveLogitAndSwigluBytes) {
  ModelShape s = find_model_preset("cs336-tinystories").shape;
  MemoryOptions o;
  o.batch_size = 4;
  MemoryBreakdown plain = estimate_memory(s, o);
  o.fused_kernels = true;
  MemoryBreakdown fused = estimate_memory(s, o);
  const double tokens = 4.0 * s.context_length;
  EXPECT_DOUBLE_EQ(plain.logits, tokens * 8 * s.vocab_size);
  // The fused LM head + loss writes the gradient over the bf16 logits: 2·V bytes per token.
  EXPECT_DOUBLE_EQ(fused.logits, tokens * 2 * s.vocab_size);
  // Per layer: SiLU(W1 x) (e·f), the two norms' normalised outputs (2·r·d) and the O-projection's
  // input copy (e·d); the final norm's normalised output (r·d). e = 2, r = 4.
  const double d = s.d_model, f = s.d_ff;
  EXPECT_DOUBLE_EQ(plain.activations - fused.activations,
                   tokens * (s.n_layers * (2 * f + 2 * 4 * d + 2 * d) + 4 * d));
  EXPECT_EQ(to_json(fused)["fused_kernels"], true);
  o.fp8_head = true;  // bf16 logits and the E5M2 gradient at the end of the forward
  EXPECT_DOUBLE_EQ(estimate_memory(s, o).logits, tokens * 3 * s.vocab_size);
  o.fp8_head = false;
  o.fused_head = false;  // the loss kernel alone: saved logits and their gradient
  EXPECT_DOUBLE_EQ(estimate_memory(s, o).logits, tokens * 4 * s.vocab_size);
  o.fused_head = true;
  ModelShape tied = s;  // a tied head takes the loss kernel alone
  tied.tied_embeddings = true;
  EXPECT_DOUBLE_EQ(estimate_memory(tied, o).logits, tokens * 4 * s.vocab_size);
  o.precision = Precision::kFp32;
  o.fused_kernels = false;
  const double fp32_plain = estimate_memory(s, o).logits;
  o.fused_kernels = true;
  o.fused_head = false;
  EXPECT_DOUBLE_EQ(estimate_memory(s, o).logits, fp32_plain);
  o.fused_head = true;
  EXPECT_DOUBLE_EQ(estimate_memory(s, o).logits, tokens * 4 * s.vocab_size);
}

TEST(Memory, KvCacheAndMaxBatch) {
  // 2 · L · kv_dim · bytes
  EXPECT_DOUBLE_EQ(kv_cache_bytes_per_token(find_model_preset("llama-7b").shape, 2),
                   2.0 * 32 * 4096 * 2);
  ModelShape g = find_model_preset("gpt2-small").shape;
  g.n_kv_heads = 3;
  EXPECT_DOUBLE_EQ(kv_cache_bytes_per_token(g, 2), 2.0 * 12 * 192 * 2);

  MemoryOptions o;
  o.precision = Precision::kFp32;
  MemoryBreakdown one = estimate_memory(tiny(), o);
  double cap = one.static_total() + 10 * one.per_sequence() + 5;
  EXPECT_EQ(max_batch_size(tiny(), o, cap, 0), 10);
  EXPECT_EQ(max_batch_size(tiny(), o, cap, 10), 9);
  EXPECT_EQ(max_batch_size(tiny(), o, 100, 0), 0);  // static state alone does not fit
}

TEST(Memory, BadOptionsNameTheField) {
  MemoryOptions o;
  o.batch_size = 0;
  try {
    estimate_memory(tiny(), o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "batch_size: must be positive (got 0)");
  }
  EXPECT_THROW(parse_precision("fp16-mixed"), Error);
}

}  // namespace
}  // namespace scalelab::accounting
