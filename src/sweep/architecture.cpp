// The architecture rule (see architecture.h): enumerate the allowed shapes once, then pick by
// exact parameter count.
#include "sweep/architecture.h"

#include <algorithm>
#include <cmath>

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
  SCALELAB_CHECK(std::isfinite(aspect_range) && aspect_range >= 1,
                 "{}.aspect_range: must be >= 1 (got {})", ctx, aspect_range);
  SCALELAB_CHECK(max_layers >= 1, "{}.max_layers: must be >= 1 (got {})", ctx, max_layers);
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
          .add("aspect_ratio", &R::aspect_ratio, "Preferred d_model / n_layers")
          .add("aspect_range", &R::aspect_range, "Allowed factor either side of aspect_ratio")
          .add("max_layers", &R::max_layers, "Search bound on n_layers")
          .add("max_d_model", &R::max_d_model, "Search bound on d_model")
          .add("tied_embeddings", &R::tied_embeddings, "LM head shares the embedding matrix");
  return t;  // vocab_size is not a field: it comes from the tokenizer
}

json::Json to_json(const ArchitectureRule& r) { return architecture_rule_fields().to_json(r); }

ArchitectureRule architecture_rule_from_json(const json::Json& j, std::string_view context) {
  return architecture_rule_fields().from_json(j, context);
}

std::vector<ShapeChoice> candidate_shapes(const ArchitectureRule& rule) {
  rule.validate();
  std::vector<ShapeChoice> out;
  const double lo = rule.aspect_ratio / rule.aspect_range;
  const double hi = rule.aspect_ratio * rule.aspect_range;
  for (int64_t L = 1; L <= rule.max_layers; ++L) {
    for (int64_t d = rule.multiple; d <= rule.max_d_model; d += rule.multiple) {
      const double aspect = static_cast<double>(d) / static_cast<double>(L);
      // 1e-9 slack: a boundary ratio like 256/4 = 64 must count as inside.
      if (aspect < lo * (1 - 1e-9)) continue;
      if (aspect > hi * (1 + 1e-9)) break;
      accounting::ModelShape s;
      s.vocab_size = rule.vocab_size;
      s.context_length = rule.context_length;
      s.d_model = d;
      s.n_layers = L;
      s.n_heads = d / rule.head_dim;
      s.n_kv_heads = 0;
      // SwiGLU width 8/3·d (Shazeer 2020), rounded up to the multiple.
      s.d_ff = (8 * d / 3 + rule.multiple - 1) / rule.multiple * rule.multiple;
      s.tied_embeddings = rule.tied_embeddings;
      s.validate("architecture");
      out.push_back({s, accounting::count_params(s).total});
    }
  }
  std::sort(out.begin(), out.end(), [](const ShapeChoice& a, const ShapeChoice& b) {
    return a.params != b.params ? a.params < b.params : a.shape.n_layers < b.shape.n_layers;
  });
  return out;
}

ShapeChoice shape_for_params(const std::vector<ShapeChoice>& candidates, double target_N,
                             double aspect_ratio) {
  SCALELAB_CHECK(!candidates.empty(), "architecture: the rule allows no shape");
  SCALELAB_CHECK(std::isfinite(target_N) && target_N > 0,
                 "architecture: target N must be positive (got {})", target_N);
  const double lt = std::log(target_N);
  double best_dist = INFINITY;
  for (const auto& c : candidates)
    best_dist = std::min(best_dist, std::abs(std::log(static_cast<double>(c.params)) - lt));
  const ShapeChoice* best = nullptr;
  double best_aspect = INFINITY;
  for (const auto& c : candidates) {
    const double dist = std::abs(std::log(static_cast<double>(c.params)) - lt);
    if (dist > best_dist + 0.01) continue;  // within 1% of the closest N
    const double a = std::abs(std::log(c.aspect() / aspect_ratio));
    if (best == nullptr || a < best_aspect - 1e-12 ||
        (std::abs(a - best_aspect) <= 1e-12 &&
         dist < std::abs(std::log(static_cast<double>(best->params)) - lt))) {
      best = &c;
      best_aspect = a;
    }
  }
  return *best;
}

ShapeChoice shape_for_params(const ArchitectureRule& rule, double target_N) {
  return shape_for_params(candidate_shapes(rule), target_N, rule.aspect_ratio);
}

}  // namespace scalelab::sweep
