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

json::Json to_json(const EvalRequest& r) {
  return {{"checkpoint", r.checkpoint},
          {"data", r.data},
          {"device", r.device},
          {"batch_size", r.batch_size},
          {"max_tokens", r.max_tokens}};
}

json::Json to_json(const GenerateRequest& r) {
  return {{"checkpoint", r.checkpoint},
          {"prompt", r.prompt},
          {"tokenizer", r.tokenizer},
          {"device", r.device},
          {"max_new_tokens", r.max_new_tokens},
          {"temperature", r.temperature},
          {"top_p", r.top_p},
          {"seed", r.seed}};
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
  const json::Json r = call({{"op", "eval"}, {"request", to_json(request)}});
  return {r.at("loss").get<double>(), r.at("tokens").get<int64_t>()};
}

std::string generate(const GenerateRequest& request) {
  return call({{"op", "generate"}, {"request", to_json(request)}}).at("text").get<std::string>();
}

}  // namespace scalelab::engine
