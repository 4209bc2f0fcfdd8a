// Sweeps as Slurm job arrays (docs/distributed.md, "Sweeps on Slurm"). The flow, and why:
//   `sweep submit --slurm` plans the sweep as `scalelab sweep` does (data, plan, run database) and
//     writes one sbatch script per submission, out_dir/slurm/submit-K.sbatch: an array with one
//     task per run not done and not already queued, each `scalelab train --config` of that run's
//     complete TrainConfig (out_dir/slurm/submit-K/KEY.json). The script is kept, so users can
//     read, edit and submit it themselves. The job id and the task → run mapping go to
//     out_dir/slurm/jobs.json.
//   An array task trains its run into the run's own directory (checkpoint/, metrics.jsonl,
//     result.json) and never opens the run database: SQLite's locking is unreliable on the network
//     file systems a cluster shares, and a database written from many nodes would be exactly where
//     it fails. Only the submitting command — `sweep submit`, `sweep status`, `scalelab sweep` —
//     opens runs.db, from one host at a time.
//   Ingestion: those commands record every run whose result.json says done in the database, each
//     in one transaction with its loss curve (ingest_finished_runs); a run is never trained twice.
//   A task stopped by Slurm (scancel, time limit, preemption) gets SIGTERM first: the trainer saves
//   a
//     checkpoint (`--signal=B:TERM@120` asks for it two minutes before the time limit; `--requeue`
//     lets a preempted task start again), and the next submission resumes it from there.
// No LibTorch here: the tasks are separate `scalelab train` processes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/fields.h"
#include "runs/run_db.h"
#include "sweep/sweep_config.h"

namespace scalelab::sweep {

struct SlurmOptions {
  std::string partition;      // empty: the cluster's default partition
  int64_t gpus_per_task = 0;  // GPUs per run (0: none asked for; >1: the run trains data-parallel)
  int64_t cpus_per_task = 0;  // 0: Slurm's default
  int64_t max_parallel = 0;   // array tasks running at once (--array=…%K); 0: no limit
  std::string time;           // --time of each task (e.g. 02:00:00); empty: the partition's
};
// The field table: `sweep submit`'s flags and docs/config.md.
const fields::Table<SlurmOptions>& slurm_options_fields();

// Records every run of the database that is not done but whose run directory holds a result.json
// with status done (and a validation loss): one transaction per run, with its loss curve. Returns
// the keys recorded.
std::vector<std::string> ingest_finished_runs(runs::RunDb& db);

// The array tasks of this sweep's submissions that Slurm still lists (squeue), by run key: PENDING,
// RUNNING, … Empty when nothing was submitted. Throws when squeue is missing or fails.
std::map<std::string, std::string> queued_runs(const std::string& out_dir);

struct Submission {
  std::string job_id;
  std::string script;             // the sbatch script written
  std::vector<std::string> keys;  // the runs, in array-index order
};
// What can be checked before the sweep's data is prepared: sbatch on PATH and the partition
// (scontrol show partition, when scontrol is there). One-line errors.
void check_slurm_submission(const SlurmOptions& options);

struct SubmitResult {
  std::vector<Submission>
      arrays;  // one, or two: the second (WSD cooldown branches) after the first
  std::vector<std::string> waiting;  // branches whose parent is still queued from before: next time
};
// Submits every run of `all` (the sweep's runs) that is neither done nor `queued`: one array of
// those that can start now, and a WSD sweep's cooldown branches whose parents are in it as a
// second array that starts after the first has ended (--dependency=afterany). Each array: its
// script and task configs written, sbatch run, the job recorded. `scalelab` is the binary the
// tasks run. Throws a one-line error when sbatch is missing or refuses (its own words).
SubmitResult submit_runs(const SweepConfig& config, const std::vector<runs::Run>& all,
                         const std::map<std::string, std::string>& queued,
                         const SlurmOptions& options, const std::string& scalelab);

// `sweep status`: one line per run (key, N, D, status — planned; pending, running, … as squeue
// says; done, with its loss; stopped: gone from the queue with a checkpoint but no result, which
// the next submission resumes; failed: gone without either, its log named), then the counts.
std::string format_slurm_status(const std::vector<runs::Run>& runs,
                                const std::map<std::string, std::string>& queued,
                                const std::string& out_dir);

}  // namespace scalelab::sweep
