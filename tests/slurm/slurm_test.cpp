// A sweep on a real Slurm: a one-node cluster started for the test (cluster.sh: munged, slurmctld,
// slurmd of Debian's slurm-wlm), the tiny CPU sweep submitted as a job array, one task cancelled
// mid-run with scancel, resubmitted; every run done exactly once and the same losses and fit as
// the same sweep run locally. Skips where slurm-wlm and munge are not installed, or not as root
// (slurmd starts jobs as their users).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "../cli/run_command.h"
#include "../cli/sweep_fixture.h"
#include "common/file_util.h"
#include "common/json.h"
#include "runs/run_db.h"

namespace scalelab::testing {
namespace {

namespace fs = std::filesystem;

class Cluster {
 public:
  explicit Cluster(const std::string& dir) : dir_(dir) {
    const CommandResult r = run_shell("bash " + std::string(SCALELAB_SOURCE_DIR) +
                                      "/tests/slurm/cluster.sh start " + dir);
    status_ = r.exit_code;
    message_ = r.out + r.err;
  }
  ~Cluster() {
    run_shell("bash " + std::string(SCALELAB_SOURCE_DIR) + "/tests/slurm/cluster.sh stop " + dir_);
  }
  int status() const { return status_; }
  const std::string& message() const { return message_; }
  // A command with this cluster's SLURM_CONF.
  std::string env() const { return "SLURM_CONF=" + dir_ + "/slurm.conf "; }

 private:
  std::string dir_, message_;
  int status_ = 0;
};

// Skips where the packages are missing, or not as root (slurmd starts jobs as their users: root
// only, here); fails when the cluster does not come up.
#define REQUIRE_CLUSTER(cluster)                                         \
  if (geteuid() != 0) GTEST_SKIP() << "the one-node cluster needs root"; \
  if ((cluster).status() == 77) GTEST_SKIP() << (cluster).message();     \
  ASSERT_EQ((cluster).status(), 0) << (cluster).message()

// Polls `condition` every 0.2 s for up to `seconds`; whether it became true.
template <class F>
bool wait_for(F condition, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

std::map<std::string, double> losses(const std::string& db_path) {
  runs::RunDb db(db_path);
  std::map<std::string, double> l;
  for (const auto& r : db.list(runs::RunStatus::kDone))
    l[r.extra["key"].get<std::string>()] = r.loss;
  return l;
}

TEST(Slurm, SweepAsJobArraySurvivesScancelAndMatchesALocalSweep) {
  const std::string d = temp_dir("slurm");
  Cluster cluster(d + "/cluster");
  REQUIRE_CLUSTER(cluster);
  const std::string bin = SCALELAB_BINARY, env = cluster.env();

  // The tiny sweep, its top budget large enough (≈ 10 s a run) to be cancelled mid-run.
  json::Json base = tiny_sweep("");
  base["budgets"] = {2e10, 4e10, 2e11};
  base["device"] = "cpu";
  base["out_dir"] = d + "/local";
  const std::string local_cfg = write_config(d + "/local.json", base);
  base["out_dir"] = d + "/slurm";
  const std::string cfg = write_config(d + "/slurm.json", base);

  CommandResult local = run_scalelab("sweep --config " + local_cfg);
  ASSERT_EQ(local.exit_code, 0) << local.err;

  // A partition the cluster does not have: sbatch's own words, one line, nothing submitted.
  expect_one_line_error(
      run_shell(env + bin + " sweep submit --config " + cfg + " --slurm --partition nope"),
      "--partition: Partition nope not found (scontrol show partition nope)");
  EXPECT_FALSE(fs::exists(d + "/slurm/slurm/jobs.json"));
  CommandResult sub =
      run_shell(env + bin + " sweep submit --config " + cfg + " --slurm --max-parallel 1");
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_NE(sub.out.find("submitted 9 run(s) as Slurm job array"), std::string::npos) << sub.out;
  ASSERT_TRUE(fs::exists(d + "/slurm/slurm/submit-1.sbatch"));
  const json::Json jobs = json::read_file(d + "/slurm/slurm/jobs.json");
  const std::string job = jobs[0]["job_id"].get<std::string>();
  const json::Json keys = jobs[0]["keys"];

  // Cancel a top-budget run once it has trained a few steps (its metrics.jsonl has lines).
  size_t victim = 0;
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i].get<std::string>().starts_with("b3-")) victim = i;
  const std::string victim_key = keys[victim].get<std::string>();
  const std::string victim_dir = d + "/slurm/runs/" + victim_key;
  ASSERT_TRUE(wait_for(
      [&] {
        return fs::exists(victim_dir + "/metrics.jsonl") &&
               fs::file_size(victim_dir + "/metrics.jsonl") > 0;
      },
      300))
      << "run " << victim_key << " never started";
  ASSERT_FALSE(fs::exists(victim_dir + "/result.json")) << "it finished before the scancel";
  ASSERT_EQ(run_shell(env + "scancel " + job + "_" + std::to_string(victim)).exit_code, 0);
  const auto queue_empty = [&] { return run_shell(env + "squeue -h --me").out.empty(); };
  ASSERT_TRUE(wait_for(queue_empty, 600)) << "the job array did not finish";

