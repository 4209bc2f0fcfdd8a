// The training loop (see trainer.h).
#include "train/trainer.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <random>
#include <sstream>
#if SCALELAB_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

#include "accounting/flops.h"
#include "accounting/hardware.h"
#include "accounting/memory.h"
#include "accounting/params.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "common/log.h"
#include "common/process.h"
#include "common/progress.h"
#include "model/fused.h"
#include "model/transformer.h"
#include "train/autocast.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/optim.h"

namespace scalelab::train {

namespace fs = std::filesystem;

namespace {

// Eager steps before the CUDA graphs are captured (on the graphs' stream, as PyTorch's notes ask).
constexpr int64_t kGraphWarmupSteps = 3;

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

// The config as the trainer runs it, with every check that needs no data: resolved shape,
// validate(), the device, the precision it can run, a writable out_dir. A data-parallel rank's
// CUDA device is its LOCAL_RANK's (modulo the GPUs it sees: srun --gpus-per-task shows each task
// one), and the global batch must split evenly over the ranks.
TrainConfig checked(const TrainConfig& in, const World& world) {
  TrainConfig cfg = in;
  cfg.model = cfg.model.resolved();
  cfg.validate();
  cfg.device = resolve_device(cfg.device);  // config.json records the device the run used
  if (world.distributed()) {
    check_batch_splits(cfg.batch_size, world.size, fmt::format("the world size {}", world.size));
    if (cfg.device == "cuda" && torch::cuda::is_available())
      cfg.device = fmt::format(
          "cuda:{}", world.local_rank % static_cast<int64_t>(torch::cuda::device_count()));
  }
  const torch::Device dev = checked_device(cfg.device);
  SCALELAB_CHECK(cfg.precision != accounting::Precision::kBf16Mixed ||
                     (dev.is_cuda() && TORCH_VERSION_MAJOR >= 2),
                 "precision: bf16-mixed needs a CUDA device and LibTorch >= 2 (use fp32 on CPU)");
  ensure_writable_directory(cfg.out_dir);
  return cfg;
}

// The share of the GPU's memory this process may use: set (kGpuShareEnv) by a sweep that packs
// runs_per_gpu runs on one GPU, 0 when the process has the GPU to itself.
double gpu_share() { return gpu_share_from_env(); }

// The memory on a CUDA device a run may count on; 0 when unknown (no CUDA build, or the query
// failed). Alone on the GPU: what is free (cudaMemGetInfo) after this process's caching allocator
// returns the blocks it holds. Packed (gpu_share): the share of the total, at which the allocator
// is then capped (cap_gpu_memory) — the processes sharing the GPU are capped the same way, so their
// caches cannot take it, while what is free at this moment depends on where they are in their runs.
double gpu_memory_for_run(const torch::Device& dev) {
#if SCALELAB_WITH_CUDA
  c10::cuda::CUDAGuard guard(dev);
  // The caching allocator is set up by the first CUDA allocation; emptyCache and setMemoryFraction
  // before it fail an internal assertion.
  (void)torch::empty({1}, torch::TensorOptions().device(dev));
  c10::cuda::CUDACachingAllocator::emptyCache();
  size_t free = 0, total = 0;
  if (cudaMemGetInfo(&free, &total) != cudaSuccess) {
    cudaGetLastError();  // clear the failed query's error
    return 0;
  }
  if (const double share = gpu_share(); share > 0) return share * static_cast<double>(total);
  return static_cast<double>(free);
#else
  (void)dev;
  return 0;
#endif
}

// The memory model's prediction for the run against what the machine (CPU) or the GPU has free,
// before the model is allocated (and after the data is checked): the kernel's OOM killer would
// otherwise end a CPU run with a bare "Killed", and a GPU run would fail at its first forward.
void check_memory(const TrainConfig& cfg, const torch::Device& dev) {
  const double available = dev.is_cpu() ? available_memory_bytes() : gpu_memory_for_run(dev);
  if (available <= 0) return;
  accounting::MemoryOptions mo;
  mo.batch_size = cfg.batch_size;
  mo.precision = cfg.precision;
  // The CPU path materialises the attention probabilities; LibTorch 2.x's CUDA path does not,
  // and scalelab's kernels there keep fewer tensors (docs/accounting.md).
  mo.flash_attention =
      dev.is_cuda() && model::fused_attention_available() && cfg.attention == Attention::kAuto;
  mo.fused_kernels = dev.is_cuda() && model::custom_kernels_enabled();
  mo.fp8_head = cfg.fp8_head;
  const double need = accounting::estimate_memory(cfg.model, mo).total();
  SCALELAB_CHECK(need <= available,
                 "memory: this run needs about {} (accounting's model: weights, gradients, AdamW "
                 "state and activations for batch_size {}) but {} has {} {}; lower batch_size "
                 "(grad_accum keeps the batch) or the model",
                 format_gib(need), cfg.batch_size,
                 dev.is_cpu() ? "the machine" : "the GPU (" + dev.str() + ")",
                 format_gib(available),
                 dev.is_cpu()  ? "available"
                 : gpu_share() ? fmt::format("as its share ({}={})", kGpuShareEnv, gpu_share())
                               : "free");
}

// Packed (gpu_share): caps this process's CUDA caching allocator at its share, once the run is
// known to fit in it.
void cap_gpu_memory(const torch::Device& dev) {
#if SCALELAB_WITH_CUDA
  if (const double share = gpu_share(); dev.is_cuda() && share > 0) {
    // "cuda" has no index (-1): the allocator wants the real one, the guard's current device.
    c10::cuda::CUDAGuard guard(dev);
    c10::cuda::CUDACachingAllocator::setMemoryFraction(share, c10::cuda::current_device());
  }
#else
  (void)dev;
#endif
}

// What the config asked of the device, before anything is allocated (validate() checked the
// rest: bf16-mixed, an untied head).
void check_fp8_head(const TrainConfig& cfg, const torch::Device& dev) {
  if (!cfg.fp8_head) return;
  SCALELAB_CHECK(dev.is_cuda() && model::fp8_head_built() && model::custom_kernels_enabled(),
                 "fp8_head: needs a CUDA device and a build with scalelab's CUDA kernels and "
                 "LibTorch >= 2.1 (device {}{})",
                 dev.str(), model::fp8_head_built() ? "" : "; this build has no FP8");
  const int64_t d = cfg.model.d_model, V = cfg.model.vocab_size,
                n = cfg.batch_size * cfg.model.context_length;
  SCALELAB_CHECK(d % 16 == 0 && V % 16 == 0 && n % 16 == 0,
                 "fp8_head: FP8 matmuls need model.d_model ({}), model.vocab_size ({}) and "
                 "batch_size × context_length ({}) to be multiples of 16",
                 d, V, n);
}

// rank_batch: the micro-batch this process trains (the global one ÷ the world size).
model::TransformerLM build_model(const TrainConfig& cfg, const torch::Device& dev,
                                 int64_t rank_batch) {
  TrainConfig local = cfg;
  local.batch_size = rank_batch;
  check_fp8_head(local, dev);
  check_memory(local, dev);
  cap_gpu_memory(dev);
  torch::manual_seed(cfg.seed);
  model::TransformerLM m(
      cfg.model, model::ModelOptions{cfg.rope_theta, model::parse_attention_impl(
                                                         fields::enum_name(cfg.attention))});
  m->to(dev);
  return m;
}

}  // namespace

EvalResult evaluate_loss(model::TransformerLM& m, const TokenDataset& data, int64_t batch,
                         int64_t max_tokens, const torch::Device& dev, bool bf16,
                         DataParallel* dp) {
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
  const int64_t rank = dp ? dp->rank() : 0, ranks = dp ? dp->size() : 1;
  for (int64_t w = rank * batch; w < windows; w += batch * ranks) {
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
  if (dp) {
    torch::Tensor both =
        torch::stack({sum, torch::full({}, static_cast<double>(n), sum.options())});
    dp->sum(both);
    const double total = both[1].item<double>();
    return {both[0].item<double>() / total, static_cast<int64_t>(total) * T};
  }
  return {sum.item<double>() / static_cast<double>(n), n * T};
}

struct Trainer::Signals {
  using Handler = void (*)(int);
  Handler old_int, old_term;
  Signals() {
    g_stop_signal.store(0);
    old_int = std::signal(SIGINT, on_stop_signal);
    old_term = std::signal(SIGTERM, on_stop_signal);
  }
  ~Signals() {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
  }
};

// Set up: data first, so that bad files fail before anything is written; then the model, the
// optimizer and the schedule; then resume or start.
Trainer::Trainer(const TrainConfig& config, const World& world)
    : world_(world),
      cfg_(checked(config, world)),
      t_start_(std::chrono::steady_clock::now()),
      dev_(cfg_.device),
      bf16_(cfg_.precision == accounting::Precision::kBf16Mixed),
      out_(cfg_.out_dir),
      ckpt_(resume_checkpoint_dir(cfg_.out_dir)),
      train_(cfg_.train_data, cfg_.model.vocab_size, cfg_.model.context_length),
      model_(build_model(cfg_, dev_, cfg_.batch_size / world.size)),
      opt_(model_->parameters(), {cfg_.beta1, cfg_.beta2, cfg_.eps, cfg_.weight_decay}),
      steps_(cfg_.resolved_steps()),
      sched_(cfg_.schedule()),
      rng_(cfg_.seed),
      cfg_json_(to_json(cfg_)),
      flops_(accounting::count_flops(cfg_.model)),
      n_params_(accounting::count_params(cfg_.model).total),
      peak_tflops_(cfg_.peak_tflops),
      tokens_per_step_(static_cast<double>(cfg_.tokens_per_step())) {
  if (!cfg_.val_data.empty())
    val_.emplace(cfg_.val_data, cfg_.model.vocab_size, cfg_.model.context_length);
  // A CPU step's activations are freed and allocated again every step: keep them in the heap.
  if (!dev_.is_cuda() && keep_freed_memory_for_reuse())
    SCALELAB_LOG_DEBUG("malloc: freed memory is kept for reuse (mmap threshold 32 MiB)");
  if (peak_tflops_ <= 0 && dev_.is_cuda())
    peak_tflops_ =
        accounting::default_training_gpu().peak_tflops(accounting::compute_dtype(cfg_.precision));
  // The world's peak: MFU is the whole run's FLOPs over all its devices.
  peak_tflops_ *= static_cast<double>(world_.size);
  if (world_.distributed()) {
    // Before anything is read or written: a rank that cannot join fails here, in dist_timeout.
    dp_ = std::make_unique<DataParallel>(
        world_, dev_, std::chrono::milliseconds(static_cast<int64_t>(cfg_.dist_timeout * 1000.0)));
  }
  resume_or_start();
  const bool graphs =
      cfg_.cuda_graphs && !finished_ && GraphedStep::available(dev_) && opt_.fused();
  if (dp_ && !finished_) {
    dp_->broadcast(model_->parameters());
    // Overlap hooks only without graphs: a replay runs no hooks, and taking the parameters'
    // gradient accumulators here would tie them to the stream current now (the legacy default
    // stream), which a later capture on its own stream cannot depend on.
    dp_->attach_gradients(model_->parameters(),
                          static_cast<int64_t>(cfg_.dist_bucket_mb * 1024.0 * 1024.0),
                          /*overlap=*/!graphs);
  }
  if (graphs) {
    graph_ = std::make_unique<GraphedStep>(GraphedStep::Setup{.params = model_->parameters(),
                                                              .optimizer = &opt_,
                                                              .grad_clip = cfg_.grad_clip,
                                                              .grad_accum = cfg_.grad_accum,
                                                              .loss_sum = loss_sum_,
                                                              .batch_size = rank_batch(),
                                                              .context = cfg_.model.context_length,
                                                              .device = dev_});
    graph_warmup_left_ = kGraphWarmupSteps;
  }
  // The steady-state window starts after the warm-up (and the graphs' capture, one step later).
  steady_from_ = step_ + std::max<int64_t>(kGraphWarmupSteps + 2, (steps_ - step_) / 10);
  log_start();
  signals_ = std::make_unique<Signals>();
}

std::string resolve_device(const std::string& device) {
  if (device != "auto") return device;
  return torch::cuda::is_available() ? "cuda" : "cpu";
}

torch::Device checked_device(const std::string& device) {
  const std::string name = resolve_device(device);
  const torch::Device dev(name);
  SCALELAB_CHECK(
      !dev.is_cuda() || torch::cuda::is_available(),
      "device: CUDA requested ({}) but no GPU is available (or LibTorch was built without CUDA)",
      name);
  return dev;
}

Trainer::~Trainer() = default;

log::Level Trainer::info_level() const {
  // quiet (the sweep's runs) and ranks but 0: start-up and per-interval lines go to debug;
  // warnings stay.
  return cfg_.quiet || !main_rank() ? log::Level::kDebug : log::Level::kInfo;
}

void Trainer::resume_or_start() {
  if (cfg_.resume && checkpoint_exists(ckpt_)) {
    CheckpointState st = load_checkpoint(ckpt_, model_, &opt_);
    step_ = st.step;
    tokens_ = st.tokens;
    wall_offset_ = st.wall_seconds;
    const fs::path result = fs::path(out_) / "result.json";
    if (step_ >= steps_ && fs::exists(result)) {
      TrainResult done = read_train_result(result.string());
      if (done.status == "done") {
        SCALELAB_LOG_WARN(
            "{}: this run is finished (step {} of {}); its result.json is kept and nothing is "
            "trained (--no-resume trains it again from scratch)",
            out_, step_, steps_);
        finished_ = done;
        return;
      }
    }
    std::istringstream(st.rng) >> rng_;
    SCALELAB_LOG_AT(info_level(), "resumed from {} at step {}", ckpt_, step_);
    // The batch is global and every rank draws all of it, so a different world size continues the
    // same run; each rank's share of the batch (and its memory) is what changes.
    if (st.world_size != world_.size && main_rank())
      SCALELAB_LOG_WARN(
          "{}: the checkpoint was written by {} rank{}, this run has {}: the global batch ({} "
          "sequences) and the schedule are unchanged, each rank now trains {} of every batch",
          ckpt_, st.world_size, st.world_size == 1 ? "" : "s", world_.size, cfg_.batch_size,
          rank_batch());
  } else if (!cfg_.branch_from.empty()) {
    start_branch();
  }
  if (main_rank()) {
    json::write_file(fs::path(out_) / "config.json", cfg_json_);
    metrics_.open(fs::path(out_) / "metrics.jsonl", step_ > 0 ? std::ios::app : std::ios::trunc);
    SCALELAB_CHECK(metrics_.good(), "{}: cannot write metrics.jsonl", out_);
  }
  if (!cfg_.quiet && main_rank() && log::enabled(log::Level::kInfo)) {
    bar_ = std::make_unique<ProgressBar>("train", steps_, ProgressOptions{.unit = "steps"});
    bar_->set(step_);
  }
  loss_sum_ = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat32).device(dev_));
  last_loss_ = NAN;
  window_t0_ = std::chrono::steady_clock::now();
  model_->train();
}

