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
  // Every field of the model shape's table (accounting/model_shape.cpp).
  o.flags.add_table(app, accounting::model_shape_fields());
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
