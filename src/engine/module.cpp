// libscalelab_engine.so: the LibTorch side of engine.h. One C entry point takes a JSON request
// ({"op": "train" | "eval" | "generate" | "export" | "import_hf" | "cuda_available", …}) and
// answers in JSON; every error
// (scalelab's, LibTorch's c10::Error, any std::exception) becomes one line in the answer, so
// nothing thrown crosses the module boundary and no C++ stack trace reaches the user.
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"
#include "common/file_util.h"
#include "common/log.h"
#include "engine/engine.h"
#include "interop/hf_llama.h"
#include "interop/safetensors.h"
#include "model/generate.h"
#include "model/hf.h"
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

// The id of <|endoftext|> (generate's stop token, the export's bos/eos), if the tokenizer has it.
std::optional<int64_t> end_of_text_id(const tokenizer::BpeModel& m) {
  for (const auto& [text, id] : m.specials)
    if (text == "<|endoftext|>") return id;
  return std::nullopt;
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
  for (size_t i = 0; i < tok.model().tokens.size(); ++i)
    if (tok.model().tokens[i].empty()) s.excluded_ids.push_back(static_cast<int64_t>(i));
  std::vector<int32_t> p32 = tok.encode(q.prompt);
  std::vector<int64_t> prompt(p32.begin(), p32.end());
  s.stop_token = end_of_text_id(tok.model()).value_or(-1);
  std::vector<int64_t> out = model::generate(l.model, prompt, s);
  return {{"text", tok.decode(std::vector<int32_t>(out.begin(), out.end()))}};
}

interop::TensorDtype safetensors_dtype(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32:
      return interop::TensorDtype::kF32;
    case torch::kBFloat16:
      return interop::TensorDtype::kBF16;
    case torch::kFloat16:
      return interop::TensorDtype::kF16;
    default:
      SCALELAB_FAIL("safetensors: no dtype for {}", c10::toString(t));
  }
}

void write_export(const fs::path& out, const std::vector<interop::TensorToWrite>& w,
                  const json::Json& config, std::optional<int64_t> eos,
                  const std::optional<tokenizer::BpeModel>& tok, int64_t context_length);

json::Json run_export(const json::Json& j) {
  const ExportRequest q = export_request_fields().from_json(j, "export");
  SCALELAB_CHECK(q.dtype == "fp32" || q.dtype == "bf16", "--dtype: expected fp32 or bf16 (got {})",
                 q.dtype);
  SCALELAB_CHECK(!q.out.empty(), "--out: required");
  Loaded l = load_model(q.checkpoint, "cpu");
  const auto dtype = q.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  // The tokenizer first: a mismatch fails before anything is written.
  std::optional<int64_t> eos;
  std::optional<tokenizer::BpeModel> tok;
  const std::string tok_dir = q.tokenizer.empty() ? l.config.tokenizer : q.tokenizer;
  if (!tok_dir.empty()) {
    tok = tokenizer::load_tokenizer_dir(tok_dir);
    const tokenizer::Tokenizer t(*tok);
    SCALELAB_CHECK(t.vocab_size() <= static_cast<size_t>(l.config.model.vocab_size),
                   "export: tokenizer {} has {} tokens, more than the model's vocabulary of {}",
                   tok_dir, t.vocab_size(), l.config.model.vocab_size);
    eos = end_of_text_id(*tok);
  }
  const interop::LlamaModel lm{.shape = l.config.model,
                               .rope_theta = l.config.rope_theta,
                               .rms_norm_eps = model::kRmsNormEps};
  const json::Json config =
      interop::llama_config(lm, q.dtype == "bf16" ? "bfloat16" : "float32", eos);
  const auto tensors = model::to_hf_tensors(l.model, dtype);
  std::vector<interop::TensorToWrite> w;
  int64_t params = 0;
  for (const auto& [name, t] : tensors) {
    w.push_back({.name = name,
                 .dtype = safetensors_dtype(t.scalar_type()),
                 .shape = t.sizes().vec(),
                 .data = t.data_ptr(),
                 .bytes = static_cast<size_t>(t.numel()) * t.element_size()});
    params += t.numel();
  }
  // A new directory is written as OUT.partial and renamed into place, so a failure leaves no
  // half-written export; into an existing one, each file is replaced atomically.
  const fs::path target(q.out);
  const bool fresh = !fs::exists(target);
  const fs::path out = fresh ? fs::path(target.string() + ".partial") : target;
  if (fresh) remove_tree(out);
  fs::create_directories(out);
  try {
    write_export(out, w, config, eos, tok, l.config.model.context_length);
  } catch (...) {
    if (fresh) remove_tree(out);
    throw;
  }
  if (fresh) fs::rename(out, target);
  return {{"tensors", static_cast<int64_t>(tensors.size())},
          {"parameters", params},
          {"tokenizer", tok.has_value()}};
}

