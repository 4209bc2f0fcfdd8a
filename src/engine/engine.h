// The training engine as the rest of scalelab sees it: train, evaluate and generate without a
// LibTorch header. The engine itself (module.cpp: LibTorch, the model and the trainer) is a shared
// module, libscalelab_engine.so, that this loader opens with dlopen on first use, so every command
// that does not train starts without loading LibTorch's ~290 shared libraries (docs/training.md,
// "The engine module"). Requests and answers cross the boundary as JSON through one C function.
// Not here: option parsing (apps/scalelab) and the training loop itself (train/trainer.h).
#pragma once

#include <cstdint>
#include <string>

#include "common/json.h"
#include "train/train_config.h"

namespace scalelab::engine {

// Whether the module can be loaded; when not, why (the reason is a full sentence).
bool available();
std::string unavailable_reason();
// Where the module is looked for: $SCALELAB_ENGINE, else libscalelab_engine.so next to the
// executable, else ../lib/scalelab/ from it.
std::string module_path();

// Whether LibTorch sees a CUDA GPU (false when the engine is unavailable).
bool cuda_available();

// Trains (or resumes) one run: train::run_training in the module.
train::TrainResult train(const train::TrainConfig& config);

struct EvalRequest {
  std::string checkpoint;       // run directory or its checkpoint/
  std::string data;             // token file (.bin)
  std::string device = "auto";  // auto (the GPU when there is one) | cpu | cuda | cuda:N
  int64_t batch_size = 16;
  int64_t max_tokens = 0;  // 0 = all
};
struct EvalResult {
  double loss = 0;
  int64_t tokens = 0;
};
EvalResult evaluate(const EvalRequest& request);

struct GenerateRequest {
  std::string checkpoint, prompt;
  std::string tokenizer;        // empty = the one the run recorded
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
  int64_t max_new_tokens = 256;
  double temperature = 0.8;  // 0 = greedy
  double top_p = 0.9;
  uint64_t seed = 0;
};
// The generated continuation (without the prompt).
std::string generate(const GenerateRequest& request);

// A checkpoint as a Hugging Face LlamaForCausalLM directory (docs/interop.md): model.safetensors,
// config.json, generation_config.json and, when the run recorded a tokenizer (or one is given),
// tokenizer.json and tokenizer_config.json.
struct ExportRequest {
  std::string checkpoint;      // run directory or its checkpoint/
  std::string out;             // the directory to write (created; existing files replaced)
  std::string dtype = "fp32";  // fp32 | bf16
  std::string tokenizer;       // empty = the one the run recorded (none: no tokenizer files)
};
struct ExportResult {
  int64_t tensors = 0, parameters = 0;
  bool tokenizer = false;
};
ExportResult export_hf(const ExportRequest& request);

// A LlamaForCausalLM directory (model.safetensors, or its shards by model.safetensors.index.json,
// and config.json) as a scalelab checkpoint in `out` (a run directory: out/checkpoint), for
// `generate` and `eval`.
struct ImportRequest {
  std::string dir, out;
};
struct ImportResult {
  int64_t parameters = 0;
  accounting::ModelShape shape;
};
ImportResult import_hf(const ImportRequest& request);

// The requests' field tables: both sides of the module boundary read and write them from here.
const fields::Table<EvalRequest>& eval_request_fields();
const fields::Table<GenerateRequest>& generate_request_fields();
const fields::Table<ExportRequest>& export_request_fields();
const fields::Table<ImportRequest>& import_request_fields();

// The raw call: {"op": …, …} in, the op's answer out; an error answer becomes scalelab::Error.
json::Json call(const json::Json& request);

}  // namespace scalelab::engine

// The module's one entry point (module.cpp). `request` is a JSON object; *response receives a
// malloc'ed JSON string {"ok": true, "result": …} or {"ok": false, "error": "…"}, freed with
// scalelab_engine_free. Returns 0, or non-zero when even the answer could not be built.
extern "C" {
int scalelab_engine_call(const char* request, char** response);
void scalelab_engine_free(char* response);
}
