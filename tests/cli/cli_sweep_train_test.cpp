// `scalelab sweep` end to end with real training (LibTorch, CPU): the whole loop, resuming without
// retraining, surviving kill -9 with only the run in flight lost, and two worker processes sharing
// one run database.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "common/process.h"
#include "run_command.h"
#include "runs/run_db.h"
#include "sweep_fixture.h"

namespace scalelab::testing {
namespace {

namespace fs = std::filesystem;
using runs::RunStatus;

// Every run's result.json modification time, by key.
std::map<std::string, fs::file_time_type> result_times(const std::string& out) {
  std::map<std::string, fs::file_time_type> t;
  if (!fs::exists(out + "/runs")) return t;
  for (const auto& e : fs::directory_iterator(out + "/runs"))
    if (fs::exists(e.path() / "result.json"))
      t[e.path().filename().string()] = fs::last_write_time(e.path() / "result.json");
  return t;
}

TEST(CliSweepTrain, WholeLoopThenResumeRetrainsNothing) {
  const std::string d = temp_dir("cli_sweep_e2e");
  const std::string out = d + "/out";
  const std::string cfg = write_config(d + "/sweep.json", tiny_sweep(out));
  CommandResult r = run_scalelab("sweep --config " + cfg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("recommendation for C = 1.00e+13"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("build:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("report: "), std::string::npos) << r.out;
  {
    runs::RunDb db(out + "/runs.db");
    EXPECT_EQ(db.count(RunStatus::kDone), 9u);
    EXPECT_EQ(db.count(), 9u);
    for (const auto& run : db.list()) {
      EXPECT_GT(run.loss, 1.0);
      EXPECT_LT(run.loss, std::log(300.0));  // better than uniform over the vocabulary
      EXPECT_FALSE(db.curve(run.id).empty());
      EXPECT_EQ(run.C, run.extra["flops_exact"].get<double>());  // every run spends its budget
      EXPECT_NEAR(run.C, run.extra["budget_C"].get<double>(),
                  run.extra["flops_per_token"].get<double>() * 512);  // within half a step
    }
  }
  const std::string html = read_text_file(out + "/report/index.html");
  EXPECT_NE(html.find("id=\"fig-isoflop\""), std::string::npos);
  EXPECT_TRUE(fs::exists(out + "/recommendation.json"));
  EXPECT_TRUE(fs::exists(out + "/sweep.json"));
  // Again: everything is done, nothing retrains, the same recommendation comes out.
  const auto before = result_times(out);
  ASSERT_EQ(before.size(), 9u);
  CommandResult again = run_scalelab("sweep --config " + cfg);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("resuming: 9 of 9 runs done"), std::string::npos) << again.err;
  EXPECT_EQ(result_times(out), before);
  // The same recommendation (its point estimate; bootstrap percentiles of a degenerate parameter
  // may differ in the last digits with thread timing of the start-grid pruning).
  auto n_of = [](const std::string& s) {
    const std::string k = "recommendation for C = 1.00e+13: N = ";
    const size_t p = s.find(k);
    return p == std::string::npos ? std::string("?") : s.substr(p + k.size(), 6);
  };
  EXPECT_EQ(n_of(again.out), n_of(r.out));
  runs::RunDb db(out + "/runs.db");
  EXPECT_EQ(db.count(), 9u);  // never duplicated
  // `report` on the sweep's database uses the sweep's bootstrap samples (20 here) unless told.
  CommandResult rep =
      run_scalelab("report --log-level error --db " + out + "/runs.db --out " + d + "/rep");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_EQ(json::read_file(d + "/rep/analysis.json")["bootstrap"]["samples"].get<int>(), 20);
  // Targets as a comma-separated list, as every list option takes them.
  rep = run_scalelab("report --log-level error --targets 2e13,4e13 --bootstrap-samples 30 --db " +
                     out + "/runs.db --out " + d + "/rep");
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_EQ(json::read_file(d + "/rep/analysis.json")["bootstrap"]["samples"].get<int>(), 30);
  EXPECT_NE(rep.out.find("recommendation for C = 2.00e+13"), std::string::npos) << rep.out;
  EXPECT_NE(rep.out.find("recommendation for C = 4.00e+13"), std::string::npos) << rep.out;
  // --verify trains the recommended model and the 20-tokens-per-parameter one at a larger budget
  // (2 × the largest here, to keep the test short; the default is 10 ×) and compares the losses.
  CommandResult v = run_scalelab("sweep --verify --verify-budget 1.6e11 --config " + cfg);
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.out.find("verify at C = 1.60e+11"), std::string::npos) << v.out;
  EXPECT_NE(v.out.find("recommended"), std::string::npos) << v.out;
  const json::Json vj = json::read_file(out + "/verify.json");
  ASSERT_GE(vj["runs"].size(), 1u);
  EXPECT_EQ(vj["runs"][0]["role"].get<std::string>(), "recommended");
  for (const auto& run : vj["runs"]) {
    EXPECT_GT(run["achieved_loss"].get<double>(), 1.0);
    EXPECT_GT(run["predicted_loss"].get<double>(), 1.0);
    EXPECT_NEAR(run["tokens_per_param"].get<double>(),
                run["D"].get<double>() / run["N"].get<double>(), 1e-9);
  }
  if (vj["runs"].size() == 2) {
    EXPECT_EQ(vj["runs"][1]["role"].get<std::string>(), "20 tokens/param");
    EXPECT_NE(v.out.find("tokens-per-parameter model's"), std::string::npos) << v.out;
    EXPECT_TRUE(vj.contains("recommended_vs_rule_of_thumb"));
  }
  // Again: the verification runs are read back, not trained again.
  const auto verify_times = result_times(out);
  CommandResult v2 = run_scalelab("sweep --verify --verify-budget 1.6e11 --config " + cfg);
  ASSERT_EQ(v2.exit_code, 0) << v2.err;
  EXPECT_NE(v2.err.find("is trained already"), std::string::npos) << v2.err;
  EXPECT_EQ(result_times(out), verify_times);
  // A verification run recorded before the schedule fields existed is the same run: its
  // config.json without them (their defaults) is read back too.
  for (const auto& e : fs::directory_iterator(out + "/runs")) {
    if (e.path().filename().string().rfind("verify-", 0) != 0) continue;
    json::Json cj = json::read_file(e.path() / "config.json");
    for (const char* added : {"lr_schedule", "cooldown_fraction", "cooldown_shape"})
      cj.erase(added);
    json::write_file(e.path() / "config.json", cj);
  }
  CommandResult v3 = run_scalelab("sweep --verify --verify-budget 1.6e11 --config " + cfg);
  ASSERT_EQ(v3.exit_code, 0) << v3.err;
  EXPECT_NE(v3.err.find("is trained already"), std::string::npos) << v3.err;
  EXPECT_EQ(result_times(out), verify_times);
  EXPECT_EQ(db.count(), 9u);  // the verification run is not a sweep run
  // A changed config on the same out_dir is refused before training.
  json::Json j = tiny_sweep(out);
  j["lr"] = 0.01;
  expect_one_line_error(
      run_scalelab("sweep --log-level error --config " + write_config(d + "/changed.json", j)),
      "different sweep plan");
}

TEST(CliSweepTrain, KillNineLosesOnlyTheRunInFlight) {
  const std::string d = temp_dir("cli_sweep_kill");
  const std::string out = d + "/out";
  const std::string cfg = write_config(d + "/sweep.json", tiny_sweep(out));
  const int64_t pid =
      spawn_process({SCALELAB_BINARY, "sweep", "--config", cfg}, {}, d + "/first.log");
  // Wait until at least two runs are done and another is in flight, then kill -9.
  std::set<int64_t> done_before;
  int64_t in_flight = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(out + "/runs.db")) continue;
    runs::RunDb db(out + "/runs.db");
    const auto running = db.list(RunStatus::kRunning);
    if (db.count(RunStatus::kDone) >= 2 && running.size() == 1) {
      ::kill(static_cast<pid_t>(pid), SIGKILL);
      in_flight = running[0].id;
      break;
    }
  }
  ASSERT_NE(in_flight, 0) << "the sweep never reached two done runs: "
                          << read_text_file(d + "/first.log");
  EXPECT_EQ(wait_process(pid), 128 + SIGKILL);
  std::map<int64_t, double> losses;
  {
    runs::RunDb db(out + "/runs.db");
    for (const auto& r : db.list(RunStatus::kDone)) {
      done_before.insert(r.id);
      losses[r.id] = r.loss;
    }
    // The killed run may have finished between our read and the kill; normally it is running.
    const auto st = db.get(in_flight)->status;
    EXPECT_TRUE(st == RunStatus::kRunning || st == RunStatus::kDone);
    EXPECT_EQ(db.count(), 9u);
  }
  const auto times = result_times(out);
  CommandResult r = run_scalelab("sweep --config " + cfg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("restarted"), std::string::npos) << r.err;
  // What is left, estimated at the rates of the shapes already trained.
  EXPECT_NE(r.err.find("; the rest estimated "), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("at the FLOP/s measured on "), std::string::npos) << r.out;
  runs::RunDb db(out + "/runs.db");
  EXPECT_EQ(db.count(), 9u);  // nothing duplicated
  EXPECT_EQ(db.count(RunStatus::kDone), 9u);
  // Runs done before the kill were not trained again: same loss, same result.json.
  const auto after = result_times(out);
  for (int64_t id : done_before) {
    const auto run = *db.get(id);
    EXPECT_EQ(run.loss, losses[id]);
    const std::string key = run.extra["key"].get<std::string>();
    EXPECT_EQ(after.at(key), times.at(key)) << key;
  }
  EXPECT_NE(r.out.find("recommendation for C"), std::string::npos);
}

// lr_schedule wsd: each shape trains once and its other points are cooldown branches. kill -9 while
// a parent trains past a branch point; the same command then resumes the parent, trains every
// branch from the parent's checkpoints, retrains nothing that was done and leaves no branch
// checkpoint behind.
TEST(CliSweepTrain, WsdBranchesSurviveKillNineAndFreeTheirCheckpoints) {
  const std::string d = temp_dir("cli_sweep_wsd");
  const std::string out = d + "/out";
  json::Json j = tiny_sweep(out);
  j["lr_schedule"] = "wsd";
  j["extra_branches"] = 1;  // one extra point per doubling of D below each parent (two at most)
  const std::string cfg = write_config(d + "/sweep.json", j);
  const int64_t pid =
      spawn_process({SCALELAB_BINARY, "sweep", "--config", cfg}, {}, d + "/first.log");
  // Kill once a parent run is in flight and has left a branch checkpoint.
  bool killed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  while (!killed && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!fs::exists(out + "/runs.db")) continue;
    runs::RunDb db(out + "/runs.db");
    for (const auto& r : db.list(RunStatus::kRunning)) {
      if (r.config["branch_steps"].empty()) continue;
      const std::string dir = out + "/runs/" + r.extra["key"].get<std::string>();
      bool has_branch_checkpoint = false;
      if (fs::exists(dir))
        for (const auto& e : fs::directory_iterator(dir))
          has_branch_checkpoint |= e.path().filename().string().rfind("branch-", 0) == 0;
      if (has_branch_checkpoint) {
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        killed = true;
        break;
      }
    }
  }
  ASSERT_TRUE(killed) << "no parent run reached a branch point: "
                      << read_text_file(d + "/first.log");
  EXPECT_EQ(wait_process(pid), 128 + SIGKILL);
  const auto times = result_times(out);
  CommandResult r = run_scalelab("sweep --config " + cfg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wsd with cooldown branches"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("recommendation for C"), std::string::npos) << r.out;
  runs::RunDb db(out + "/runs.db");
  EXPECT_EQ(db.count(RunStatus::kDone), db.count());
  const auto after = result_times(out);
  for (const auto& [key, t] : times) EXPECT_EQ(after.at(key), t) << key << " was trained again";
  int branches = 0, grid = 0, extras = 0;
  for (const auto& run : db.list()) {
    const std::string key = run.extra["key"].get<std::string>();
    (runs::on_isoflop_grid(run) ? grid : extras) += 1;
    const json::Json res = json::read_file(out + "/runs/" + key + "/result.json");
    if (!run.extra.contains("parent_key")) {
      EXPECT_EQ(res["branch_step"].get<int64_t>(), 0) << key;
      continue;
    }
    ++branches;
    EXPECT_EQ(res["branch_step"].get<int64_t>(), run.extra["branch_step"].get<int64_t>()) << key;
    EXPECT_LT(run.extra["flops_spent"].get<double>(), run.C) << key;
    EXPECT_NEAR(run.C, run.extra["budget_C"].get<double>(),
                run.extra["flops_per_token"].get<double>() * 512);  // the point's whole budget
  }
  EXPECT_GT(branches, 0);
  EXPECT_EQ(grid, 9);  // the IsoFLOP grid's points
  EXPECT_GT(extras, 0);
  for (const auto& e : fs::recursive_directory_iterator(out + "/runs"))
    EXPECT_NE(e.path().filename().string().rfind("branch-", 0), 0u) << e.path();
}

TEST(CliSweepTrain, TwoWorkerProcessesShareTheDatabase) {
  const std::string d = temp_dir("cli_sweep_workers");
  const std::string out = d + "/out";
  const std::string cfg = write_config(d + "/sweep.json", tiny_sweep(out));
  CommandResult r = run_scalelab("sweep --workers 2 --config " + cfg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  runs::RunDb db(out + "/runs.db");
  EXPECT_EQ(db.count(), 9u);
  EXPECT_EQ(db.count(RunStatus::kDone), 9u);
  std::set<int64_t> pids;
  for (const auto& run : db.list()) pids.insert(run.extra["trained_by"]["pid"].get<int64_t>());
  EXPECT_EQ(pids.size(), 2u) << "both workers should have trained runs";
  EXPECT_EQ(pids.count(::getpid()), 0u);
}

}  // namespace
}  // namespace scalelab::testing
