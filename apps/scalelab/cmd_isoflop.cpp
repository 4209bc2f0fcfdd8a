// `scalelab isoflop`: approach 2 (IsoFLOP parabolas per budget → N_opt(C), D_opt(C) power laws)
// and, with --envelope, approach 1 from the loss curves in the run database.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/format.h"
#include "common/log.h"
#include "config_flags.h"
#include "run_source.h"
#include "runs/run_db.h"
#include "scaling/pipeline.h"

namespace scalelab::app {

namespace {

using namespace scaling;
using namespace runs;

struct IsoflopCliOptions {
  RunSource source;
  IsoflopOptions iso;
  bool envelope = false;
  int levels = 50;
  bool json = false;
};

void run_isoflop(const IsoflopCliOptions& o) {
  check_positive(o.iso.targets, "--targets");
  std::string label;
  const std::vector<Observation> runs = load_observations(o.source, &label);
  PipelineOptions po;
  po.parametric = false;
  po.isoflop = o.iso;
  po.targets = o.iso.targets;
  po.on_failure = OnFailure::kThrow;
  const Analysis an = analyze(runs, po);
  const IsoflopResult& r = *an.isoflop;
  std::optional<EnvelopeResult> env;
  if (o.envelope) {
    SCALELAB_CHECK(o.source.csv.empty(),
                   "--envelope needs loss curves: read runs from --db, not --csv");
    RunDb db(o.source.db);
    env = envelope_analysis(runs, curve_samples(db.curves()), o.levels);
  }
  for (const auto& w : an.warnings) SCALELAB_LOG_WARN("{}", w.text);
  if (o.json) {
    json::Json j = to_json(r);
    j["source"] = label;
    if (env) j["envelope"] = to_json(*env);
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::string out = fmt::format("scalelab isoflop: {} budgets from {}\n", r.budgets.size(), label);
  TextTable t({"budget", "C", "runs", "N range", "N_opt", "D_opt", "loss at opt", "note"});
  for (const auto& b : r.budgets) {
    auto [lo, hi] = std::minmax_element(b.N.begin(), b.N.end());
    t.add_row({b.group.label, format_sci(b.group.C, 3), std::to_string(b.N.size()),
               fmt::format("{}–{}", format_si(*lo), format_si(*hi)),
               b.convex ? format_si(b.N_opt) : "-", b.convex ? format_si(b.D_opt) : "-",
               b.convex ? fmt::format("{:.4f}", b.loss_opt) : "-",
               !b.convex ? "no minimum" : (b.vertex_inside ? "" : "extrapolated")});
  }
  out += t.str();
  out += fmt::format("N_opt = {:.4g} · C^{:.4f}  (R² {:.4f}, {} budgets)\n", r.n_opt.coefficient,
                     r.n_opt.exponent, r.n_opt.r2, r.n_opt.points);
  out += fmt::format("D_opt = {:.4g} · C^{:.4f}  (R² {:.4f})\n", r.d_opt.coefficient,
                     r.d_opt.exponent, r.d_opt.r2);
  if (!r.targets.empty()) {
    TextTable tt({"target C", "N_opt", "D_opt", "D/N"});
    for (const auto& x : r.targets)
      tt.add_row(
          {format_sci(x.C, 3), format_si(x.N), format_si(x.D), fmt::format("{:.1f}", x.D / x.N)});
    out += "extrapolation:\n" + tt.str();
  }
  if (env) {
    out +=
        fmt::format("envelope (approach 1, {} FLOP levels): N_opt ∝ C^{:.4f}, D_opt ∝ C^{:.4f}\n",
                    env->frontier.size(), env->n_opt.exponent, env->d_opt.exponent);
  }
  if (!r.warnings.empty()) {
    out += "warnings:\n";
    for (const auto& w : r.warnings) out += "  - " + w + "\n";
  }
  std::cout << out;
}

}  // namespace

Command setup_isoflop(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "isoflop", "IsoFLOP analysis (approach 2) and loss-curve envelope (approach 1)");
  auto o = std::make_shared<IsoflopCliOptions>();
  add_run_source(*sub, o->source);
  sub->add_option("--tolerance", o->iso.tolerance,
                  "Runs share a budget when |ln C − ln C_first| <= this")
      ->capture_default_str();
  sub->add_option("--min-runs", o->iso.min_runs, "Runs needed per budget (>= 3)")
      ->capture_default_str();
  add_bool_flag(*sub, "--skip-small", o->iso.skip_small,
                "Skip budgets with too few runs instead of failing");
  sub->add_option("--targets", o->iso.targets, "Budgets to extrapolate to, comma-separated")
      ->delimiter(',');
  add_bool_flag(*sub, "--envelope", o->envelope,
                "Also run approach 1 on the database's loss curves");
  sub->add_option("--levels", o->levels, "FLOP levels for the envelope")->capture_default_str();
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_isoflop(*o); }};
}

}  // namespace scalelab::app
