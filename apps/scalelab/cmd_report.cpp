// `scalelab report --db runs.db --out report/`: the HTML report of the runs in a database. Targets,
// fit loss, architecture rule, bootstrap samples and seed come from the sweep that made the
// database (stored in it) unless given here, so the report's intervals are the sweep's.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/json.h"
#include "common/log.h"
#include "report/report.h"
#include "runs/run_db.h"
#include "sweep/results.h"
#include "sweep/sweep_config.h"

namespace scalelab::app {

namespace {

struct ReportOptions {
  std::string db = "runs.db";
  std::string out = "report";
  std::vector<double> targets;
  std::string loss;
  int64_t bootstrap_samples = 0;  // 0 = the sweep's, else 200
  uint64_t seed = 0;
  bool seed_given = false;  // else the sweep's seed
  std::string title = report::ReportInfo{}.title;
  double tolerance = scaling::IsoflopOptions{}.tolerance;
};

void run_report(const ReportOptions& o) {
  SCALELAB_CHECK(std::filesystem::exists(o.db), "--db: {}: no such file", o.db);
  runs::RunDb db(o.db);
  sweep::AnalysisOptions ao;
  ao.bootstrap_samples = 200;
  ao.seed = o.seed;
  report::ReportInfo info;
  info.db_path = o.db;
  info.title = o.title;
  std::string loss = "log-huber";
  if (auto stored = db.get_meta("sweep_config")) {
    const sweep::SweepConfig c = sweep::sweep_config_from_json(
        json::parse(*stored, o.db + ": sweep_config"), o.db + ": sweep_config");
    info.sweep_config = sweep::to_json(c);
    ao.targets = c.resolved_targets();
    ao.convention = c.size_convention;
    ao.inference_tokens = c.inference_tokens;
    ao.bootstrap_samples = c.bootstrap_samples;
    if (!o.seed_given) ao.seed = c.seed;
    loss = fields::enum_name(c.loss);
    // The vocabulary is in every run's model shape.
    const auto runs = db.list();
    if (!runs.empty() && runs.front().config.contains("model")) {
      sweep::ArchitectureRule rule = c.architecture;
      rule.vocab_size = runs.front().config["model"].value("vocab_size", int64_t{0});
      if (rule.vocab_size > 0) ao.architecture = rule;
    }
  }
  if (!o.targets.empty()) ao.targets = o.targets;
  if (o.bootstrap_samples > 0) ao.bootstrap_samples = o.bootstrap_samples;
  if (!o.loss.empty()) loss = o.loss;
  ao.loss = scaling::parse_loss_function(loss);
  ao.budget_tolerance = o.tolerance;
  const sweep::SweepAnalysis a = sweep::analyze_runs(db, ao);
  for (const auto& w : a.warnings) SCALELAB_LOG_WARN("{}", w);
  const auto page = report::write_report(a, info, o.out);
  std::cout << sweep::format_recommendations(a) << "report: " << page.string() << "\n";
}

}  // namespace

Command setup_report(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "report", "Write the HTML report (figures by gnuplot, inline SVG) of a run database");
  auto o = std::make_shared<ReportOptions>();
  sub->add_option("--db", o->db, "Run database")->capture_default_str();
  sub->add_option("--out", o->out, "Output directory (index.html, analysis.json, plots/)")
      ->capture_default_str();
  sub->add_option("--targets,--target", o->targets,
                  "Target budget(s) to recommend for, comma-separated (default: the sweep's "
                  "targets)")
      ->delimiter(',');
  sub->add_option("--loss", o->loss, "Fit loss (default: the sweep's, else log-huber)");
  sub->add_option("--bootstrap-samples", o->bootstrap_samples,
                  "Bootstrap resamples (0 = the sweep's bootstrap_samples, else 200)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  auto* seed =
      sub->add_option("--seed", o->seed, "Bootstrap seed (default: the sweep's seed, else 0)");
  sub->add_option("--title", o->title, "Page title")->capture_default_str();
  sub->add_option("--tolerance", o->tolerance,
                  "Runs without a planned budget or label share an IsoFLOP budget when |ln C − ln "
                  "C_first| <= this (as isoflop --tolerance)")
      ->capture_default_str();
  return {sub, [o, seed]() {
            o->seed_given = seed->count() > 0;
            run_report(*o);
          }};
}

}  // namespace scalelab::app
