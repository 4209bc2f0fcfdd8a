// The model family of a sweep: one chain of shapes that grow in depth and width together, so that
// along a budget the models never jump between odd shapes (a 1-layer model between 4-layer ones).
// Stated rule:
//   - head dimension fixed (default 64): n_heads = d_model / head_dim;
//   - d_model a multiple of `multiple` (default 64); d_ff = 8/3·d_model rounded up to `multiple`
//     (SwiGLU, Shazeer 2020);
//   - the chain starts at `min_layers` layers (default 3) of width `multiple`; each next member
//     adds one layer or one width step, whichever keeps d_model / n_layers nearer `aspect_ratio`
//     (in log; default 64: Kaplan et al. 2020 §3.1 find the loss nearly flat over a wide band of
//     shapes at fixed N); a tie goes to the smaller model; it ends at max_layers and max_d_model.
//     Why a minimum depth: models of 1 and 2 layers fall off the trend of deeper ones (Kaplan et
//     al. 2020 fig. 6 for 1 layer; in docs/examples/h200-sweep, 2-layer members were 0.3–0.4 nats
//     worse than 3-layer ones of similar size and halved the held-out accuracy of the fit).
// So depth, width and every size convention (scaling::SizeConvention: total parameters,
// non-embedding parameters, FLOPs per token) increase strictly along the chain, and the pick for
// a target size, the member nearest in log space under the chosen convention, is monotone in the
// target. Not here: the sweep's choice of target sizes (planner.h).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "accounting/model_shape.h"
#include "common/fields.h"
#include "common/json.h"
#include "scaling/observation.h"

namespace scalelab::sweep {

struct ArchitectureRule {
  int64_t vocab_size = 0;        // filled from the tokenizer
  int64_t context_length = 256;  // tokens per training sequence
  int64_t head_dim = 64;         // d_model / n_heads
  int64_t multiple = 64;         // d_model and d_ff are multiples of this
  double aspect_ratio = 64;      // d_model / n_layers the family stays near
  int64_t min_layers = 3;        // the family's shallowest member
  int64_t max_layers = 48;       // search bound
  int64_t max_d_model = 8192;    // search bound
  bool tied_embeddings = false;  // LM head shares the embedding matrix
  // The models' vocabulary: the tokenizer's rounded up to a multiple of this (as nanoGPT pads
  // GPT-2's 50,257 to 50,304: whole tiles for the embedding and LM-head matmuls; the padding ids
  // are never targets and never sampled). 1 = the tokenizer's exactly.
  int64_t vocab_multiple = 64;
  int64_t padded_vocabulary(int64_t tokenizer_vocab) const {
    return (tokenizer_vocab + vocab_multiple - 1) / vocab_multiple * vocab_multiple;
  }
  void validate(std::string_view context = "architecture") const;
};
const fields::Table<ArchitectureRule>& architecture_rule_fields();
json::Json to_json(const ArchitectureRule& r);
// Strict (unknown fields are errors naming them); vocab_size may be left 0.
ArchitectureRule architecture_rule_from_json(const json::Json& j, std::string_view context);

struct ShapeChoice {
  accounting::ModelShape shape;
  int64_t params = 0;               // exact total (accounting)
  int64_t non_embedding = 0;        // without the token embedding and the LM head
  double flops_per_token = 0;       // training FLOPs per token, exact (matmul, LM head included)
  double body_flops_per_token = 0;  // the same without the LM head (DeepSeek's M)
  double aspect() const {
    return static_cast<double>(shape.d_model) / static_cast<double>(shape.n_layers);
  }
  // The size under a convention: params, non_embedding, or body_flops_per_token / 6.
  double size(scaling::SizeConvention convention) const;
};

// A shape with its exact counts filled in.
ShapeChoice describe_shape(const accounting::ModelShape& shape);

// The family's shape of L layers and width d (n_heads = d / head_dim, d_ff = 8/3·d rounded up to
// `multiple`), validated; whether the chain passes through it is model_family's business.
accounting::ModelShape family_shape(const ArchitectureRule& rule, int64_t L, int64_t d);

// The family, smallest first. Throws (naming the field) for an invalid rule.
std::vector<ShapeChoice> model_family(const ArchitectureRule& rule);
// The member whose size under `convention` is nearest `target` in log space (ties: the smaller).
// Throws for an empty family or a non-positive target.
ShapeChoice shape_for_size(const std::vector<ShapeChoice>& family, double target,
                           scaling::SizeConvention convention);
ShapeChoice shape_for_size(const ArchitectureRule& rule, double target,
                           scaling::SizeConvention convention);

}  // namespace scalelab::sweep
