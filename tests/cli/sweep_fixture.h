// A tiny sweep config for CLI tests: CS336's corpus.en, vocabulary 300, context 16, head_dim 16,
// 3 budgets × 3 models; the whole sweep trains in well under a minute on 2 cores.
#pragma once

#include <fstream>
#include <string>

#include "common/json.h"

namespace scalelab::testing {

inline json::Json tiny_sweep(const std::string& out) {
  return {{"corpus", {std::string(SCALELAB_SHARED_DATA_DIR) + "/cs336/corpus.en"}},
          {"vocab_size", 300},
          {"val_fraction", 0.1},
          {"budgets", {2e10, 4e10, 8e10}},
          {"models_per_budget", 3},
          {"n_spread", 2},
          {"architecture",
           {{"context_length", 16},
            {"head_dim", 16},
            {"multiple", 16},
            {"aspect_ratio", 16},
            // 1-layer members: the default minimum depth (3) would need budgets 3× larger.
            {"min_layers", 1},
            {"tied_embeddings", true}}},
          // N = total: the family's steps in FLOPs per token are coarse for models this small.
          {"size_convention", "total"},
          {"batch_rule", "constant"},
          {"batch_tokens", 512},
          {"lr_rule", "constant"},
          {"lr", 0.03},
          {"min_steps", 10},
          {"warn_epochs", 50},
          {"max_epochs", 200},
          {"bootstrap_samples", 20},
          {"curve_points", 10},
          {"targets", {1e13}},
          {"out_dir", out}};
}

inline std::string write_config(const std::string& path, const json::Json& j) {
  std::ofstream(path) << j.dump(2);
  return path;
}

}  // namespace scalelab::testing
