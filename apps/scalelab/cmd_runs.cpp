// `scalelab runs add|list|import|export`: the project's run database, and the chinchilla package's
// CSV format in and out.
#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <limits>
#include <memory>
#include <set>
#include <tuple>

#include "commands.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "config_flags.h"
#include "runs/run_db.h"

namespace scalelab::app {

namespace {

using namespace scaling;
using namespace runs;

struct RunsOptions {
  std::string db = "runs.db";
  // add
  double N = 0, D = 0, C = 0, loss = std::numeric_limits<double>::quiet_NaN();
  std::string budget, status{to_string(RunStatus::kDone)}, config;
  std::vector<std::string> extra;
  // list
  std::string only_status;
  bool json = false;
  // import / export
  std::string file;
  std::string out = "-";
};

void run_add(const RunsOptions& o) {
  Run r;
  r.status = fields::parse_enum<RunStatus>(o.status, "--status");
  r.N = o.N;
  r.D = o.D;
  r.C = o.C;
  r.c_source = o.C > 0 ? FlopSource::kGiven : FlopSource::kSixND;
  r.loss = o.loss;
  r.budget = o.budget;
  if (!o.config.empty()) r.config = json::read_file(o.config);
  for (const auto& kv : o.extra) {
    auto eq = kv.find('=');
    SCALELAB_CHECK(eq != std::string::npos && eq > 0, "--extra: expected KEY=VALUE, got '{}'", kv);
    r.extra[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  r.normalise("run");
  RunDb db(o.db);
  int64_t id = db.add(r);
  std::cout << fmt::format("added run {} to {}\n", id, o.db);
}

void run_list(const RunsOptions& o) {
  SCALELAB_CHECK(std::filesystem::exists(o.db), "{}: no such run database", o.db);
  RunDb db(o.db);
  std::optional<RunStatus> st;
  if (!o.only_status.empty()) st = fields::parse_enum<RunStatus>(o.only_status, "--status");
  std::vector<Run> runs = db.list(st);
  if (o.json) {
    json::Json j = json::Json::array();
    for (const auto& r : runs)
      j.push_back({{"id", r.id},
                   {"created", r.created},
                   {"status", std::string(to_string(r.status))},
                   {"N", r.N},
                   {"D", r.D},
                   {"C", r.C},
                   {"c_source", std::string(to_string(r.c_source))},
                   {"loss", std::isnan(r.loss) ? json::Json(nullptr) : json::Json(r.loss)},
                   {"budget", r.budget},
                   {"config", r.config},
                   {"extra", r.extra}});
    std::cout << j.dump(2) << "\n";
    return;
  }
  TextTable t({"id", "status", "N", "D", "C", "C from", "D/N", "loss", "budget", "created"});
  for (const auto& r : runs)
    t.add_row({std::to_string(r.id), std::string(to_string(r.status)), format_si(r.N),
               format_si(r.D), format_sci(r.C, 3), std::string(to_string(r.c_source)),
               fmt::format("{:.1f}", r.D / r.N),
               std::isnan(r.loss) ? "-" : fmt::format("{:.4f}", r.loss),
               r.budget.empty() ? "-" : r.budget, r.created});
  std::cout << t.str() << fmt::format("{} runs\n", runs.size());
}

void run_import(const RunsOptions& o) {
  // Parse and validate everything before touching the database: a bad row writes nothing.
  std::vector<Run> runs = runs_from_csv(csv::read_file(o.file), o.file);
  SCALELAB_CHECK(!runs.empty(), "{}: no runs in the file", o.file);
  RunDb db(o.db);
  // A run already in the database (same N, D, C, loss and budget) is not added again: importing a
  // file twice would otherwise double its runs, and every fit would count them twice.
  std::set<std::tuple<double, double, double, double, std::string>> have;
  for (const auto& r : db.list()) have.insert({r.N, r.D, r.C, r.loss, r.budget});
  std::vector<Run> fresh;
  for (auto& r : runs)
    if (!have.contains({r.N, r.D, r.C, r.loss, r.budget})) fresh.push_back(std::move(r));
  const size_t skipped = runs.size() - fresh.size();
  if (skipped > 0)
    SCALELAB_LOG_WARN(
        "{}: {} of its {} runs are already in {} (same N, D, C, loss and budget); "
        "not added again",
        o.file, skipped, runs.size(), o.db);
  if (fresh.empty()) {
    std::cout << fmt::format("imported 0 runs from {}: all {} are already in {}\n", o.file,
                             runs.size(), o.db);
    return;
  }
  auto ids = db.add_all(std::move(fresh));
  std::cout << fmt::format("imported {} runs from {} into {} (ids {}–{})\n", ids.size(), o.file,
                           o.db, ids.front(), ids.back());
}

void run_export(const RunsOptions& o) {
  SCALELAB_CHECK(std::filesystem::exists(o.db), "{}: no such run database", o.db);
  RunDb db(o.db);
  std::vector<Run> runs = db.list(RunStatus::kDone);
  std::string text = csv::format(runs_to_csv(runs));
  if (o.out == "-") {
    std::cout << text;
  } else {
    write_text_file_atomic(o.out, text);
    std::cerr << fmt::format("exported {} done runs to {}\n", runs.size(), o.out);
  }
}

}  // namespace

Command setup_runs(CLI::App& app) {
  auto* sub = app.add_subcommand("runs", "The run database: add, list, import and export runs");
  auto o = std::make_shared<RunsOptions>();
  sub->add_option("--db", o->db, "Run database (SQLite, created when needed)")
      ->capture_default_str();
  sub->require_subcommand(1);

  auto* add = sub->add_subcommand("add", "Record one run");
  add->add_option("--N", o->N, "Parameters")->required();
  add->add_option("--D", o->D, "Training tokens")->required();
  add->add_option("--C", o->C, "FLOPs (0 = 6·N·D)")->capture_default_str();
  add->add_option("--loss", o->loss, "Final loss (required when status is done)");
  add->add_option("--budget", o->budget, "Budget label grouping IsoFLOP runs (e.g. 1e18)");
  add->add_option("--status", o->status, "planned|running|done|failed")
      ->check(CLI::IsMember(fields::enum_choices<runs::RunStatus>()))
      ->capture_default_str();
  add->add_option("--config", o->config, "JSON file stored as the run's config");
  add->add_option("--extra", o->extra, "Extra metric KEY=VALUE (repeatable)");
  add->add_option("--db", o->db, "Run database")->capture_default_str();

  auto* list = sub->add_subcommand("list", "Print the runs as a table (or JSON)");
  list->add_option("--status", o->only_status, "Only runs with this status")
      ->check(CLI::IsMember(fields::enum_choices<runs::RunStatus>()));
  add_bool_flag(*list, "--json", o->json, "Print JSON");
  list->add_option("--db", o->db, "Run database")->capture_default_str();

  auto* imp = sub->add_subcommand(
      "import", "Import a chinchilla-format CSV (C,N,D,loss; extra columns kept)");
  imp->add_option("file", o->file, "CSV file")->required();
  imp->add_option("--db", o->db, "Run database")->capture_default_str();

  auto* exp = sub->add_subcommand("export", "Export done runs as chinchilla-format CSV");
  exp->add_option("--out", o->out, "Output file ('-' = stdout)")->capture_default_str();
  exp->add_option("--db", o->db, "Run database")->capture_default_str();

  return {sub, [=] {
            if (add->parsed()) {
              SCALELAB_CHECK(o->status != "done" || !std::isnan(o->loss),
                             "--loss: required for a done run");
              return run_add(*o);
            }
            if (list->parsed()) return run_list(*o);
            if (imp->parsed()) return run_import(*o);
            run_export(*o);
          }};
}

}  // namespace scalelab::app
