// The reference side of bench/hf_check.py (issue 14's transformers check): loads a scalelab
// checkpoint on the CPU in fp32, runs its forward on a fixed batch of token windows and greedy
// generation from a fixed prompt, and writes ids, logits and the generated ids to one safetensors
// file (interop's writer) for Python to compare with transformers' LlamaForCausalLM on the
// exported directory.
// Usage: hf_logits --checkpoint RUN --data FILE.bin --out OUT.safetensors [--batch 4] [--seq 64]
//                  [--new-tokens 32]
#include <fmt/format.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "interop/safetensors.h"
#include "model/generate.h"
#include "model/transformer.h"
#include "train/checkpoint.h"
#include "train/data.h"

using namespace scalelab;

int main(int argc, char** argv) try {
  std::string checkpoint, data, out;
  int64_t batch = 4, seq = 64, new_tokens = 32;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--checkpoint")
      checkpoint = v;
    else if (k == "--data")
      data = v;
    else if (k == "--out")
      out = v;
    else if (k == "--batch")
      batch = std::stoll(v);
    else if (k == "--seq")
      seq = std::stoll(v);
    else if (k == "--new-tokens")
      new_tokens = std::stoll(v);
    else
      SCALELAB_FAIL("unknown option {}", k);
  }
  SCALELAB_CHECK(!checkpoint.empty() && !data.empty() && !out.empty(),
                 "usage: hf_logits --checkpoint RUN --data FILE.bin --out OUT.safetensors");
  const std::string dir = checkpoint + "/checkpoint";
  const train::CheckpointState st = train::read_checkpoint_state(dir);
  const train::TrainConfig c = train::train_config_from_json(st.config, dir + "/state.json");
  model::TransformerLM m(c.model, model::ModelOptions{c.rope_theta});
  train::load_checkpoint(dir, m, nullptr);
  m->to(torch::kCPU);  // a run trained on a GPU saved CUDA tensors
  m->eval();
  torch::NoGradGuard ng;
  train::TokenDataset tokens(data, c.model.vocab_size, seq);
  auto [x, y] = tokens.sequential_batch(0, batch, torch::kCPU);  // (batch, seq)
  auto logits = m(x).contiguous();                                // (batch, seq, V) fp32
  model::SampleOptions s;
  s.max_new_tokens = new_tokens;
  s.temperature = 0;
  const std::vector<int64_t> prompt(x.data_ptr<int64_t>(), x.data_ptr<int64_t>() + 16);
  auto generated = torch::tensor(model::generate(m, prompt, s), torch::kLong);
  auto p = torch::tensor(prompt, torch::kLong);
  auto entry = [](const char* name, const torch::Tensor& t, interop::TensorDtype d) {
    return interop::TensorToWrite{.name = name,
                                  .dtype = d,
                                  .shape = t.sizes().vec(),
                                  .data = t.data_ptr(),
                                  .bytes = static_cast<size_t>(t.numel()) * t.element_size()};
  };
  interop::write_safetensors(out, {entry("ids", x, interop::TensorDtype::kI64),
                                   entry("logits", logits, interop::TensorDtype::kF32),
                                   entry("prompt", p, interop::TensorDtype::kI64),
                                   entry("generated", generated, interop::TensorDtype::kI64)});
  fmt::print("wrote {}: logits {}×{}×{}, {} generated ids\n", out, logits.size(0), logits.size(1),
             logits.size(2), generated.numel());
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