namespace {

// What a branch shares with its parent up to the branch point: the fields that decide the
// parameters, optimizer state and data order there. The first that differs, as "FIELD is A there,
// B here"; empty when none does.
std::string trajectory_difference(const TrainConfig& parent, const TrainConfig& branch) {
  const auto one = [](auto&& v) { return json::Json(v).dump(); };
  const std::vector<std::pair<std::string, std::pair<std::string, std::string>>> fields{
      {"model",
       {accounting::to_json(parent.model.resolved()).dump(),
        accounting::to_json(branch.model.resolved()).dump()}},
      {"train_data", {one(parent.train_data), one(branch.train_data)}},
      {"batch_size", {one(parent.batch_size), one(branch.batch_size)}},
      {"grad_accum", {one(parent.grad_accum), one(branch.grad_accum)}},
      {"lr_schedule",
       {one(fields::enum_name(parent.lr_schedule)), one(fields::enum_name(branch.lr_schedule))}},
      {"lr_max", {one(parent.lr_max), one(branch.lr_max)}},
      {"warmup_steps", {one(parent.resolved_warmup()), one(branch.resolved_warmup())}},
      {"beta1", {one(parent.beta1), one(branch.beta1)}},
      {"beta2", {one(parent.beta2), one(branch.beta2)}},
      {"eps", {one(parent.eps), one(branch.eps)}},
      {"weight_decay", {one(parent.weight_decay), one(branch.weight_decay)}},
      {"grad_clip", {one(parent.grad_clip), one(branch.grad_clip)}},
      {"rope_theta", {one(parent.rope_theta), one(branch.rope_theta)}},
      {"precision",
       {one(fields::enum_name(parent.precision)), one(fields::enum_name(branch.precision))}},
      {"seed", {one(parent.seed), one(branch.seed)}}};
  for (const auto& [name, values] : fields)
    if (values.first != values.second)
      return fmt::format("{} is {} there, {} here", name, values.first, values.second);
  return "";
}

}  // namespace

