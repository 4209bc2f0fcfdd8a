// Running a sweep: prepare the data (split the corpus, train or reuse the tokenizer, encode),
// insert the plan into the run database once, and work through it. Crash safety comes from the
// database: a run is claimed (planned → running, owner = this process) in one transaction and
// finished (result + loss curve) in another; a run left `running` by a process that no longer
// exists goes back to planned and resumes from its own checkpoint. Training itself is a callback
// (the app passes LibTorch's run_training), so this file needs no LibTorch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "runs/run_db.h"
#include "sweep/planner.h"
#include "sweep/sweep_config.h"
#include "train/train_config.h"

namespace scalelab::sweep {

// Under out_dir/data and out_dir/tokenizer; each stage is skipped when its output already exists
// (outputs appear by rename, so an existing one is complete). Errors name the file. The config has
// passed validate().
DataInfo prepare_data(const SweepConfig& config);

// The run database of a sweep: out_dir/runs.db.
std::string sweep_db_path(const SweepConfig& config);

// The plan as run-database rows (status planned; config = the run's TrainConfig JSON, checked
// here; extra = key, exact budget C, target N, epochs, estimated seconds, FLOP counts).
std::vector<runs::Run> plan_to_runs(const Plan& plan, FlopCount flop_count);

// Inserts the runs unless the database already holds this sweep's plan; refuses a database
// holding a different plan. Returns how many runs were inserted (0 when the plan was there).
size_t insert_plan(runs::RunDb& db, const Plan& plan, std::vector<runs::Run> runs);

// Runs left `running` by dead processes go back to planned; with retry_failed, failed ones too.
// Returns the ids released.
std::vector<int64_t> release_runs(runs::RunDb& db, bool retry_failed);

using TrainFn = std::function<train::TrainResult(const train::TrainConfig&)>;

struct WorkerStats {
  int64_t done = 0, failed = 0;
  bool interrupted = false;  // training returned "interrupted" (a signal): stop here
};

// Claims planned runs one at a time (in `order`) until none is left. A run that throws is marked
// failed (the message in extra.error) and the worker goes on. Cooldown branches wait for their
// parent run (another worker may be training it; one whose worker died is taken over); a branch
// whose parent failed is marked failed; a finished branch removes the parent checkpoint it
// started from (no other run needs it). `device` overrides the run's device
// when not empty (a GPU worker sees its GPU as "cuda").
WorkerStats run_worker(runs::RunDb& db, const TrainFn& train, const std::string& device = "",
                       runs::RunDb::ClaimOrder order = runs::RunDb::ClaimOrder::kById);

// The training-loss curve from a run's metrics.jsonl (later lines win for a repeated step, as
// after a resume). Throws naming the file and line on malformed JSON.
std::vector<runs::CurvePoint> read_loss_curve(const std::string& metrics_jsonl);

// The sweep's run as the scaling engine records it once done.
runs::Run finished_run(runs::Run run, const train::TrainResult& result);
// Records a finished run (result and loss curve from its metrics.jsonl, one transaction) and
// removes the parent checkpoint a cooldown branch started from (no other run needs it).
void record_finished_run(runs::RunDb& db, const runs::Run& run, const train::TrainConfig& config,
                         const train::TrainResult& result);

// The rate (FLOP/s) the device trains one run alone at, from these finished runs: the median over
// runs of exact FLOPs / wall seconds, a packed run's divided by its share of the GPU
// (trained_by.gpu_share, recorded by run_worker) and by the gain of packing (kPackingGain, or
// kPackingGainMps with trained_by.mps), which the plan applies again; 0 when no run records both.
double measured_device_rate(const std::vector<runs::Run>& done);
// The share of a planned run's own steps (those after its branch step) that its resume checkpoint
// holds already: a run interrupted mid-way (kill, Ctrl-C, a Slurm time limit) resumes there. 0
// without a checkpoint; throws naming the file when its state.json is not JSON.
double checkpointed_share(const PlannedRun& run);
// The same rates per shape: FLOP/s by the runs' exact FLOPs per token (flops_per_token, which
// tells a sweep's shapes apart), the median of each shape's runs; for estimate_from_measured_rates.
std::map<double, double> measured_rates_by_shape(const std::vector<runs::Run>& done);

}  // namespace scalelab::sweep
