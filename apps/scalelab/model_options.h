// Model-shape options shared by every subcommand that takes a model: --preset, --config model.json
// and per-field flags. Precedence: defaults < preset < config < flags.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "accounting/model_shape.h"
#include "config_flags.h"

namespace scalelab::app {

struct ModelOptions {
  std::string preset;
  std::string config;
  ConfigFlags<accounting::ModelShape> flags;  // the per-field flags; defaults shown in --help
};

// config_flag names the model-shape file option ("--config" for `account`, "--model-config" where
// --config is taken by the command's own config file).
void add_model_options(CLI::App& app, ModelOptions& options,
                       const std::string& config_flag = "--config");
// Resolves and validates the shape; label says where it came from ("gpt2-small (preset)").
accounting::ModelShape resolve_model(const ModelOptions& options, std::string* label);

}  // namespace scalelab::app