// A cooldown branch starts where its parent was at this run's cooldown start: the same parameters,
// optimizer moments, step, tokens and data-sampler state, so it trains exactly what a WSD run of
// its own length would from there (trainer test: bit-identical).
void Trainer::start_branch() {
  const fs::path from = cfg_.branch_from;
  SCALELAB_CHECK(checkpoint_exists(from),
                 "branch_from: {}: no checkpoint there (the parent run has not reached that step, "
                 "or its checkpoint was removed)",
                 from.string());
  const CheckpointState st = read_checkpoint_state(from);
  const int64_t start = cfg_.branch_start_step();
  SCALELAB_CHECK(st.step == start,
                 "branch_from: {} is at step {}, but this run's cooldown starts at step {} ({} "
                 "steps, cooldown_fraction {})",
                 from.string(), st.step, start, steps_, cfg_.cooldown_fraction);
  const TrainConfig parent =
      train_config_from_json(st.config, (from / "state.json").string() + ": config");
  const std::string diff = trajectory_difference(parent, cfg_);
  SCALELAB_CHECK(diff.empty(), "branch_from: {} is from another config: {}", from.string(), diff);
  load_checkpoint(from, model_, &opt_);
  step_ = st.step;
  tokens_ = st.tokens;
  std::istringstream(st.rng) >> rng_;
  SCALELAB_LOG_AT(info_level(), "branching from {} at step {}: training the cooldown to step {}",
                  from.string(), step_, steps_);
}