void write_export(const fs::path& out, const std::vector<interop::TensorToWrite>& w,
                  const json::Json& config, std::optional<int64_t> eos,
                  const std::optional<tokenizer::BpeModel>& tok, int64_t context_length) {
  interop::write_safetensors((out / "model.safetensors").string(), w, {{"format", "pt"}});
  json::write_file(out / "config.json", config);
  json::write_file(out / "generation_config.json", interop::llama_generation_config(eos));
  if (tok) {
    write_text_file_atomic(out / "tokenizer.json",
                           tokenizer::to_hf_tokenizer_json(*tok).dump() + "\n");
    json::Json tc = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                     {"model_max_length", context_length},
                     {"clean_up_tokenization_spaces", false}};
    if (eos) tc["eos_token"] = tc["bos_token"] = "<|endoftext|>";
    json::write_file(out / "tokenizer_config.json", tc);
  }
}

torch::ScalarType torch_dtype(interop::TensorDtype d, const std::string& name) {
  switch (d) {
    case interop::TensorDtype::kF32:
      return torch::kFloat32;
    case interop::TensorDtype::kBF16:
      return torch::kBFloat16;
    case interop::TensorDtype::kF16:
      return torch::kFloat16;
    default:
      SCALELAB_FAIL("import-hf: tensor {} is {}, not a float dtype", name, interop::to_string(d));
  }
}

json::Json run_import(const json::Json& j) {
  const ImportRequest q = import_request_fields().from_json(j, "import_hf");
  SCALELAB_CHECK(!q.out.empty(), "--out: required");
  const fs::path dir(q.dir);
  SCALELAB_CHECK(fs::is_directory(dir), "import-hf: {} is not a directory", q.dir);
  const fs::path config_path = dir / "config.json";
  SCALELAB_CHECK(fs::exists(config_path), "import-hf: {} has no config.json", q.dir);
  const interop::LlamaModel lm =
      interop::llama_from_config(json::read_file(config_path), config_path.string());
  SCALELAB_CHECK(std::abs(lm.rms_norm_eps - model::kRmsNormEps) <= 1e-12 * model::kRmsNormEps,
                 "{}: rms_norm_eps {} differs from scalelab's RMSNorm epsilon {}",
                 config_path.string(), lm.rms_norm_eps, model::kRmsNormEps);
  // Weights: one model.safetensors, or shards named by model.safetensors.index.json.
  std::map<std::string, std::string> file_of;  // tensor name → file
  std::map<std::string, interop::SafetensorsFile> files;
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(dir / "model.safetensors")) {
    files.emplace("model.safetensors",
                  interop::SafetensorsFile::read((dir / "model.safetensors").string()));
    for (const auto& e : files.at("model.safetensors").tensors())
      file_of[e.name] = "model.safetensors";
  } else {
    SCALELAB_CHECK(fs::exists(index), "import-hf: {} has neither model.safetensors nor {}", q.dir,
                   index.filename().string());
    const json::Json idx = json::read_file(index);
    SCALELAB_CHECK(idx.contains("weight_map") && idx.at("weight_map").is_object(),
                   "{}: no weight_map object", index.string());
    for (const auto& [name, file] : idx.at("weight_map").items()) {
      SCALELAB_CHECK(file.is_string(), "{}: weight_map.{} is not a file name", index.string(),
                     name);
      const std::string f = file.get<std::string>();
      SCALELAB_CHECK(f.find('/') == std::string::npos && f != ".." && !f.empty(),
                     "{}: weight_map.{} names {} outside the directory", index.string(), name, f);
      file_of[name] = f;
      if (!files.count(f)) files.emplace(f, interop::SafetensorsFile::read((dir / f).string()));
    }
  }
  auto get = [&](const std::string& name) -> torch::Tensor {
    auto it = file_of.find(name);
    SCALELAB_CHECK(it != file_of.end(), "import-hf: {} has no tensor {}", q.dir, name);
    const auto& f = files.at(it->second);
    const auto& e = f.at(name);
    const auto type = torch_dtype(e.dtype, name);
    return torch::from_blob(const_cast<char*>(f.data(e)), e.shape,
                            torch::TensorOptions().dtype(type))
        .clone();
  };
  accounting::ModelShape shape = lm.shape;
  const bool hf_tied = shape.tied_embeddings;
  shape.tied_embeddings = false;  // a Llama head is unscaled: ours, untied, holds it exactly
  model::TransformerLM m(shape, model::ModelOptions{lm.rope_theta});
  model::load_hf_tensors(m, hf_tied && !file_of.count("lm_head.weight"), get);
  train::TrainConfig c;
  c.model = shape;
  c.rope_theta = lm.rope_theta;
  c.out_dir = q.out;
  train::CheckpointState st;
  st.config = train::to_json(c);
  train::save_checkpoint(fs::path(q.out) / "checkpoint", m, nullptr, st);
  json::write_file(fs::path(q.out) / "config.json", st.config);
  return {{"parameters", m->num_parameters()}, {"model", accounting::to_json(shape)}};
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
  if (op == "export") return run_export(req.at("request"));
  if (op == "import_hf") return run_import(req.at("request"));
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
