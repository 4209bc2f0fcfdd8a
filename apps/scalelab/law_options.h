// Where allocate/predict take the law from: --params FILE (written by `scalelab fit`, default
// scaling_law.json), or all five of --E --A --B --alpha --beta, or --hoffmann (the paper's values).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "scaling/scaling_law.h"

namespace scalelab::app {

struct LawOptions {
  std::string params = "scaling_law.json";
  double E = 0, A = 0, B = 0, alpha = 0, beta = 0;
  bool hoffmann = false;
  CLI::Option* e_opt = nullptr;
};

void add_law_options(CLI::App& app, LawOptions& o);
scaling::ScalingLaw resolve_law(const LawOptions& o, std::string* label);

}  // namespace scalelab::app
