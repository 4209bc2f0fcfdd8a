#include "interop/hf_llama.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"

namespace scalelab::interop {

namespace {

void check_exportable(const accounting::ModelShape& s) {
  SCALELAB_CHECK(s.ffn == accounting::FfnKind::kSwiGlu,
                 "export: model.ffn is gelu_mlp; LlamaForCausalLM has a SwiGLU MLP only (GPT-2's "
                 "architecture also differs in its norms and positions), so this model has no "
                 "Hugging Face equivalent here");
  SCALELAB_CHECK(s.rope, "export: model.rope is false; LlamaForCausalLM always applies RoPE");
}

template <typename T>
T get_field(const json::Json& j, std::string_view path, const char* key) {
  SCALELAB_CHECK(j.contains(key), "{}: missing field {}", path, key);
  try {
    return j.at(key).get<T>();
  } catch (const std::exception&) {
    SCALELAB_FAIL("{}: field {} has the wrong type ({})", path, key, j.at(key).dump());
  }
}

bool false_or_missing(const json::Json& j, const char* key) {
  return !j.contains(key) || j.at(key).is_null() ||
         (j.at(key).is_boolean() && !j.at(key).get<bool>());
}

}  // namespace

json::Json llama_config(const LlamaModel& m, std::string_view dtype,
                        std::optional<int64_t> eos_token_id) {
  const accounting::ModelShape s = m.shape.resolved();
  check_exportable(s);
  SCALELAB_CHECK(dtype == "float32" || dtype == "bfloat16",
                 "export: dtype must be float32 or bfloat16 (got {})", dtype);
  json::Json j = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"vocab_size", s.vocab_size},
      {"hidden_size", s.d_model},
      {"intermediate_size", s.resolved_d_ff()},
      {"num_hidden_layers", s.n_layers},
      {"num_attention_heads", s.n_heads},
      {"num_key_value_heads", s.resolved_n_kv_heads()},
      {"head_dim", s.head_dim()},
      {"hidden_act", "silu"},
      {"max_position_embeddings", s.context_length},
      {"rms_norm_eps", m.rms_norm_eps},
      {"rope_theta", m.rope_theta},
      {"rope_parameters", {{"rope_type", "default"}, {"rope_theta", m.rope_theta}}},
      {"rope_scaling", nullptr},
      {"attention_bias", false},
      {"attention_dropout", 0.0},
      {"mlp_bias", false},
      {"pretraining_tp", 1},
      {"initializer_range", 0.02},
      {"use_cache", true},
      // scalelab's tied head scales by d_model^-1/2, Llama's does not: the head is exported as
      // its own matrix (model/hf.h).
      {"tie_word_embeddings", false},
      {"torch_dtype", dtype},
      {"dtype", dtype},
      {"transformers_version", "5.17.0"},
  };
  if (eos_token_id) {
    j["bos_token_id"] = *eos_token_id;
    j["eos_token_id"] = *eos_token_id;
  }
  return j;
}

json::Json llama_generation_config(std::optional<int64_t> eos_token_id) {
  json::Json j = {{"do_sample", false}, {"transformers_version", "5.17.0"}};
  if (eos_token_id) {
    j["bos_token_id"] = *eos_token_id;
    j["eos_token_id"] = *eos_token_id;
  }
  return j;
}