void Trainer::log_start() const {
  const TrainConfig& c = cfg_;
  SCALELAB_LOG_AT(info_level(),
                  "model: vocab {} ctx {} d {} layers {} heads {}/{} ffn {} {}; {} params",
                  c.model.vocab_size, c.model.context_length, c.model.d_model, c.model.n_layers,
                  c.model.n_heads, c.model.n_kv_heads, accounting::to_string(c.model.ffn),
                  c.model.d_ff, format_int(n_params_));
  SCALELAB_LOG_AT(info_level(),
                  "train: {} steps × {} tokens (batch {} × accum {} × ctx {}), lr {:.2e}→{:.2e} "
                  "{}, warmup {}, wd {}, clip {}, {} {} {}, seed {}; writing {}",
                  steps_, c.tokens_per_step(), c.batch_size, c.grad_accum, c.model.context_length,
                  c.lr_max, c.lr_min,
                  c.lr_schedule == LrScheduleKind::kWsd
                      ? fmt::format("wsd (cooldown from step {}, {})", sched_.cooldown_start,
                                    fields::enum_name(c.cooldown_shape))
                      : std::string("cosine"),
                  c.resolved_warmup(), c.weight_decay, c.grad_clip, c.device,
                  fields::enum_name(c.precision), fields::enum_name(c.attention), c.seed, out_);
  if (dp_)
    SCALELAB_LOG_AT(info_level(),
                    "data parallel: {} ranks ({}, launched by {}; rendezvous {}:{}), {} sequences "
                    "per rank of each micro-batch",
                    world_.size, dp_->backend(), world_.launcher, world_.master_addr,
                    world_.master_port, rank_batch());
}

