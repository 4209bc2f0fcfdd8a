// `scalelab allocate --C 1e21`: the compute-optimal N, D and loss for budgets, in closed form from
// a fitted law (--params, written by `scalelab fit`) or from parameters given as flags; with
// --inference-tokens T also the model that reaches that loss for the least training + inference
// compute.
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

namespace scalelab::app {

namespace {

struct AllocateOptions {
  LawOptions law;
  CorpusOptions corpus;
  std::vector<double> C;
  double inference_tokens = 0;  // > 0: also the least training + inference compute (Sardana)
  bool json = false;
};

void run_allocate(const AllocateOptions& o) {
  check_positive(o.C, "--C");
  SCALELAB_CHECK(std::isfinite(o.inference_tokens) && o.inference_tokens >= 0,
                 "--inference-tokens: must be a non-negative number of tokens (got {})",
                 o.inference_tokens);
  const bool constrained = o.corpus.given();
  const double T = o.inference_tokens;
  std::string label;
  scaling::ScalingLaw law = resolve_law(o.law, &label);
  std::string dc_source;
  scaling::DataConstrainedLaw dc{law};
  if (constrained) dc = resolve_constrained_law(o.law, o.corpus, law, label, &dc_source);
  json::Json arr = json::Json::array();
  std::vector<std::string> head{"C (FLOPs)", "N_opt", "D_opt", "D/N", "loss"};
  if (constrained) head.insert(head.end(), {"N (corpus)", "D (corpus)", "epochs", "loss (corpus)"});
  if (T > 0)
    head.insert(head.end(), {"N (inference)", "D (inference)", "D/N (inference)",
                             "train+infer FLOPs", "saved"});
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
      const scaling::Allocation c = dc.allocate(C, o.corpus.unique_tokens);
      row["for_the_corpus"] = {
          {"N", c.N}, {"D", c.D}, {"epochs", c.D / o.corpus.unique_tokens}, {"loss", c.loss}};
      cells.insert(cells.end(), {format_si(c.N), format_si(c.D),
                                 fmt::format("{:.2f}", c.D / o.corpus.unique_tokens),
                                 fmt::format("{:.4f}", c.loss)});
    }
    if (T > 0) {
      // Chinchilla's model serving T tokens costs C + 2·N_opt·T; the inference-aware one reaches
      // the same loss for less.
      const scaling::InferenceAllocation r = law.allocate_with_inference(C, T);
      row["with_inference"] = scaling::to_json(r);
      cells.insert(cells.end(),
                   {format_si(r.N), format_si(r.D), fmt::format("{:.1f}", r.D / r.N),
                    format_sci(r.total_flops(), 3), fmt::format("{:.1f}%", 100 * r.saving())});
    }
    arr.push_back(std::move(row));
    t.add_row(cells);
  }
  if (o.json) {
    json::Json j{{"law", scaling::to_json(law)}, {"source", label}, {"allocations", arr}};
    if (constrained) {
      j["unique_tokens"] = o.corpus.unique_tokens;
      j["data_constrained"] = {{"law", scaling::to_json(dc)}, {"source", dc_source}};
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format(
      "law ({}): E {:.4g}, A {:.4g}, B {:.4g}, alpha {:.4g}, beta {:.4g}; N_opt ∝ C^{:.3f}, "
      "D_opt ∝ C^{:.3f}\n",
      label, law.E, law.A, law.B, law.alpha, law.beta, law.a(), law.b());
  if (constrained) std::cout << describe_corpus_law(o.corpus.unique_tokens, dc, law, dc_source);
  if (T > 0)
    std::cout << fmt::format(
        "with {} inference tokens: the model that reaches each row's loss for the least training "
        "+ inference compute 6ND + 2N·T (Sardana et al. 2024); saved: against the compute-optimal "
        "model serving the same tokens\n",
        format_si(T));
  std::cout << t.str();
}

}  // namespace

Command setup_allocate(CLI::App& app) {
  auto* sub =
      app.add_subcommand("allocate", "Compute-optimal N and D for FLOP budgets (closed form)");
  auto o = std::make_shared<AllocateOptions>();
  sub->add_option("--C", o->C, "FLOP budget(s), comma-separated")->required()->delimiter(',');
  add_law_options(*sub, o->law);
  add_corpus_options(*sub, o->corpus, "also allocate, next to the fresh-data answer,");
  sub->add_option("--inference-tokens", o->inference_tokens,
                  "Tokens the model will serve: also the model that reaches the compute-optimal "
                  "loss for the least training + inference compute 6ND + 2N·T (Sardana et al. "
                  "2024)");
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_allocate(*o); }};
}

}  // namespace scalelab::app
