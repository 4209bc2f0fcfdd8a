// `scalelab config-reference`: every config field (name, flag, type, default, allowed values, doc)
// as Markdown, generated from the field tables; docs/config.md is its output.
#include <iostream>

#include "commands.h"
#include "sweep/config_docs.h"

namespace scalelab::app {

Command setup_config_reference(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "config-reference", "Print every config field of sweep, train and model files (Markdown)");
  return {sub, [] { std::cout << sweep::config_reference_markdown(); }};
}

}  // namespace scalelab::app
