// ModelShape: the architecture hyperparameters of scalelab's transformer family (CS336: pre-norm
// blocks with RMSNorm, causal multi-head or grouped-query attention with RoPE, SwiGLU or GELU MLP,
// untied LM head by default). Validation names the bad field; JSON round trip is strict.
// Presets (gpt2-small … llama-7b) live here too. This header knows nothing of LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/fields.h"
#include "common/json.h"

namespace scalelab::accounting {

enum class FfnKind {
  kSwiGlu,   // W2(SiLU(W1 x) ⊙ W3 x): three d×f matrices (Shazeer 2020)
  kGeluMlp,  // W2 GELU(W1 x): two d×f matrices (GPT-2)
};
std::string_view to_string(FfnKind k);
FfnKind parse_ffn_kind(std::string_view s);  // "swiglu" | "gelu_mlp" (or "gelu")

struct ModelShape {
  int64_t vocab_size = 50257;
  int64_t context_length = 1024;
  int64_t d_model = 768;
  int64_t n_layers = 12;
  int64_t n_heads = 12;
  int64_t n_kv_heads = 0;  // 0 = n_heads (plain multi-head attention); < n_heads = grouped-query
  int64_t d_ff =
      0;  // 0 = default: SwiGLU 8/3·d_model rounded up to a multiple of 64; GELU 4·d_model
  FfnKind ffn = FfnKind::kSwiGlu;
  bool tied_embeddings = false;  // LM head shares the token-embedding matrix
  bool rope = true;              // rotary position embeddings (no parameters)

  // Throws scalelab::Error naming the first bad field ("model.n_heads: 7 does not divide d_model
  // 768").
  void validate(std::string_view context = "model") const;

  // Resolved values (valid after validate()).
  int64_t resolved_n_kv_heads() const { return n_kv_heads > 0 ? n_kv_heads : n_heads; }
  int64_t resolved_d_ff() const;
  int64_t head_dim() const { return d_model / n_heads; }
  int64_t kv_dim() const { return resolved_n_kv_heads() * head_dim(); }
  // A copy with n_kv_heads and d_ff filled in.
  ModelShape resolved() const;

  bool operator==(const ModelShape&) const = default;
};

// SwiGLU default width: ceil(8/3 · d_model / 64) · 64 (Shazeer 2020 keeps params equal to a 4d
// MLP).
int64_t default_swiglu_d_ff(int64_t d_model);

// The field table (common/fields.h): JSON, CLI flags and docs of the shape.
const fields::Table<ModelShape>& model_shape_fields();
json::Json to_json(const ModelShape& shape);
// Strict: unknown fields and wrong types are errors naming `context.field`. Validates.
ModelShape model_shape_from_json(const json::Json& j, std::string_view context = "model");

struct ModelPreset {
  std::string name;
  std::string description;
  ModelShape shape;
};
const std::vector<ModelPreset>& model_presets();
// Throws "unknown preset 'x' (known: …)".
const ModelPreset& find_model_preset(std::string_view name);

}  // namespace scalelab::accounting

template <>
struct scalelab::fields::EnumNames<scalelab::accounting::FfnKind> {
  using E = scalelab::accounting::FfnKind;
  static constexpr std::array<std::pair<E, std::string_view>, 3> kNames{
      {{E::kSwiGlu, "swiglu"}, {E::kGeluMlp, "gelu_mlp"}, {E::kGeluMlp, "gelu"}}};
};
