// `scalelab train`, `scalelab generate`, `scalelab eval`: the LibTorch training engine from the
// CLI. TrainConfig is the single source of defaults: --config train.json fills it, flags override
// fields.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "config_flags.h"
#include "model/generate.h"
#include "model/transformer.h"
#include "model_options.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_io.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/optim.h"
#include "train/trainer.h"

namespace scalelab::app {

namespace {

using train::TrainConfig;
namespace fs = std::filesystem;

struct TrainCliOptions {
  std::string config;
  ModelOptions model;
  ConfigFlags<TrainConfig> flags;
  bool no_resume = false;
};

void run_train(TrainCliOptions& o) {
  TrainConfig c;
  if (!o.config.empty()) c = train::train_config_from_json(json::read_file(o.config), o.config);
  // Model: the config file's shape, then --preset/--model-config/flags on top.
  if (!o.model.preset.empty() || !o.model.config.empty() || o.model.flags.any_given()) {
    std::string label;
    accounting::ModelShape base = c.model;
    if (o.model.preset.empty() && o.model.config.empty()) {
      o.model.flags.apply(base);
      base.validate("model");
      c.model = base;
    } else {
      c.model = resolve_model(o.model, &label);
    }
  }
  o.flags.apply(c);
  if (o.no_resume) c.resume = false;
  train::TrainResult r = train::run_training(c);
  std::cout << fmt::format(
      "{}: {} steps, {} tokens, {} FLOPs (6ND {}); train loss {:.4f}{}; {:.1f} s, {} tok/s{}; "
      "wrote {}/result.json\n",
      r.status, r.steps, format_si(r.tokens), format_sci(r.flops, 3), format_sci(r.flops_6nd, 3),
      r.final_train_loss,
      std::isnan(r.final_val_loss) ? "" : fmt::format(", val loss {:.4f}", r.final_val_loss),
      r.wall_seconds, format_si(r.tokens_per_second),
      r.mfu > 0 ? fmt::format(", MFU {}", format_percent(r.mfu)) : "", c.out_dir);
}

// A run directory or its checkpoint/ subdirectory.
fs::path checkpoint_dir(const std::string& arg) {
  fs::path p(arg);
  if (train::checkpoint_exists(p / "checkpoint")) return p / "checkpoint";
  return p;
}

struct Loaded {
  TrainConfig config;
  model::TransformerLM model{nullptr};
};

Loaded load_model(const std::string& arg, const std::string& device) {
  fs::path dir = checkpoint_dir(arg);
  train::CheckpointState st = train::read_checkpoint_state(dir);
  Loaded l;
  l.config = train::train_config_from_json(st.config, (dir / "state.json").string() + ".config");
  l.model = model::TransformerLM(
      l.config.model,
      model::ModelOptions{l.config.rope_theta, model::parse_attention_impl(l.config.attention)});
  train::load_checkpoint(dir, l.model, nullptr);
  torch::Device dev(device);
  SCALELAB_CHECK(!dev.is_cuda() || torch::cuda::is_available(),
                 "device: CUDA requested ({}) but no GPU is available", device);
  l.model->to(dev);
  return l;
}

struct GenerateOptions {
  std::string checkpoint, prompt, tokenizer, device = "cpu";
  model::SampleOptions sample;
};

void run_generate(const GenerateOptions& o) {
  Loaded l = load_model(o.checkpoint, o.device);
  std::string tok_dir = o.tokenizer.empty() ? l.config.tokenizer : o.tokenizer;
  SCALELAB_CHECK(!tok_dir.empty(),
                 "generate: the checkpoint records no tokenizer; pass --tokenizer DIR");
  tokenizer::Tokenizer tok(tokenizer::load_tokenizer_dir(tok_dir));
  SCALELAB_CHECK(tok.vocab_size() == static_cast<size_t>(l.config.model.vocab_size),
                 "generate: tokenizer {} has {} tokens but the model's vocabulary is {}", tok_dir,
                 tok.vocab_size(), l.config.model.vocab_size);
  SCALELAB_CHECK(tokenizer::find_invalid_utf8(o.prompt) == std::string::npos,
                 "--prompt: invalid UTF-8");
  std::vector<int32_t> p32 = tok.encode(o.prompt);
  std::vector<int64_t> prompt(p32.begin(), p32.end());
  model::SampleOptions s = o.sample;
  for (const auto& [text, id] : tok.model().specials)
    if (text == "<|endoftext|>") s.stop_token = id;
  std::vector<int64_t> out = model::generate(l.model, prompt, s);
  std::cout << o.prompt << tok.decode(std::vector<int32_t>(out.begin(), out.end())) << "\n";
}

struct EvalOptions {
  std::string checkpoint, data, device = "cpu";
  int64_t batch_size = 16;
  int64_t max_tokens = 0;
  bool json = false;
};

void run_eval(const EvalOptions& o) {
  Loaded l = load_model(o.checkpoint, o.device);
  train::TokenDataset data(o.data, l.config.model.vocab_size, l.config.model.context_length);
  const train::EvalResult r =
      train::evaluate_loss(l.model, data, o.batch_size, o.max_tokens, torch::Device(o.device),
                           /*bf16=*/false);
  const double loss = r.loss;
  const int64_t n_tokens = r.tokens;
  if (o.json) {
    std::cout
        << json::Json{{"loss", loss}, {"perplexity", std::exp(loss)}, {"tokens", n_tokens}}.dump(2)
        << "\n";
    return;
  }
  std::cout << fmt::format("loss {:.4f} (perplexity {:.2f}) over {} tokens of {}\n", loss,
                           std::exp(loss), format_int(n_tokens), o.data);
}

}  // namespace

Command setup_train(CLI::App& app) {
  auto* sub =
      app.add_subcommand("train", "Train a transformer LM on a token file (LibTorch; CPU or CUDA)");
  auto o = std::make_shared<TrainCliOptions>();
  sub->add_option("--config", o->config,
                  "Train config JSON (fields of the `config.json` a run writes)");
  add_model_options(*sub, o->model, "--model-config");
  o->flags.field(*sub, "--train-data", &TrainConfig::train_data,
                 "Token file (.bin with .bin.json)");
  o->flags.field(*sub, "--val-data", &TrainConfig::val_data, "Validation token file");
  o->flags.field(*sub, "--tokenizer", &TrainConfig::tokenizer,
                 "Tokenizer directory (recorded for generate)");
  o->flags.field(*sub, "--out", &TrainConfig::out_dir, "Output directory");
  o->flags.field(*sub, "--batch-size", &TrainConfig::batch_size, "Sequences per micro-batch");
  o->flags.field(*sub, "--grad-accum", &TrainConfig::grad_accum,
                 "Micro-batches per optimizer step");
  o->flags.field(*sub, "--max-steps", &TrainConfig::max_steps, "Optimizer steps (or --max-tokens)");
  o->flags.field(*sub, "--max-tokens", &TrainConfig::max_tokens, "Token budget (or --max-steps)");
  o->flags.field(*sub, "--lr-max", &TrainConfig::lr_max, "Peak learning rate");
  o->flags.field(*sub, "--lr-min", &TrainConfig::lr_min, "Final learning rate");
  o->flags.field(*sub, "--warmup-steps", &TrainConfig::warmup_steps,
                 "Linear warmup steps (-1 = 5%)");
  o->flags.field(*sub, "--cosine-steps", &TrainConfig::cosine_steps,
                 "Step where the cosine reaches lr-min (0 = last)");
  o->flags.field(*sub, "--beta1", &TrainConfig::beta1, "AdamW beta1");
  o->flags.field(*sub, "--beta2", &TrainConfig::beta2, "AdamW beta2");
  o->flags.field(*sub, "--weight-decay", &TrainConfig::weight_decay,
                 "AdamW decoupled weight decay");
  o->flags.field(*sub, "--grad-clip", &TrainConfig::grad_clip,
                 "Global gradient-norm clip (0 = none)");
  o->flags.field(*sub, "--log-interval", &TrainConfig::log_interval, "Steps between log lines");
  o->flags.field(*sub, "--eval-interval", &TrainConfig::eval_interval,
                 "Steps between evaluations (0 = end only)");
  o->flags.field(*sub, "--eval-tokens", &TrainConfig::eval_tokens,
                 "Validation tokens per evaluation (0 = all)");
  o->flags.field(*sub, "--checkpoint-interval", &TrainConfig::checkpoint_interval,
                 "Steps between checkpoints (0 = end)");
  o->flags.field(*sub, "--seed", &TrainConfig::seed, "Seed (init and data order)");
  o->flags.field(*sub, "--device", &TrainConfig::device, "cpu | cuda | cuda:N");
  o->flags.field(*sub, "--precision", &TrainConfig::precision, "fp32 | bf16-mixed (CUDA)");
  o->flags.field(*sub, "--attention", &TrainConfig::attention,
                 "auto (fused on LibTorch >= 2) | plain");
  o->flags.field(*sub, "--rope-theta", &TrainConfig::rope_theta, "RoPE base");
  o->flags.field(*sub, "--stop-at-step", &TrainConfig::stop_at_step,
                 "Stop with a checkpoint after this step (0 = end)");
  o->flags.field(*sub, "--peak-tflops", &TrainConfig::peak_tflops,
                 "Peak TFLOP/s for MFU (0 = from the GPU table)");
  o->flags.field(*sub, "--quiet", &TrainConfig::quiet,
                 "No progress bar and no per-interval lines (true/false)");
  sub->add_flag("--no-resume", o->no_resume, "Start afresh even if out/checkpoint exists");

  return {sub, [o] { run_train(*o); }};
}

Command setup_generate(CLI::App& app) {
  auto* sub = app.add_subcommand("generate", "Sample text from a trained checkpoint");
  auto o = std::make_shared<GenerateOptions>();
  sub->add_option("--checkpoint", o->checkpoint, "Run directory or its checkpoint/")->required();
  sub->add_option("--prompt", o->prompt, "Prompt text")->required();
  sub->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer directory (default: the one the run recorded)");
  sub->add_option("--max-new-tokens", o->sample.max_new_tokens, "Tokens to generate")
      ->capture_default_str();
  sub->add_option("--temperature", o->sample.temperature, "Softmax temperature (0 = greedy)")
      ->capture_default_str();
  sub->add_option("--top-p", o->sample.top_p, "Nucleus sampling mass")->capture_default_str();
  sub->add_option("--seed", o->sample.seed, "Sampling seed")->capture_default_str();
  sub->add_option("--device", o->device, "cpu | cuda")->capture_default_str();
  return {sub, [o] { run_generate(*o); }};
}

Command setup_eval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Mean loss of a checkpoint on a token file");
  auto o = std::make_shared<EvalOptions>();
  sub->add_option("--checkpoint", o->checkpoint, "Run directory or its checkpoint/")->required();
  sub->add_option("--data", o->data, "Token file (.bin)")->required();
  sub->add_option("--batch-size", o->batch_size, "Sequences per batch")->capture_default_str();
  sub->add_option("--max-tokens", o->max_tokens, "Evaluate at most this many tokens (0 = all)")
      ->capture_default_str();
  sub->add_option("--device", o->device, "cpu | cuda")->capture_default_str();
  sub->add_flag("--json", o->json, "Print JSON");
  return {sub, [o] { run_eval(*o); }};
}

}  // namespace scalelab::app
