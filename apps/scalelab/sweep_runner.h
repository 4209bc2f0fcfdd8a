// What `scalelab sweep` and `scalelab demo` share: run a sweep config end to end (prepare data,
// plan, execute with one worker here or one process per GPU, analyse, report, verify). Training
// goes through the engine module (engine/engine.h), loaded only when a run trains.
#pragma once

#include <string>

#include "sweep/sweep_config.h"
#include "train/train_config.h"

namespace scalelab::app {

struct SweepRunOptions {
  bool plan_only = false;   // print the plan and stop (sweep plan, --dry-run)
  bool worker = false;      // internal: a GPU worker process spawned by the coordinator
  std::string config_path;  // the file this config came from (workers re-read it)
};

void run_sweep_config(sweep::SweepConfig config, const SweepRunOptions& options);

}  // namespace scalelab::app
