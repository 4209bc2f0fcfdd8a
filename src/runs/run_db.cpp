// SQLite implementation of the run database. Every statement is prepared, bound and finalised in
// one place (Stmt); every write runs in BEGIN IMMEDIATE … COMMIT so concurrent writers queue on the
// database lock (busy timeout) instead of failing with SQLITE_BUSY mid-transaction.
#include "runs/run_db.h"

#include <sqlite3.h>

#include <cmath>
#include <limits>

#include "common/error.h"

namespace scalelab::runs {

namespace {

constexpr int kBusyTimeoutMs = 60000;

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql, const std::filesystem::path& path) : db_(db), path_(path) {
    int rc = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr);
    SCALELAB_CHECK(rc == SQLITE_OK, "{}: {}", path.string(), sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  void bind(int i, int64_t v) { check(sqlite3_bind_int64(st_, i, v)); }
  void bind(int i, double v) {
    if (std::isnan(v))
      check(sqlite3_bind_null(st_, i));
    else
      check(sqlite3_bind_double(st_, i, v));
  }
  void bind(int i, const std::string& v) {
    check(sqlite3_bind_text(st_, i, v.c_str(), -1, SQLITE_TRANSIENT));
  }
  // Makes the statement ready to run again with new bindings.
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  // Returns true while a row is available.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    SCALELAB_CHECK(rc == SQLITE_DONE, "{}: {}", path_.string(), sqlite3_errmsg(db_));
    return false;
  }
  int64_t i64(int c) const { return sqlite3_column_int64(st_, c); }
  double dbl(int c) const {
    return sqlite3_column_type(st_, c) == SQLITE_NULL ? std::numeric_limits<double>::quiet_NaN()
                                                      : sqlite3_column_double(st_, c);
  }
  std::string text(int c) const {
    const unsigned char* t = sqlite3_column_text(st_, c);
    return t == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(t));
  }

 private:
  void check(int rc) {
    SCALELAB_CHECK(rc == SQLITE_OK, "{}: {}", path_.string(), sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  const std::filesystem::path& path_;
  sqlite3_stmt* st_ = nullptr;
};

// Rolls back unless committed: a throw inside a write leaves the database as it was.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit(const std::filesystem::path& path) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, "COMMIT", nullptr, nullptr, &err);
    std::string msg = err ? err : "";
    sqlite3_free(err);
    SCALELAB_CHECK(rc == SQLITE_OK, "{}: commit failed: {}", path.string(), msg);
    done_ = true;
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS runs (
  id       INTEGER PRIMARY KEY AUTOINCREMENT,
  created  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  status   TEXT NOT NULL CHECK (status IN ('planned', 'running', 'done', 'failed')),
  N        REAL NOT NULL,
  D        REAL NOT NULL,
  C        REAL NOT NULL,
  c_source TEXT NOT NULL DEFAULT '6ND',
  loss     REAL,
  budget   TEXT NOT NULL DEFAULT '',
  config   TEXT NOT NULL DEFAULT '{}',
  extra    TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS loss_curve (
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step   INTEGER NOT NULL,
  tokens REAL NOT NULL,
  flops  REAL NOT NULL,
  loss   REAL NOT NULL,
  PRIMARY KEY (run_id, step)
);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql";

constexpr const char* kSelectRuns =
    "SELECT id, created, status, N, D, C, c_source, loss, budget, config, extra FROM runs";

// Binds status, N, D, C, c_source, loss, budget, config, extra to parameters 1–9 (the column order
// of both the INSERT and the UPDATE below).
void bind_run_fields(Stmt& s, const Run& r) {
  s.bind(1, std::string(to_string(r.status)));
  s.bind(2, r.N);
  s.bind(3, r.D);
  s.bind(4, r.C);
  s.bind(5, std::string(to_string(r.c_source)));
  s.bind(6, r.loss);
  s.bind(7, r.budget);
  s.bind(8, r.config.dump());
  s.bind(9, r.extra.dump());
}

Run read_run(const Stmt& s, const std::filesystem::path& path) {
  Run r;
  r.id = s.i64(0);
  r.created = s.text(1);
  const std::string where = path.string() + ": run " + std::to_string(r.id);
  r.status = fields::parse_enum<RunStatus>(s.text(2), where + ": status");
  r.N = s.dbl(3);
  r.D = s.dbl(4);
  r.C = s.dbl(5);
  r.c_source = fields::parse_enum<FlopSource>(s.text(6), where + ": c_source");
  r.loss = s.dbl(7);
  r.budget = s.text(8);
  r.config = json::parse(s.text(9), where + " config");
  r.extra = json::parse(s.text(10), where + " extra");
  return r;
}

}  // namespace

RunDb::RunDb(const std::filesystem::path& path) : path_(path) {
  if (!path.parent_path().empty()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    SCALELAB_FAIL("{}: cannot open run database: {}", path.string(), msg);
  }
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  try {
    // The first read tells a non-database file apart ("file is not a database").
    int version = 0;
    {
      Stmt s(db_, "PRAGMA user_version", path_);
      if (s.step()) version = static_cast<int>(s.i64(0));
    }
    SCALELAB_CHECK(version <= kSchemaVersion,
                   "{}: run database schema version {} is newer than this scalelab supports ({}); "
                   "upgrade scalelab",
                   path.string(), version, kSchemaVersion);
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA synchronous = NORMAL");
    if (version < kSchemaVersion) {
      begin_immediate();
      Transaction tx(db_);
      exec(kSchema);
      exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
      tx.commit(path_);
    }
  } catch (...) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw;
  }
}

