#include "runs/run_db.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "common/file_util.h"
#include "test_support.h"

namespace scalelab::runs {
namespace {

using scalelab::testing::error_of;

std::filesystem::path fresh(const std::string& name) {
  return scalelab::testing::fresh_dir("rundb_" + name) / "runs.db";
}

runs::Run make_run(double N, double D, double loss) {
  runs::Run r;
  r.N = N;
  r.D = D;
  r.loss = loss;
  return r;
}

TEST(RunDb, AddListUpdateAndCurves) {
  auto path = fresh("basic");
  RunDb db(path);
  runs::Run r = make_run(1e8, 2e9, 3.25);
  r.budget = "1.2e18";
  r.config = {{"lr", 3e-4}};
  r.extra = {{"wall_s", 12.5}};
  int64_t id = db.add(r);
  EXPECT_EQ(id, 1);
  runs::Run planned = make_run(2e8, 1e9, NAN);
  planned.status = RunStatus::kPlanned;
  planned.C = 1.3e18;
  planned.c_source = FlopSource::kExact;
  int64_t id2 = db.add(planned);
  auto all = db.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_DOUBLE_EQ(all[0].C, 6 * 1e8 * 2e9);  // default 6ND
  EXPECT_EQ(all[0].c_source, FlopSource::kSixND);
  EXPECT_EQ(all[0].config["lr"], 3e-4);
  EXPECT_EQ(all[0].budget, "1.2e18");
  EXPECT_FALSE(all[0].created.empty());
  EXPECT_TRUE(std::isnan(all[1].loss));
  EXPECT_EQ(all[1].c_source, FlopSource::kExact);
  EXPECT_EQ(db.count(RunStatus::kPlanned), 1u);

  runs::Run done = *db.get(id2);
  done.status = RunStatus::kDone;
  done.loss = 3.1;
  db.update(done);
  EXPECT_EQ(db.count(RunStatus::kDone), 2u);
  db.set_status(id2, RunStatus::kFailed);
  EXPECT_EQ(db.get(id2)->status, RunStatus::kFailed);
  EXPECT_FALSE(db.get(99).has_value());
  EXPECT_THROW(db.set_status(99, RunStatus::kDone), Error);

  db.add_curve(id, {{10, 1e6, 6e14, 5.0}, {20, 2e6, 1.2e15, 4.2}});
  db.add_curve(id, {{30, 3e6, 1.8e15, 3.9}});
  auto c = db.curve(id);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[2].step, 30);
  EXPECT_EQ(db.curves().at(id).size(), 3u);
}

TEST(RunDb, InvalidRunInBatchWritesNothing) {
  auto path = fresh("atomic");
  RunDb db(path);
  std::vector<runs::Run> runs{make_run(1e8, 1e9, 3), make_run(1e8, -1, 3)};
  EXPECT_EQ(error_of([&] { db.add_all(runs); }),
            "run 2: D must be a finite positive number (got -1)");
  EXPECT_EQ(db.count(), 0u);
  runs::Run nan_loss = make_run(1e8, 1e9, NAN);
  EXPECT_EQ(error_of([&] { db.add(nan_loss); }),
            "run 1: loss must be a finite positive number (got nan)");
}

TEST(RunDb, NewerSchemaAndNonDatabaseAreRefused) {
  auto path = fresh("schema");
  { RunDb db(path); }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 7", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(raw);
  EXPECT_EQ(error_of([&] { RunDb db(path); }), path.string() +
                                                   ": run database schema version 7 is newer than "
                                                   "this scalelab supports (2); upgrade scalelab");
  auto junk = path.parent_path() / "junk.db";
  write_text_file_atomic(junk, std::string(4096, 'x'));
  std::string msg = error_of([&] { RunDb db(junk); });
  EXPECT_NE(msg.find("junk.db: "), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a database"), std::string::npos) << msg;
}

TEST(RunDb, ConcurrentWriterProcessesLoseNothing) {
  auto path = fresh("concurrent");
  { RunDb db(path); }  // create the schema once, as a sweep does before forking workers
  constexpr int kProcs = 4, kRuns = 40;
  std::vector<pid_t> kids;
  for (int p = 0; p < kProcs; ++p) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      try {
        RunDb db(path);
        for (int i = 0; i < kRuns; ++i) {
          int64_t id = db.add(make_run(1e8 * (p + 1), 1e9 + i, 3.0));
          db.add_curve(id, {{1, 1.0, 1.0, 4.0}});
        }
      } catch (...) {
        rc = 1;
      }
      _exit(rc);
    }
    kids.push_back(pid);
  }
  for (pid_t k : kids) {
    int status = 0;
    waitpid(k, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  RunDb db(path);
  auto runs = db.list();
  EXPECT_EQ(runs.size(), static_cast<size_t>(kProcs * kRuns));
  std::set<int64_t> ids;
  for (const auto& r : runs) ids.insert(r.id);
  EXPECT_EQ(ids.size(), runs.size());
  EXPECT_EQ(db.curves().size(), runs.size());
}

TEST(RunDb, SchemaOneIsUpgradedInPlace) {
  auto path = fresh("upgrade");
  {
    RunDb db(path);
    db.add(make_run(1e6, 2e7, 3.0));
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(raw, "DROP TABLE meta; PRAGMA user_version = 1", nullptr, nullptr, nullptr),
      SQLITE_OK);
  sqlite3_close(raw);
  RunDb db(path);
  EXPECT_EQ(db.count(), 1u);
  EXPECT_FALSE(db.get_meta("k"));
  db.set_meta("k", "v");
  EXPECT_EQ(db.get_meta("k").value(), "v");
}

TEST(RunDb, AddAllOnceInsertsOnlyTheFirstTime) {
  auto path = fresh("once");
  RunDb db(path);
  auto [a, va] = db.add_all_once({make_run(1e6, 2e7, 3.0), make_run(2e6, 2e7, 2.9)}, "plan", "p1");
  EXPECT_TRUE(a);
  EXPECT_EQ(va, "p1");
  auto [b, vb] = db.add_all_once({make_run(1e6, 2e7, 3.0)}, "plan", "p2");
  EXPECT_FALSE(b);
  EXPECT_EQ(vb, "p1");
  EXPECT_EQ(db.count(), 2u);
}

TEST(RunDb, ClaimOrderIsByIdOrLongestFirst) {
  auto path = fresh("claim_order");
  RunDb db(path);
  std::vector<runs::Run> runs;
  for (double est : {5.0, 30.0, 10.0, 30.0}) {
    runs::Run r = make_run(1e6, 2e7, std::nan(""));
    r.status = RunStatus::kPlanned;
    r.extra["est_seconds"] = est;
    runs.push_back(r);
  }
  db.add_all(runs);
  // Longest first, ties by id: 2 and 4 (30 s), then 3 (10 s); then by id again: 1.
  std::vector<int64_t> got;
  for (int i = 0; i < 3; ++i)
    got.push_back(db.claim_next({{"pid", 1}}, RunDb::ClaimOrder::kLongestFirst)->id);
  got.push_back(db.claim_next({{"pid", 1}})->id);
  EXPECT_EQ(got, (std::vector<int64_t>{2, 4, 3, 1}));
  EXPECT_FALSE(db.claim_next({{"pid", 1}}, RunDb::ClaimOrder::kLongestFirst).has_value());
}

// A cooldown branch (extra.parent_key) is claimable only once the run with that extra.key is done.
TEST(RunDb, BranchIsClaimedOnlyOnceItsParentIsDone) {
  auto path = fresh("claim_branch");
  RunDb db(path);
  runs::Run branch = make_run(1e6, 1e7, std::nan(""));
  branch.status = RunStatus::kPlanned;
  branch.extra = {{"key", "b1-m2"}, {"parent_key", "b2-m1"}};
  runs::Run parent = make_run(1e6, 2e7, std::nan(""));
  parent.status = RunStatus::kPlanned;
  parent.extra = {{"key", "b2-m1"}};
  db.add_all({branch, parent});  // the branch has the lower id
  const auto first = db.claim_next({{"pid", 1}});
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->extra["key"], "b2-m1");
  EXPECT_FALSE(db.claim_next({{"pid", 1}}).has_value());  // its parent is running
  db.set_status(first->id, RunStatus::kFailed);
  EXPECT_FALSE(db.claim_next({{"pid", 1}}).has_value());  // … or failed
  db.set_status(first->id, RunStatus::kDone);
  const auto second = db.claim_next({{"pid", 1}}, RunDb::ClaimOrder::kLongestFirst);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->extra["key"], "b1-m2");
}

