// The engine loader (see engine.h): dlopen on first use, one C entry point, JSON both ways.
#include "engine/engine.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "common/error.h"
#include "common/log.h"
#include "common/process.h"

namespace scalelab::engine {

namespace {

namespace fs = std::filesystem;

using CallFn = int (*)(const char*, char**);
using FreeFn = void (*)(char*);

struct Module {
  CallFn call = nullptr;
  FreeFn free = nullptr;
  std::string error;  // why it could not be loaded
};

const Module& module() {
  static Module m;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = module_path();
    if (path.empty()) {
      m.error =
          "this scalelab has no training engine (libscalelab_engine.so; it is built with "
          "LibTorch, libtorch-dev): `sweep plan`, `report` and the analysis commands work, "
          "training, `eval` and `generate` need it";
      return;
    }
    // LibTorch's own log (glog in Debian's 1.13, c10's in the 2.x wheels) would print c10d's
    // lines — a socket timeout, a closed peer — before scalelab's one-line error that says the
    // same. Both read their level from the environment when loaded; a user's setting stands
    // (GLOG_minloglevel=0 or TORCH_CPP_LOG_LEVEL=INFO shows it all; docs/distributed.md).
    setenv("GLOG_minloglevel", "3", /*overwrite=*/0);
    setenv("TORCH_CPP_LOG_LEVEL", "FATAL", 0);
    // RTLD_LOCAL: LibTorch's symbols stay out of the global scope (libtorch.so exports its own
    // copies of some libstdc++ functions, see DEVELOPERS.md).
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = dlerror();
      m.error = fmt::format("cannot load the training engine {}: {}", path, e ? e : "?");
      return;
    }
    m.call = reinterpret_cast<CallFn>(dlsym(h, "scalelab_engine_call"));
    m.free = reinterpret_cast<FreeFn>(dlsym(h, "scalelab_engine_free"));
    if (m.call == nullptr || m.free == nullptr)
      m.error = fmt::format("{} is not a scalelab engine (no scalelab_engine_call)", path);
    SCALELAB_LOG_DEBUG("engine: loaded {}", path);
  });
  return m;
}

}  // namespace

std::string module_path() {
  if (const char* env = std::getenv("SCALELAB_ENGINE"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path exe_dir = fs::path(current_executable()).parent_path();
  for (const fs::path& p : {exe_dir / "libscalelab_engine.so",
                            exe_dir / ".." / "lib" / "scalelab" / "libscalelab_engine.so"})
    if (fs::is_regular_file(p, ec)) return p.string();
  return "";
}

const fields::Table<EvalRequest>& eval_request_fields() {
  using R = EvalRequest;
  static const auto t =
      fields::Table<R>()
          .add("checkpoint", &R::checkpoint, "Run directory or its checkpoint/")
          .add("data", &R::data, "Token file (.bin)")
          .add("device", &R::device, "cpu | cuda")
          .add("batch_size", &R::batch_size, "Sequences per batch", fields::Range::positive())
          .add("max_tokens", &R::max_tokens, "Evaluate at most this many tokens (0 = all)",
               fields::Range::at_least(0));
  return t;
}

const fields::Table<GenerateRequest>& generate_request_fields() {
  using R = GenerateRequest;
  static const auto t =
      fields::Table<R>()
          .add("checkpoint", &R::checkpoint, "Run directory or its checkpoint/")
          .add("prompt", &R::prompt, "Prompt text")
          .add("tokenizer", &R::tokenizer, "Tokenizer directory (default: the run's)")
          .add("device", &R::device, "cpu | cuda")
          .add("max_new_tokens", &R::max_new_tokens, "Tokens to generate")
          .add("temperature", &R::temperature, "Softmax temperature (0 = greedy)")
          .add("top_p", &R::top_p, "Nucleus sampling mass")
          .add("seed", &R::seed, "Sampling seed");
  return t;
}

const fields::Table<ExportRequest>& export_request_fields() {
  using R = ExportRequest;
  static const auto t =
      fields::Table<R>()
          .add("checkpoint", &R::checkpoint, "Run directory or its checkpoint/")
          .add("out", &R::out, "Output directory")
          .add("dtype", &R::dtype, "fp32 | bf16")
          .add("tokenizer", &R::tokenizer, "Tokenizer directory (default: the run's)");
  return t;
}

const fields::Table<ImportRequest>& import_request_fields() {
  using R = ImportRequest;
  static const auto t = fields::Table<R>()
                            .add("dir", &R::dir, "Hugging Face model directory")
                            .add("out", &R::out, "Run directory to write");
  return t;
}

bool available() { return module().call != nullptr; }
std::string unavailable_reason() { return module().error; }

json::Json call(const json::Json& request) {
  const Module& m = module();
  SCALELAB_CHECK(m.call != nullptr, "{}", m.error);
  json::Json req = request;
  req["log_level"] = std::string(log::level_name(log::level()));
  char* out = nullptr;
  const int rc = m.call(req.dump().c_str(), &out);
  SCALELAB_CHECK(rc == 0 && out != nullptr, "training engine: no answer to '{}'",
                 request.value("op", std::string("?")));
  const std::string text(out);
  m.free(out);
  const json::Json answer = json::parse(text, "training engine answer");
  SCALELAB_CHECK(answer.value("ok", false), "{}", answer.value("error", std::string("?")));
  return answer.at("result");
}

bool cuda_available() { return available() && call({{"op", "cuda_available"}}).get<bool>(); }

train::TrainResult train(const train::TrainConfig& config) {
  return train::train_result_from_json(call({{"op", "train"}, {"config", to_json(config)}}),
                                       "training engine result");
}

EvalResult evaluate(const EvalRequest& request) {
  const json::Json r = call({{"op", "eval"}, {"request", eval_request_fields().to_json(request)}});
  return {r.at("loss").get<double>(), r.at("tokens").get<int64_t>()};
}

std::string generate(const GenerateRequest& request) {
  return call({{"op", "generate"}, {"request", generate_request_fields().to_json(request)}})
      .at("text")
      .get<std::string>();
}

ExportResult export_hf(const ExportRequest& request) {
  const json::Json r =
      call({{"op", "export"}, {"request", export_request_fields().to_json(request)}});
  return {r.at("tensors").get<int64_t>(), r.at("parameters").get<int64_t>(),
          r.at("tokenizer").get<bool>()};
}

ImportResult import_hf(const ImportRequest& request) {
  const json::Json r =
      call({{"op", "import_hf"}, {"request", import_request_fields().to_json(request)}});
  return {r.at("parameters").get<int64_t>(),
          accounting::model_shape_from_json(r.at("model"), "training engine result.model")};
}

}  // namespace scalelab::engine
