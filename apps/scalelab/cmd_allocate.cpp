// `scalelab allocate --C 1e21`: the compute-optimal N, D and loss for budgets, in closed form from
// a fitted law (--params, written by `scalelab fit`) or from parameters given as flags.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/format.h"
#include "law_options.h"
#include "run_source.h"

namespace scalelab::app {

namespace {

struct AllocateOptions {
  LawOptions law;
  std::vector<double> C;
  bool json = false;
};

void run_allocate(const AllocateOptions& o) {
  check_positive(o.C, "--C");
  std::string label;
  scaling::ScalingLaw law = resolve_law(o.law, &label);
  json::Json arr = json::Json::array();
  TextTable t({"C (FLOPs)", "N_opt", "D_opt", "D/N", "loss"});
  for (double C : o.C) {
    scaling::Allocation a = law.allocate(C);
    arr.push_back({{"C", C},
                   {"N_opt", a.N},
                   {"D_opt", a.D},
                   {"tokens_per_param", a.tokens_per_param()},
                   {"loss", a.loss}});
    t.add_row({format_sci(C, 3), format_si(a.N), format_si(a.D), fmt::format("{:.1f}", a.D / a.N),
               fmt::format("{:.4f}", a.loss)});
  }
  if (o.json) {
    std::cout << json::Json{{"law", scaling::to_json(law)}, {"source", label}, {"allocations", arr}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout
      << fmt::format(
             "law ({}): E {:.4g}, A {:.4g}, B {:.4g}, alpha {:.4g}, beta {:.4g}; N_opt ∝ C^{:.3f}, "
             "D_opt ∝ C^{:.3f}\n",
             label, law.E, law.A, law.B, law.alpha, law.beta, law.a(), law.b())
      << t.str();
}

}  // namespace

Command setup_allocate(CLI::App& app) {
  auto* sub =
      app.add_subcommand("allocate", "Compute-optimal N and D for FLOP budgets (closed form)");
  auto o = std::make_shared<AllocateOptions>();
  sub->add_option("--C", o->C, "FLOP budget(s), comma-separated")->required()->delimiter(',');
  add_law_options(*sub, o->law);
  sub->add_flag("--json", o->json, "Print JSON");
  return {sub, [o] { run_allocate(*o); }};
}

}  // namespace scalelab::app
