// ModelShape validation, JSON and the preset table.
#include "accounting/model_shape.h"

#include <cmath>

#include "common/error.h"

namespace scalelab::accounting {

std::string_view to_string(FfnKind k) { return k == FfnKind::kSwiGlu ? "swiglu" : "gelu_mlp"; }

FfnKind parse_ffn_kind(std::string_view s) {
  if (s == "swiglu") return FfnKind::kSwiGlu;
  if (s == "gelu_mlp" || s == "gelu") return FfnKind::kGeluMlp;
  SCALELAB_FAIL("unknown ffn '{}' (expected swiglu or gelu_mlp)", s);
}

int64_t default_swiglu_d_ff(int64_t d_model) {
  // ceil(8·d/3) then up to a multiple of 64, in integers to avoid rounding surprises.
  int64_t f = (8 * d_model + 2) / 3;
  return (f + 63) / 64 * 64;
}

int64_t ModelShape::resolved_d_ff() const {
  if (d_ff > 0) return d_ff;
  return ffn == FfnKind::kSwiGlu ? default_swiglu_d_ff(d_model) : 4 * d_model;
}

ModelShape ModelShape::resolved() const {
  ModelShape s = *this;
  s.n_kv_heads = resolved_n_kv_heads();
  s.d_ff = resolved_d_ff();
  return s;
}

void ModelShape::validate(std::string_view ctx) const {
  // Upper bounds keep every exact per-sequence count inside int64 (checked again where computed).
  auto positive = [&](std::string_view field, int64_t v, int64_t max) {
    SCALELAB_CHECK(v > 0, "{}.{}: must be positive (got {})", ctx, field, v);
    SCALELAB_CHECK(v <= max, "{}.{}: {} is larger than the supported maximum {}", ctx, field, v,
                   max);
  };
  positive("vocab_size", vocab_size, int64_t{1} << 24);
  positive("context_length", context_length, int64_t{1} << 22);
  positive("d_model", d_model, int64_t{1} << 18);
  positive("n_layers", n_layers, 1 << 12);
  positive("n_heads", n_heads, 1 << 12);
  SCALELAB_CHECK(n_kv_heads >= 0, "{}.n_kv_heads: must be positive, or 0 for n_heads (got {})", ctx,
                 n_kv_heads);
  SCALELAB_CHECK(d_ff >= 0, "{}.d_ff: must be positive, or 0 for the default (got {})", ctx, d_ff);
  SCALELAB_CHECK(d_ff <= (int64_t{1} << 20), "{}.d_ff: {} is larger than the supported maximum {}",
                 ctx, d_ff, int64_t{1} << 20);
  SCALELAB_CHECK(d_model % n_heads == 0, "{}.n_heads: {} does not divide d_model {}", ctx, n_heads,
                 d_model);
  int64_t kv = resolved_n_kv_heads();
  SCALELAB_CHECK(kv <= n_heads && n_heads % kv == 0, "{}.n_kv_heads: {} does not divide n_heads {}",
                 ctx, kv, n_heads);
  SCALELAB_CHECK(!rope || head_dim() % 2 == 0,
                 "{}.n_heads: RoPE needs an even head dimension, got {}", ctx, head_dim());
}

json::Json to_json(const ModelShape& s) {
  json::Json j;
  j["vocab_size"] = s.vocab_size;
  j["context_length"] = s.context_length;
  j["d_model"] = s.d_model;
  j["n_layers"] = s.n_layers;
  j["n_heads"] = s.n_heads;
  j["n_kv_heads"] = s.n_kv_heads;
  j["d_ff"] = s.d_ff;
  j["ffn"] = std::string(to_string(s.ffn));
  j["tied_embeddings"] = s.tied_embeddings;
  j["rope"] = s.rope;
  return j;
}

ModelShape model_shape_from_json(const json::Json& j, std::string_view context) {
  ModelShape s;
  json::ObjectReader r(j, std::string(context));
  r.get("vocab_size", s.vocab_size);
  r.get("context_length", s.context_length);
  r.get("d_model", s.d_model);
  r.get("n_layers", s.n_layers);
  r.get("n_heads", s.n_heads);
  r.get("n_kv_heads", s.n_kv_heads);
  r.get("d_ff", s.d_ff);
  std::string ffn(to_string(s.ffn));
  if (r.get("ffn", ffn)) {
    try {
      s.ffn = parse_ffn_kind(ffn);
    } catch (const Error& e) {
      SCALELAB_FAIL("{}: {}", r.field_name("ffn"), e.what());
    }
  }
  r.get("tied_embeddings", s.tied_embeddings);
  r.get("rope", s.rope);
  r.finish();
  s.validate(context);
  return s;
}

namespace {
ModelShape gpt2(int64_t layers, int64_t d, int64_t heads) {
  // CS336 shapes: GPT-2 sizes with the CS336 block (SwiGLU with d_ff = 4·d_model), untied head.
  ModelShape s;
  s.vocab_size = 50257;
  s.context_length = 1024;
  s.d_model = d;
  s.n_layers = layers;
  s.n_heads = heads;
  s.d_ff = 4 * d;
  return s;
}
}  // namespace

const std::vector<ModelPreset>& model_presets() {
  static const std::vector<ModelPreset> presets = [] {
    std::vector<ModelPreset> p;
    p.push_back({"gpt2-small", "GPT-2 small shape, CS336 block (12 layers, d 768, 12 heads)",
                 gpt2(12, 768, 12)});
    p.push_back({"gpt2-medium", "GPT-2 medium shape, CS336 block (24 layers, d 1024, 16 heads)",
                 gpt2(24, 1024, 16)});
    p.push_back({"gpt2-large", "GPT-2 large shape, CS336 block (36 layers, d 1280, 20 heads)",
                 gpt2(36, 1280, 20)});
    p.push_back({"gpt2-xl", "GPT-2 XL shape, CS336 block (48 layers, d 1600, 25 heads)",
                 gpt2(48, 1600, 25)});
    ModelShape ts;
    ts.vocab_size = 10000;
    ts.context_length = 256;
    ts.d_model = 512;
    ts.n_layers = 4;
    ts.n_heads = 16;
    ts.d_ff = 1344;
    p.push_back({"cs336-tinystories",
                 "CS336 assignment 1 TinyStories model (4 layers, d 512, 16 heads)", ts});
    ModelShape ll;
    ll.vocab_size = 32000;
    ll.context_length = 2048;
    ll.d_model = 4096;
    ll.n_layers = 32;
    ll.n_heads = 32;
    ll.d_ff = 11008;
    p.push_back(
        {"llama-7b", "LLaMA 7B (Touvron et al. 2023): 32 layers, d 4096, SwiGLU 11008", ll});
    return p;
  }();
  return presets;
}

const ModelPreset& find_model_preset(std::string_view name) {
  std::string known;
  for (const auto& p : model_presets()) {
    if (p.name == name) return p;
    known += (known.empty() ? "" : ", ") + p.name;
  }
  SCALELAB_FAIL("unknown preset '{}' (known: {})", name, known);
}

}  // namespace scalelab::accounting
