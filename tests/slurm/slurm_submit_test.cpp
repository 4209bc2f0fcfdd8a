// `sweep submit --slurm` and `sweep status` against stand-in sbatch and squeue scripts (no
// cluster: these run wherever the unit tests do): the script and task configs written, the job
// recorded, what is resubmitted, the states shown, and the errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "../cli/run_command.h"
#include "../cli/sweep_fixture.h"
#include "common/file_util.h"
#include "common/json.h"

namespace scalelab::testing {
namespace {

namespace fs = std::filesystem;

struct FakeSlurm {
  std::string d, bin;
  explicit FakeSlurm(const std::string& name) : d(temp_dir(name)), bin(d + "/bin") {
    fs::create_directories(bin);
    sbatch("cp \"$2\" " + d + "/submitted.sbatch; echo \"$@\" >> " + d + "/sbatch.args; echo 4242");
    squeue("");
    script("scontrol", "exit 0");  // every partition exists
  }
  void script(const std::string& name, const std::string& body) const {
    const std::string p = bin + "/" + name;
    std::ofstream(p) << "#!/bin/sh\n" << body << "\n";
    fs::permissions(p, fs::perms::owner_all);
  }
  void sbatch(const std::string& body) const { script("sbatch", body); }
  // squeue -h -r --me -o "%i %T": these lines.
  void squeue(const std::string& lines) const { script("squeue", "printf '" + lines + "'"); }
  CommandResult scalelab(const std::string& args) const {
    return run_shell("PATH=" + bin + ":$PATH " + SCALELAB_BINARY + " " + args);
  }
  std::string config(json::Json extra = json::Json::object(),
                     const std::string& name = "sweep") const {
    json::Json j = tiny_sweep(d + "/" + name);
    j["device"] = "cpu";
    for (const auto& [k, v] : extra.items()) j[k] = v;
    return write_config(d + "/" + name + ".json", j);
  }
};

TEST(SlurmSubmit, WritesTheArrayScriptRecordsTheJobAndResubmitsWhatIsNotQueued) {
  FakeSlurm f("slurm_submit");
  const std::string cfg = f.config();
  CommandResult r = f.scalelab("sweep submit --config " + cfg +
                               " --slurm --partition gpu --gpus-per-task 2 --max-parallel 3 "
                               "--time 01:00:00 --cpus-per-task 4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("submitted 9 run(s) as Slurm job array 4242"), std::string::npos) << r.out;
  const std::string script = read_text_file(f.d + "/sweep/slurm/submit-1.sbatch");
  EXPECT_EQ(read_text_file(f.d + "/submitted.sbatch"), script);
  EXPECT_EQ(read_text_file(f.d + "/sbatch.args"),
            "--parsable " + f.d + "/sweep/slurm/submit-1.sbatch\n");
  for (const std::string line :
       {"#SBATCH --array=0-8%3\n", "#SBATCH --partition=gpu\n", "#SBATCH --gpus-per-task=2\n",
        "#SBATCH --cpus-per-task=4\n", "#SBATCH --time=01:00:00\n", "#SBATCH --requeue\n",
        "#SBATCH --signal=B:TERM@120\n", "' train --config \"${configs[$SLURM_ARRAY_TASK_ID]}\"\n"})
    EXPECT_NE(script.find(line), std::string::npos) << line << " in\n" << script;
  const json::Json jobs = json::read_file(f.d + "/sweep/slurm/jobs.json");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["job_id"], "4242");
  ASSERT_EQ(jobs[0]["keys"].size(), 9u);
  // Each task's config: the run's complete TrainConfig, data-parallel over its two GPUs.
  const json::Json task = json::read_file(f.d + "/sweep/slurm/submit-1/" +
                                          jobs[0]["keys"][0].get<std::string>() + ".json");
  EXPECT_EQ(task["nproc_per_node"], 2);
  EXPECT_NE(
      script.find(f.d + "/sweep/slurm/submit-1/" + jobs[0]["keys"][8].get<std::string>() + ".json"),
      std::string::npos);

  // Two tasks still queued; the seven others left the queue without a result or a checkpoint.
  f.squeue("4242_0 RUNNING\\n4242_1 PENDING\\n999_0 RUNNING\\n");
  r = f.scalelab("sweep status --config " + cfg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("9 runs: 7 failed, 1 pending, 1 running"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("log " + f.d + "/sweep/slurm/logs/4242_8.log"), std::string::npos) << r.out;
  // Resubmitting sends only what is neither done nor queued.
  f.sbatch("echo 4243");
  r = f.scalelab("sweep submit --config " + cfg + " --slurm");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("submitted 7 run(s) as Slurm job array 4243"), std::string::npos) << r.out;
  EXPECT_NE(read_text_file(f.d + "/sweep/slurm/submit-2.sbatch").find("#SBATCH --array=0-6\n"),
            std::string::npos);
}

// A WSD sweep: the parents (and runs of their own) in one array, their cooldown branches in a
// second that starts once the first has ended.
TEST(SlurmSubmit, WsdBranchesGoInASecondArrayAfterTheirParents) {
  FakeSlurm f("slurm_wsd");
  f.sbatch("n=$(cat " + f.d + "/n 2>/dev/null || echo 100); n=$((n+1)); echo $n > " + f.d +
           "/n; cp \"$2\" " + f.d + "/job-$n.sbatch; echo $n");
  const std::string cfg = f.config({{"lr_schedule", "wsd"}}, "wsd");
  CommandResult r = f.scalelab("sweep submit --slurm --config " + cfg);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("as Slurm job array 101 ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("as Slurm job array 102, after the first (cooldown branches)"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(read_text_file(f.d + "/job-101.sbatch").find("--dependency"), std::string::npos);
  EXPECT_NE(read_text_file(f.d + "/job-102.sbatch").find("#SBATCH --dependency=afterany:101\n"),
            std::string::npos);
  const json::Json jobs = json::read_file(f.d + "/wsd/slurm/jobs.json");
  ASSERT_EQ(jobs.size(), 2u);
  // Every branch task's config starts from a checkpoint of a parent in the first array.
  std::set<std::string> parents;
  for (const auto& k : jobs[0]["keys"]) parents.insert(k.get<std::string>());
  ASSERT_FALSE(jobs[1]["keys"].empty());
  for (const auto& k : jobs[1]["keys"]) {
    const json::Json task =
        json::read_file(f.d + "/wsd/slurm/submit-2/" + k.get<std::string>() + ".json");
    const std::string from = task["branch_from"].get<std::string>();
    const std::string parent = fs::path(from).parent_path().filename().string();
    EXPECT_TRUE(parents.contains(parent)) << k << " branches from " << from;
  }
}

TEST(SlurmSubmit, BadSubmissionsAreOneLineErrors) {
  FakeSlurm f("slurm_bad");
  const std::string cfg = f.config();
  expect_one_line_error(f.scalelab("sweep submit --config " + cfg), "sweep submit: give --slurm");
  // No sbatch on PATH.
  expect_one_line_error(run_shell("PATH=/nonexistent " + std::string(SCALELAB_BINARY) +
                                  " sweep submit --slurm --config " + cfg),
                        "--slurm: sbatch not found on PATH");
  // sbatch refuses (its own words, on one line); nothing is left of the submission. (After the
  // data and the plan: info lines come first, so the log level is warn here.)
  f.sbatch(
      "echo 'sbatch: error: invalid partition specified: nope' >&2; echo 'sbatch: error: "
      "Batch job submission failed: Invalid partition name specified' >&2; exit 1");
  expect_one_line_error(f.scalelab("--log-level warn sweep submit --slurm --config " + cfg),
                        "sbatch refused the sweep's job array (exit 1): invalid partition "
                        "specified: nope; Batch job submission failed: Invalid partition name "
                        "specified");
  EXPECT_FALSE(fs::exists(f.d + "/sweep/slurm/submit-1.sbatch"));
  EXPECT_FALSE(fs::exists(f.d + "/sweep/slurm/jobs.json"));
  expect_one_line_error(f.scalelab("sweep submit --slurm --gpus-per-task -1 --config " + cfg),
                        "--gpus-per-task");
  // A partition scontrol does not know: before the data is prepared.
  f.script("scontrol", "echo 'Partition nope not found' >&2; exit 1");
  expect_one_line_error(f.scalelab("sweep submit --slurm --partition nope --config " + cfg),
                        "--partition: Partition nope not found (scontrol show partition nope)");
}

}  // namespace
}  // namespace scalelab::testing
