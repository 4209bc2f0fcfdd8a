// Running a sweep end to end (see sweep_runner.h).
#include "sweep_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

#include "accounting/hardware.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "common/process.h"
#include "engine/engine.h"
#include "report/report.h"
#include "scaling/run_db.h"
#include "sweep/executor.h"
#include "sweep/planner.h"
#include "sweep/results.h"

namespace scalelab::app {

namespace fs = std::filesystem;

namespace {

// Time estimates: achieved FLOP/s and a per-step overhead. The config's FLOP/s, else the median of
// this sweep's finished runs (overhead included in it), else stated defaults per device: CPU 25
// GFLOP/s per core, CUDA 20% of an H100's dense bf16 peak, plus 7 ms per optimizer step on either
// (measured: the demo's smallest models ran ~7 ms/step over their FLOP time on 2 CPU cores, and
// ~7 ms/step in all on the H100).
struct Throughput {
  double flops_per_second = 0, step_seconds = 0;
};

Throughput throughput(const sweep::SweepConfig& c, const std::string& device) {
  if (c.device_tflops > 0) return {c.device_tflops * 1e12, 0};
  const fs::path db_path = sweep::sweep_db_path(c);
  if (fs::exists(db_path)) {
    scaling::RunDb db(db_path);
    std::vector<double> rates;
    for (const auto& r : db.list(scaling::RunStatus::kDone)) {
      const double w = r.extra.value("wall_seconds", 0.0), f = r.extra.value("flops_exact", 0.0);
      if (w > 0 && f > 0) rates.push_back(f / w);
    }
    if (!rates.empty()) {
      std::sort(rates.begin(), rates.end());
      return {rates[rates.size() / 2], 0};
    }
  }
  if (device == "cuda")
    return {0.2 * 1e12 * accounting::default_training_gpu().peak_tflops(accounting::Dtype::kBf16),
            0.007};
  return {25e9 * std::max(1u, std::thread::hardware_concurrency()), 0.007};
}

void verify_recommendation(const sweep::SweepConfig& c, const sweep::PreparedData& data,
                           const sweep::SweepAnalysis& a, const std::string& device,
                           accounting::Precision precision) {
  SCALELAB_CHECK(a.fit.has_value(), "verify: no parametric fit to verify");
  const double C = c.resolved_verify_budget();
  sweep::ArchitectureRule rule = c.architecture;
  rule.vocab_size = data.info.vocab_size;
  const auto alloc = a.fit->law.allocate(C);
  const sweep::ShapeChoice choice = sweep::shape_for_params(rule, alloc.N);
  sweep::Plan plan;
  const sweep::PlannedRun p =
      sweep::plan_run(c, "verify", C, alloc.N, choice, data.info.train_tokens);
  const double N = static_cast<double>(choice.params);
  plan.runs.push_back(p);
  const scaling::Run run = sweep::plan_to_runs(plan, c, data, device, precision).front();
  const train::TrainConfig tc = train::train_config_from_json(run.config, "verify");
  SCALELAB_LOG_INFO("verify: training the recommended model for C = {}: N = {}, D = {}",
                    format_sci(C, 3), format_int(choice.params), format_si(p.D));
  const train::TrainResult res = engine::train(tc);
  SCALELAB_CHECK(res.status == "done", "verify: interrupted; run the same command to continue");
  const double predicted = a.fit->law.predict_loss(N, res.tokens);
  const double achieved = res.final_val_loss;
  json::Json j{{"C", C},
               {"N", choice.params},
               {"D", res.tokens},
               {"model", accounting::to_json(choice.shape)},
               {"predicted_loss", predicted},
               {"achieved_loss", achieved},
               {"relative_error", (predicted - achieved) / achieved},
               {"wall_seconds", res.wall_seconds}};
  json::write_file(fs::path(c.out_dir) / "verify.json", j);
  std::cout << fmt::format(
      "verify at C = {}: N = {}, D = {}: predicted loss {:.4f}, achieved {:.4f} ({:+.2f}%)\n",
      format_sci(C, 3), format_int(choice.params), format_si(res.tokens), predicted, achieved,
      100 * (predicted - achieved) / achieved);
}

}  // namespace

void run_sweep_config(sweep::SweepConfig c, const SweepRunOptions& o) {
  c.validate();
  if (o.worker) {
    // The coordinator wrote the resolved device: a GPU worker sees its one GPU as "cuda".
    scaling::RunDb db(sweep::sweep_db_path(c));
    const sweep::WorkerStats st =
        sweep::run_worker(db, engine::train, c.device == sweep::Device::kCuda ? "cuda" : "");
    SCALELAB_LOG_INFO("worker: {} done, {} failed", st.done, st.failed);
    return;
  }
  // Device and precision.
  const sweep::Device dev =
      c.device.value_or(engine::cuda_available() ? sweep::Device::kCuda : sweep::Device::kCpu);
  const std::string device(fields::enum_name(dev));
  SCALELAB_CHECK(device != "cuda" || engine::cuda_available() || o.plan_only,
                 "device: cuda requested but no GPU is available");
  const accounting::Precision precision =
      c.precision.value_or(dev == sweep::Device::kCuda ? accounting::Precision::kBf16Mixed
                                                       : accounting::Precision::kFp32);
  SCALELAB_CHECK(precision != accounting::Precision::kBf16Mixed || dev == sweep::Device::kCuda,
                 "precision: bf16-mixed needs device cuda");

  // Data (cached under out_dir), then the plan; every check before any training.
  const sweep::PreparedData data = sweep::prepare_data(c);
  const Throughput tp = throughput(c, device);
  const sweep::Plan plan = sweep::make_plan(c, data.info, tp.flops_per_second, tp.step_seconds);
  SCALELAB_LOG_INFO("sweep: {} budgets × {} models on {} ({}); out {}", c.resolved_budgets().size(),
                    c.models_per_budget, device, fields::enum_name(precision), c.out_dir);
  std::cout << sweep::format_plan(plan) << std::flush;
  for (const auto& w : plan.warnings) SCALELAB_LOG_WARN("{}", w);
  if (o.plan_only) return;
  // After the plan, so a build without LibTorch still reports every problem of the config first.
  SCALELAB_CHECK(engine::available(), "{}", engine::unavailable_reason());

  // The resolved config next to the outputs; the plan into the database once.
  sweep::SweepConfig resolved = c;
  resolved.device = dev;
  resolved.precision = precision;
  const fs::path config_out = fs::path(c.out_dir) / "sweep.json";
  json::write_file(config_out, sweep::to_json(resolved));
  scaling::RunDb db(sweep::sweep_db_path(c));
  const size_t inserted =
      sweep::insert_plan(db, plan, sweep::plan_to_runs(plan, c, data, device, precision));
  db.set_meta("sweep_config", sweep::to_json(resolved).dump());
  const auto released = sweep::release_runs(db, c.retry_failed);
  const size_t done_before = db.count(scaling::RunStatus::kDone);
  if (inserted == 0)
    SCALELAB_LOG_INFO("resuming: {} of {} runs done{}", done_before, plan.runs.size(),
                      released.empty() ? ""
                                       : fmt::format("; {} run(s) restarted (left running by a "
                                                     "process that is gone, or failed)",
                                                     released.size()));

  // Execute.
  if (!c.gpus.empty() || c.workers > 1) {
    // One process per GPU (each sees only its own), or CPU workers splitting the cores.
    const size_t n = c.gpus.empty() ? static_cast<size_t>(c.workers) : c.gpus.size();
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    std::vector<int64_t> pids;
    for (size_t i = 0; i < n; ++i) {
      std::map<std::string, std::string> env;
      if (!c.gpus.empty())
        env["CUDA_VISIBLE_DEVICES"] = std::to_string(c.gpus[i]);
      else
        env["OMP_NUM_THREADS"] = std::to_string(std::max<size_t>(1, cores / n));
      pids.push_back(spawn_process(
          {current_executable(), "sweep", "--config", config_out.string(), "--worker"}, env));
      SCALELAB_LOG_INFO("worker {}{}: pid {}", i + 1,
                        c.gpus.empty() ? "" : fmt::format(" on GPU {}", c.gpus[i]), pids.back());
    }
    for (size_t i = 0; i < pids.size(); ++i) {
      const int rc = wait_process(pids[i]);
      if (rc != 0) SCALELAB_LOG_WARN("worker {} exited with status {}", i + 1, rc);
    }
  } else {
    const sweep::WorkerStats st = sweep::run_worker(db, engine::train, device);
    SCALELAB_CHECK(!st.interrupted,
                   "interrupted: {} of {} runs done; run the same command to continue",
                   db.count(scaling::RunStatus::kDone), plan.runs.size());
  }
  const size_t unfinished =
      db.count(scaling::RunStatus::kPlanned) + db.count(scaling::RunStatus::kRunning);
  SCALELAB_CHECK(unfinished == 0,
                 "{} run(s) not finished (a worker stopped early); run the same command to "
                 "continue",
                 unfinished);

  // Analyse, recommend, report.
  sweep::AnalysisOptions ao;
  ao.targets = c.resolved_targets();
  ao.loss = c.loss;
  ao.bootstrap_samples = c.bootstrap_samples;
  ao.seed = c.seed;
  ao.holdout = c.holdout;
  sweep::ArchitectureRule rule = c.architecture;
  rule.vocab_size = data.info.vocab_size;
  ao.architecture = rule;
  const sweep::SweepAnalysis a = sweep::analyze_runs(db, ao);
  for (const auto& w : a.warnings) SCALELAB_LOG_WARN("{}", w);
  std::cout << "\n" << sweep::format_recommendations(a) << std::flush;
  json::write_file(fs::path(c.out_dir) / "recommendation.json", sweep::to_json(a));
  try {
    report::ReportInfo info;
    info.db_path = db.path().string();
    info.sweep_config = sweep::to_json(resolved);
    const fs::path page = report::write_report(a, info, fs::path(c.out_dir) / "report");
    std::cout << "report: " << page.string() << "\n";
  } catch (const Error& e) {
    SCALELAB_LOG_WARN("report not written: {} (then: scalelab report --db {} --out {})", e.what(),
                      db.path().string(), (fs::path(c.out_dir) / "report").string());
  }
  if (c.verify) verify_recommendation(c, data, a, device, precision);
}

}  // namespace scalelab::app