double Trainer::mfu_at(double tokens_per_second) const {
  return peak_tflops_ > 0 ? tokens_per_second * flops_.palm_per_token / (peak_tflops_ * 1e12) : 0;
}

double Trainer::seconds_since(std::chrono::steady_clock::time_point t) const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::vector<std::string> checkpoints_due(const std::string& out_dir, const std::string& resume_dir,
                                         int64_t step, bool branch_now, bool resume_now) {
  std::vector<std::string> dirs;
  if (branch_now) dirs.push_back(branch_checkpoint_dir(out_dir, step));
  if (resume_now) dirs.push_back(resume_dir);
  return dirs;
}

void Trainer::save_to(const std::string& dir) {
  if (!main_rank()) return;  // the ranks hold the same state: rank 0 writes it
  std::ostringstream rs;
  rs << rng_;
  save_checkpoint(dir, model_, &opt_,
                  {.step = step_,
                   .optimizer_steps = opt_.steps(),
                   .tokens = tokens_,
                   .wall_seconds = wall_seconds(),
                   .rng = rs.str(),
                   .world_size = world_.size,
                   .config = cfg_json_});
}

torch::Tensor Trainer::micro_loss(const torch::Tensor& x, const torch::Tensor& y) {
  AutocastGuard autocast(bf16_);
  return lm_loss(model_, x, y, cfg_.fp8_head);
}

