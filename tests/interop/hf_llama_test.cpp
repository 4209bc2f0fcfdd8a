#include "interop/hf_llama.h"

#include <gtest/gtest.h>

#include <string>

#include "common/error.h"

namespace scalelab::interop {
namespace {

LlamaModel small() {
  LlamaModel m;
  m.shape.vocab_size = 320;
  m.shape.context_length = 64;
  m.shape.d_model = 64;
  m.shape.n_layers = 2;
  m.shape.n_heads = 4;
  m.shape.n_kv_heads = 2;
  m.rope_theta = 500000.0;
  return m;
}

void expect_error(const json::Json& config, const std::string& needle) {
  try {
    llama_from_config(config, "dir/config.json");
    ADD_FAILURE() << "no error; expected " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(HfLlama, ConfigHasWhatTransformersReadsAndReadsBack) {
  const json::Json c = llama_config(small(), "bfloat16", 0);
  EXPECT_EQ(c["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(c["model_type"], "llama");
  EXPECT_EQ(c["hidden_size"], 64);
  EXPECT_EQ(c["intermediate_size"], 192);  // SwiGLU's default: 8/3·64 rounded up to 64
  EXPECT_EQ(c["num_hidden_layers"], 2);
  EXPECT_EQ(c["num_attention_heads"], 4);
  EXPECT_EQ(c["num_key_value_heads"], 2);
  EXPECT_EQ(c["head_dim"], 16);
  EXPECT_EQ(c["hidden_act"], "silu");
  EXPECT_EQ(c["max_position_embeddings"], 64);
  EXPECT_EQ(c["vocab_size"], 320);
  EXPECT_EQ(c["rope_theta"], 500000.0);
  EXPECT_EQ(c["rope_parameters"]["rope_theta"], 500000.0);
  EXPECT_EQ(c["rope_parameters"]["rope_type"], "default");
  EXPECT_EQ(c["tie_word_embeddings"], false);
  EXPECT_EQ(c["attention_bias"], false);
  EXPECT_EQ(c["mlp_bias"], false);
  EXPECT_EQ(c["torch_dtype"], "bfloat16");
  EXPECT_EQ(c["eos_token_id"], 0);
  const LlamaModel back = llama_from_config(c, "config.json");
  EXPECT_EQ(back.shape, small().shape.resolved());
  EXPECT_EQ(back.rope_theta, 500000.0);
  EXPECT_EQ(back.rms_norm_eps, 1e-5);
  EXPECT_FALSE(llama_config(small(), "float32", std::nullopt).contains("eos_token_id"));
  EXPECT_EQ(llama_generation_config(7)["eos_token_id"], 7);
}

TEST(HfLlama, WhatLlamaCannotExpressIsAnError) {
  LlamaModel gelu = small();
  gelu.shape.ffn = accounting::FfnKind::kGeluMlp;
  EXPECT_THROW(llama_config(gelu, "float32", std::nullopt), Error);
  LlamaModel nope = small();
  nope.shape.rope = false;
  EXPECT_THROW(llama_config(nope, "float32", std::nullopt), Error);
  EXPECT_THROW(llama_config(small(), "float16", std::nullopt), Error);

  const json::Json good = llama_config(small(), "float32", std::nullopt);
  auto with = [&](const std::string& key, const json::Json& v) {
    json::Json c = good;
    c[key] = v;
    return c;
  };
  auto without = [&](const std::string& key) {
    json::Json c = good;
    c.erase(key);
    return c;
  };
  expect_error(with("hidden_act", "gelu"), "hidden_act gelu is not supported");
  expect_error(with("attention_bias", true), "attention_bias is true");
  expect_error(with("mlp_bias", true), "mlp_bias is true");
  expect_error(with("head_dim", 32), "head_dim 32 is not hidden_size / num_attention_heads (16)");
  expect_error(with("rope_scaling", json::Json{{"rope_type", "llama3"}, {"factor", 8.0}}),
               "RoPE scaling llama3 is not supported");
  expect_error(with("rope_parameters", json::Json{{"rope_type", "yarn"}, {"rope_theta", 1e4}}),
               "RoPE scaling yarn is not supported");
  expect_error(without("hidden_size"), "dir/config.json: missing field hidden_size");
  expect_error(with("num_hidden_layers", "two"), "field num_hidden_layers has the wrong type");
  expect_error(with("num_attention_heads", 5), "num_attention_heads 5 does not divide hidden_size");
  json::Json gpt2 = with("model_type", "gpt2");
  gpt2["architectures"] = {"GPT2LMHeadModel"};
  expect_error(gpt2, "not a LlamaForCausalLM");
  expect_error(json::Json::array(), "expected a JSON object");
  // transformers 4.x keeps rope_theta at the top level.
  json::Json v4 = without("rope_parameters");
  v4["rope_theta"] = 1e6;
  EXPECT_EQ(llama_from_config(v4, "c").rope_theta, 1e6);
}

// HF row i < hd/2 of a head is our row 2i, HF row hd/2 + i our row 2i + 1.
TEST(HfLlama, RopeRowPermutationPairsHalvesWithNeighbours) {
  EXPECT_EQ(rope_rows_ours_for_hf(2, 4), (std::vector<int64_t>{0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_EQ(hf_layer_name(3, "mlp.gate_proj"), "model.layers.3.mlp.gate_proj.weight");
  EXPECT_THROW(rope_rows_ours_for_hf(1, 3), Error);
}

}  // namespace
}  // namespace scalelab::interop
