// The model family (see architecture.h): the chain once, then the pick by size.
#include "sweep/architecture.h"

#include <algorithm>
#include <cmath>

#include "accounting/flops.h"
#include "accounting/params.h"
#include "common/error.h"

namespace scalelab::sweep {

void ArchitectureRule::validate(std::string_view ctx) const {
  SCALELAB_CHECK(vocab_size > 0, "{}.vocab_size: must be positive (got {})", ctx, vocab_size);
  SCALELAB_CHECK(context_length > 0, "{}.context_length: must be positive (got {})", ctx,
                 context_length);
  SCALELAB_CHECK(head_dim > 0 && head_dim % 2 == 0,
                 "{}.head_dim: must be a positive even number (RoPE rotates pairs; got {})", ctx,
                 head_dim);
  SCALELAB_CHECK(multiple > 0 && multiple % head_dim == 0,
                 "{}.multiple: must be a positive multiple of head_dim {} (got {})", ctx, head_dim,
                 multiple);
  SCALELAB_CHECK(std::isfinite(aspect_ratio) && aspect_ratio > 0,
                 "{}.aspect_ratio: must be positive (got {})", ctx, aspect_ratio);
  SCALELAB_CHECK(min_layers >= 1, "{}.min_layers: must be >= 1 (got {})", ctx, min_layers);
  SCALELAB_CHECK(vocab_multiple >= 1 && vocab_multiple <= 4096,
                 "{}.vocab_multiple: must be in [1, 4096] (got {})", ctx, vocab_multiple);
  SCALELAB_CHECK(max_layers >= min_layers, "{}.max_layers: must be >= min_layers {} (got {})", ctx,
                 min_layers, max_layers);
  SCALELAB_CHECK(max_d_model >= multiple, "{}.max_d_model: must be >= multiple {} (got {})", ctx,
                 multiple, max_d_model);
}

const fields::Table<ArchitectureRule>& architecture_rule_fields() {
  using R = ArchitectureRule;
  static const auto t =
      fields::Table<R>()
          .add("context_length", &R::context_length, "Context length of every model")
          .add("head_dim", &R::head_dim, "Head dimension (d_model / n_heads)")
          .add("multiple", &R::multiple, "d_model and d_ff are multiples of this")
          .add("aspect_ratio", &R::aspect_ratio,
               "d_model / n_layers the family stays near (each member adds a layer or a width "
               "step, whichever keeps the ratio nearer)")
          .add("min_layers", &R::min_layers,
               "The family's shallowest depth: 1- and 2-layer models fall off the trend of deeper "
               "ones (docs/sweep.md)")
          .add("max_layers", &R::max_layers, "Search bound on n_layers")
          .add("max_d_model", &R::max_d_model, "Search bound on d_model")
          .add("tied_embeddings", &R::tied_embeddings, "LM head shares the embedding matrix")
          .add("vocab_multiple", &R::vocab_multiple,
               "The models' vocabulary is the tokenizer's rounded up to a multiple of this "
               "(padding ids are never sampled; 1 = exact)",
               fields::Range::in(1, 4096));
  return t;  // vocab_size is not a field: it comes from the tokenizer
}

json::Json to_json(const ArchitectureRule& r) { return architecture_rule_fields().to_json(r); }

ArchitectureRule architecture_rule_from_json(const json::Json& j, std::string_view context) {
  return architecture_rule_fields().from_json(j, context);
}

double ShapeChoice::size(scaling::SizeConvention c) const {
  switch (c) {
    case scaling::SizeConvention::kTotal:
      return static_cast<double>(params);
    case scaling::SizeConvention::kNonEmbedding:
      return static_cast<double>(non_embedding);
    case scaling::SizeConvention::kFlops:
      return body_flops_per_token / 6.0;
  }
  return static_cast<double>(params);
}

ShapeChoice describe_shape(const accounting::ModelShape& s) {
  ShapeChoice c;
  c.shape = s;
  const accounting::ParamCounts p = accounting::count_params(s);
  c.params = p.total;
  c.non_embedding = p.non_embedding;
  const accounting::FlopCounts f = accounting::count_flops(s);
  c.flops_per_token = f.training_per_token;
  // training = 3 × forward; the LM head's forward FLOPs are per sequence of seq_len tokens.
  c.body_flops_per_token = f.training_per_token - 3.0 * static_cast<double>(f.matmul.lm_head) /
                                                      static_cast<double>(f.seq_len);
  return c;
}

accounting::ModelShape family_shape(const ArchitectureRule& rule, int64_t L, int64_t d) {
  accounting::ModelShape s;
  s.vocab_size = rule.vocab_size;
  s.context_length = rule.context_length;
  s.d_model = d;
  s.n_layers = L;
  s.n_heads = d / rule.head_dim;
  s.n_kv_heads = 0;
  s.d_ff = (8 * d / 3 + rule.multiple - 1) / rule.multiple * rule.multiple;
  s.tied_embeddings = rule.tied_embeddings;
  s.validate("architecture");
  return s;
}

std::vector<ShapeChoice> model_family(const ArchitectureRule& rule) {
  rule.validate();
  std::vector<ShapeChoice> out;
  const auto off_aspect = [&](int64_t L, int64_t d) {
    return std::abs(std::log(static_cast<double>(d) / static_cast<double>(L) / rule.aspect_ratio));
  };
  int64_t L = rule.min_layers, d = rule.multiple;
  out.push_back(describe_shape(family_shape(rule, L, d)));
  for (;;) {
    const bool can_deepen = L + 1 <= rule.max_layers;
    const bool can_widen = d + rule.multiple <= rule.max_d_model;
    if (!can_deepen && !can_widen) break;
    bool deepen = can_deepen;
    if (can_deepen && can_widen) {
      const double a = off_aspect(L + 1, d), b = off_aspect(L, d + rule.multiple);
      if (std::abs(a - b) > 1e-12) {
        deepen = a < b;
      } else {  // equally near: the smaller model
        deepen = accounting::count_params(family_shape(rule, L + 1, d)).total <=
                 accounting::count_params(family_shape(rule, L, d + rule.multiple)).total;
      }
    }
    if (deepen)
      ++L;
    else
      d += rule.multiple;
    out.push_back(describe_shape(family_shape(rule, L, d)));
  }
  return out;
}

ShapeChoice shape_for_size(const std::vector<ShapeChoice>& family, double target,
                           scaling::SizeConvention convention) {
  SCALELAB_CHECK(!family.empty(), "architecture: the rule allows no shape");
  SCALELAB_CHECK(std::isfinite(target) && target > 0,
                 "architecture: target size must be positive (got {})", target);
  const double lt = std::log(target);
  const ShapeChoice* best = nullptr;
  double best_dist = INFINITY;
  for (const auto& c : family) {
    const double dist = std::abs(std::log(c.size(convention)) - lt);
    if (dist < best_dist - 1e-12) {
      best = &c;
      best_dist = dist;
    }
  }
  return *best;
}

ShapeChoice shape_for_size(const ArchitectureRule& rule, double target,
                           scaling::SizeConvention convention) {
  return shape_for_size(model_family(rule), target, convention);
}

}  // namespace scalelab::sweep