RunDb::~RunDb() { sqlite3_close(db_); }

void RunDb::exec(const char* sql) const {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  SCALELAB_CHECK(rc == SQLITE_OK, "{}: {}", path_.string(),
                 msg.empty() ? sqlite3_errmsg(db_) : msg.c_str());
}

void RunDb::begin_immediate() const { exec("BEGIN IMMEDIATE"); }

std::vector<int64_t> RunDb::insert_runs(const std::vector<Run>& runs) {
  std::vector<int64_t> ids;
  Stmt insert(db_,
              "INSERT INTO runs (status, N, D, C, c_source, loss, budget, config, extra) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              path_);
  for (const auto& r : runs) {
    insert.reset();
    bind_run_fields(insert, r);
    insert.step();
    ids.push_back(sqlite3_last_insert_rowid(db_));
  }
  return ids;
}

std::vector<int64_t> RunDb::add_all(std::vector<Run> runs) {
  for (size_t i = 0; i < runs.size(); ++i) runs[i].normalise("run " + std::to_string(i + 1));
  begin_immediate();
  Transaction tx(db_);
  std::vector<int64_t> ids = insert_runs(runs);
  tx.commit(path_);
  return ids;
}

std::pair<bool, std::string> RunDb::add_all_once(std::vector<Run> runs, const std::string& key,
                                                 const std::string& value) {
  for (size_t i = 0; i < runs.size(); ++i) runs[i].normalise("run " + std::to_string(i + 1));
  begin_immediate();
  Transaction tx(db_);
  {
    Stmt s(db_, "SELECT value FROM meta WHERE key = ?", path_);
    s.bind(1, key);
    if (s.step()) return {false, s.text(0)};  // rolled back: nothing written
  }
  insert_runs(runs);
  Stmt s(db_, "INSERT INTO meta (key, value) VALUES (?, ?)", path_);
  s.bind(1, key);
  s.bind(2, value);
  s.step();
  tx.commit(path_);
  return {true, value};
}

std::optional<std::string> RunDb::get_meta(const std::string& key) const {
  Stmt s(db_, "SELECT value FROM meta WHERE key = ?", path_);
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void RunDb::set_meta(const std::string& key, const std::string& value) {
  begin_immediate();
  Transaction tx(db_);
  Stmt s(db_, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", path_);
  s.bind(1, key);
  s.bind(2, value);
  s.step();
  tx.commit(path_);
}

namespace {
// A run with extra.parent_key (a cooldown branch) starts from a checkpoint of the run whose
// extra.key that is: claimable only once that run is done.
constexpr const char* kParentDone =
    " AND (json_extract(extra, '$.parent_key') IS NULL OR EXISTS (SELECT 1 FROM runs AS p WHERE "
    "p.status = 'done' AND json_extract(p.extra, '$.key') = json_extract(runs.extra, "
    "'$.parent_key')))";
}  // namespace

std::optional<Run> RunDb::claim_next(const json::Json& owner, ClaimOrder order) {
  begin_immediate();
  Transaction tx(db_);
  std::optional<Run> run;
  {
    const char* order_by = order == ClaimOrder::kById
                               ? " ORDER BY id"
                               : " ORDER BY json_extract(extra, '$.est_seconds') DESC, id";
    Stmt s(db_,
           (std::string(kSelectRuns) + " WHERE status = 'planned'" + kParentDone + order_by +
            " LIMIT 1")
               .c_str(),
           path_);
    if (!s.step()) return std::nullopt;
    run = read_run(s, path_);
  }
  run->status = RunStatus::kRunning;
  run->extra["owner"] = owner;
  Stmt u(db_, "UPDATE runs SET status = 'running', extra = ? WHERE id = ?", path_);
  u.bind(1, run->extra.dump());
  u.bind(2, run->id);
  u.step();
  tx.commit(path_);
  return run;
}

std::vector<int64_t> RunDb::release_stale(
    const std::function<bool(const json::Json& owner)>& is_dead) {
  begin_immediate();
  Transaction tx(db_);
  std::vector<Run> stale;
  {
    Stmt s(db_, (std::string(kSelectRuns) + " WHERE status = 'running' ORDER BY id").c_str(),
           path_);
    while (s.step()) {
      Run r = read_run(s, path_);
      const json::Json owner = r.extra.contains("owner") ? r.extra["owner"] : json::Json();
      if (is_dead(owner)) stale.push_back(std::move(r));
    }
  }
  std::vector<int64_t> ids;
  Stmt u(db_, "UPDATE runs SET status = 'planned', extra = ? WHERE id = ?", path_);
  for (auto& r : stale) {
    r.extra.erase("owner");
    u.reset();
    u.bind(1, r.extra.dump());
    u.bind(2, r.id);
    u.step();
    ids.push_back(r.id);
  }
  tx.commit(path_);
  return ids;
}

void RunDb::complete(const Run& in, const std::vector<CurvePoint>& curve) {
  Run r = in;
  r.normalise("run " + std::to_string(r.id));
  begin_immediate();
  Transaction tx(db_);
  write_run(r);
  Stmt del(db_, "DELETE FROM loss_curve WHERE run_id = ?", path_);
  del.bind(1, r.id);
  del.step();
  insert_curve(r.id, curve);
  tx.commit(path_);
}

int64_t RunDb::add(Run run) { return add_all({std::move(run)}).front(); }

void RunDb::write_run(const Run& r) {
  Stmt s(db_,
         "UPDATE runs SET status = ?, N = ?, D = ?, C = ?, c_source = ?, loss = ?, budget = ?, "
         "config = ?, extra = ? WHERE id = ?",
         path_);
  bind_run_fields(s, r);
  s.bind(10, r.id);
  s.step();
  SCALELAB_CHECK(sqlite3_changes(db_) == 1, "{}: no run with id {}", path_.string(), r.id);
}

void RunDb::update(const Run& in) {
  Run r = in;
  r.normalise("run " + std::to_string(r.id));
  begin_immediate();
  Transaction tx(db_);
  write_run(r);
  tx.commit(path_);
}

void RunDb::set_status(int64_t id, RunStatus status) {
  begin_immediate();
  Transaction tx(db_);
  Stmt s(db_, "UPDATE runs SET status = ? WHERE id = ?", path_);
  s.bind(1, std::string(to_string(status)));
  s.bind(2, id);
  s.step();
  SCALELAB_CHECK(sqlite3_changes(db_) == 1, "{}: no run with id {}", path_.string(), id);
  tx.commit(path_);
}

std::optional<Run> RunDb::get(int64_t id) const {
  Stmt s(db_, (std::string(kSelectRuns) + " WHERE id = ?").c_str(), path_);
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_run(s, path_);
}

std::vector<Run> RunDb::list(std::optional<RunStatus> status) const {
  std::string sql = std::string(kSelectRuns) + (status ? " WHERE status = ?" : "") + " ORDER BY id";
  Stmt s(db_, sql.c_str(), path_);
  if (status) s.bind(1, std::string(to_string(*status)));
  std::vector<Run> out;
  while (s.step()) out.push_back(read_run(s, path_));
  return out;
}

size_t RunDb::count(std::optional<RunStatus> status) const {
  Stmt s(db_, status ? "SELECT COUNT(*) FROM runs WHERE status = ?" : "SELECT COUNT(*) FROM runs",
         path_);
  if (status) s.bind(1, std::string(to_string(*status)));
  s.step();
  return static_cast<size_t>(s.i64(0));
}

void RunDb::insert_curve(int64_t run_id, const std::vector<CurvePoint>& points) {
  Stmt s(db_,
         "INSERT OR REPLACE INTO loss_curve (run_id, step, tokens, flops, loss) VALUES (?, ?, ?, "
         "?, ?)",
         path_);
  for (const auto& p : points) {
    SCALELAB_CHECK(std::isfinite(p.loss) && std::isfinite(p.tokens) && std::isfinite(p.flops),
                   "{}: run {} step {}: loss-curve values must be finite", path_.string(), run_id,
                   p.step);
    s.reset();
    s.bind(1, run_id);
    s.bind(2, p.step);
    s.bind(3, p.tokens);
    s.bind(4, p.flops);
    s.bind(5, p.loss);
    s.step();
  }
}

void RunDb::add_curve(int64_t run_id, const std::vector<CurvePoint>& points) {
  begin_immediate();
  Transaction tx(db_);
  insert_curve(run_id, points);
  tx.commit(path_);
}

std::vector<CurvePoint> RunDb::curve(int64_t run_id) const {
  Stmt s(db_, "SELECT step, tokens, flops, loss FROM loss_curve WHERE run_id = ? ORDER BY step",
         path_);
  s.bind(1, run_id);
  std::vector<CurvePoint> out;
  while (s.step()) out.push_back({s.i64(0), s.dbl(1), s.dbl(2), s.dbl(3)});
  return out;
}

std::map<int64_t, std::vector<CurvePoint>> RunDb::curves() const {
  Stmt s(db_, "SELECT run_id, step, tokens, flops, loss FROM loss_curve ORDER BY run_id, step",
         path_);
  std::map<int64_t, std::vector<CurvePoint>> out;
  while (s.step()) out[s.i64(0)].push_back({s.i64(1), s.dbl(2), s.dbl(3), s.dbl(4)});
  return out;
}

}  // namespace scalelab::runs
