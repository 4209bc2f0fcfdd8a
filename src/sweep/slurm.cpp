// Sweeps as Slurm job arrays (see slurm.h).
#include "sweep/slurm.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/json.h"
#include "common/log.h"
#include "common/process.h"
#include "sweep/executor.h"
#include "train/train_config.h"

namespace scalelab::sweep {

namespace fs = std::filesystem;

namespace {

fs::path slurm_dir(const std::string& out_dir) { return fs::path(out_dir) / "slurm"; }
fs::path jobs_file(const std::string& out_dir) { return slurm_dir(out_dir) / "jobs.json"; }

json::Json read_jobs(const std::string& out_dir) {
  const fs::path p = jobs_file(out_dir);
  if (!fs::exists(p)) return json::Json::array();
  json::Json j = json::read_file(p);
  SCALELAB_CHECK(j.is_array(), "{}: expected an array of submissions", p.string());
  for (const auto& s : j)
    SCALELAB_CHECK(s.is_object() && s.contains("job_id") && s["job_id"].is_string() &&
                       s.contains("keys") && s["keys"].is_array(),
                   "{}: a submission needs job_id and keys", p.string());
  return j;
}

std::string run_key(const runs::Run& r) { return r.extra.value("key", std::to_string(r.id)); }

train::TrainConfig run_config(const runs::Run& r) {
  return train::train_config_from_json(r.config, fmt::format("run {} config", run_key(r)));
}

// A word for a bash script, in single quotes.
std::string quoted(const std::string& s) {
  std::string q = "'";
  for (const char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// sbatch's and squeue's errors without their "sbatch: error: " prefixes, on one line.
std::string one_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, all;
  while (std::getline(in, line)) {
    for (const std::string prefix : {"sbatch: error: ", "squeue: error: ", "error: "})
      if (line.starts_with(prefix)) line = line.substr(prefix.size());
    if (line.empty()) continue;
    all += (all.empty() ? "" : "; ") + line;
  }
  return all.empty() ? "no message" : all;
}

}  // namespace

const fields::Table<SlurmOptions>& slurm_options_fields() {
  using fields::Range;
  using T = SlurmOptions;
  static const auto t =
      fields::Table<T>()
          .add("partition", &T::partition, "Slurm partition (empty: the cluster's default)")
          .add("gpus_per_task", &T::gpus_per_task,
               "GPUs per run (0: none asked for; > 1: the run trains data-parallel on them)",
               Range::in(0, 64))
          .add("cpus_per_task", &T::cpus_per_task, "CPUs per run (0: Slurm's default)",
               Range::in(0, 4096))
          .add("max_parallel", &T::max_parallel,
               "Array tasks running at once (--array=…%K; 0: no limit)", Range::in(0, 100000))
          .add("time", &T::time,
               "Time limit of each run, as sbatch's --time (empty: the "
               "partition's)");
  return t;
}

std::vector<std::string> ingest_finished_runs(runs::RunDb& db) {
  std::vector<std::string> keys;
  for (const runs::Run& run : db.list()) {
    if (run.status == runs::RunStatus::kDone) continue;
    const train::TrainConfig cfg = run_config(run);
    const fs::path result = fs::path(cfg.out_dir) / "result.json";
    if (!fs::exists(result)) continue;
    const train::TrainResult res = train::read_train_result(result.string());
    if (res.status != "done" || !std::isfinite(res.final_val_loss)) continue;
    record_finished_run(db, run, cfg, res);
    keys.push_back(run_key(run));
  }
  return keys;
}

std::map<std::string, std::string> queued_runs(const std::string& out_dir) {
  const json::Json jobs = read_jobs(out_dir);
  if (jobs.empty()) return {};
  std::map<std::string, const json::Json*> by_job;
  for (const auto& s : jobs) by_job[s["job_id"].get<std::string>()] = &s["keys"];
  SCALELAB_CHECK(!find_in_path("squeue").empty(),
                 "squeue: not found on PATH (this sweep's runs were submitted to Slurm; run `sweep "
                 "status` where Slurm's commands are)");
  // All of this user's jobs, arrays expanded: asking for job ids Slurm has forgotten is an error.
  const CommandOutput r = run_command({"squeue", "-h", "-r", "--me", "-o", "%i %T"});
  SCALELAB_CHECK(r.status == 0, "squeue failed (exit {}): {}", r.status, one_line(r.err));
  std::map<std::string, std::string> queued;
  std::istringstream in(r.out);
  std::string id, state;
  while (in >> id >> state) {
    const size_t us = id.find('_');
    if (us == std::string::npos) continue;
    const auto it = by_job.find(id.substr(0, us));
    if (it == by_job.end()) continue;
    size_t index = 0;
    try {
      index = std::stoul(id.substr(us + 1));
    } catch (const std::exception&) {
      continue;  // a pending range the -r flag did not expand
    }
    if (index < it->second->size()) queued[(*it->second)[index].get<std::string>()] = state;
  }
  return queued;
}

void check_slurm_submission(const SlurmOptions& o) {
  SCALELAB_CHECK(!find_in_path("sbatch").empty(),
                 "--slurm: sbatch not found on PATH (submit from a host where Slurm's commands "
                 "are, a login node)");
  if (!o.partition.empty() && !find_in_path("scontrol").empty()) {
    const CommandOutput r = run_command({"scontrol", "show", "partition", o.partition});
    SCALELAB_CHECK(r.status == 0, "--partition: {} (scontrol show partition {})",
                   one_line(r.out + r.err), o.partition);
  }
}

namespace {

// One job array of `runs`, after `dependency` (a job id; empty: none) has ended.
Submission submit_array(const SweepConfig& c, const std::vector<runs::Run>& runs,
                        const SlurmOptions& o, const std::string& scalelab,
                        const std::string& dependency) {
  const fs::path dir = fs::absolute(slurm_dir(c.out_dir));
  json::Json jobs = read_jobs(c.out_dir);
  const std::string name = fmt::format("submit-{}", jobs.size() + 1);
  fs::create_directories(dir / name);
  fs::create_directories(dir / "logs");
  Submission s;
  s.script = (dir / (name + ".sbatch")).string();
  std::string configs;
  for (const runs::Run& run : runs) {
    train::TrainConfig cfg = run_config(run);
    if (o.gpus_per_task > 1) cfg.nproc_per_node = o.gpus_per_task;
    const fs::path path = dir / name / (run_key(run) + ".json");
    json::write_file(path, train::to_json(cfg));
    configs += "  " + quoted(path.string()) + "\n";
    s.keys.push_back(run_key(run));
  }
  std::string sbatch = fmt::format(
      "#!/bin/bash\n"
      "# scalelab sweep {}: {} run(s), one array task each (written by `scalelab sweep submit "
      "--slurm`;\n"
      "# edit and `sbatch` it yourself if you like, then `scalelab sweep status` follows the "
      "runs).\n"
      "#SBATCH --job-name=scalelab-{}\n"
      "#SBATCH --array=0-{}{}\n"
      "#SBATCH --ntasks=1\n"
      "#SBATCH --chdir={}\n"
      "#SBATCH --output={}/logs/%A_%a.log\n"
      "#SBATCH --open-mode=append\n"
      "#SBATCH --requeue\n"
      "#SBATCH --signal=B:TERM@120\n",
      c.out_dir, runs.size(), fs::path(c.out_dir).filename().string(), runs.size() - 1,
      o.max_parallel > 0 ? fmt::format("%{}", o.max_parallel) : "", fs::current_path().string(),
      dir.string());
  if (!o.partition.empty()) sbatch += fmt::format("#SBATCH --partition={}\n", o.partition);
  if (o.gpus_per_task > 0) sbatch += fmt::format("#SBATCH --gpus-per-task={}\n", o.gpus_per_task);
  if (o.cpus_per_task > 0) sbatch += fmt::format("#SBATCH --cpus-per-task={}\n", o.cpus_per_task);
  if (!o.time.empty()) sbatch += fmt::format("#SBATCH --time={}\n", o.time);
  // Cooldown branches start once their parents' array has ended (afterany: a parent that failed or
  // stopped leaves no checkpoint, and its branches fail at once; the next submission sends both).
  if (!dependency.empty()) sbatch += fmt::format("#SBATCH --dependency=afterany:{}\n", dependency);
  sbatch += fmt::format(
      "set -euo pipefail\n"
      "configs=(\n{})\n"
      "# SIGTERM (scancel, the time limit, preemption) makes the run save a checkpoint; the next\n"
      "# submission resumes it from there.\n"
      "exec {} train --config \"${{configs[$SLURM_ARRAY_TASK_ID]}}\"\n",
      configs, quoted(scalelab));
  write_text_file_atomic(s.script, sbatch);
  fs::permissions(s.script, fs::perms::owner_exec, fs::perm_options::add);
  const CommandOutput r = run_command({"sbatch", "--parsable", s.script});
  if (r.status != 0) {
    std::error_code ec;
    fs::remove_all(dir / name, ec);
    fs::remove(s.script, ec);
    SCALELAB_FAIL("sbatch refused the sweep's job array (exit {}): {}", r.status, one_line(r.err));
  }
  s.job_id = r.out.substr(0, r.out.find_first_of(";\n"));
  SCALELAB_CHECK(!s.job_id.empty() && s.job_id.find_first_not_of("0123456789") == std::string::npos,
                 "sbatch: unexpected answer '{}' (expected a job id)", one_line(r.out));
  jobs.push_back({{"job_id", s.job_id}, {"script", s.script}, {"keys", s.keys}});
  json::write_file(jobs_file(c.out_dir), jobs);
  return s;
}

}  // namespace

SubmitResult submit_runs(const SweepConfig& c, const std::vector<runs::Run>& all,
                         const std::map<std::string, std::string>& queued, const SlurmOptions& o,
                         const std::string& scalelab) {
  check_slurm_submission(o);
  std::map<std::string, runs::RunStatus> status;
  for (const runs::Run& r : all) status[run_key(r)] = r.status;
  std::vector<runs::Run> first, second;
  SubmitResult res;
  std::set<std::string> in_first;
  for (const runs::Run& r : all) {
    const std::string key = run_key(r);
    if (r.status == runs::RunStatus::kDone || queued.contains(key)) continue;
    const std::string parent = r.extra.value("parent_key", std::string());
    if (parent.empty() || status[parent] == runs::RunStatus::kDone) {
      first.push_back(r);
      in_first.insert(key);
    }
  }
  for (const runs::Run& r : all) {
    const std::string key = run_key(r);
    if (r.status == runs::RunStatus::kDone || queued.contains(key) || in_first.contains(key))
      continue;
    // A branch whose parent trains in this submission waits for it; one whose parent is still
    // queued from an earlier submission goes next time.
    if (in_first.contains(r.extra.value("parent_key", std::string())))
      second.push_back(r);
    else
      res.waiting.push_back(key);
  }
  if (!first.empty()) res.arrays.push_back(submit_array(c, first, o, scalelab, ""));
  if (!second.empty())
    res.arrays.push_back(submit_array(c, second, o, scalelab, res.arrays.front().job_id));
  return res;
}

std::string format_slurm_status(const std::vector<runs::Run>& runs,
                                const std::map<std::string, std::string>& queued,
                                const std::string& out_dir) {
  // The last job each run was submitted in, for the log of a failed one.
  std::map<std::string, std::pair<std::string, size_t>> submitted;
  for (const auto& s : read_jobs(out_dir))
    for (size_t i = 0; i < s["keys"].size(); ++i)
      submitted[s["keys"][i].get<std::string>()] = {s["job_id"].get<std::string>(), i};
  std::map<std::string, int> counts;
  std::string text = fmt::format("{:<28} {:>10} {:>10}  {}\n", "run", "N", "D", "status");
  for (const runs::Run& run : runs) {
    const std::string key = run_key(run);
    std::string status;
    std::string detail;
    if (run.status == runs::RunStatus::kDone) {
      status = "done";
      detail = fmt::format("loss {:.4f}", run.loss);
    } else if (const auto q = queued.find(key); q != queued.end()) {
      status = q->second;
      std::transform(status.begin(), status.end(), status.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
    } else if (const auto s = submitted.find(key); s != submitted.end()) {
      // Gone from the queue without a result: stopped with a checkpoint (scancel, the time limit:
      // the next submission resumes it), or failed before one (its log says why).
      const fs::path state =
          fs::path(train::resume_checkpoint_dir(run_config(run).out_dir)) / "state.json";
      const std::string log = (slurm_dir(out_dir) / "logs" /
                               fmt::format("{}_{}.log", s->second.first, s->second.second))
                                  .string();
      if (fs::exists(state)) {
        status = "stopped";
        detail = fmt::format("checkpoint at step {}; log {}",
                             json::read_file(state).value("step", int64_t{0}), log);
      } else {
        status = "failed";
        detail = "log " + log;
      }
    } else {
      status = run.status == runs::RunStatus::kFailed ? "failed" : "planned";
    }
    ++counts[status];
    text += fmt::format("{:<28} {:>10} {:>10}  {}{}\n", key, format_si(run.N), format_si(run.D),
                        status, detail.empty() ? "" : "  " + detail);
  }
  std::string summary;
  for (const auto& [status, n] : counts)
    summary += fmt::format("{}{} {}", summary.empty() ? "" : ", ", n, status);
  text += fmt::format("{} runs: {}\n", runs.size(), summary);
  return text;
}

}  // namespace scalelab::sweep
