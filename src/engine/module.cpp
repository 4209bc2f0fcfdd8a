// libscalelab_engine.so: the LibTorch side of engine.h. One C entry point takes a JSON request
// ({"op": "train" | "eval" | "generate" | "cuda_available", …}) and answers in JSON; every error
// (scalelab's, LibTorch's c10::Error, any std::exception) becomes one line in the answer, so
// nothing thrown crosses the module boundary and no C++ stack trace reaches the user.
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "common/error.h"
#include "common/log.h"
#include "engine/engine.h"
#include "model/generate.h"
#include "model/transformer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_io.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/trainer.h"

namespace scalelab::engine {

namespace {

namespace fs = std::filesystem;

// A run directory or its checkpoint/ subdirectory.
fs::path checkpoint_dir(const std::string& arg) {
  fs::path p(arg);
  if (train::checkpoint_exists(p / "checkpoint")) return p / "checkpoint";
  return p;
}

struct Loaded {
  train::TrainConfig config;
  model::TransformerLM model{nullptr};
  torch::Device device = torch::kCPU;  // where the model is
};

Loaded load_model(const std::string& arg, const std::string& device) {
  fs::path dir = checkpoint_dir(arg);
  train::CheckpointState st = train::read_checkpoint_state(dir);
  Loaded l;
  l.config = train::train_config_from_json(st.config, (dir / "state.json").string() + ".config");
  l.model = model::TransformerLM(
      l.config.model,
      model::ModelOptions{l.config.rope_theta,
                          model::parse_attention_impl(fields::enum_name(l.config.attention))});
  train::load_checkpoint(dir, l.model, nullptr);
  l.device = train::checked_device(device);
  l.model->to(l.device);
  return l;
}

json::Json run_eval(const json::Json& j) {
  // The table checks batch_size > 0 and max_tokens >= 0.
  const EvalRequest q = eval_request_fields().from_json(j, "eval");
  Loaded l = load_model(q.checkpoint, q.device);
  train::TokenDataset data(q.data, l.config.model.vocab_size, l.config.model.context_length);
  const train::EvalResult e =
      train::evaluate_loss(l.model, data, q.batch_size, q.max_tokens, l.device, /*bf16=*/false);
  return {{"loss", e.loss}, {"tokens", e.tokens}};
}

json::Json run_generate(const json::Json& j) {
  const GenerateRequest q = generate_request_fields().from_json(j, "generate");
  model::SampleOptions s;
  s.max_new_tokens = q.max_new_tokens;
  s.temperature = q.temperature;
  s.top_p = q.top_p;
  s.seed = q.seed;
  s.validate();
  SCALELAB_CHECK(tokenizer::find_invalid_utf8(q.prompt) == std::string::npos,
                 "--prompt: invalid UTF-8");
  Loaded l = load_model(q.checkpoint, q.device);
  const std::string tok_dir = q.tokenizer.empty() ? l.config.tokenizer : q.tokenizer;
  SCALELAB_CHECK(!tok_dir.empty(),
                 "generate: the checkpoint records no tokenizer; pass --tokenizer DIR");
  tokenizer::Tokenizer tok(tokenizer::load_tokenizer_dir(tok_dir));
  // A model vocabulary padded past the tokenizer's (50,257 → 50,304, as nanoGPT and llm.c do) is
  // fine: the padding ids are never sampled. A tokenizer with more tokens than the model is not.
  SCALELAB_CHECK(tok.vocab_size() <= static_cast<size_t>(l.config.model.vocab_size),
                 "generate: tokenizer {} has {} tokens, more than the model's vocabulary of {}",
                 tok_dir, tok.vocab_size(), l.config.model.vocab_size);
  s.vocab_limit = static_cast<int64_t>(tok.vocab_size());
  std::vector<int32_t> p32 = tok.encode(q.prompt);
  std::vector<int64_t> prompt(p32.begin(), p32.end());
  for (const auto& [text, id] : tok.model().specials)
    if (text == "<|endoftext|>") s.stop_token = id;
  std::vector<int64_t> out = model::generate(l.model, prompt, s);
  return {{"text", tok.decode(std::vector<int32_t>(out.begin(), out.end()))}};
}

json::Json dispatch(const json::Json& req) {
  SCALELAB_CHECK(req.is_object() && req.contains("op") && req["op"].is_string(),
                 "training engine: a request needs an op");
  if (req.contains("log_level"))
    log::set_level(log::parse_level(req["log_level"].get<std::string>()));
  const std::string op = req["op"].get<std::string>();
  if (op == "cuda_available") return torch::cuda::is_available();
  if (op == "train") {
    const train::TrainConfig c = train::train_config_from_json(req.at("config"), "config");
    return train::to_json(train::run_training(c));
  }
  if (op == "eval") return run_eval(req.at("request"));
  if (op == "generate") return run_generate(req.at("request"));
  SCALELAB_FAIL("training engine: unknown op '{}'", op);
}

// The first line of a message: LibTorch's errors carry a C++ stack after it.
std::string first_line(std::string s) {
  const size_t nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

char* dup_string(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p != nullptr) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

}  // namespace

}  // namespace scalelab::engine

extern "C" __attribute__((visibility("default"))) int scalelab_engine_call(const char* request,
                                                                           char** response) {
  using namespace scalelab;
  if (response == nullptr) return 1;
  *response = nullptr;
  json::Json answer;
  try {
    const json::Json req = json::parse(request == nullptr ? "" : request, "engine request");
    answer = {{"ok", true}, {"result", engine::dispatch(req)}};
  } catch (const Error& e) {
    SCALELAB_LOG_DEBUG("thrown at {}", e.where());
    answer = {{"ok", false}, {"error", engine::first_line(e.what())}};
  } catch (const c10::Error& e) {
    SCALELAB_LOG_DEBUG("LibTorch: {}", e.what());
    answer = {{"ok", false},
              {"error", "LibTorch: " + engine::first_line(e.what_without_backtrace())}};
  } catch (const std::exception& e) {
    answer = {{"ok", false}, {"error", engine::first_line(e.what())}};
  } catch (...) {
    answer = {{"ok", false}, {"error", "training engine: unknown exception"}};
  }
  try {
    // Replace invalid UTF-8 (a LibTorch message may carry some) rather than lose the answer.
    *response =
        engine::dup_string(answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } catch (...) {
    return 2;
  }
  return *response == nullptr ? 2 : 0;
}

extern "C" __attribute__((visibility("default"))) void scalelab_engine_free(char* response) {
  std::free(response);
}
