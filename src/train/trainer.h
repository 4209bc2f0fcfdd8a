// The training loop: one TrainConfig (JSON and CLI flags feed it; it is written next to the
// outputs), AdamW + cosine schedule + clipping, gradient accumulation, periodic evaluation and
// checkpoints, metrics JSONL with exact FLOPs from accounting, result.json with the totals the
// sweep reads. Console: `step i/N | loss | lr | grad-norm | tok/s | MFU | ETA` per log interval and
// a progress bar. Host syncs happen only at log/eval/checkpoint steps. SIGINT/SIGTERM → checkpoint,
// exit cleanly. A non-finite loss stops the run with an error; the last good checkpoint is kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "accounting/flops.h"
#include "accounting/model_shape.h"
#include "common/json.h"
#include "common/log.h"
#include "common/progress.h"
#include "model/transformer.h"
#include "train/cuda_graph.h"
#include "train/data.h"
#include "train/distributed.h"
#include "train/optim.h"
#include "train/train_config.h"
#include "train/world.h"

namespace scalelab::train {

struct EvalResult {
  double loss = 0;     // mean cross-entropy per token
  int64_t tokens = 0;  // tokens evaluated
};
// Mean loss over up to max_tokens tokens (0 = all) of the dataset's non-overlapping windows, batch
// windows at a time (bf16 autocast when bf16). Leaves the model in the mode it found it in. With
// dp, the ranks share the batches (rank r the r-th of every world-size) and every rank gets the
// mean over all of them.
EvalResult evaluate_loss(model::TransformerLM& model, const TokenDataset& data, int64_t batch,
                         int64_t max_tokens, const torch::Device& device, bool bf16,
                         DataParallel* dp = nullptr);

// The checkpoint directories due after a step, in the order they are written: the cooldown
// branch's (out_dir/branch-{step}) when branch_now, then the resume checkpoint (resume_dir) when
// resume_now. That order makes a kill between the two harmless: the run resumes from an earlier
// step and writes the branch's again, where the other order resumes past the branch point
// without it and the branch run fails ("branch_from: … no checkpoint there").
std::vector<std::string> checkpoints_due(const std::string& out_dir, const std::string& resume_dir,
                                         int64_t step, bool branch_now, bool resume_now);

// One training run, in the four phases of its life:
//   Trainer t(config);      // set up or resume: validate, open the data, build the model and the
//                           // optimizer, load checkpoint/ when resuming, write config.json
//   while (t.step()) {}     // one optimizer step, then the interval work due at it: metrics line
//                           // and log, evaluation, checkpoint, stop request (signal, stop_at_step)
//   TrainResult r = t.finish();  // final evaluation and checkpoint, result.json
// Everything is written under config.out_dir. SIGINT/SIGTERM are caught while a Trainer lives.
// Data parallel (the environment names a World, train/world.h): every rank constructs a Trainer
// with the same config; each trains its shard of every batch, the gradients are averaged before
// clipping, and only rank 0 writes (config.json, metrics, checkpoints, result.json) and logs. A
// signal is acted on at the next step that syncs (log, evaluation or checkpoint), by all ranks.
class Trainer {
 public:
  explicit Trainer(const TrainConfig& config, const World& world = World{});
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;
  ~Trainer();

  // One optimizer step (grad_accum micro-batches, clipping, AdamW at the scheduled lr) and the
  // interval work due at the new step. Returns false once the run should end: all steps done, or
  // stopped by a signal or stop_at_step (the checkpoint is then saved already). Throws when the
  // loss is not finite.
  bool step();
  // The totals; for a completed run also the final evaluation and checkpoint. Writes result.json.
  TrainResult finish();
  // step() until it returns false, then finish().
  TrainResult run();

  int64_t steps_done() const { return step_; }
  int64_t total_steps() const { return steps_; }

 private:
  struct Signals;  // the SIGINT/SIGTERM handlers while the trainer lives