torch::Tensor Trainer::eager_step(double lr) {
  for (int64_t micro = 0; micro < cfg_.grad_accum; ++micro) {
    auto [x, y] = train_.random_batch(cfg_.batch_size, rng_, dev_, world_.rank, world_.size);
    torch::Tensor loss = micro_loss(x, y);
    // The last micro-batch's backward completes the gradients: their all-reduce starts bucket by
    // bucket while it runs.
    if (dp_ && micro + 1 == cfg_.grad_accum) dp_->arm_overlap();
    (loss / static_cast<double>(cfg_.grad_accum)).backward();
    loss_sum_ += loss.detach();
    ++loss_count_;
  }
  // Each rank's gradient is of its shard's mean loss; their mean is the global batch's.
  if (dp_) dp_->finish_gradients();
  torch::Tensor gnorm = clip_grad_norm(model_->parameters(), cfg_.grad_clip);
  opt_.step(lr);
  if (dp_)
    dp_->zero_gradients();  // in place: the gradients are views of the all-reduce buckets
  else
    opt_.zero_grad();
  return gnorm;
}

bool Trainer::step() {
  if (finished_ || !status_.empty() || step_ >= steps_) return false;
  const double lr = sched_.lr(step_);
  torch::Tensor gnorm;
  if (graph_ && graph_warmup_left_ == 0 && !graph_->captured())
    graph_->capture(
        [this](const torch::Tensor& x, const torch::Tensor& y) { return micro_loss(x, y); });
  if (graph_ && graph_->captured()) {
    // The same batches as the eager step (the same draws from rng_), copied into the graph's
    // static inputs.
    for (int64_t micro = 0; micro < cfg_.grad_accum; ++micro) {
      auto [x, y] = train_.random_batch(cfg_.batch_size, rng_, dev_, world_.rank, world_.size);
      graph_->micro(x, y);
      ++loss_count_;
    }
    // Between the graphs, on the stream they replay on: the gradients they share are the buckets.
    if (dp_) dp_->average_gradients();
    gnorm = graph_->update(lr);
  } else if (graph_) {
    graph_->warm_up([&] { gnorm = eager_step(lr); });
    --graph_warmup_left_;
  } else {
    gnorm = eager_step(lr);
  }
  ++step_;
  tokens_ += tokens_per_step_;
  window_tokens_ += tokens_per_step_;
  if (bar_) bar_->update(1);
  if (step_ == steady_from_ && step_ < steps_) {
    // One host sync, so the window starts when the device has finished the warm-up steps.
    loss_sum_.sum().item<double>();
    steady_t0_ = std::chrono::steady_clock::now();
    steady_tokens0_ = tokens_;
    steady_started_ = true;
  }
  return interval_work(lr, gnorm) && step_ < steps_;
}

