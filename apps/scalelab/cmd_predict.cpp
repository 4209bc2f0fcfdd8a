// `scalelab predict --N 1e9 --D 2e10`: L(N, D) from a fitted law (or flags); several values pair
// up. With --unique-tokens U, also the loss when D repeats a corpus of U tokens (the
// data-constrained law of Muennighoff et al. 2023).
#include <fmt/format.h>

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

struct PredictOptions {
  LawOptions law;
  CorpusOptions corpus;
  std::vector<double> N, D;
  bool json = false;
};

void run_predict(const PredictOptions& o) {
  check_positive(o.N, "--N");
  check_positive(o.D, "--D");
  SCALELAB_CHECK(o.N.size() == o.D.size() || o.N.size() == 1 || o.D.size() == 1,
                 "--N and --D: give the same number of values, or one of either ({} vs {})",
                 o.N.size(), o.D.size());
  std::string label;
  scaling::ScalingLaw law = resolve_law(o.law, &label);
  const bool constrained = o.corpus.given();
  const double U = o.corpus.unique_tokens;
  std::string dc_source;
  scaling::DataConstrainedLaw dc{law};
  if (constrained) dc = resolve_constrained_law(o.law, o.corpus, law, label, &dc_source);
  const size_t n = std::max(o.N.size(), o.D.size());
  json::Json arr = json::Json::array();
  std::vector<std::string> head{"N", "D", "C = 6ND", "D/N", "predicted loss"};
  if (constrained) head.insert(head.end(), {"epochs", "loss (corpus)"});
  TextTable t(head);
  for (size_t i = 0; i < n; ++i) {
    double N = o.N.size() == 1 ? o.N[0] : o.N[i], D = o.D.size() == 1 ? o.D[0] : o.D[i];
    double L = law.predict_loss(N, D);
    json::Json row{{"N", N}, {"D", D}, {"C", 6 * N * D}, {"loss", L}};
    std::vector<std::string> cells{format_si(N), format_si(D), format_sci(6 * N * D, 3),
                                   fmt::format("{:.1f}", D / N), fmt::format("{:.5f}", L)};
    if (constrained) {
      const double Lc = dc.predict_loss(N, D, U);
      row["for_the_corpus"] = {{"epochs", D / U}, {"loss", Lc}};
      cells.insert(cells.end(), {fmt::format("{:.2f}", D / U), fmt::format("{:.5f}", Lc)});
    }
    arr.push_back(std::move(row));
    t.add_row(cells);
  }
  if (o.json) {
    json::Json j{{"law", scaling::to_json(law)}, {"source", label}, {"predictions", arr}};
    if (constrained) {
      j["unique_tokens"] = U;
      j["data_constrained"] = {{"law", scaling::to_json(dc)}, {"source", dc_source}};
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  if (constrained) std::cout << describe_corpus_law(U, dc, law, dc_source);
  std::cout << t.str();
}

}  // namespace

Command setup_predict(CLI::App& app) {
  auto* sub = app.add_subcommand("predict", "Predicted loss L(N, D) from a fitted law");
  auto o = std::make_shared<PredictOptions>();
  sub->add_option("--N", o->N, "Parameters, comma-separated")->required()->delimiter(',');
  sub->add_option("--D", o->D, "Tokens, comma-separated")->required()->delimiter(',');
  add_law_options(*sub, o->law);
  add_corpus_options(*sub, o->corpus, "also predict the loss");
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_predict(*o); }};
}

}  // namespace scalelab::app