  // The cancelled run stopped with a checkpoint; the others are done.
  CommandResult st = run_shell(env + bin + " sweep status --config " + cfg);
  ASSERT_EQ(st.exit_code, 0) << st.err;
  EXPECT_NE(st.out.find("9 runs: 8 done, 1 stopped"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find(victim_key), std::string::npos);
  std::map<std::string, fs::file_time_type> finished;
  for (const auto& k : keys)
    if (k != victim_key)
      finished[k] = fs::last_write_time(d + "/slurm/runs/" + k.get<std::string>() + "/result.json");

  // Resubmitted: only the stopped run goes, and it resumes from its checkpoint.
  sub = run_shell(env + bin + " sweep submit --config " + cfg + " --slurm");
  ASSERT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_NE(sub.out.find("submitted 1 run(s)"), std::string::npos) << sub.out;
  ASSERT_TRUE(wait_for(queue_empty, 600));
  st = run_shell(env + bin + " sweep status --config " + cfg);
  EXPECT_NE(st.out.find("9 runs: 9 done"), std::string::npos) << st.out;
  sub = run_shell(env + bin + " sweep submit --config " + cfg + " --slurm");
  EXPECT_NE(sub.out.find("nothing to submit: 9 run(s) done"), std::string::npos) << sub.out;
  // Done exactly once: the other runs' results untouched, the victim's steps never repeated.
  for (const auto& [k, t] : finished)
    EXPECT_EQ(fs::last_write_time(d + "/slurm/runs/" + k + "/result.json"), t) << k;
  int64_t last = 0;
  std::istringstream metrics(read_text_file(victim_dir + "/metrics.jsonl"));
  for (std::string line; std::getline(metrics, line);) {
    const int64_t step = json::Json::parse(line)["step"].get<int64_t>();
    EXPECT_GT(step, last) << "a step trained twice";
    last = step;
  }

  // The fit: `scalelab sweep` trains nothing more and gives the local sweep's answer.
  CommandResult fit = run_shell(env + bin + " sweep --config " + cfg);
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  const auto a = losses(d + "/local/runs.db"), b = losses(d + "/slurm/runs.db");
  ASSERT_EQ(a.size(), 9u);
  ASSERT_EQ(b.size(), a.size());
  // Resuming from a checkpoint continues the same arithmetic on the CPU: equal losses.
  for (const auto& [k, loss] : a) EXPECT_NEAR(b.at(k), loss, 1e-9 * loss) << k;
  const json::Json ra = json::read_file(d + "/local/recommendation.json"),
                   rb = json::read_file(d + "/slurm/recommendation.json");
  EXPECT_EQ(rb["fit"]["law"].dump(), ra["fit"]["law"].dump());  // (not its "seconds")
  EXPECT_EQ(rb["recommendations"].dump(), ra["recommendations"].dump());
}

// Data-parallel training launched by srun: two tasks find their rank, world size and rank 0's
// host (the first of SLURM_STEP_NODELIST) in Slurm's variables, and train the one-rank run.
TEST(Slurm, SrunLaunchesDataParallelTraining) {
  const std::string d = temp_dir("srun");
  Cluster cluster(d + "/cluster");
  REQUIRE_CLUSTER(cluster);
  const std::string bin = SCALELAB_BINARY;
  const std::string args = " train --quiet true --device cpu --train-data " +
                           tiny_shakespeare_tokens(d, 40000) +
                           " --vocab-size 300 --context-length 32 --d-model 32 "
                           "--n-layers 2 --n-heads 2 --batch-size 8 --max-steps 20 "
                           "--log-interval 5 --dist-timeout 60 --out ";
  ASSERT_EQ(run_scalelab(args.substr(1) + d + "/one").exit_code, 0);
  // Rank 0's host is this node's name: where it does not resolve, the job gives MASTER_ADDR.
  const bool resolves = run_shell("getent hosts $(hostname -s)").exit_code == 0;
  CommandResult r = run_shell(cluster.env() + (resolves ? "" : "MASTER_ADDR=127.0.0.1 ") +
                              "srun --ntasks 2 --cpus-per-task 1 " + bin + args + d + "/two");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("done: 20 steps"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("done: 20 steps"), r.out.rfind("done: 20 steps")) << "rank 1 printed";
  const json::Json a = json::read_file(d + "/one/result.json"),
                   b = json::read_file(d + "/two/result.json");
  EXPECT_NEAR(b["final_train_loss"].get<double>(), a["final_train_loss"].get<double>(),
              1e-5 * a["final_train_loss"].get<double>());
  EXPECT_EQ(json::read_file(d + "/two/checkpoint/state.json")["world_size"], 2);
}

}  // namespace
}  // namespace scalelab::testing