  log::Level info_level() const;  // quiet runs (the sweep's) log their lines at debug
  void resume_or_start();
  void start_branch();  // from cfg_.branch_from: the parent's state at this run's cooldown
  void log_start() const;
  // The interval work after step_ (lr: the step's learning rate; gnorm: its gradient norm, on
  // the device). Returns false when a stop was requested.
  bool interval_work(double lr, const torch::Tensor& gnorm);
  // One optimizer step without graphs (grad_accum micro-batches, clip, AdamW); returns the norm.
  torch::Tensor eager_step(double lr);
  // One micro-batch's mean loss under autocast (the eager step's and the captured graph's).
  torch::Tensor micro_loss(const torch::Tensor& x, const torch::Tensor& y);
  void save() { save_to(ckpt_); }
  void save_to(const std::string& dir);
  double seconds_since(std::chrono::steady_clock::time_point t) const;
  // Model FLOPs utilisation at a throughput (PaLM's FLOPs per token); 0 when the peak is unknown.
  double mfu_at(double tokens_per_second) const;
  // Training wall time: this process's, plus what earlier processes spent up to the checkpoint
  // it resumed from.
  double wall_seconds() const { return wall_offset_ + seconds_since(t_start_); }

  // Rank 0, or not data parallel: the process that writes and logs.
  bool main_rank() const { return world_.is_main(); }
  int64_t rank_batch() const { return cfg_.batch_size / world_.size; }

  World world_;
  TrainConfig cfg_;  // resolved and validated
  std::chrono::steady_clock::time_point t_start_;
  torch::Device dev_;
  bool bf16_ = false;
  std::string out_, ckpt_;
  std::unique_ptr<Signals> signals_;
  TokenDataset train_;
  std::optional<TokenDataset> val_;
  model::TransformerLM model_;
  AdamW opt_;
  std::unique_ptr<DataParallel> dp_;  // null unless world_.distributed()
  int64_t steps_ = 0;
  LrSchedule sched_;
  std::mt19937_64 rng_;
  json::Json cfg_json_;
  accounting::FlopCounts flops_;
  int64_t n_params_ = 0;
  double peak_tflops_ = 0;  // 0 = unknown (no MFU)
  double tokens_per_step_ = 0;

  // A run found finished (its checkpoint at the last step and result.json done): that result, and
  // nothing is trained, evaluated or written.
  std::optional<TrainResult> finished_;
  double wall_offset_ = 0;
  // Progress.
  int64_t step_ = 0;
  double tokens_ = 0;
  std::ofstream metrics_;
  std::unique_ptr<ProgressBar> bar_;
  torch::Tensor loss_sum_;              // since the last host sync, on the device
  std::unique_ptr<GraphedStep> graph_;  // CUDA graphs (cfg_.cuda_graphs on CUDA), else null
  int64_t graph_warmup_left_ = 0;       // eager steps still to run before the capture
  int64_t loss_count_ = 0;
  std::chrono::steady_clock::time_point window_t0_;
  double window_tokens_ = 0;
  double last_loss_ = 0;
  std::string status_;  // "" while running, then done | interrupted
  // Steady-state throughput: from the host sync after step steady_from_ to the one after the last
  // step, less the evaluation and checkpoint time in between.
  int64_t steady_from_ = 0;
  std::chrono::steady_clock::time_point steady_t0_, steady_t1_;
  double steady_tokens0_ = 0, steady_excluded_ = 0;
  bool steady_started_ = false, steady_ended_ = false;
};

// "auto" → "cuda" when LibTorch sees a GPU, else "cpu"; any other name unchanged. The one default
// of train, eval and generate, as of sweep and demo.
std::string resolve_device(const std::string& device);
// The device a run, an evaluation or generation uses: resolve_device, and an error when it names
// CUDA that LibTorch cannot see.
torch::Device checked_device(const std::string& device);

// Trainer(config, world_from_env()).run(): trains (or resumes) as configured; writes config.json,
// metrics.jsonl, result.json and checkpoint/ under out_dir (rank 0 of a data-parallel world).
TrainResult run_training(const TrainConfig& config);

}  // namespace scalelab::train
