// ModelShape validation, JSON and the preset table.
#include "accounting/model_shape.h"

#include <cmath>

#include "common/error.h"

namespace scalelab::accounting {

std::string_view to_string(FfnKind k) { return fields::enum_name(k); }
FfnKind parse_ffn_kind(std::string_view s) { return fields::parse_enum<FfnKind>(s, "ffn"); }

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

const fields::Table<ModelShape>& model_shape_fields() {
  static const auto t =
      fields::Table<ModelShape>()
          .add("vocab_size", &ModelShape::vocab_size, "Vocabulary (embedding rows)")
          .add("context_length", &ModelShape::context_length, "Tokens per sequence")
          .add("d_model", &ModelShape::d_model, "Residual stream width")
          .add("n_layers", &ModelShape::n_layers, "Transformer blocks")
          .add("n_heads", &ModelShape::n_heads, "Attention heads (divides d_model)")
          .add("n_kv_heads", &ModelShape::n_kv_heads,
               "Key/value heads (0 = n_heads; fewer = grouped-query)")
          .add("d_ff", &ModelShape::d_ff,
               "MLP width (0 = SwiGLU 8/3·d_model rounded up to 64, GELU 4·d_model)")
          .add("ffn", &ModelShape::ffn, "MLP kind (gelu = gelu_mlp)")
          .add("tied_embeddings", &ModelShape::tied_embeddings,
               "LM head shares the embedding matrix")
          .add("rope", &ModelShape::rope, "Rotary position embeddings");
  return t;
}

json::Json to_json(const ModelShape& s) { return model_shape_fields().to_json(s); }

ModelShape model_shape_from_json(const json::Json& j, std::string_view context) {
  ModelShape s = model_shape_fields().from_json(j, context);
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
