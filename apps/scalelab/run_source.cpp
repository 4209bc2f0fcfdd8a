#include "run_source.h"

#include <cmath>
#include <filesystem>

#include "common/csv.h"
#include "common/error.h"
#include "runs/run_db.h"

namespace scalelab::app {

void add_run_source(CLI::App& app, RunSource& s) {
  app.add_option("--db", s.db, "Run database (SQLite)")->capture_default_str();
  app.add_option("--csv", s.csv,
                 "Read runs from a chinchilla-format CSV (C,N,D,loss) instead of --db");
  app.add_option("--size-convention", s.convention,
                 "What N is: total parameters, non-embedding parameters, or FLOPs per token / 6 "
                 "(the last two need a sweep's run database; docs/scaling.md)")
      ->check(CLI::IsMember(fields::enum_choices<scaling::SizeConvention>()))
      ->capture_default_str();
}

std::vector<scaling::Observation> load_observations(const RunSource& s, std::string* label) {
  // A model trained with several seeds enters the fit once, at its mean loss (runs/run.h).
  return runs::observations(
      runs::mean_over_seeds(load_runs(s, label)),
      fields::parse_enum<scaling::SizeConvention>(s.convention, "--size-convention"));
}

std::vector<runs::Run> load_runs(const RunSource& s, std::string* label) {
  if (!s.csv.empty()) {
    if (label != nullptr) *label = s.csv;
    return runs::runs_from_csv(csv::read_file(s.csv), s.csv);
  }
  SCALELAB_CHECK(
      std::filesystem::exists(s.db),
      "{}: no such run database (create one with `scalelab runs import` or `scalelab runs add`)",
      s.db);
  if (label != nullptr) *label = s.db;
  runs::RunDb db(s.db);
  return db.list();
}

void check_positive(const std::vector<double>& values, const char* option) {
  for (double v : values)
    SCALELAB_CHECK(std::isfinite(v) && v > 0, "{}: must be positive numbers (got {})", option, v);
}

}  // namespace scalelab::app
