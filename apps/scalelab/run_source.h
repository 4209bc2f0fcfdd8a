// Where scaling commands read runs from: the project's run database (--db, default runs.db) or a
// chinchilla-format CSV (--csv). Reading never creates a database.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "runs/run.h"

namespace scalelab::app {

struct RunSource {
  std::string db = "runs.db";
  std::string csv;
  std::string convention = "total";  // scaling::SizeConvention's name: what N is
};

void add_run_source(CLI::App& app, RunSource& source);
// Loads every run (all statuses); label names the source for output.
std::vector<runs::Run> load_runs(const RunSource& source, std::string* label);
// The done runs as observations, N under --size-convention (sweep databases record all three; a
// CSV only the total).
std::vector<scaling::Observation> load_observations(const RunSource& source, std::string* label);
// Parses "1e18,1e19" or repeated values into numbers (CLI11 already splits on commas).
void check_positive(const std::vector<double>& values, const char* option);

}  // namespace scalelab::app
