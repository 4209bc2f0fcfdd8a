// The run database: one SQLite file per project (default runs.db). WAL mode and BEGIN IMMEDIATE
// writes with a busy timeout make it safe for several writer processes (one trainer per GPU).
// Tables:
//   runs(id, created, status, N, D, C, c_source, loss, budget, config JSON, extra JSON)
//   loss_curve(run_id, step, tokens, flops, loss)
// The schema version lives in PRAGMA user_version; a database from a newer scalelab is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scaling/run.h"

struct sqlite3;

namespace scalelab::scaling {

struct CurvePoint {
  int64_t step = 0;
  double tokens = 0, flops = 0, loss = 0;
};

class RunDb {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens (creating the file and schema if needed). Errors name the file.
  explicit RunDb(const std::filesystem::path& path);
  ~RunDb();
  RunDb(const RunDb&) = delete;
  RunDb& operator=(const RunDb&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Inserts a run (normalised first: C = 6ND when 0); returns its id. One transaction.
  int64_t add(Run run);
  // Inserts many runs in one transaction (all or nothing); returns their ids.
  std::vector<int64_t> add_all(std::vector<Run> runs);
  // Replaces status, N, D, C, c_source, loss, budget, config, extra of an existing run.
  void update(const Run& run);
  void set_status(int64_t id, RunStatus status);
  std::optional<Run> get(int64_t id) const;
  // All runs in id order; optionally only one status.
  std::vector<Run> list(std::optional<RunStatus> status = std::nullopt) const;
  size_t count(std::optional<RunStatus> status = std::nullopt) const;

  // Appends loss-curve points of a run (one transaction); (run_id, step) is unique.
  void add_curve(int64_t run_id, const std::vector<CurvePoint>& points);
  std::vector<CurvePoint> curve(int64_t run_id) const;
  std::map<int64_t, std::vector<CurvePoint>> curves() const;

 private:
  void exec(const char* sql) const;
  void begin_immediate() const;
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace scalelab::scaling
