// The sweep wired to the engine module and the report (see sweep_runner.h).
#include "sweep_runner.h"

#include <iostream>

#include "common/process.h"
#include "engine/engine.h"
#include "report/report.h"
#include "sweep/coordinator.h"

namespace scalelab::app {

void run_sweep_config(sweep::SweepConfig config, const SweepRunOptions& options) {
  const sweep::TrainingEngine engine{
      .train = [](const train::TrainConfig& c) { return engine::train(c); },
      .available = [] { return engine::available(); },
      .unavailable_reason = [] { return engine::unavailable_reason(); },
      .cuda_available = [] { return engine::cuda_available(); }};
  const sweep::ReportWriter report = [](const sweep::SweepAnalysis& a, const json::Json& resolved,
                                        const std::string& db_path,
                                        const std::filesystem::path& out) {
    report::ReportInfo info;
    info.db_path = db_path;
    info.sweep_config = resolved;
    return report::write_report(a, info, out);
  };
  sweep::SweepRunOptions o;
  o.plan_only = options.plan_only;
  o.worker = options.worker;
  o.plan_for_absent_gpu = options.plan_for_absent_gpu;
  o.slurm = options.slurm;
  o.status = options.status;
  o.scalelab = current_executable();
  o.worker_command = [](const std::string& config_path) {
    return std::vector<std::string>{current_executable(), "sweep", "--config", config_path,
                                    "--worker"};
  };
  sweep::run_sweep(std::move(config), o, engine, report, std::cout);
}

}  // namespace scalelab::app
