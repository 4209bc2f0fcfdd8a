// What `scalelab sweep` and `scalelab demo` share: sweep::run_sweep (src/sweep/coordinator.h) wired
// to the engine module (engine/engine.h, loaded only when a run trains), the HTML report writer,
// this executable as the worker command, and stdout.
#pragma once

#include <optional>

#include "sweep/slurm.h"
#include "sweep/sweep_config.h"

namespace scalelab::app {

struct SweepRunOptions {
  bool plan_only = false;  // print the plan and stop (sweep plan, --dry-run)
  bool worker = false;     // internal: a worker process spawned by the coordinator
  // A plan for `device: cuda` on a machine without a GPU (sweep plan / --dry-run: planning on a
  // laptop for the GPU machine), with a warning; otherwise the real run's error.
  bool plan_for_absent_gpu = false;
  std::optional<sweep::SlurmOptions> slurm;  // sweep submit --slurm
  bool status = false;                       // sweep status
};

void run_sweep_config(sweep::SweepConfig config, const SweepRunOptions& options);

}  // namespace scalelab::app
