// Binds ModelShape fields to flags and merges preset, config file and flags.
#include "model_options.h"

#include "common/error.h"
#include "common/json.h"

namespace scalelab::app {

using accounting::ModelShape;

void add_model_options(CLI::App& app, ModelOptions& o, const std::string& config_flag) {
  std::string presets;
  for (const auto& p : accounting::model_presets())
    presets += (presets.empty() ? "" : ", ") + p.name;
  app.add_option("--preset", o.preset, "Start from a named model shape: " + presets);
  app.add_option(config_flag, o.config,
                 "Model shape JSON file (fields as in `--json` output 'shape')");
  auto& f = o.flags;
  f.field(app, "--vocab-size", &ModelShape::vocab_size, "Vocabulary size");
  f.field(app, "--context-length", &ModelShape::context_length, "Context length T (tokens)");
  f.field(app, "--d-model", &ModelShape::d_model, "Model width d_model");
  f.field(app, "--n-layers", &ModelShape::n_layers, "Number of transformer blocks");
  f.field(app, "--n-heads", &ModelShape::n_heads, "Attention heads (must divide d_model)");
  f.field(app, "--n-kv-heads", &ModelShape::n_kv_heads, "Key/value heads for GQA (0 = n_heads)");
  f.field(app, "--d-ff", &ModelShape::d_ff,
          "FFN width (0 = 8/3·d_model rounded up to 64 for SwiGLU, 4·d_model for GELU)");
  f.bind(app.add_option("--ffn", o.ffn, "FFN kind")
             ->check(CLI::IsMember({"swiglu", "gelu_mlp"}))
             ->capture_default_str(),
         [&o](ModelShape& s) { s.ffn = accounting::parse_ffn_kind(o.ffn); });
  f.field(app, "--tied-embeddings", &ModelShape::tied_embeddings,
          "Share the embedding matrix with the LM head (true/false)");
  f.field(app, "--rope", &ModelShape::rope, "Rotary position embeddings (true/false)");
}

ModelShape resolve_model(const ModelOptions& o, std::string* label) {
  ModelShape s;
  std::string where = "defaults";
  if (!o.preset.empty()) {
    s = accounting::find_model_preset(o.preset).shape;
    where = o.preset + " (preset)";
  }
  if (!o.config.empty()) {
    // A config file overrides the preset field by field: read it over the current shape.
    json::Json j = json::read_file(o.config);
    json::Json base = accounting::to_json(s);
    SCALELAB_CHECK(j.is_object(), "{}: expected a JSON object with model-shape fields", o.config);
    for (const auto& [k, v] : j.items()) base[k] = v;
    s = accounting::model_shape_from_json(base, o.config);
    where = o.preset.empty() ? o.config : where + " + " + o.config;
  }
  if (o.flags.apply(s)) where += " + flags";
  s.validate("model");
  if (label != nullptr) *label = where;
  return s;
}

}  // namespace scalelab::app
