// `scalelab train`, `generate`, `eval`, `export`, `import-hf`: the training engine from the CLI.
// Options are parsed here (no LibTorch); the work runs in the engine module (engine/engine.h).
// TrainConfig is the single source of defaults: --config train.json fills it, flags override
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
#include "common/log.h"
#include "common/process.h"
#include "common/token_file.h"
#include "config_flags.h"
#include "engine/engine.h"
#include "model_options.h"
#include "train/launch.h"
#include "train/train_config.h"
#include "train/world.h"

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

// The model's vocabulary from the training data's sidecar (FILE.bin.json): taken when none was
// asked for (the default shape's 50257 on a 512-token file would build a 162M-parameter model),
// rounded up to a multiple of vocab_multiple; one asked for (--vocab-size, a model or train config)
// is kept as given and must hold every id of the data.
void adopt_data_vocabulary(TrainConfig& c, bool vocab_given) {
  if (c.train_data.empty() || !fs::exists(c.train_data + ".json")) return;  // the trainer says why
  const auto data_vocab = static_cast<int64_t>(read_token_meta(c.train_data).vocab_size);
  if (data_vocab <= 0) return;
  if (!vocab_given) {
    const int64_t m = c.vocab_multiple;
    const int64_t padded = (data_vocab + m - 1) / m * m;
    if (c.model.vocab_size != padded)
      SCALELAB_LOG_INFO("vocabulary {} from {}.json (the tokenizer the data was encoded with){}",
                        format_int(padded), c.train_data,
                        padded == data_vocab ? std::string()
                                             : fmt::format(", {} padded to a multiple of {}",
                                                           format_int(data_vocab), m));
    c.model.vocab_size = padded;
    return;
  }
  SCALELAB_CHECK(c.model.vocab_size >= data_vocab,
                 "vocab_size: {} is smaller than the vocabulary of {} ({}, from its .json "
                 "sidecar); leave --vocab-size out to take the data's",
                 c.model.vocab_size, c.train_data, data_vocab);
}

// --nproc-per-node N: the resolved config (vocabulary and absolute paths settled) goes to
// out_dir/launch.json and N ranks of `scalelab train --config` it start with torchrun's
// environment; rank 0 prints the result. Checked here first, so a config error is told once.
void launch_ranks(const TrainConfig& c) {
  const int64_t n = c.nproc_per_node;
  train::check_batch_splits(c.batch_size, n, fmt::format("--nproc-per-node {}", n));
  ensure_writable_directory(c.out_dir);
  const fs::path launch = fs::path(c.out_dir) / "launch.json";
  json::write_file(launch, train::to_json(c));
  const std::string self = current_executable();
  SCALELAB_LOG_INFO("starting {} ranks on this machine (data parallel; {})", n, launch.string());
  train::launch_local_ranks(
      {self, "train", "--config", fs::absolute(launch).string()},
      {.nproc = n, .env = {{"SCALELAB_LOG_LEVEL", std::string(log::level_name(log::level()))}}});
}

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
  // The vocabulary of the training data (its sidecar): the model's unless one was asked for.
  const bool vocab_given =
      o.model.flags.given("--vocab-size") || !o.model.config.empty() ||
      (!o.config.empty() && c.model.vocab_size != TrainConfig().model.vocab_size);
  adopt_data_vocabulary(c, vocab_given);
  // Absolute paths in the run's config.json, so `generate --checkpoint RUN` and a resume work from
  // any directory.
  for (std::string* path : {&c.train_data, &c.val_data, &c.tokenizer, &c.branch_from})
    if (!path->empty()) *path = fs::absolute(*path).lexically_normal().string();
  c.validate();
  const train::World world = train::world_from_env();
  if (c.nproc_per_node > 1 && !world.distributed()) {
    launch_ranks(c);
    return;
  }
  train::TrainResult r = engine::train(c);
  if (!world.is_main()) return;  // rank 0 reports the run
  std::cout << fmt::format(
      "{}: {} steps, {} tokens, {} FLOPs (6ND {}); train loss {:.4f}{}; {:.1f} s, {} tok/s{}{}; "
      "wrote {}/result.json\n",
      r.status, r.steps, format_si(r.tokens), format_sci(r.flops, 3), format_sci(r.flops_6nd, 3),
      r.final_train_loss,
      std::isnan(r.final_val_loss) ? "" : fmt::format(", val loss {:.4f}", r.final_val_loss),
      r.wall_seconds, format_si(r.tokens_per_second),
      r.mfu > 0 ? fmt::format(", MFU {}", format_percent(r.mfu)) : "",
      r.steady_tokens_per_second > 0
          ? fmt::format(
                " (steady state {} tok/s{})", format_si(r.steady_tokens_per_second),
                r.steady_mfu > 0 ? fmt::format(", MFU {}", format_percent(r.steady_mfu)) : "")
          : "",
      c.out_dir);
}

void run_generate(const engine::GenerateRequest& o) {
  const std::string text = engine::generate(o);
  std::cout << o.prompt << text << "\n";
}

struct EvalOptions {
  engine::EvalRequest request;
  bool json = false;
};

