// TrainConfig / TrainResult validation and JSON (see train_config.h).
#include "train/train_config.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "common/error.h"

namespace scalelab::train {

void TrainConfig::validate() const {
  train_config_fields().check(*this);
  model.validate("model");
  SCALELAB_CHECK(!train_data.empty(),
                 "train_data: required (a token file from `scalelab tokenizer encode`)");
  SCALELAB_CHECK(!out_dir.empty(), "out_dir: required");
  SCALELAB_CHECK((max_steps > 0) != (max_tokens > 0),
                 "give exactly one of max_steps and max_tokens (got {} and {})", max_steps,
                 max_tokens);
  SCALELAB_CHECK(lr_min >= 0 && lr_min <= lr_max, "lr_min: must be in [0, lr_max] (got {})",
                 lr_min);
  SCALELAB_CHECK(!fp8_head || precision == accounting::Precision::kBf16Mixed,
                 "fp8_head: needs precision bf16-mixed (got {})", to_string(precision));
  SCALELAB_CHECK(!fp8_head || !model.tied_embeddings,
                 "fp8_head: needs an untied LM head (model.tied_embeddings is true)");
  SCALELAB_CHECK(precision != accounting::Precision::kBf16,
                 "precision: bf16 (pure) is an accounting policy; training takes fp32 or "
                 "bf16-mixed");
  SCALELAB_CHECK(device == "auto" || device == "cpu" || device.rfind("cuda", 0) == 0,
                 "device: expected auto, cpu, cuda or cuda:N, got '{}'", device);
  if (lr_schedule == LrScheduleKind::kWsd) {
    SCALELAB_CHECK(cosine_steps == 0,
                   "cosine_steps: is for lr_schedule cosine (got {}); wsd cools down over the last "
                   "cooldown_fraction of the steps",
                   cosine_steps);
    const int64_t steps = resolved_steps(), start = wsd_cooldown_start(steps, cooldown_fraction);
    SCALELAB_CHECK(resolved_warmup() <= start,
                   "cooldown_fraction: the cooldown ({} of {} steps) would start before the "
                   "warmup's {} steps end; lower cooldown_fraction or warmup_steps",
                   steps - start, steps, resolved_warmup());
    int64_t prev = 0;
    for (const int64_t b : branch_steps) {
      SCALELAB_CHECK(b > prev, "branch_steps: must be increasing and positive (got {} after {})", b,
                     prev);
      SCALELAB_CHECK(b >= resolved_warmup() && b < start,
                     "branch_steps: step {} is not in the constant phase [{}, {}) of this {}-step "
                     "run (after the warmup, before the cooldown)",
                     b, resolved_warmup(), start, steps);
      prev = b;
    }
  } else {
    SCALELAB_CHECK(branch_steps.empty() && branch_from.empty(),
                   "{}: cooldown branches need lr_schedule wsd",
                   branch_steps.empty() ? "branch_from" : "branch_steps");
  }
  SCALELAB_CHECK(branch_from.empty() || branch_steps.empty(),
                 "branch_from: a branch keeps no branch_steps of its own (it trains only its "
                 "cooldown)");
}

int64_t TrainConfig::branch_start_step() const {
  return branch_from.empty() ? 0 : wsd_cooldown_start(resolved_steps(), cooldown_fraction);
}

std::string resume_checkpoint_dir(const std::string& out_dir) {
  return (std::filesystem::path(out_dir) / "checkpoint").string();
}

std::string branch_checkpoint_dir(const std::string& out_dir, int64_t step) {
  return (std::filesystem::path(out_dir) / fmt::format("branch-{}", step)).string();
}

LrSchedule TrainConfig::schedule() const {
  const int64_t steps = resolved_steps();
  LrSchedule s{.kind = lr_schedule,
               .lr_max = lr_max,
               .lr_min = lr_min,
               .warmup_steps = resolved_warmup(),
               .decay_end = steps,
               .shape = cooldown_shape};
  if (lr_schedule == LrScheduleKind::kCosine && cosine_steps > 0) s.decay_end = cosine_steps;
  if (lr_schedule == LrScheduleKind::kWsd)
    s.cooldown_start = wsd_cooldown_start(steps, cooldown_fraction);
  return s;
}

int64_t TrainConfig::resolved_steps() const {
  if (max_steps > 0) return max_steps;
  return static_cast<int64_t>(std::ceil(max_tokens / static_cast<double>(tokens_per_step())));
}

int64_t TrainConfig::resolved_warmup() const {
  if (warmup_steps >= 0) return warmup_steps;
  return std::max<int64_t>(1, resolved_steps() / 20);
}

const fields::Table<TrainConfig>& train_config_fields() {
  using fields::Opt;
  using fields::Range;
  using T = TrainConfig;
  static const auto t =
      fields::Table<T>()
          .nest("model", &T::model, accounting::model_shape_fields(), "The model shape")
          .add("rope_theta", &T::rope_theta, "RoPE base", Range::positive())
          .add("attention", &T::attention, "Attention (auto = fused on LibTorch >= 2)")
          .add("train_data", &T::train_data, "Token file (.bin with .bin.json)")
          .add("val_data", &T::val_data, "Validation token file")
          .add("tokenizer", &T::tokenizer, "Tokenizer directory (recorded for generate)")
          .add("vocab_multiple", &T::vocab_multiple,
               "Round a vocabulary taken from the training data up to a multiple of this (GPT-2's "
               "50,257 becomes 50,304; padding ids are never sampled; 1 = exact)",
               Range::in(1, 4096))
          .add("out_dir", &T::out_dir, "Output directory", Opt::named("--out"))
          .add("batch_size", &T::batch_size, "Sequences per micro-batch", Range::positive())
          .add("grad_accum", &T::grad_accum, "Micro-batches per optimizer step", Range::positive())
          .add("max_steps", &T::max_steps, "Optimizer steps (or max_tokens)")
          .add("max_tokens", &T::max_tokens, "Token budget (or max_steps)")
          .add("lr_max", &T::lr_max, "Peak learning rate", Range::positive())
          .add("lr_min", &T::lr_min, "Final learning rate")
          .add("warmup_steps", &T::warmup_steps, "Linear warmup steps (-1 = 5%)",
               Range::at_least(-1))
          .add("cosine_steps", &T::cosine_steps,
               "Step where the cosine reaches lr_min (0 = last; cosine only)", Range::at_least(0))
          .add("lr_schedule", &T::lr_schedule,
               "cosine, or wsd: warmup, lr_max, then a cooldown to lr_min over the last "
               "cooldown_fraction of the steps (Hägele et al. 2024)")
          .add("cooldown_fraction", &T::cooldown_fraction, "wsd: the cooldown's share of the steps",
               Range::in(0, 1, true, true))
          .add("cooldown_shape", &T::cooldown_shape, train::kCooldownShapeHelp)
          .add("branch_steps", &T::branch_steps,
               "wsd: keep a checkpoint at these steps of the constant phase (out_dir/branch-STEP) "
               "for cooldown branches")
          .add("branch_from", &T::branch_from,
               "wsd: start from this parent checkpoint (a branch-STEP directory) at the cooldown's "
               "first step and train only the cooldown")
          .add("beta1", &T::beta1, "AdamW beta1", Range::in(0, 1, false, true))
          .add("beta2", &T::beta2, "AdamW beta2", Range::in(0, 1, false, true))
          .add("eps", &T::eps, "AdamW epsilon", Range::positive())
          .add("weight_decay", &T::weight_decay, "AdamW decoupled weight decay", Range::at_least(0))
          .add("grad_clip", &T::grad_clip, "Global gradient-norm clip (0 = none)",
               Range::at_least(0))
          .add("log_interval", &T::log_interval, "Steps between log lines", Range::positive())
          .add("eval_interval", &T::eval_interval, "Steps between evaluations (0 = end only)",
               Range::at_least(0))
          .add("eval_tokens", &T::eval_tokens, "Validation tokens per evaluation (0 = all)",
               Range::at_least(0))
          .add("checkpoint_interval", &T::checkpoint_interval,
               "Steps between checkpoints (0 = end)", Range::at_least(0))
          .add("seed", &T::seed, "Seed (init and data order)")
          .add("device", &T::device, "auto (the GPU when there is one) | cpu | cuda | cuda:N")
          .add("precision", &T::precision, "Training precision (bf16-mixed needs CUDA)")
          .add("peak_tflops", &T::peak_tflops, "Peak TFLOP/s for MFU (0 = from the GPU table)",
               Range::at_least(0))
          .add("cuda_graphs", &T::cuda_graphs,
               "Capture the training step as CUDA graphs after 3 eager steps (CUDA with LibTorch "
               ">= 2 only; the step's arithmetic is unchanged, its launch overhead goes)")
          .add("fp8_head", &T::fp8_head,
               "The LM head's three matmuls in FP8 (E4M3 activations and weights, E5M2 gradient, "
               "per-tensor scales): CUDA with LibTorch >= 2.1, bf16-mixed, an untied head, "
               "d_model and vocabulary multiples of 16")
          .add("nproc_per_node", &T::nproc_per_node,
               "Data parallel: start this many ranks on this machine (one per GPU, or CPU "
               "processes); torchrun's or srun's environment also makes ranks",
               Range::in(1, 1024))
          .add("dist_timeout", &T::dist_timeout,
               "Data parallel: seconds the rendezvous or a collective may take before the run "
               "fails",
               Range::positive())
          .add("dist_bucket_mb", &T::dist_bucket_mb,
               "Data parallel: gradients are all-reduced in buckets of this many MiB, each started "
               "during backward as soon as its gradients are in (DDP's bucket_cap_mb)",
               Range::in(0, 4096, true, false))
          .add("resume", &T::resume, "Continue from out_dir/checkpoint when it exists")
          .add("stop_at_step", &T::stop_at_step, "Stop with a checkpoint after this step (0 = end)",
               Range::at_least(0))
          .add("quiet", &T::quiet, "No progress bar and no per-interval lines");
  return t;
}

json::Json to_json(const TrainConfig& c) { return train_config_fields().to_json(c); }

TrainConfig train_config_from_json(const json::Json& j, std::string_view context) {
  return train_config_fields().from_json(j, context);
}

json::Json to_json(const TrainResult& r) {
  return {{"status", r.status},
          {"steps", r.steps},
          {"tokens", r.tokens},
          {"flops", r.flops},
          {"flops_6nd", r.flops_6nd},
          {"params", r.params},
          {"final_train_loss", r.final_train_loss},
          {"final_val_loss",
           std::isnan(r.final_val_loss) ? json::Json(nullptr) : json::Json(r.final_val_loss)},
          {"wall_seconds", r.wall_seconds},
          {"tokens_per_second", r.tokens_per_second},
          {"mfu", r.mfu},
          {"steady_tokens_per_second", r.steady_tokens_per_second},
          {"steady_mfu", r.steady_mfu},
          {"branch_step", r.branch_step},
          {"flops_spent", r.flops_spent}};
}

TrainResult read_train_result(const std::string& path) {
  return train_result_from_json(json::read_file(path), path);
}

TrainResult train_result_from_json(const json::Json& j, std::string_view context) {
  json::ObjectReader r(j, std::string(context));
  TrainResult res;
  r.get("status", res.status);
  r.get("steps", res.steps);
  r.get("tokens", res.tokens);
  r.get("flops", res.flops);
  r.get("flops_6nd", res.flops_6nd);
  r.get("params", res.params);
  r.get("final_train_loss", res.final_train_loss);
  res.final_val_loss = std::numeric_limits<double>::quiet_NaN();
  if (r.has("final_val_loss") && !r.at("final_val_loss").is_null())
    r.get("final_val_loss", res.final_val_loss);
  r.accept("final_val_loss");
  r.get("wall_seconds", res.wall_seconds);
  r.get("tokens_per_second", res.tokens_per_second);
  r.get("mfu", res.mfu);
  // Absent from result.json files written before steady-state throughput was recorded.
  if (r.has("steady_tokens_per_second"))
    r.get("steady_tokens_per_second", res.steady_tokens_per_second);
  if (r.has("steady_mfu")) r.get("steady_mfu", res.steady_mfu);
  // Absent before cooldown branches: not a branch, all its compute its own.
  res.flops_spent = res.flops;
  if (r.has("branch_step")) r.get("branch_step", res.branch_step);
  if (r.has("flops_spent")) r.get("flops_spent", res.flops_spent);
  r.accept("config");
  r.finish();
  return res;
}

CheckpointState checkpoint_state_from_json(const json::Json& j, std::string_view context) {
  json::ObjectReader r(j, std::string(context));
  CheckpointState st;
  r.require("step", st.step);
  st.optimizer_steps = st.step;
  r.get("tokens", st.tokens);
  r.get("wall_seconds", st.wall_seconds);  // absent in checkpoints written before it was kept
  r.get("rng", st.rng);
  r.get("optimizer_steps", st.optimizer_steps);
  r.get("world_size", st.world_size);  // absent before data parallelism: 1
  SCALELAB_CHECK(st.world_size >= 1, "{}: world_size: must be positive (got {})", context,
                 st.world_size);
  if (r.has("config")) st.config = r.at("config");
  r.accept("config");
  r.finish();
  return st;
}

}  // namespace scalelab::train
