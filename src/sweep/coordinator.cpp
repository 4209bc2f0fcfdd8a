// Running a sweep end to end (see coordinator.h).
#include "sweep/coordinator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <thread>

#include "accounting/hardware.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "common/process.h"
#include "runs/run_db.h"
#include "scaling/data_constrained.h"
#include "sweep/mps.h"
#include "sweep/planner.h"

namespace scalelab::sweep {

namespace fs = std::filesystem;

namespace {

// Time estimates: achieved FLOP/s and a per-step overhead. The config's FLOP/s, else the rates of
// this sweep's finished runs per shape (estimate_from_measured_rates; overhead included in them),
// else stated defaults per device: CPU 25
// GFLOP/s per core plus 7 ms per optimizer step (measured: the demo's smallest models ran ~7
// ms/step over their FLOP time on 2 CPU cores); CUDA 20% of an H100's dense bf16 peak plus 1.5 ms
// per step (measured 2026-12-02 with CUDA graphs: the 25 runs of examples/h200-sweep.json, one at a
// time on an H200, fit wall = FLOPs / 1.89e14 + 1.54 ms × steps; 7 ms per step before the graphs).
// A packed run's measured rate counts divided by its share (gpu_share in trained_by): the rate of
// the run alone; the plan divides the one-at-a-time total by what packing gains (planner.h).
struct Throughput {
  double flops_per_second = 0, step_seconds = 0;
  std::map<double, double> by_shape;  // measured: FLOP/s by exact FLOPs per token
};

Throughput throughput(const SweepConfig& c, Device device) {
  if (c.device_tflops > 0) return {c.device_tflops * 1e12, 0};
  const fs::path db_path = sweep_db_path(c);
  if (fs::exists(db_path)) {
    runs::RunDb db(db_path);
    const std::vector<runs::Run> done = db.list(runs::RunStatus::kDone);
    if (const double rate = measured_device_rate(done); rate > 0)
      return {rate, 0, measured_rates_by_shape(done)};
  }
  if (device == Device::kCuda)
    return {0.2 * 1e12 * accounting::default_training_gpu().peak_tflops(Dtype::kBf16), 0.0015};
  return {25e9 * std::max(1u, std::thread::hardware_concurrency()), 0.007};
}

// The rule of thumb a recommendation has to beat (Hoffmann et al. 2022): 20 training tokens per
// parameter, N under the sweep's size convention.
constexpr double kRuleOfThumbTokensPerParam = 20;

// A verification run already trained with this very config is read back, not trained again; one
// left unfinished resumes from its checkpoint (the trainer does that). The stored config is read
// through the field table, so a field added since (at its default) does not make it another run.
train::TrainResult train_or_reuse(const train::TrainConfig& config, const TrainingEngine& engine) {
  const fs::path dir = config.out_dir;
  if (fs::exists(dir / "result.json") && fs::exists(dir / "config.json")) {
    train::TrainConfig resolved = config;
    resolved.model = resolved.model.resolved();
    const fs::path stored_path = dir / "config.json";
    const train::TrainConfig stored =
        train::train_config_from_json(json::read_file(stored_path), stored_path.string());
    if (train::to_json(stored) == train::to_json(resolved)) {
      train::TrainResult r = train::read_train_result((dir / "result.json").string());
      if (r.status == "done") {
        SCALELAB_LOG_INFO("verify: {} is trained already; reading its result", dir.string());
        return r;
      }
    }
  }
  return engine.train(config);
}

struct VerifyRun {
  std::string role;  // "recommended" | "20 tokens/param"
  ShapeChoice choice;
  train::TrainResult result;
  double predicted = 0;        // by the data-constrained law when the run repeats the corpus
  double predicted_fresh = 0;  // by the fresh-data law
  double epochs = 0;
};

// Trains the recommended model at the verify budget and, beside it, the family member nearest 20
// tokens per parameter at the same budget; predicts each with the fit (the data-constrained law
// when the run repeats the corpus) and compares. Writes verify.json.
void verify_recommendation(const SweepConfig& c, const DataInfo& data, const SweepAnalysis& a,
                           const TrainingEngine& engine, std::ostream& out) {
  SCALELAB_CHECK(a.fit.has_value(), "verify: no parametric fit to verify");
  const double C = c.resolved_verify_budget();
  ArchitectureRule rule = c.architecture;
  rule.vocab_size = rule.padded_vocabulary(data.vocab_size);
  const std::vector<ShapeChoice> family = model_family(rule);
  const scaling::SizeConvention conv = c.size_convention;
  // The family member the law predicts best at exactly C, as the recommendation builds it; and
  // the one whose D / N (D from C and its exact FLOPs per token) is nearest the rule of thumb.
  const ShapeChoice recommended = best_member(family, a.fit->law, C, conv);
  const ShapeChoice* thumb = &family.front();
  auto ratio_gap = [&](const ShapeChoice& s) {
    return std::abs(std::log(C / s.flops_per_token / s.size(conv) / kRuleOfThumbTokensPerParam));
  };
  for (const auto& s : family)
    if (ratio_gap(s) < ratio_gap(*thumb)) thumb = &s;
  // Repeated data: predict with the data-constrained law (fitted, else the published R_D*, R_N*).
  scaling::DataConstrainedLaw constrained{a.fit->law};
  if (a.data_constrained) constrained = a.data_constrained->law;
  const double unique = static_cast<double>(data.train_tokens);

  std::vector<VerifyRun> runs{{"recommended", recommended, {}, 0, 0}};
  if (thumb->shape != recommended.shape)
    runs.push_back(
        {fmt::format("{:g} tokens/param", kRuleOfThumbTokensPerParam), *thumb, {}, 0, 0});
  else
    SCALELAB_LOG_INFO("verify: the recommended model is also the {:g}-tokens-per-parameter one",
                      kRuleOfThumbTokensPerParam);
  for (auto& v : runs) {
    const auto& s = v.choice.shape;
    // Planned like any run of the sweep: the same batch, schedule, device and precision. The
    // directory names the budget and shape, so a changed recommendation never resumes another.
    const PlannedRun p =
        plan_run(c, fmt::format("verify-{}-{}x{}", budget_label(C), s.n_layers, s.d_model), C,
                 v.choice.size(conv), v.choice, data);
    p.train.validate();
    SCALELAB_LOG_INFO("verify: training the {} model for C = {}: {}×{}, N = {}, D = {}", v.role,
                      format_sci(C, 3), s.n_layers, s.d_model, format_int(v.choice.params),
                      format_si(p.D));
    v.result = train_or_reuse(p.train, engine);
    SCALELAB_CHECK(v.result.status == "done",
                   "verify: interrupted; run the same command to continue");
    const double N = v.choice.size(conv);
    v.epochs = v.result.tokens / unique;
    v.predicted_fresh = a.fit->law.predict_loss(N, v.result.tokens);
    v.predicted =
        v.epochs > 1 ? constrained.predict_loss(N, v.result.tokens, unique) : v.predicted_fresh;
  }

  json::Json jr = json::Json::array();
  out << fmt::format("verify at C = {} ({:.3g} × the largest budget; size_convention {}):\n",
                     format_sci(C, 3), C / c.resolved_budgets().back(), fields::enum_name(conv));
  for (const auto& v : runs) {
    const double achieved = v.result.final_val_loss;
    const auto& s = v.choice.shape;
    const double N = v.choice.size(conv);
    jr.push_back({{"role", v.role},
                  {"N", N},
                  {"params", v.choice.params},
                  {"D", v.result.tokens},
                  {"tokens_per_param", v.result.tokens / N},
                  {"epochs", v.epochs},
                  {"model", accounting::to_json(s)},
                  {"predicted_loss", v.predicted},
                  {"predicted_loss_fresh_data", v.predicted_fresh},
                  {"achieved_loss", achieved},
                  {"relative_error", (v.predicted - achieved) / achieved},
                  {"wall_seconds", v.result.wall_seconds}});
    out << fmt::format(
        "  {:<16} {}×{}: N = {}, D = {} ({:.1f} tokens/param{}): predicted loss {:.4f}, achieved "
        "{:.4f} ({:+.2f}%){}\n",
        v.role, s.n_layers, s.d_model, format_si(N), format_si(v.result.tokens),
        v.result.tokens / N,
        v.epochs > 1 ? fmt::format(", {:.1f} epochs", v.epochs) : std::string(), v.predicted,
        achieved, 100 * (v.predicted - achieved) / achieved,
        v.epochs > 1 ? fmt::format("; the fresh-data law: {:.4f} ({:+.2f}%)", v.predicted_fresh,
                                   100 * (v.predicted_fresh - achieved) / achieved)
                     : std::string());
  }
  json::Json j{{"C", C}, {"size_convention", fields::enum_name(conv)}, {"runs", jr}};
  if (runs.size() == 2) {
    const double rec = runs[0].result.final_val_loss, base = runs[1].result.final_val_loss;
    j["recommended_vs_rule_of_thumb"] = (rec - base) / base;
    out << fmt::format(
        "  the recommended model's loss is {:.2f}% {} the {:g}-tokens-per-parameter "
        "model's\n",
        100 * std::abs(rec - base) / base, rec <= base ? "below" : "above",
        kRuleOfThumbTokensPerParam);
  }
  json::write_file(fs::path(c.out_dir) / "verify.json", j);
}

}  // namespace

void run_sweep(SweepConfig c, const SweepRunOptions& o, const TrainingEngine& engine,
               const ReportWriter& write_report, std::ostream& out) {
  c.validate();  // once, here; everything below takes the config as valid
  if (o.worker) {
    // The coordinator wrote the resolved device: a GPU worker sees its one GPU as "cuda".
    runs::RunDb db(sweep_db_path(c));
    // Workers share the device: the longest runs first, so none is left training alone at the end.
    const WorkerStats st = run_worker(db, engine.train, c.device == Device::kCuda ? "cuda" : "",
                                      runs::RunDb::ClaimOrder::kLongestFirst);
    SCALELAB_LOG_INFO("worker: {} done, {} failed", st.done, st.failed);
    return;
  }
  // Device and precision, resolved into the config the planner and the workers read.
  // Submitted to Slurm, or only looked at: the runs train elsewhere, on the cluster's GPUs.
  const bool elsewhere = o.slurm.has_value() || o.status;
  if (o.slurm) check_slurm_submission(*o.slurm);  // before the data, which can take long
  const Device dev = c.device.value_or(engine.cuda_available() ? Device::kCuda : Device::kCpu);
  if (dev == Device::kCuda && !engine.cuda_available() && !elsewhere) {
    SCALELAB_CHECK(o.plan_only && o.plan_for_absent_gpu,
                   "device: cuda requested but no GPU is available");
    SCALELAB_LOG_WARN(
        "device: cuda requested but this machine has no GPU: planning only (the "
        "plan's runs need one to train)");
  }
  const accounting::Precision precision = c.precision.value_or(default_precision(dev));
  SCALELAB_CHECK(precision != accounting::Precision::kBf16Mixed || dev == Device::kCuda,
                 "precision: bf16-mixed needs device cuda");
  c.device = dev;
  c.precision = precision;

  // Data (cached under out_dir), then the plan; every check before any training. Data preparation
  // that fails (a corpus too small for the vocabulary, unreadable files) leaves no out_dir behind
  // when this command created it.
  const bool out_dir_existed = fs::exists(c.out_dir);
  DataInfo data;
  try {
    data = prepare_data(c);
  } catch (...) {
    if (!out_dir_existed) {
      try {
        remove_tree(c.out_dir);
      } catch (const std::exception& e) {  // the data error is the one to report
        SCALELAB_LOG_WARN("{}", e.what());
      }
    }
    throw;
  }
  const Throughput tp = throughput(c, dev);
  Plan plan = make_plan(c, data, tp.flops_per_second, tp.step_seconds);
  estimate_from_measured_rates(plan, tp.by_shape);
  SCALELAB_LOG_INFO("sweep: {} budgets × {} models on {} ({}); out {}", c.resolved_budgets().size(),
                    c.models_per_budget, fields::enum_name(dev), fields::enum_name(precision),
                    c.out_dir);
  if (!o.status) {
    out << format_plan(plan) << std::flush;
    for (const auto& w : plan.warnings) SCALELAB_LOG_WARN("{}", w);
  }
  if (o.plan_only) return;
  // After the plan, so a build without LibTorch still reports every problem of the config first.
  if (!o.status) SCALELAB_CHECK(engine.available(), "{}", engine.unavailable_reason());

  // The resolved config next to the outputs; the plan into the database once.
  const json::Json resolved = to_json(c);
  const fs::path config_out = fs::path(c.out_dir) / "sweep.json";
  json::write_file(config_out, resolved);
  runs::RunDb db(sweep_db_path(c));
  const size_t inserted = insert_plan(db, plan, plan_to_runs(plan, c.flop_count));
  db.set_meta("sweep_config", resolved.dump());
  const auto released = release_runs(db, c.retry_failed);
  // Runs another host trained (Slurm's tasks) or a process finished without recording: their
  // result.json into the database, so nothing is trained twice.
  if (const auto ingested = ingest_finished_runs(db); !ingested.empty())
    SCALELAB_LOG_INFO("recorded {} run(s) finished outside this process", ingested.size());
  const size_t done_before = db.count(runs::RunStatus::kDone);
  if (inserted == 0) {
    // What is left, at the rates measured on what is done (estimate_from_measured_rates), less
    // what interrupted runs hold in their checkpoints.
    std::set<std::string> done_keys;
    for (const auto& r : db.list(runs::RunStatus::kDone))
      done_keys.insert(r.extra.value("key", std::string()));
    double left_seconds = 0;
    for (const auto& r : plan.runs)
      if (done_keys.count(r.key) == 0) left_seconds += r.est_seconds * (1 - checkpointed_share(r));
    SCALELAB_LOG_INFO("resuming: {} of {} runs done{}{}", done_before, plan.runs.size(),
                      done_before < plan.runs.size() && left_seconds > 0
                          ? fmt::format("; the rest estimated {}",
                                        format_duration_s(left_seconds / plan.concurrency))
                          : "",
                      released.empty()
                          ? ""
                          : fmt::format("; {} run(s) restarted (left running by a process that is "
                                        "gone, or failed)",
                                        released.size()));
  }

  if (o.status || o.slurm) {
    const auto queued = queued_runs(c.out_dir);
    if (o.status) {
      out << format_slurm_status(db.list(), queued, c.out_dir);
      return;
    }
    const SubmitResult sr = submit_runs(c, db.list(), queued, *o.slurm, o.scalelab);
    for (size_t i = 0; i < sr.arrays.size(); ++i)
      out << fmt::format("submitted {} run(s) as Slurm job array {}{} ({})\n",
                         sr.arrays[i].keys.size(), sr.arrays[i].job_id,
                         i == 0 ? "" : ", after the first (cooldown branches)",
                         sr.arrays[i].script);
    if (!sr.waiting.empty())
      out << fmt::format(
          "{} cooldown branch(es) wait for parents still queued: submit again once "
          "those are done\n",
          sr.waiting.size());
    if (sr.arrays.empty())
      out << fmt::format("nothing to submit: {} run(s) done, {} queued\n",
                         db.count(runs::RunStatus::kDone), queued.size());
    else
      out << "`scalelab sweep status` follows them, `scalelab sweep` fits once they are done\n";
    return;
  }

  // Execute.
  const int64_t per_gpu = dev == Device::kCuda ? c.runs_per_gpu : 1;
  if (!c.gpus.empty() || c.workers > 1 || per_gpu > 1) {
    // Worker processes: per_gpu on each listed GPU (each sees only its own), or `workers`
    // (× per_gpu on the one visible GPU) sharing the machine; the CPU threads split between them.
    const size_t n = static_cast<size_t>(per_gpu) *
                     (c.gpus.empty() ? static_cast<size_t>(c.workers) : c.gpus.size());
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    // Packed runs share each GPU through a private MPS daemon, stopped when the workers are done.
    std::unique_ptr<MpsDaemon> mps;
    if (per_gpu > 1 && c.mps) {
      std::string why;
      mps = MpsDaemon::start(why);
      if (mps)
        SCALELAB_LOG_INFO("MPS: the packed runs share each GPU at once (daemon in {})", mps->dir());
      else
        SCALELAB_LOG_INFO("MPS not used ({}): the packed runs take turns on the GPU", why);
    }
    std::vector<int64_t> pids;
    for (size_t i = 0; i < n; ++i) {
      std::map<std::string, std::string> env;
      const std::string gpu =
          c.gpus.empty() ? "" : std::to_string(c.gpus[i / static_cast<size_t>(per_gpu)]);
      if (!gpu.empty()) env["CUDA_VISIBLE_DEVICES"] = gpu;
      // Packed runs each get their share of the GPU's memory (the planner sized their
      // micro-batches for it): without a cap, the cache one run leaves would starve the next.
      if (per_gpu > 1) env[kGpuShareEnv] = fmt::format("{}", 1.0 / static_cast<double>(per_gpu));
      if (mps) env.insert(mps->env().begin(), mps->env().end());
      env["OMP_NUM_THREADS"] = std::to_string(std::max<size_t>(1, cores / n));
      SCALELAB_CHECK(o.worker_command, "sweep: no worker command to start worker processes with");
      pids.push_back(spawn_process(o.worker_command(config_out.string()), env));
      SCALELAB_LOG_INFO("worker {}{}: pid {}", i + 1, gpu.empty() ? "" : " on GPU " + gpu,
                        pids.back());
    }
    for (size_t i = 0; i < pids.size(); ++i) {
      const int rc = wait_process(pids[i]);
      if (rc != 0) SCALELAB_LOG_WARN("worker {} exited with status {}", i + 1, rc);
    }
  } else {
    const WorkerStats st = run_worker(db, engine.train, std::string(fields::enum_name(dev)));
    SCALELAB_CHECK(!st.interrupted,
                   "interrupted: {} of {} runs done; run the same command to continue",
                   db.count(runs::RunStatus::kDone), plan.runs.size());
  }
  const size_t unfinished =
      db.count(runs::RunStatus::kPlanned) + db.count(runs::RunStatus::kRunning);
  SCALELAB_CHECK(unfinished == 0,
                 "{} run(s) not finished (a worker stopped early); run the same command to "
                 "continue",
                 unfinished);

  // Analyse, recommend, report.
  AnalysisOptions ao;
  ao.targets = c.resolved_targets();
  ao.loss = c.loss;
  ao.bootstrap_samples = c.bootstrap_samples;
  ao.seed = c.seed;
  ao.holdout = c.holdout;
  ao.convention = c.size_convention;
  ao.inference_tokens = c.inference_tokens;
  ArchitectureRule rule = c.architecture;
  rule.vocab_size = rule.padded_vocabulary(data.vocab_size);
  ao.architecture = rule;
  const SweepAnalysis a = analyze_runs(db, ao);
  for (const auto& w : a.warnings) SCALELAB_LOG_WARN("{}", w);
  out << "\n" << format_recommendations(a) << std::flush;
  json::write_file(fs::path(c.out_dir) / "recommendation.json", to_json(a));
  try {
    const fs::path page =
        write_report(a, resolved, db.path().string(), fs::path(c.out_dir) / "report");
    out << "report: " << page.string() << "\n";
  } catch (const Error& e) {
    SCALELAB_LOG_WARN("report not written: {} (then: scalelab report --db {} --out {})", e.what(),
                      db.path().string(), (fs::path(c.out_dir) / "report").string());
  }
  if (c.verify) verify_recommendation(c, data, a, engine, out);
}

}  // namespace scalelab::sweep