void run_eval(const EvalOptions& o) {
  const engine::EvalResult r = engine::evaluate(o.request);
  if (o.json) {
    std::cout << json::Json{{"loss", r.loss},
                            {"perplexity", std::exp(r.loss)},
                            {"tokens", r.tokens}}
                     .dump(2)
              << "\n";
    return;
  }
  std::cout << fmt::format("loss {:.4f} (perplexity {:.2f}) over {} tokens of {}\n", r.loss,
                           std::exp(r.loss), format_int(r.tokens), o.request.data);
}

void run_export(const engine::ExportRequest& o) {
  const engine::ExportResult r = engine::export_hf(o);
  std::cout << fmt::format(
      "exported {} tensors ({} parameters, {}) to {}: model.safetensors, config.json "
      "(LlamaForCausalLM), generation_config.json{}\n",
      r.tensors, format_int(r.parameters), o.dtype, o.out,
      r.tokenizer ? ", tokenizer.json, tokenizer_config.json"
                  : " (no tokenizer: the run recorded none; pass --tokenizer DIR)");
}

void run_import(const engine::ImportRequest& o) {
  const engine::ImportResult r = engine::import_hf(o);
  std::cout << fmt::format(
      "imported {} ({} parameters; {} layers × d_model {}, vocabulary {}) as a scalelab checkpoint "
      "in {}\n",
      o.dir, format_int(r.parameters), r.shape.n_layers, r.shape.d_model, r.shape.vocab_size,
      o.out);
}

}  // namespace

Command setup_train(CLI::App& app) {
  auto* sub =
      app.add_subcommand("train", "Train a transformer LM on a token file (LibTorch; CPU or CUDA)");
  auto o = std::make_shared<TrainCliOptions>();
  sub->add_option("--config", o->config,
                  "Train config JSON (fields of the `config.json` a run writes)");
  add_model_options(*sub, o->model, "--model-config");
  // Every field of TrainConfig's table (train_config.cpp) but the model, whose flags come from
  // add_model_options; `resume` is the --no-resume flag below.
  o->flags.add_table(*sub, train::train_config_fields(), TrainConfig{}, {"resume"});
  add_bool_flag(*sub, "--no-resume", o->no_resume, "Start afresh even if out/checkpoint exists");

  return {sub, [o] { run_train(*o); }};
}

Command setup_generate(CLI::App& app) {
  auto* sub = app.add_subcommand("generate", "Sample text from a trained checkpoint");
  auto o = std::make_shared<engine::GenerateRequest>();
  sub->add_option("--checkpoint", o->checkpoint, "Run directory or its checkpoint/")->required();
  sub->add_option("--prompt", o->prompt, "Prompt text")->required();
  sub->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer directory (default: the one the run recorded)");
  sub->add_option("--max-new-tokens", o->max_new_tokens, "Tokens to generate")
      ->capture_default_str();
  sub->add_option("--temperature", o->temperature, "Softmax temperature (0 = greedy)")
      ->capture_default_str();
  sub->add_option("--top-p", o->top_p, "Nucleus sampling mass")->capture_default_str();
  sub->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
  sub->add_option("--device", o->device, "auto | cpu | cuda (auto: the GPU when there is one)")
      ->capture_default_str();
  return {sub, [o] { run_generate(*o); }};
}

Command setup_export(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "export", "Write a checkpoint as a Hugging Face LlamaForCausalLM directory (safetensors)");
  auto o = std::make_shared<engine::ExportRequest>();
  sub->add_option("--checkpoint", o->checkpoint, "Run directory or its checkpoint/")->required();
  sub->add_option("--out", o->out, "Output directory")->required();
  sub->add_option("--dtype", o->dtype, "Weights' dtype in model.safetensors")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  sub->add_option("--tokenizer", o->tokenizer,
                  "Tokenizer directory (default: the one the run recorded)");
  return {sub, [o] { run_export(*o); }};
}

Command setup_import_hf(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "import-hf", "Read a Hugging Face LlamaForCausalLM directory into a scalelab checkpoint");
  auto o = std::make_shared<engine::ImportRequest>();
  sub->add_option("dir", o->dir, "Model directory (config.json, model.safetensors)")->required();
  sub->add_option("--out", o->out, "Run directory to write (OUT/checkpoint)")->required();
  return {sub, [o] { run_import(*o); }};
}

Command setup_eval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Mean loss of a checkpoint on a token file");
  auto o = std::make_shared<EvalOptions>();
  sub->add_option("--checkpoint", o->request.checkpoint, "Run directory or its checkpoint/")
      ->required();
  sub->add_option("--data", o->request.data, "Token file (.bin)")->required();
  sub->add_option("--batch-size", o->request.batch_size, "Sequences per batch")
      ->capture_default_str();
  sub->add_option("--max-tokens", o->request.max_tokens,
                  "Evaluate at most this many tokens (0 = all)")
      ->capture_default_str();
  sub->add_option("--device", o->request.device,
                  "auto | cpu | cuda (auto: the GPU when there is one)")
      ->capture_default_str();
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_eval(*o); }};
}

}  // namespace scalelab::app
