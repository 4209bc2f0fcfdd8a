// TrainConfig / TrainResult validation and JSON (see train_config.h).
#include "train/train_config.h"

#include <cmath>
#include <limits>

#include "common/error.h"

namespace scalelab::train {

void TrainConfig::validate() const {
  model.validate("model");
  auto pos = [](const char* f, double v) {
    SCALELAB_CHECK(std::isfinite(v) && v > 0, "{}: must be positive (got {})", f, v);
  };
  SCALELAB_CHECK(!train_data.empty(),
                 "train_data: required (a token file from `scalelab tokenizer encode`)");
  SCALELAB_CHECK(!out_dir.empty(), "out_dir: required");
  pos("batch_size", static_cast<double>(batch_size));
  pos("grad_accum", static_cast<double>(grad_accum));
  SCALELAB_CHECK((max_steps > 0) != (max_tokens > 0),
                 "give exactly one of max_steps and max_tokens (got {} and {})", max_steps,
                 max_tokens);
  pos("lr_max", lr_max);
  SCALELAB_CHECK(lr_min >= 0 && lr_min <= lr_max, "lr_min: must be in [0, lr_max] (got {})",
                 lr_min);
  SCALELAB_CHECK(beta1 >= 0 && beta1 < 1, "beta1: must be in [0, 1) (got {})", beta1);
  SCALELAB_CHECK(beta2 >= 0 && beta2 < 1, "beta2: must be in [0, 1) (got {})", beta2);
  pos("eps", eps);
  SCALELAB_CHECK(weight_decay >= 0, "weight_decay: must be >= 0 (got {})", weight_decay);
  SCALELAB_CHECK(grad_clip >= 0, "grad_clip: must be >= 0 (got {})", grad_clip);
  pos("log_interval", static_cast<double>(log_interval));
  SCALELAB_CHECK(eval_interval >= 0 && eval_tokens >= 0 && checkpoint_interval >= 0,
                 "eval_interval, eval_tokens and checkpoint_interval must be >= 0");
  SCALELAB_CHECK(warmup_steps >= -1, "warmup_steps: must be >= 0, or -1 for 5% of the steps");
  SCALELAB_CHECK(stop_at_step >= 0, "stop_at_step: must be >= 0 (got {})", stop_at_step);
  SCALELAB_CHECK(precision == "fp32" || precision == "bf16-mixed",
                 "precision: expected fp32 or bf16-mixed, got '{}'", precision);
  SCALELAB_CHECK(attention == "auto" || attention == "plain",
                 "attention: expected auto or plain, got '{}'", attention);
  pos("rope_theta", rope_theta);
  SCALELAB_CHECK(device == "cpu" || device.rfind("cuda", 0) == 0,
                 "device: expected cpu, cuda or cuda:N, got '{}'", device);
}

int64_t TrainConfig::resolved_steps() const {
  if (max_steps > 0) return max_steps;
  return static_cast<int64_t>(std::ceil(max_tokens / static_cast<double>(tokens_per_step())));
}

int64_t TrainConfig::resolved_warmup() const {
  if (warmup_steps >= 0) return warmup_steps;
  return std::max<int64_t>(1, resolved_steps() / 20);
}

json::Json to_json(const TrainConfig& c) {
  return {{"model", accounting::to_json(c.model)},
          {"rope_theta", c.rope_theta},
          {"attention", c.attention},
          {"train_data", c.train_data},
          {"val_data", c.val_data},
          {"tokenizer", c.tokenizer},
          {"out_dir", c.out_dir},
          {"batch_size", c.batch_size},
          {"grad_accum", c.grad_accum},
          {"max_steps", c.max_steps},
          {"max_tokens", c.max_tokens},
          {"lr_max", c.lr_max},
          {"lr_min", c.lr_min},
          {"warmup_steps", c.warmup_steps},
          {"cosine_steps", c.cosine_steps},
          {"beta1", c.beta1},
          {"beta2", c.beta2},
          {"eps", c.eps},
          {"weight_decay", c.weight_decay},
          {"grad_clip", c.grad_clip},
          {"log_interval", c.log_interval},
          {"eval_interval", c.eval_interval},
          {"eval_tokens", c.eval_tokens},
          {"checkpoint_interval", c.checkpoint_interval},
          {"seed", c.seed},
          {"device", c.device},
          {"precision", c.precision},
          {"peak_tflops", c.peak_tflops},
          {"resume", c.resume},
          {"stop_at_step", c.stop_at_step},
          {"quiet", c.quiet}};
}

TrainConfig train_config_from_json(const json::Json& j, std::string_view context) {
  TrainConfig c;
  json::ObjectReader r(j, std::string(context));
  if (r.has("model"))
    c.model = accounting::model_shape_from_json(r.at("model"), std::string(context) + ".model");
  r.accept("model");
  r.get("rope_theta", c.rope_theta);
  r.get("attention", c.attention);
  r.get("train_data", c.train_data);
  r.get("val_data", c.val_data);
  r.get("tokenizer", c.tokenizer);
  r.get("out_dir", c.out_dir);
  r.get("batch_size", c.batch_size);
  r.get("grad_accum", c.grad_accum);
  r.get("max_steps", c.max_steps);
  r.get("max_tokens", c.max_tokens);
  r.get("lr_max", c.lr_max);
  r.get("lr_min", c.lr_min);
  r.get("warmup_steps", c.warmup_steps);
  r.get("cosine_steps", c.cosine_steps);
  r.get("beta1", c.beta1);
  r.get("beta2", c.beta2);
  r.get("eps", c.eps);
  r.get("weight_decay", c.weight_decay);
  r.get("grad_clip", c.grad_clip);
  r.get("log_interval", c.log_interval);
  r.get("eval_interval", c.eval_interval);
  r.get("eval_tokens", c.eval_tokens);
  r.get("checkpoint_interval", c.checkpoint_interval);
  r.get("seed", c.seed);
  r.get("device", c.device);
  r.get("precision", c.precision);
  r.get("peak_tflops", c.peak_tflops);
  r.get("resume", c.resume);
  r.get("stop_at_step", c.stop_at_step);
  r.get("quiet", c.quiet);
  r.finish();
  return c;
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
          {"mfu", r.mfu}};
}

TrainResult read_train_result(const std::string& path) {
  const json::Json j = json::read_file(path);
  json::ObjectReader r(j, path);
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
  r.accept("config");
  r.finish();
  return res;
}

}  // namespace scalelab::train