bool Trainer::interval_work(double lr, const torch::Tensor& gnorm) {
  const int64_t s = step_;
  const bool last = s == steps_;
  const bool log_now = s % cfg_.log_interval == 0 || last;
  const bool eval_now = val_ && cfg_.eval_interval > 0 && s % cfg_.eval_interval == 0 && !last;
  const bool ckpt_now = cfg_.checkpoint_interval > 0 && s % cfg_.checkpoint_interval == 0 && !last;
  const bool branch_now =
      std::find(cfg_.branch_steps.begin(), cfg_.branch_steps.end(), s) != cfg_.branch_steps.end();
  const bool signalled = g_stop_signal.load() != 0;
  // Data parallel, a signal may reach one rank only (or the ranks at different steps): the ranks
  // agree on it at the next sync below, so none is left waiting in a collective.
  const bool stop_at = cfg_.stop_at_step > 0 && s == cfg_.stop_at_step && !last;
  bool stopping = (signalled && !dp_) || stop_at;
  if (!(log_now || eval_now || ckpt_now || branch_now || stopping)) return true;

  if (dp_) {
    // One collective for the loss over all ranks' shards and the stop request: [sum, count, stop].
    auto opts = torch::TensorOptions().dtype(torch::kFloat64).device(dev_);
    torch::Tensor v = torch::cat(
        {loss_sum_.to(torch::kFloat64).reshape({1}),
         torch::tensor({static_cast<double>(loss_count_), signalled ? 1.0 : 0.0}, opts)});
    dp_->sum(v);
    const auto h = v.cpu();
    const double* p = h.data_ptr<double>();
    last_loss_ = p[0] / p[1];  // the host sync
    if (p[2] > 0) stopping = true;
  } else {
    last_loss_ = (loss_sum_ / static_cast<double>(loss_count_)).item<double>();  // the host sync
  }
  SCALELAB_CHECK(std::isfinite(last_loss_),
                 "training diverged: loss is {} at step {} (lower lr_max or raise warmup); the "
                 "last good checkpoint in {} is kept",
                 last_loss_, s, ckpt_);
  loss_sum_.zero_();
  loss_count_ = 0;
  if (last && steady_started_) {  // the item() above waited for the last step
    steady_t1_ = std::chrono::steady_clock::now();
    steady_ended_ = true;
  }
  const auto t_work = std::chrono::steady_clock::now();
  double val_loss = NAN;
  if (eval_now)
    val_loss =
        evaluate_loss(model_, *val_, rank_batch(), cfg_.eval_tokens, dev_, bf16_, dp_.get()).loss;
  if (log_now || eval_now) {
    const double secs = seconds_since(window_t0_);
    const double tps = secs > 0 ? window_tokens_ / secs : 0;
    const double mfu = mfu_at(tps);
    const double gn = gnorm.item<double>();
    json::Json rec{{"step", s},
                   {"tokens", tokens_},
                   {"flops", flops_.training_per_token * tokens_},
                   {"train_loss", last_loss_},
                   {"lr", lr},
                   {"grad_norm", gn},
                   {"tokens_per_second", tps},
                   {"wall_seconds", wall_seconds()}};
    if (!std::isnan(val_loss)) rec["val_loss"] = val_loss;
    if (main_rank()) metrics_ << rec.dump() << "\n" << std::flush;
    if (log_now) {
      const double eta = tps > 0 ? static_cast<double>(steps_ - s) * tokens_per_step_ / tps : NAN;
      SCALELAB_LOG_AT(
          info_level(),
          "step {}/{} | loss {:.4f} | lr {:.2e} | grad-norm {:.3f} | {}tok/s | MFU {} | ETA {}", s,
          steps_, last_loss_, lr, gn, format_si(tps), peak_tflops_ > 0 ? format_percent(mfu) : "-",
          ProgressBar::format_duration(eta));
    }
    window_t0_ = std::chrono::steady_clock::now();
    window_tokens_ = 0;
  }
  // Branch checkpoints are kept for cooldown branches; each is written like any checkpoint
  // (atomically), in checkpoints_due's order.
  for (const std::string& dir : checkpoints_due(out_, ckpt_, s, branch_now, ckpt_now)) save_to(dir);
  if (steady_started_ && !steady_ended_) steady_excluded_ += seconds_since(t_work);
  if (!stopping) return true;
  save();
  if (bar_) bar_->close();
  if (!stop_at)
    SCALELAB_LOG_AT(main_rank() ? log::Level::kWarn : log::Level::kDebug,
                    "{}: checkpoint saved at step {}; run the same command to resume",
                    signalled ? fmt::format("signal {} received", g_stop_signal.load())
                              : std::string("another rank received a signal"),
                    s);
  else
    SCALELAB_LOG_AT(info_level(),
                    "stopped at step {} (stop_at_step); checkpoint saved, run again to continue",
                    s);
  status_ = "interrupted";
  return false;
}

