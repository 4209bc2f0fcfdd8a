// Running a sweep end to end: resolve the device, prepare the data, plan, record the plan, execute
// it (one worker here, or one process per GPU / CPU share), analyse, report, verify. What needs
// LibTorch (training) and what depends on this library (the report writer) are passed in, so the
// CLI only wires flags to run_sweep(). The config is validated once, here, at the boundary.
#pragma once

#include <filesystem>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "sweep/executor.h"
#include "sweep/results.h"
#include "sweep/slurm.h"
#include "sweep/sweep_config.h"

namespace scalelab::sweep {

// What the sweep needs of the training engine (engine/engine.h in the CLI).
struct TrainingEngine {
  TrainFn train;
  std::function<bool()> available;  // can it train at all (a build without LibTorch cannot)
  std::function<std::string()> unavailable_reason;
  std::function<bool()> cuda_available;
};

// Writes the report of an analysis under `out`; returns the page's path.
using ReportWriter = std::function<std::filesystem::path(
    const SweepAnalysis& analysis, const json::Json& config, const std::string& db_path,
    const std::filesystem::path& out)>;

struct SweepRunOptions {
  bool plan_only = false;  // print the plan and stop (sweep plan, --dry-run)
  bool worker = false;     // a worker process started by the coordinator: work through the plan
  // With plan_only: a plan for device cuda on a machine without a GPU is made, with a warning
  // (sweep plan); otherwise that is the real run's error (demo --dry-run).
  bool plan_for_absent_gpu = false;
  // The command line of a worker process, given the resolved config file it re-reads.
  std::function<std::vector<std::string>(const std::string& config_path)> worker_command;
  // `sweep submit --slurm`: the runs not done go to Slurm as a job array (slurm.h) instead of
  // training here; `scalelab` is the binary its tasks run.
  std::optional<SlurmOptions> slurm;
  std::string scalelab;
  // `sweep status`: record the runs finished on the cluster, print each run's state, stop.
  bool status = false;
};

// Results (plan table, recommendations, report path, verify line) go to `out`; diagnostics to the
// log. Throws for every config and data problem before any run trains.
void run_sweep(SweepConfig config, const SweepRunOptions& options, const TrainingEngine& engine,
               const ReportWriter& write_report, std::ostream& out);

}  // namespace scalelab::sweep
