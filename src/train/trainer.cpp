// The training loop (see trainer.h).
#include "train/trainer.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>

#include "accounting/flops.h"
#include "accounting/hardware.h"
#include "accounting/params.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "common/progress.h"
#include "model/transformer.h"
#include "train/autocast.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/optim.h"

namespace scalelab::train {

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

struct SignalScope {
  using Handler = void (*)(int);
  Handler old_int, old_term;
  SignalScope() {
    g_stop_signal.store(0);
    old_int = std::signal(SIGINT, on_stop_signal);
    old_term = std::signal(SIGTERM, on_stop_signal);
  }
  ~SignalScope() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

}  // namespace

EvalResult evaluate_loss(model::TransformerLM& m, const TokenDataset& data, int64_t batch,
                         int64_t max_tokens, const torch::Device& dev, bool bf16) {
  SCALELAB_CHECK(batch > 0, "batch-size: must be positive (got {})", batch);
  torch::NoGradGuard ng;
  const bool was_training = m->is_training();
  m->eval();
  const int64_t T = data.context_length();
  int64_t windows = data.sequential_windows();
  if (max_tokens > 0) windows = std::min(windows, std::max<int64_t>(1, max_tokens / T));
  // Accumulated on the device: one host sync at the end.
  torch::Tensor sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(dev));
  int64_t n = 0;
  for (int64_t w = 0; w < windows; w += batch) {
    auto [x, y] = data.sequential_batch(w, std::min(batch, windows - w), dev);
    torch::Tensor logits;
    {
      AutocastGuard autocast(bf16);
      logits = m(x);
    }
    sum += cross_entropy(logits, y).to(torch::kFloat64) * static_cast<double>(x.size(0));
    n += x.size(0);
  }
  if (was_training) m->train();
  return {sum.item<double>() / static_cast<double>(n), n * T};
}

