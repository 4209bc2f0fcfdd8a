// `scalelab allocate --C 1e21`: the compute-optimal N, D and loss for budgets, in closed form from
// a fitted law (--params, written by `scalelab fit`) or from parameters given as flags.
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/format.h"
#include "common/json.h"
#include "config_flags.h"
#include "law_options.h"
#include "run_source.h"
#include "scaling/data_constrained.h"

namespace scalelab::app {

namespace {

struct AllocateOptions {
  LawOptions law;
  std::vector<double> C;
  double unique_tokens = 0;  // 0 = fresh data (no corpus limit)
  CLI::Option* unique_opt = nullptr;
  double R_D_star = 0, R_N_star = 0;  // 0 = from --params, else the published constants
  bool json = false;
};

// The data-constrained law for --unique-tokens: the one `scalelab fit` wrote beside the law when
// its runs repeated data, else the base law with Muennighoff et al.'s constants; flags override.
scaling::DataConstrainedLaw constrained_law(const AllocateOptions& o,
                                            const scaling::ScalingLaw& law,
                                            const std::string& label, std::string* source) {
  scaling::DataConstrainedLaw dc{law};
  *source = "published R_D*, R_N* (Muennighoff et al. 2023)";
  if (label == o.law.params) {
    const json::Json j = json::read_file(o.law.params);
    if (j.is_object() && j.contains("data_constrained")) {
      dc = scaling::data_constrained_law_from_json(j["data_constrained"].value("law", json::Json()),
                                                   o.law.params + ": data_constrained.law");
      *source = "fitted R_D*, R_N* (" + o.law.params + ")";
    }
  }
  if (o.R_D_star != 0) dc.R_D_star = o.R_D_star;
  if (o.R_N_star != 0) dc.R_N_star = o.R_N_star;
  if (o.R_D_star != 0 || o.R_N_star != 0) *source = "R_D*, R_N* from flags";
  SCALELAB_CHECK(std::isfinite(dc.R_D_star) && dc.R_D_star > 0,
                 "--R-D-star: must be a positive number (got {})", dc.R_D_star);
  SCALELAB_CHECK(std::isfinite(dc.R_N_star) && dc.R_N_star > 0,
                 "--R-N-star: must be a positive number (got {})", dc.R_N_star);
  return dc;
}

void run_allocate(const AllocateOptions& o) {
  check_positive(o.C, "--C");
  const bool constrained = o.unique_opt != nullptr && o.unique_opt->count() > 0;
  if (constrained)
    SCALELAB_CHECK(std::isfinite(o.unique_tokens) && o.unique_tokens > 0,
                   "--unique-tokens: must be a positive number of tokens (got {})",
                   o.unique_tokens);
  std::string label;
  scaling::ScalingLaw law = resolve_law(o.law, &label);
  std::string dc_source;
  scaling::DataConstrainedLaw dc{law};
  if (constrained) dc = constrained_law(o, law, label, &dc_source);
  json::Json arr = json::Json::array();
  std::vector<std::string> head{"C (FLOPs)", "N_opt", "D_opt", "D/N", "loss"};
  if (constrained) head.insert(head.end(), {"N (corpus)", "D (corpus)", "epochs", "loss (corpus)"});
  TextTable t(head);
  for (double C : o.C) {
    scaling::Allocation a = law.allocate(C);
    json::Json row{{"C", C},
                   {"N_opt", a.N},
                   {"D_opt", a.D},
                   {"tokens_per_param", a.tokens_per_param()},
                   {"loss", a.loss}};
    std::vector<std::string> cells{format_sci(C, 3), format_si(a.N), format_si(a.D),
                                   fmt::format("{:.1f}", a.D / a.N), fmt::format("{:.4f}", a.loss)};
    if (constrained) {
      const scaling::Allocation c = dc.allocate(C, o.unique_tokens);
      row["for_the_corpus"] = {
          {"N", c.N}, {"D", c.D}, {"epochs", c.D / o.unique_tokens}, {"loss", c.loss}};
      cells.insert(cells.end(),
                   {format_si(c.N), format_si(c.D), fmt::format("{:.2f}", c.D / o.unique_tokens),
                    fmt::format("{:.4f}", c.loss)});
    }
    arr.push_back(std::move(row));
    t.add_row(cells);
  }
  if (o.json) {
    json::Json j{{"law", scaling::to_json(law)}, {"source", label}, {"allocations", arr}};
    if (constrained) {
      j["unique_tokens"] = o.unique_tokens;
      j["data_constrained"] = {{"law", scaling::to_json(dc)}, {"source", dc_source}};
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format(
      "law ({}): E {:.4g}, A {:.4g}, B {:.4g}, alpha {:.4g}, beta {:.4g}; N_opt ∝ C^{:.3f}, "
      "D_opt ∝ C^{:.3f}\n",
      label, law.E, law.A, law.B, law.alpha, law.beta, law.a(), law.b());
  if (constrained)
    std::cout << fmt::format(
        "corpus: {} unique tokens; repeated data by Muennighoff et al. 2023 with R_D* {:.3g}, "
        "R_N* {:.3g} ({})\n",
        format_si(o.unique_tokens), dc.R_D_star, dc.R_N_star, dc_source);
  std::cout << t.str();
}

}  // namespace

Command setup_allocate(CLI::App& app) {
  auto* sub =
      app.add_subcommand("allocate", "Compute-optimal N and D for FLOP budgets (closed form)");
  auto o = std::make_shared<AllocateOptions>();
  sub->add_option("--C", o->C, "FLOP budget(s), comma-separated")->required()->delimiter(',');
  add_law_options(*sub, o->law);
  o->unique_opt = sub->add_option(
      "--unique-tokens", o->unique_tokens,
      "Unique tokens in your corpus: also allocate when they may be repeated (Muennighoff et al. "
      "2023), next to the fresh-data answer");
  sub->add_option("--R-D-star", o->R_D_star,
                  "R_D* for --unique-tokens (default: the fit's, else the published 15.4)");
  sub->add_option("--R-N-star", o->R_N_star,
                  "R_N* for --unique-tokens (default: the fit's, else the published 5.3)");
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_allocate(*o); }};
}

}  // namespace scalelab::app
