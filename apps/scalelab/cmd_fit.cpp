// `scalelab fit`: fit L(N, D) = E + A/N^α + B/D^β to recorded runs (approach 3) from a start grid,
// with bootstrap intervals, an optional held-out check, identifiability warnings, and
// --compare-losses. Writes the fitted law (and everything reported) to --out only after every step
// succeeded.
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "common/progress.h"
#include "config_flags.h"
#include "run_source.h"
#include "runs/run.h"
#include "scaling/pipeline.h"

namespace scalelab::app {

namespace {

using namespace scaling;

struct FitCliOptions {
  RunSource source;
  ConfigFlags<FitOptions> fit;         // fit_options_fields()
  ConfigFlags<BootstrapOptions> boot;  // bootstrap_options_fields()
  std::string grid;                    // JSON file
  std::vector<double> budgets{1e21, 1e22, 1e23, 1e24};
  std::string holdout;
  bool compare = false;
  bool data_constrained = false;
  std::string out = "scaling_law.json";
  bool json = false;
  bool quiet = false;
};

std::string law_string(const ScalingLaw& l) {
  return fmt::format("L(N, D) = {:.4g} + {:.4g} / N^{:.4g} + {:.4g} / D^{:.4g}", l.E, l.A, l.alpha,
                     l.B, l.beta);
}

void run_fit(const FitCliOptions& o) {
  std::string label;
  const std::vector<Observation> runs = load_observations(o.source, &label);
  // The fit's own check (FitData::validate) cannot name where the runs came from.
  SCALELAB_CHECK(runs.size() >= 5, "{}: {} runs; fitting the scaling law needs at least 5", label,
                 runs.size());
  check_positive(o.budgets, "--budgets");
  PipelineOptions po;
  po.targets = o.budgets;
  o.fit.apply(po.fit);
  if (!o.grid.empty()) po.fit.grid = param_grid_from_json(json::read_file(o.grid), o.grid);
  o.boot.apply(po.bootstrap);
  if (!o.holdout.empty()) po.holdout = parse_holdout(o.holdout);
  po.compare_losses = o.compare;
  if (o.data_constrained) po.repeat = RepeatStage::kRequire;
  po.on_failure = OnFailure::kThrow;
  if (!o.quiet && log::enabled(log::Level::kInfo))
    po.progress = [](std::string_view stage, int64_t total) {
      return std::make_unique<ProgressBar>(
          std::string(stage), total, ProgressOptions{.unit = stage == "fit" ? "starts" : "fits"});
    };
  const Analysis an = analyze(runs, po);
  const FitOptions& opt = po.fit;
  const FitResult& fit = *an.fit;
  const std::optional<BootstrapResult>& bs = an.bootstrap;
  const std::optional<HoldoutResult>& ho = an.holdout;
  const std::vector<LossComparison>& cmp = an.comparison;
  std::vector<std::string> warnings;
  for (const auto& w : an.warnings) warnings.push_back(w.text);

  // Everything computed: now write and print.
  json::Json j;
  j["source"] = label;
  j["law"] = to_json(fit.law);
  j["fit"] = to_json(fit);
  j["grid"] = to_json(opt.grid);
  j["precision"] = std::string(to_string(opt.precision));
  json::Json alloc = json::Json::array();
  for (const Allocation& a : an.allocations) {
    alloc.push_back({{"C", a.C},
                     {"N_opt", a.N},
                     {"D_opt", a.D},
                     {"tokens_per_param", a.tokens_per_param()},
                     {"loss", a.loss}});
  }
  j["allocations"] = alloc;
  if (bs) j["bootstrap"] = to_json(*bs);
  if (ho) j["holdout"] = to_json(*ho);
  if (an.data_constrained) j["data_constrained"] = to_json(*an.data_constrained);
  if (!cmp.empty()) {
    json::Json c = json::Json::array();
    for (const auto& x : cmp)
      c.push_back({{"loss", std::string(to_string(x.loss))},
                   {"law", to_json(x.fit.law)},
                   {"objective", x.fit.objective},
                   {"N_opt", x.N_opt}});
    j["compare_losses"] = c;
  }
  j["warnings"] = warnings;
  if (!o.out.empty()) json::write_file(o.out, j);

  // Diagnostics: once, on stderr (and in the JSON); the report on stdout is the result.
  for (const auto& w : warnings) SCALELAB_LOG_WARN("{}", w);
  if (o.json) {
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::string out;
  const bool varpro = fit.method == FitMethod::kVarPro;
  out += fmt::format(
      "scalelab fit: {} runs from {}; loss {}{}; {}\n", fit.n_runs, label, to_string(fit.loss),
      fit.delta > 0 ? fmt::format(" (delta {:g})", fit.delta) : "",
      varpro ? fmt::format("variable projection over alpha in [{:g}, {:g}], beta in [{:g}, {:g}]",
                           opt.alpha_min, opt.alpha_max, opt.beta_min, opt.beta_max)
             : fmt::format("grid of {} starts; {}", format_int(static_cast<int64_t>(fit.starts)),
                           to_string(opt.precision)));
  out += law_string(fit.law) + "\n\n";
  std::vector<std::string> hdr{"parameter", "estimate"};
  if (bs) {
    hdr.push_back(fmt::format("{:.0f}% interval", 100 * bs->confidence));
    hdr.push_back("median");
  }
  TextTable pt(hdr);
  auto prow = [&](const char* name, double v) {
    std::vector<std::string> row{name, fmt::format("{:.6g}", v)};
    if (bs) {
      const Interval& iv = bs->params.at(name);
      row.push_back(fmt::format("[{:.4g}, {:.4g}]", iv.lo, iv.hi));
      row.push_back(fmt::format("{:.4g}", iv.median));
    }
    pt.add_row(row);
  };
  prow("E", fit.law.E);
  prow("A", fit.law.A);
  prow("B", fit.law.B);
  prow("alpha", fit.law.alpha);
  prow("beta", fit.law.beta);
  prow("a", fit.law.a());
  prow("b", fit.law.b());
  out += pt.str();
  out += "  a = beta/(alpha+beta): N_opt ∝ C^a;  b = alpha/(alpha+beta): D_opt ∝ C^b\n";
  if (an.data_constrained) {
    const auto& d = *an.data_constrained;
    out += fmt::format(
        "repeated data (Muennighoff et al. 2023; {} runs past one epoch): {}; base law {}\n"
        "  RMSE of log loss on those runs {:.4f} (as fresh data: {:.4f}); `allocate "
        "--unique-tokens U` uses it{}\n",
        d.repeated_runs, describe_constants(d), law_string(d.law.base), d.rmse_log, d.rmse_log_base,
        d.note.empty() ? "" : "\n  " + d.note);
  }
  if (bs)
    out += fmt::format(
        "  intervals: percentile bootstrap over runs, {} samples ({} excluded), seed {}\n",
        bs->samples, bs->failed, po.bootstrap.seed);
  out += fmt::format(
      "fit quality: RMSE of log loss {:.4g}, max |error| {:.4g}, R² {:.4f}, objective {:.6g}\n",
      fit.rmse_log, fit.max_abs_err_log, fit.r2, fit.objective);
  if (varpro)
    out += fmt::format(
        "search: {} (alpha, beta) grid points, {} local minima refined by Newton ({} within {:g} "
        "of the best objective), {} inner solves; {:.1f} ms\n\n",
        format_int(static_cast<int64_t>(fit.grid_cells)), fit.starts, fit.starts_near_best,
        opt.near_best_rtol, format_int(static_cast<int64_t>(fit.evaluations)), fit.seconds * 1e3);
  else
    out += fmt::format(
        "starts: {} converged ({} stopped early in a known basin), {} failed; {} within {:g} of "
        "the best objective; {:.2f} s\n\n",
        fit.starts_converged, fit.starts_pruned, fit.starts_failed, fit.starts_near_best,
        opt.near_best_rtol, fit.seconds);

  std::vector<std::string> ah{"C (FLOPs)", "N_opt", "D_opt", "D/N", "loss"};
  if (bs) {
    ah.push_back("N_opt interval");
    ah.push_back("D_opt interval");
  }
  TextTable at(ah);
  for (size_t k = 0; k < an.allocations.size(); ++k) {
    const Allocation& a = an.allocations[k];
    std::vector<std::string> row{format_sci(a.C, 3), format_si(a.N), format_si(a.D),
                                 fmt::format("{:.1f}", a.D / a.N), fmt::format("{:.4f}", a.loss)};
    if (bs) {
      const auto& b = bs->budgets[k];
      row.push_back(fmt::format("[{}, {}]", format_si(b.N_opt.lo), format_si(b.N_opt.hi)));
      row.push_back(fmt::format("[{}, {}]", format_si(b.D_opt.lo), format_si(b.D_opt.hi)));
    }
    at.add_row(row);
  }
  out += "compute-optimal allocation (C = 6ND):\n" + at.str();

  if (ho) {
    out += fmt::format("\nheld-out check: fit on {} runs, predict {} held-out runs (C >= {:.3g})\n",
                       ho->fit.n_runs, ho->rows.size(), ho->threshold_C);
    TextTable ht({"id", "N", "D", "C", "actual", "predicted", "error"});
    for (const auto& r : ho->rows)
      ht.add_row({std::to_string(r.id), format_si(r.N), format_si(r.D), format_sci(r.C, 3),
                  fmt::format("{:.4f}", r.actual), fmt::format("{:.4f}", r.predicted),
                  fmt::format("{:+.2f}%", 100 * r.rel_error)});
    out +=
        ht.str() + fmt::format("  mean |relative error| {:.2f}%\n", 100 * ho->mean_abs_rel_error);
  }
  if (!cmp.empty()) {
    std::vector<std::string> ch{"loss function", "E", "A", "B", "alpha", "beta"};
    for (double C : o.budgets) ch.push_back(fmt::format("N_opt({:.0e})", C));
    TextTable ct(ch);
    for (const auto& c : cmp) {
      std::vector<std::string> row{
          std::string(to_string(c.loss)),         fmt::format("{:.4g}", c.fit.law.E),
          fmt::format("{:.4g}", c.fit.law.A),     fmt::format("{:.4g}", c.fit.law.B),
          fmt::format("{:.4g}", c.fit.law.alpha), fmt::format("{:.4g}", c.fit.law.beta)};
      for (double n : c.N_opt) row.push_back(std::isnan(n) ? "-" : format_si(n));
      ct.add_row(row);
    }
    double lo = INFINITY, hi = 0;
    for (const auto& c : cmp)
      if (!c.N_opt.empty() && std::isfinite(c.N_opt.back())) {
        lo = std::min(lo, c.N_opt.back());
        hi = std::max(hi, c.N_opt.back());
      }
    out += "\nsensitivity to the loss function:\n" + ct.str();
    if (hi > 0)
      out += fmt::format("  N_opt at C = {:.0e} moves by {:.2f}× across loss functions\n",
                         o.budgets.back(), hi / lo);
  }
  if (!o.out.empty()) out += fmt::format("\nsaved {}\n", o.out);
  std::cout << out;
}

}  // namespace

Command setup_fit(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "fit", "Fit the parametric scaling law L(N, D) to recorded runs (approach 3)");
  auto o = std::make_shared<FitCliOptions>();
  add_run_source(*sub, o->source);
  // Every field of the fit's and the bootstrap's tables (scaling/fit.cpp, scaling/bootstrap.cpp).
  o->fit.add_table(*sub, fit_options_fields());
  o->boot.add_table(*sub, bootstrap_options_fields());
  sub->add_option("--grid", o->grid, "Start grid JSON (default: the paper's 4,500 starts)");
  sub->add_option("--budgets", o->budgets, "Budgets (FLOPs) to allocate, comma-separated")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--holdout", o->holdout, "Held-out check: 'largest-budget' or a C threshold");
  add_bool_flag(*sub, "--compare-losses", o->compare,
                "Refit with every loss function and compare N_opt");
  add_bool_flag(*sub, "--data-constrained", o->data_constrained,
                "Fit the repeated-data law (Muennighoff et al. 2023; automatic when 3+ runs repeat "
                "their data): an error when the runs cannot identify it");
  sub->add_option("--out", o->out, "Write the fit (law and report) as JSON here ('' = don't)")
      ->capture_default_str();
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  add_bool_flag(*sub, "--quiet", o->quiet, "No progress bars");
  return {sub, [o] { run_fit(*o); }};
}

}  // namespace scalelab::app