TrainResult run_training(const TrainConfig& cfg_in) {
  TrainConfig cfg = cfg_in;
  cfg.model = cfg.model.resolved();
  cfg.validate();
  // quiet (the sweep's runs): start-up and per-interval lines go to debug; warnings stay.
  const log::Level info = cfg.quiet ? log::Level::kDebug : log::Level::kInfo;
  const auto t_start = std::chrono::steady_clock::now();
  torch::Device dev(cfg.device);
  SCALELAB_CHECK(
      !dev.is_cuda() || torch::cuda::is_available(),
      "device: CUDA requested ({}) but no GPU is available (or LibTorch was built without CUDA)",
      cfg.device);
  const bool bf16 = cfg.precision == accounting::Precision::kBf16Mixed;
  SCALELAB_CHECK(!bf16 || (dev.is_cuda() && TORCH_VERSION_MAJOR >= 2),
                 "precision: bf16-mixed needs a CUDA device and LibTorch >= 2 (use fp32 on CPU)");
  ensure_writable_directory(cfg.out_dir);
  const fs::path out(cfg.out_dir), ckpt = out / "checkpoint";

  // Data first: bad files fail before anything is written.
  TokenDataset train(cfg.train_data, cfg.model.vocab_size, cfg.model.context_length);
  std::optional<TokenDataset> val;
  if (!cfg.val_data.empty())
    val.emplace(cfg.val_data, cfg.model.vocab_size, cfg.model.context_length);

  torch::manual_seed(cfg.seed);
  model::ModelOptions mo{cfg.rope_theta,
                         model::parse_attention_impl(fields::enum_name(cfg.attention))};
  model::TransformerLM m(cfg.model, mo);
  m->to(dev);
  AdamW opt(m->parameters(), {cfg.beta1, cfg.beta2, cfg.eps, cfg.weight_decay});
  const int64_t steps = cfg.resolved_steps();
  CosineSchedule sched{cfg.lr_max, cfg.lr_min, cfg.resolved_warmup(),
                       cfg.cosine_steps > 0 ? cfg.cosine_steps : steps};
  std::mt19937_64 rng(cfg.seed);
  int64_t step = 0;
  double tokens = 0;
  json::Json cfg_json = to_json(cfg);
  if (cfg.resume && checkpoint_exists(ckpt)) {
    CheckpointState st = load_checkpoint(ckpt, m, &opt);
    step = st.step;
    tokens = st.tokens;
    std::istringstream(st.rng) >> rng;
    SCALELAB_LOG_AT(info, "resumed from {} at step {}", ckpt.string(), step);
  }
  json::write_file(out / "config.json", cfg_json);
  SCALELAB_LOG_AT(info, "model: vocab {} ctx {} d {} layers {} heads {}/{} ffn {} {}; {} params",
                  cfg.model.vocab_size, cfg.model.context_length, cfg.model.d_model,
                  cfg.model.n_layers, cfg.model.n_heads, cfg.model.n_kv_heads,
                  accounting::to_string(cfg.model.ffn), cfg.model.d_ff,
                  format_int(accounting::count_params(cfg.model).total));
  SCALELAB_LOG_AT(
      info,
      "train: {} steps × {} tokens (batch {} × accum {} × ctx {}), lr {:.2e}→{:.2e} warmup {}, wd "
      "{}, "
      "clip {}, {} {} {}, seed {}; writing {}",
      cfg.resolved_steps(), cfg.tokens_per_step(), cfg.batch_size, cfg.grad_accum,
      cfg.model.context_length, cfg.lr_max, cfg.lr_min, cfg.resolved_warmup(), cfg.weight_decay,
      cfg.grad_clip, cfg.device, fields::enum_name(cfg.precision), fields::enum_name(cfg.attention),
      cfg.seed, out.string());

  const accounting::FlopCounts flops = accounting::count_flops(cfg.model);
  const int64_t n_params = accounting::count_params(cfg.model).total;
  double peak = cfg.peak_tflops;
  if (peak <= 0 && dev.is_cuda()) {
    peak = accounting::default_training_gpu().peak_tflops(bf16 ? accounting::Dtype::kBf16
                                                               : accounting::Dtype::kTf32);
  }
  const double tokens_per_step = static_cast<double>(cfg.tokens_per_step());
  std::ofstream metrics(out / "metrics.jsonl", step > 0 ? std::ios::app : std::ios::trunc);
  SCALELAB_CHECK(metrics.good(), "{}: cannot write metrics.jsonl", out.string());

  std::unique_ptr<ProgressBar> bar;
  if (!cfg.quiet && log::enabled(log::Level::kInfo))
    bar = std::make_unique<ProgressBar>("train", steps, ProgressOptions{.unit = "steps"});
  if (bar) bar->set(step);
  SignalScope signals;
  auto save = [&](int64_t at_step) {
    std::ostringstream rs;
    rs << rng;
    save_checkpoint(ckpt, m, &opt,
                    {.step = at_step,
                     .optimizer_steps = opt.steps(),
                     .tokens = tokens,
                     .rng = rs.str(),
                     .config = cfg_json});
  };

  TrainResult res;
  res.params = n_params;
  res.final_val_loss = std::numeric_limits<double>::quiet_NaN();
  torch::Tensor loss_sum =
      torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(dev));
  int64_t loss_count = 0;
  auto window_t0 = std::chrono::steady_clock::now();
  double window_tokens = 0, last_loss = NAN;
  m->train();
  while (step < steps) {
    const double lr = sched.lr(step);
    for (int64_t micro = 0; micro < cfg.grad_accum; ++micro) {
      auto [x, y] = train.random_batch(cfg.batch_size, rng, dev);
      torch::Tensor loss;
      {
        AutocastGuard autocast(bf16);
        loss = cross_entropy(m(x), y);
      }
      (loss / static_cast<double>(cfg.grad_accum)).backward();
      loss_sum += loss.detach();
      ++loss_count;
    }
    torch::Tensor gnorm = clip_grad_norm(m->parameters(), cfg.grad_clip);
    opt.step(lr);
    opt.zero_grad();
    ++step;
    tokens += tokens_per_step;
    window_tokens += tokens_per_step;
    if (bar) bar->update(1);
    const bool log_now = step % cfg.log_interval == 0 || step == steps;
    const bool eval_now =
        val && cfg.eval_interval > 0 && step % cfg.eval_interval == 0 && step != steps;
    const bool ckpt_now =
        cfg.checkpoint_interval > 0 && step % cfg.checkpoint_interval == 0 && step != steps;
    const bool stopping = g_stop_signal.load() != 0 ||
                          (cfg.stop_at_step > 0 && step == cfg.stop_at_step && step != steps);
    if (log_now || eval_now || ckpt_now || stopping) {
      last_loss = (loss_sum / static_cast<double>(loss_count)).item<double>();  // the host sync
      SCALELAB_CHECK(
          std::isfinite(last_loss),
          "training diverged: loss is {} at step {} (lower lr_max or raise warmup); the last good "
          "checkpoint in {} is kept",
          last_loss, step, ckpt.string());
      loss_sum.zero_();
      loss_count = 0;
    }
    double val_loss = NAN;
    if (eval_now)
      val_loss = evaluate_loss(m, *val, cfg.batch_size, cfg.eval_tokens, dev, bf16).loss;
    if (log_now || eval_now) {
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - window_t0).count();
      const double tps = secs > 0 ? window_tokens / secs : 0;
      const double mfu = peak > 0 ? tps * flops.palm_per_token / (peak * 1e12) : 0;
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
      const double gn = gnorm.item<double>();
      json::Json rec{{"step", step},
                     {"tokens", tokens},
                     {"flops", flops.training_per_token * tokens},
                     {"train_loss", last_loss},
                     {"lr", lr},
                     {"grad_norm", gn},
                     {"tokens_per_second", tps},
                     {"wall_seconds", elapsed}};
      if (!std::isnan(val_loss)) rec["val_loss"] = val_loss;
      metrics << rec.dump() << "\n" << std::flush;
      if (log_now) {
        const double eta =
            tps > 0 ? static_cast<double>(steps - step) * tokens_per_step / tps : NAN;
        SCALELAB_LOG_AT(
            info,
            "step {}/{} | loss {:.4f} | lr {:.2e} | grad-norm {:.3f} | {}tok/s | MFU {} | ETA {}",
            step, steps, last_loss, lr, gn, format_si(tps), peak > 0 ? format_percent(mfu) : "-",
            ProgressBar::format_duration(eta));
      }
      window_t0 = std::chrono::steady_clock::now();
      window_tokens = 0;
    }
    if (ckpt_now) save(step);
    if (stopping) {
      save(step);
      if (bar) bar->close();
      if (g_stop_signal.load() != 0)
        SCALELAB_LOG_WARN(
            "signal {} received: checkpoint saved at step {}; run the same command to resume",
            g_stop_signal.load(), step);
      else
        SCALELAB_LOG_AT(
            info, "stopped at step {} (stop_at_step); checkpoint saved, run again to continue",
            step);
      res.status = "interrupted";
      break;
    }
  }
  if (res.status.empty()) {
    res.status = "done";
    if (bar) bar->close();
    if (val)
      res.final_val_loss = evaluate_loss(m, *val, cfg.batch_size, cfg.eval_tokens, dev, bf16).loss;
    save(step);
  }
  res.steps = step;
  res.tokens = tokens;
  res.flops = flops.training_per_token * tokens;
  res.flops_6nd = 6.0 * static_cast<double>(n_params) * tokens;
  res.final_train_loss = last_loss;
  res.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  res.tokens_per_second = res.wall_seconds > 0 ? tokens / res.wall_seconds : 0;
  res.mfu = peak > 0 ? res.tokens_per_second * flops.palm_per_token / (peak * 1e12) : 0;
  json::Json rj = to_json(res);
  rj["config"] = cfg_json;
  json::write_file(out / "result.json", rj);
  return res;
}

}  // namespace scalelab::train