LlamaModel llama_from_config(const json::Json& c, std::string_view path) {
  SCALELAB_CHECK(c.is_object(), "{}: expected a JSON object", path);
  bool llama = c.contains("model_type") && c.at("model_type") == "llama";
  if (c.contains("architectures") && c.at("architectures").is_array())
    for (const auto& a : c.at("architectures")) llama = llama || a == "LlamaForCausalLM";
  SCALELAB_CHECK(llama, "{}: not a LlamaForCausalLM (model_type {}, architectures {})", path,
                 c.contains("model_type") ? c.at("model_type").dump() : "missing",
                 c.contains("architectures") ? c.at("architectures").dump() : "missing");
  LlamaModel m;
  accounting::ModelShape& s = m.shape;
  s.vocab_size = get_field<int64_t>(c, path, "vocab_size");
  s.d_model = get_field<int64_t>(c, path, "hidden_size");
  s.d_ff = get_field<int64_t>(c, path, "intermediate_size");
  s.n_layers = get_field<int64_t>(c, path, "num_hidden_layers");
  s.n_heads = get_field<int64_t>(c, path, "num_attention_heads");
  s.n_kv_heads = c.contains("num_key_value_heads") && !c.at("num_key_value_heads").is_null()
                     ? get_field<int64_t>(c, path, "num_key_value_heads")
                     : s.n_heads;
  s.context_length = get_field<int64_t>(c, path, "max_position_embeddings");
  s.ffn = accounting::FfnKind::kSwiGlu;
  s.rope = true;
  s.tied_embeddings = c.contains("tie_word_embeddings") &&
                      c.at("tie_word_embeddings").is_boolean() &&
                      c.at("tie_word_embeddings").get<bool>();
  const std::string act = c.contains("hidden_act") ? get_field<std::string>(c, path, "hidden_act")
                                                   : std::string("silu");
  SCALELAB_CHECK(act == "silu", "{}: hidden_act {} is not supported (scalelab's SwiGLU is silu)",
                 path, act);
  SCALELAB_CHECK(false_or_missing(c, "attention_bias"),
                 "{}: attention_bias is true; scalelab's projections have no biases", path);
  SCALELAB_CHECK(false_or_missing(c, "mlp_bias"),
                 "{}: mlp_bias is true; scalelab's MLP has no biases", path);
  SCALELAB_CHECK(s.n_heads > 0 && s.d_model % s.n_heads == 0,
                 "{}: num_attention_heads {} does not divide hidden_size {}", path, s.n_heads,
                 s.d_model);
  if (c.contains("head_dim") && !c.at("head_dim").is_null()) {
    const auto hd = get_field<int64_t>(c, path, "head_dim");
    SCALELAB_CHECK(hd == s.d_model / s.n_heads,
                   "{}: head_dim {} is not hidden_size / num_attention_heads ({}); scalelab's "
                   "heads split d_model",
                   path, hd, s.d_model / s.n_heads);
  }
  m.rms_norm_eps = c.contains("rms_norm_eps") ? get_field<double>(c, path, "rms_norm_eps") : 1e-6;
  // The RoPE base: transformers 5 keeps it in rope_parameters, 4.x at the top level.
  std::string rope_type = "default";
  if (c.contains("rope_parameters") && c.at("rope_parameters").is_object()) {
    const auto& r = c.at("rope_parameters");
    if (r.contains("rope_type")) rope_type = get_field<std::string>(r, path, "rope_type");
    if (r.contains("rope_theta")) m.rope_theta = get_field<double>(r, path, "rope_theta");
  } else if (c.contains("rope_theta")) {
    m.rope_theta = get_field<double>(c, path, "rope_theta");
  }
  if (c.contains("rope_scaling") && c.at("rope_scaling").is_object()) {
    const auto& r = c.at("rope_scaling");
    rope_type = r.contains("rope_type") ? get_field<std::string>(r, path, "rope_type")
                : r.contains("type")    ? get_field<std::string>(r, path, "type")
                                        : "unknown";
  }
  SCALELAB_CHECK(rope_type == "default",
                 "{}: RoPE scaling {} is not supported (scalelab's RoPE is the default one)", path,
                 rope_type);
  SCALELAB_CHECK(std::isfinite(m.rope_theta) && m.rope_theta > 0,
                 "{}: rope_theta must be positive (got {})", path, m.rope_theta);
  SCALELAB_CHECK(std::isfinite(m.rms_norm_eps) && m.rms_norm_eps > 0,
                 "{}: rms_norm_eps must be positive (got {})", path, m.rms_norm_eps);
  s.validate(fmt::format("{}", path));
  s = s.resolved();
  return m;
}

std::string hf_layer_name(int64_t layer, std::string_view what) {
  return fmt::format("model.layers.{}.{}.weight", layer, what);
}

std::vector<int64_t> rope_rows_ours_for_hf(int64_t heads, int64_t head_dim) {
  SCALELAB_CHECK(head_dim % 2 == 0, "RoPE needs an even head dimension (got {})", head_dim);
  std::vector<int64_t> rows(static_cast<size_t>(heads * head_dim));
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i) {
      rows[static_cast<size_t>(h * head_dim + i)] = h * head_dim + 2 * i;
      rows[static_cast<size_t>(h * head_dim + half + i)] = h * head_dim + 2 * i + 1;
    }
  return rows;
}

}  // namespace scalelab::interop
