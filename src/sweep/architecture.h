// The architecture rule: which transformer shape (n_layers, d_model, n_heads, d_ff) to build for a
// target parameter count N, judged by accounting's exact count (total parameters, embeddings
// included, as Hoffmann et al. 2022 count N). Stated rule:
//   - head dimension fixed (default 64): n_heads = d_model / head_dim;
//   - d_model a multiple of `multiple` (default 64); d_ff = 8/3·d_model rounded up to `multiple`;
//   - aspect ratio d_model / n_layers within [aspect_ratio / aspect_range, aspect_ratio ·
//     aspect_range] (default 64, ×/÷ 4: Kaplan et al. 2020 §3.1 find loss nearly flat over a wide
//     band of shapes at fixed N);
//   - among those candidates, the one whose exact N is closest to the target in log space; ties
//     within 1% of N go to the aspect ratio closest to aspect_ratio (in log).
// Not here: the sweep's choice of target N values (planner.h).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "accounting/model_shape.h"
#include "common/fields.h"
#include "common/json.h"

namespace scalelab::sweep {

struct ArchitectureRule {
  int64_t vocab_size = 0;        // filled from the tokenizer
  int64_t context_length = 256;  // tokens per training sequence
  int64_t head_dim = 64;         // d_model / n_heads
  int64_t multiple = 64;         // d_model and d_ff are multiples of this
  double aspect_ratio = 64;      // preferred d_model / n_layers
  double aspect_range = 4;       // allowed factor either side of aspect_ratio
  int64_t max_layers = 48;       // search bound
  int64_t max_d_model = 8192;    // search bound
  bool tied_embeddings = false;  // LM head shares the embedding matrix
  void validate(std::string_view context = "architecture") const;
};
const fields::Table<ArchitectureRule>& architecture_rule_fields();
json::Json to_json(const ArchitectureRule& r);
// Strict (unknown fields are errors naming them); vocab_size may be left 0.
ArchitectureRule architecture_rule_from_json(const json::Json& j, std::string_view context);

struct ShapeChoice {
  accounting::ModelShape shape;
  int64_t params = 0;  // exact total
  double aspect() const {
    return static_cast<double>(shape.d_model) / static_cast<double>(shape.n_layers);
  }
};

// Every shape the rule allows, sorted by params.
std::vector<ShapeChoice> candidate_shapes(const ArchitectureRule& rule);
// The rule's shape for a target N (see above). Throws when the rule allows no shape.
ShapeChoice shape_for_params(const ArchitectureRule& rule, double target_N);
ShapeChoice shape_for_params(const std::vector<ShapeChoice>& candidates, double target_N,
                             double aspect_ratio);

}  // namespace scalelab::sweep