TEST(RunDb, ClaimsFromManyConnectionsNeverOverlapAndCompleteIsAtomic) {
  auto path = fresh("claim");
  {
    RunDb db(path);
    std::vector<runs::Run> runs;
    for (int i = 0; i < 40; ++i) {
      runs::Run r = make_run(1e6 * (i + 1), 2e7, std::nan(""));
      r.status = RunStatus::kPlanned;
      runs.push_back(r);
    }
    db.add_all(runs);
  }
  // Four processes claim concurrently; each writes the ids it got to its own file.
  std::vector<pid_t> kids;
  for (int k = 0; k < 4; ++k) {
    pid_t pid = fork();
    if (pid == 0) {
      RunDb db(path);
      std::string ids;
      while (auto r = db.claim_next({{"pid", k}})) ids += std::to_string(r->id) + "\n";
      write_text_file_atomic(path.parent_path() / ("claimed" + std::to_string(k)), ids);
      _exit(0);
    }
    kids.push_back(pid);
  }
  for (pid_t p : kids) {
    int st = 0;
    waitpid(p, &st, 0);
    ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  std::multiset<int64_t> all;
  for (int k = 0; k < 4; ++k) {
    std::istringstream in(read_text_file(path.parent_path() / ("claimed" + std::to_string(k))));
    for (int64_t id; in >> id;) all.insert(id);
  }
  EXPECT_EQ(all.size(), 40u);
  EXPECT_EQ(std::set<int64_t>(all.begin(), all.end()).size(), 40u);  // no run twice
  RunDb db(path);
  EXPECT_EQ(db.count(RunStatus::kRunning), 40u);
  // complete(): result and curve together; a second complete replaces the curve.
  runs::Run r = *db.get(1);
  r.status = RunStatus::kDone;
  r.loss = 2.5;
  db.complete(r, {{1, 10, 60, 4.0}, {2, 20, 120, 3.0}});
  db.complete(r, {{2, 20, 120, 3.0}});
  EXPECT_EQ(db.get(1)->status, RunStatus::kDone);
  EXPECT_EQ(db.curve(1).size(), 1u);
  // A run that fails validation leaves the database as it was.
  runs::Run bad = *db.get(2);
  bad.status = RunStatus::kDone;
  bad.loss = -1;
  EXPECT_THROW(db.complete(bad, {{1, 1, 1, 1}}), Error);
  EXPECT_EQ(db.get(2)->status, RunStatus::kRunning);
  EXPECT_TRUE(db.curve(2).empty());
}

}  // namespace
}  // namespace scalelab::runs
