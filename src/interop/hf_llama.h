// scalelab's transformer as Hugging Face's LlamaForCausalLM: config.json both ways, and the weight
// names. No LibTorch: model/hf.h moves the tensors.
//
// The two models compute the same function when (checked, not assumed; docs/interop.md):
//   - the FFN is SwiGLU (LlamaMLP: down(silu(gate(x)) · up(x))); GELU-MLP models are refused;
//   - RoPE is on (Llama has no position-free variant) with the same frequencies θ^(−2i/hd);
//   - q and k rows are permuted per head: scalelab rotates adjacent pairs (x_2i, x_2i+1), Llama's
//     rotate_half pairs (x_i, x_i+hd/2), so HF row i < hd/2 is our row 2i and HF row hd/2 + i is
//     our row 2i + 1 (the inverse of transformers' convert_llama_weights_to_hf permute);
//   - a tied head is exported untied, as lm_head = E / √d_model (scalelab's tied head scales x by
//     d_model^−1/2, Llama's does not).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "accounting/model_shape.h"
#include "common/json.h"

namespace scalelab::interop {

struct LlamaModel {
  accounting::ModelShape shape;  // resolved; tied_embeddings as in config.json
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
};

// config.json of LlamaForCausalLM for this shape (what `scalelab export` writes). dtype is
// "float32" or "bfloat16"; eos_token_id, when set, is written as bos and eos. Throws for what Llama
// cannot express (a GELU MLP, no RoPE), naming the field.
json::Json llama_config(const LlamaModel& m, std::string_view dtype,
                        std::optional<int64_t> eos_token_id);
// generation_config.json: greedy by default, eos as above.
json::Json llama_generation_config(std::optional<int64_t> eos_token_id);

// Reads a config.json (`path` names it in errors): LlamaForCausalLM with hidden_act silu, no
// biases, default RoPE (no scaling) and head_dim = hidden_size / num_attention_heads; anything else
// is an error naming the field.
LlamaModel llama_from_config(const json::Json& config, std::string_view path);

// HF's name of one layer's weight: "model.layers.{layer}.{what}.weight", what e.g.
// "self_attn.q_proj", "mlp.gate_proj", "input_layernorm", "post_attention_layernorm".
std::string hf_layer_name(int64_t layer, std::string_view what);

// The row permutation of one q or k projection (rows = heads · hd): hf_row → our row.
std::vector<int64_t> rope_rows_ours_for_hf(int64_t heads, int64_t head_dim);

}  // namespace scalelab::interop
