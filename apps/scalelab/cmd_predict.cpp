// `scalelab predict --N 1e9 --D 2e10`: L(N, D) from a fitted law (or flags); several values pair
// up.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/format.h"
#include "config_flags.h"
#include "law_options.h"
#include "run_source.h"

namespace scalelab::app {

namespace {

struct PredictOptions {
  LawOptions law;
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
  const size_t n = std::max(o.N.size(), o.D.size());
  json::Json arr = json::Json::array();
  TextTable t({"N", "D", "C = 6ND", "D/N", "predicted loss"});
  for (size_t i = 0; i < n; ++i) {
    double N = o.N.size() == 1 ? o.N[0] : o.N[i], D = o.D.size() == 1 ? o.D[0] : o.D[i];
    double L = law.predict_loss(N, D);
    arr.push_back({{"N", N}, {"D", D}, {"C", 6 * N * D}, {"loss", L}});
    t.add_row({format_si(N), format_si(D), format_sci(6 * N * D, 3), fmt::format("{:.1f}", D / N),
               fmt::format("{:.5f}", L)});
  }
  if (o.json) {
    std::cout << json::Json{{"law", scaling::to_json(law)}, {"source", label}, {"predictions", arr}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << t.str();
}

}  // namespace

Command setup_predict(CLI::App& app) {
  auto* sub = app.add_subcommand("predict", "Predicted loss L(N, D) from a fitted law");
  auto o = std::make_shared<PredictOptions>();
  sub->add_option("--N", o->N, "Parameters, comma-separated")->required()->delimiter(',');
  sub->add_option("--D", o->D, "Tokens, comma-separated")->required()->delimiter(',');
  add_law_options(*sub, o->law);
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_predict(*o); }};
}

}  // namespace scalelab::app
