// The run database: one SQLite file per project (default runs.db). WAL mode and BEGIN IMMEDIATE
// writes with a busy timeout make it safe for several writer processes (one trainer per GPU).
// Tables:
//   runs(id, created, status, N, D, C, c_source, loss, budget, config JSON, extra JSON)
//   loss_curve(run_id, step, tokens, flops, loss)
//   meta(key, value)   — e.g. the sweep's resolved config and plan (schema 2)
// The schema version lives in PRAGMA user_version; a database from a newer scalelab is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "runs/run.h"

struct sqlite3;

namespace scalelab::runs {

class RunDb {
 public:
  static constexpr int kSchemaVersion = 2;  // 2 added meta; 1 opens and upgrades

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

  // Takes the first planned run, marks it running with extra["owner"] = owner and returns it;
  // nullopt when none is planned. One transaction, so concurrent workers never take the same run.
  // First: the lowest id; or, for workers sharing a device, the longest (extra.est_seconds, then
  // id): longest-first keeps the last runs short, so no worker is left alone at the end. A run
  // whose extra["parent_key"] names another run's extra["key"] (a cooldown branch) is taken only
  // once that run is done.
  enum class ClaimOrder { kById, kLongestFirst };
  std::optional<Run> claim_next(const json::Json& owner, ClaimOrder order = ClaimOrder::kById);
  // Runs left `running` whose extra["owner"] is_dead says is gone go back to planned (their owner
  // removed). Returns their ids. One transaction.
  std::vector<int64_t> release_stale(const std::function<bool(const json::Json& owner)>& is_dead);
  // Finishes a run in one transaction: update(run) and its loss curve replaced by `curve`.
  void complete(const Run& run, const std::vector<CurvePoint>& curve);

  // Key/value metadata. set_meta_once stores value unless the key exists, in one transaction, and
  // returns the stored value (so two processes planning at once agree on one).
  std::optional<std::string> get_meta(const std::string& key) const;
  void set_meta(const std::string& key, const std::string& value);
  // Inserts runs and sets key = value in one transaction, unless key already exists. Returns
  // whether this call inserted, and the value stored under key (`value` when it did).
  std::pair<bool, std::string> add_all_once(std::vector<Run> runs, const std::string& key,
                                            const std::string& value);

  // Appends loss-curve points of a run (one transaction); (run_id, step) is unique.
  void add_curve(int64_t run_id, const std::vector<CurvePoint>& points);
  std::vector<CurvePoint> curve(int64_t run_id) const;
  std::map<int64_t, std::vector<CurvePoint>> curves() const;

 private:
  void exec(const char* sql) const;
  void begin_immediate() const;
  void insert_curve(int64_t run_id, const std::vector<CurvePoint>& points);
  void write_run(const Run& run);  // the UPDATE of update() and complete(), no transaction
  std::vector<int64_t> insert_runs(const std::vector<Run>& runs);
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

}  // namespace scalelab::runs
