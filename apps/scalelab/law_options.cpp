#include "law_options.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "common/error.h"
#include "common/format.h"
#include "common/json.h"
#include "config_flags.h"

namespace scalelab::app {

void add_law_options(CLI::App& app, LawOptions& o) {
  app.add_option("--params", o.params, "Fitted law JSON (from `scalelab fit --out`)")
      ->capture_default_str();
  o.e_opt = app.add_option("--E", o.E,
                           "Irreducible loss E (with --A --B --alpha --beta instead of --params)");
  app.add_option("--A", o.A, "A");
  app.add_option("--B", o.B, "B");
  app.add_option("--alpha", o.alpha, "alpha");
  app.add_option("--beta", o.beta, "beta");
  add_bool_flag(app, "--hoffmann", o.hoffmann,
                "Use Hoffmann et al. 2022's fitted law (E 1.69, A 406.4, B 410.7, 0.34, 0.28)");
}

scaling::ScalingLaw resolve_law(const LawOptions& o, std::string* label) {
  if (o.hoffmann) {
    *label = "Hoffmann et al. 2022";
    return scaling::kHoffmann2022;
  }
  if (o.e_opt != nullptr && o.e_opt->count() > 0) {
    scaling::ScalingLaw l{o.E, o.A, o.B, o.alpha, o.beta};
    l.validate();
    *label = "flags";
    return l;
  }
  SCALELAB_CHECK(std::filesystem::exists(o.params),
                 "{}: no fitted law (run `scalelab fit` first, or give --E --A --B --alpha --beta)",
                 o.params);
  *label = o.params;
  return scaling::read_scaling_law(o.params);
}

void add_corpus_options(CLI::App& app, CorpusOptions& o, const std::string& what) {
  o.unique_opt = app.add_option("--unique-tokens", o.unique_tokens,
                                "Unique tokens in your corpus: " + what +
                                    " when they are repeated (Muennighoff et al. 2023)");
  app.add_option(
      "--R-D-star", o.R_D_star,
      "R_D* for --unique-tokens, inf for no decay (default: the fit's, else the published 15.4)");
  app.add_option(
      "--R-N-star", o.R_N_star,
      "R_N* for --unique-tokens, inf for no decay (default: the fit's, else the published 5.3)");
}

scaling::DataConstrainedLaw resolve_constrained_law(const LawOptions& lo, const CorpusOptions& o,
                                                    const scaling::ScalingLaw& law,
                                                    const std::string& label, std::string* source) {
  SCALELAB_CHECK(std::isfinite(o.unique_tokens) && o.unique_tokens > 0,
                 "--unique-tokens: must be a positive number of tokens (got {})", o.unique_tokens);
  scaling::DataConstrainedLaw dc{law};
  *source = "published R_D*, R_N* (Muennighoff et al. 2023)";
  if (label == lo.params) {
    const json::Json j = json::read_file(lo.params);
    if (j.is_object() && j.contains("data_constrained")) {
      dc = scaling::data_constrained_law_from_json(j["data_constrained"].value("law", json::Json()),
                                                   lo.params + ": data_constrained.law");
      *source = "fitted R_D*, R_N* (" + lo.params + ")";
    }
  }
  if (o.R_D_star != 0) dc.R_D_star = o.R_D_star;
  if (o.R_N_star != 0) dc.R_N_star = o.R_N_star;
  if (o.R_D_star != 0 || o.R_N_star != 0) *source = "R_D*, R_N* from flags";
  // +∞ (written null by `fit`, or `inf` as a flag) is no decay.
  SCALELAB_CHECK(!std::isnan(dc.R_D_star) && dc.R_D_star > 0,
                 "--R-D-star: must be a positive number, or inf for no decay (got {})",
                 dc.R_D_star);
  SCALELAB_CHECK(!std::isnan(dc.R_N_star) && dc.R_N_star > 0,
                 "--R-N-star: must be a positive number, or inf for no decay (got {})",
                 dc.R_N_star);
  return dc;
}

std::string describe_corpus_law(double unique_tokens, const scaling::DataConstrainedLaw& dc,
                                const scaling::ScalingLaw& law, const std::string& source) {
  std::string s = fmt::format(
      "corpus: {} unique tokens; repeated data by Muennighoff et al. 2023 with R_D* {}, R_N* {} "
      "({})\n",
      format_si(unique_tokens), scaling::format_r_star(dc.R_D_star),
      scaling::format_r_star(dc.R_N_star), source);
  const scaling::ScalingLaw& b = dc.base;
  if (b.E != law.E || b.A != law.A || b.B != law.B || b.alpha != law.alpha || b.beta != law.beta)
    s += fmt::format(
        "  on its own base law, fitted with them: E {:.4g}, A {:.4g}, B {:.4g}, alpha {:.4g}, "
        "beta {:.4g}\n",
        b.E, b.A, b.B, b.alpha, b.beta);
  return s;
}

}  // namespace scalelab::app
