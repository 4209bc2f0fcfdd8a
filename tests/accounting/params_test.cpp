#include "accounting/params.h"

#include <gtest/gtest.h>

namespace scalelab::accounting {
namespace {

// Ground truth from the issue (CS336 architecture, GPT-2 shapes, d_ff = 4·d_model, untied).
TEST(Params, GroundTruthGpt2Family) {
  EXPECT_EQ(count_params(find_model_preset("gpt2-small").shape).total, 190'460'160);
  EXPECT_EQ(count_params(find_model_preset("gpt2-medium").shape).total, 505'629'696);
  EXPECT_EQ(count_params(find_model_preset("gpt2-large").shape).total, 1'072'469'760);
  EXPECT_EQ(count_params(find_model_preset("gpt2-xl").shape).total, 2'127'057'600);
}

TEST(Params, Llama7bMatchesPublishedCount) {
  // Hugging Face's LlamaForCausalLM 7B reports 6,738,415,616 parameters.
  EXPECT_EQ(count_params(find_model_preset("llama-7b").shape).total, 6'738'415'616);
}

TEST(Params, ComponentsSumToTotalAndConventionsHold) {
  ModelShape s = find_model_preset("gpt2-small").shape;
  ParamCounts p = count_params(s);
  int64_t sum = 0, mm = 0;
  for (const auto& c : p.components) {
    sum += c.count;
    if (c.matmul) mm += c.count;
  }
  EXPECT_EQ(sum, p.total);
  EXPECT_EQ(mm, p.matmul);
  EXPECT_EQ(p.embedding, 50257 * 768);
  EXPECT_EQ(p.non_embedding, p.total - p.embedding - p.lm_head);
  // matmul = attention + FFN + LM head (no norms, no embedding lookup).
  EXPECT_EQ(p.matmul, p.attention + p.ffn + p.lm_head);
  EXPECT_EQ(p.total, p.embedding + p.attention + p.ffn + p.norms + p.lm_head);
  EXPECT_EQ(p.per_layer, 4 * 768 * 768 + 3 * 768 * 3072 + 2 * 768);
}

TEST(Params, TiedEmbeddingsAndGqaAndGelu) {
  ModelShape s = find_model_preset("gpt2-small").shape;
  s.tied_embeddings = true;
  ParamCounts tied = count_params(s);
  EXPECT_EQ(tied.total, 190'460'160 - 50257 * 768);
  EXPECT_EQ(tied.lm_head, 0);
  EXPECT_EQ(tied.matmul, tied.attention + tied.ffn + tied.embedding);  // the table is the LM head
  s.tied_embeddings = false;
  s.n_kv_heads = 4;  // kv_dim = 4·64 = 256
  ParamCounts gqa = count_params(s);
  EXPECT_EQ(gqa.attention, 12 * (2 * 768 * 768 + 2 * 768 * 256));
  s.n_kv_heads = 0;
  s.ffn = FfnKind::kGeluMlp;
  EXPECT_EQ(count_params(s).ffn, 12 * 2 * 768 * 3072);
}

}  // namespace
}  // namespace scalelab::accounting
