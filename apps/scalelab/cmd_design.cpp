// `scalelab design --target C`: which runs to add next so that the interval on N_opt(C) narrows the
// most per FLOP (scaling/design.h: greedy Fisher-information design around the current fit),
// beside what the same spend on the recorded grid's next budget would give.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/format.h"
#include "config_flags.h"
#include "run_source.h"
#include "scaling/design.h"

namespace scalelab::app {

namespace {

using namespace scaling;

struct DesignCliOptions {
  RunSource source;
  ConfigFlags<DesignOptions> design;  // design_options_fields()
  ConfigFlags<FitOptions> fit;        // fit_options_fields()
  bool json = false;
};

std::string interval_string(const Interval& i) {
  return fmt::format("[{}, {}] (×{:.2f})", format_si(i.lo), format_si(i.hi), i.hi / i.lo);
}

void run_design(const DesignCliOptions& o) {
  DesignOptions dopt;
  o.design.apply(dopt);
  dopt.validate();  // a missing --target fails before the runs are read
  FitOptions fopt;
  o.fit.apply(fopt);
  std::string label;
  const std::vector<Observation> runs = load_observations(o.source, &label);
  SCALELAB_CHECK(runs.size() >= 5,
                 "{}: {} runs; design needs at least 5 (the law has 5 parameters)", label,
                 runs.size());
  const FitData data = to_fit_data(runs);
  const FitResult fit = fit_scaling_law(data, fopt);
  const Design d = design_next_runs(data, fit.law, dopt);
  if (o.json) {
    json::Json j = to_json(d);
    j["source"] = label;
    j["law"] = to_json(fit.law);
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::string out = fmt::format(
      "scalelab design: {} runs from {}; L(N, D) = {:.4g} + {:.4g} / N^{:.4g} + {:.4g} / "
      "D^{:.4g}\n",
      data.size(), label, fit.law.E, fit.law.A, fit.law.alpha, fit.law.B, fit.law.beta);
  out += fmt::format(
      "method: Fisher information around the fit, noise {:.4g} in log loss per run ({}); "
      "intervals {:.0f}%\n",
      d.sigma, d.sigma_from_fit ? "from the residuals" : "given", 100 * dopt.confidence);
  out += fmt::format("N_opt at {}: {}, interval now {}\n\n", format_sci(d.target, 3),
                     format_si(d.N_opt_now.median), interval_string(d.N_opt_now));
  if (d.runs.empty()) {
    out += fmt::format("no candidate run fits a spend of {} FLOPs: raise --spend\n",
                       format_sci(d.spend, 3));
  } else {
    out += fmt::format(
        "proposed runs, each the largest cut in the interval per FLOP ({} of {} FLOPs spent):\n",
        format_sci(d.runs.back().spent, 3), format_sci(d.spend, 3));
    TextTable t({"#", "C (FLOPs)", "N", "D", "D/N", "spent", "N_opt interval after"});
    for (size_t k = 0; k < d.runs.size(); ++k) {
      const DesignRun& r = d.runs[k];
      t.add_row({std::to_string(k + 1), format_sci(r.C, 3), format_si(r.N), format_si(r.D),
                 fmt::format("{:.1f}", r.D / r.N), format_sci(r.spent, 3),
                 interval_string(r.N_opt)});
    }
    out += t.str();
  }
  const GridStep& g = d.grid_step;
  out +=
      fmt::format("\nthe grid's next budget instead: {} runs at C = {} ({} FLOPs) → interval {}\n",
                  g.N.size(), format_sci(g.C, 3), format_sci(g.cost, 3), interval_string(g.N_opt));
  std::cout << out;
}

}  // namespace

Command setup_design(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "design", "Which runs to add next to narrow the interval on N_opt at a target budget");
  auto o = std::make_shared<DesignCliOptions>();
  add_run_source(*sub, o->source);
  o->design.add_table(*sub, design_options_fields());
  o->fit.add_table(*sub, fit_options_fields());
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_design(*o); }};
}

}  // namespace scalelab::app