TrainResult Trainer::finish() {
  if (finished_) return *finished_;
  TrainResult res;
  res.final_val_loss = std::numeric_limits<double>::quiet_NaN();
  if (status_.empty()) {
    SCALELAB_CHECK(step_ == steps_, "Trainer::finish at step {} of {}", step_, steps_);
    status_ = "done";
    if (bar_) bar_->close();
    if (val_)
      res.final_val_loss =
          evaluate_loss(model_, *val_, rank_batch(), cfg_.eval_tokens, dev_, bf16_, dp_.get()).loss;
    save();
  }
  res.status = status_;
  res.params = n_params_;
  res.steps = step_;
  res.tokens = tokens_;
  res.flops = flops_.training_per_token * tokens_;
  res.flops_6nd = 6.0 * static_cast<double>(n_params_) * tokens_;
  res.final_train_loss = last_loss_;
  res.wall_seconds = wall_seconds();
  // A branch trained only from its start step: its own tokens and compute.
  res.branch_step = cfg_.branch_start_step();
  const double own_tokens = tokens_ - static_cast<double>(res.branch_step) * tokens_per_step_;
  res.flops_spent = flops_.training_per_token * own_tokens;
  res.tokens_per_second = res.wall_seconds > 0 ? own_tokens / res.wall_seconds : 0;
  res.mfu = mfu_at(res.tokens_per_second);
  if (steady_ended_) {
    const double secs =
        std::chrono::duration<double>(steady_t1_ - steady_t0_).count() - steady_excluded_;
    if (secs > 0) {
      // The window ends at the last step, so its tokens run to the total.
      res.steady_tokens_per_second = (tokens_ - steady_tokens0_) / secs;
      res.steady_mfu = mfu_at(res.steady_tokens_per_second);
    }
  }
  if (!main_rank()) return res;
  json::Json rj = to_json(res);
  rj["config"] = cfg_json_;
  json::write_file(fs::path(out_) / "result.json", rj);
  return res;
}

TrainResult Trainer::run() {
  while (step()) {
  }
  return finish();
}

TrainResult run_training(const TrainConfig& config) {
  TrainResult r = Trainer(config, world_from_env()).run();
#if SCALELAB_WITH_CUDA
  // The run's tensors and CUDA graphs are gone with the Trainer: return the cached blocks to the
  // device, for the next run of this process and for the processes sharing the GPU.
  if (resolve_device(config.device).starts_with("cuda"))
    c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  return r;
}

}  // namespace scalelab::train
