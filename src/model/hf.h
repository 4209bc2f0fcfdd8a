// A TransformerLM's weights as Hugging Face LlamaForCausalLM tensors, both ways (interop/hf_llama.h
// says why the two compute the same function: the q/k row permutation, the untied head).
#pragma once

#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "model/transformer.h"

namespace scalelab::model {

// HF's names and tensors, contiguous on the CPU in `dtype` (fp32 or bf16), in HF's order: the
// embedding, each layer's norms, projections and MLP, the final norm, lm_head (a tied model's
// E / √d_model). Throws for a shape Llama cannot express (interop::llama_config's checks).
std::vector<std::pair<std::string, torch::Tensor>> to_hf_tensors(TransformerLM& m,
                                                                 torch::ScalarType dtype);

// Fills an untied model of the HF config's shape from HF's tensors: `get(name)` returns the tensor
// (any float dtype; converted to fp32) and throws naming the file when it is missing. Shapes are
// checked against the model, naming the tensor. A tied HF head (no lm_head.weight) is copied from
// the embedding.
void load_hf_tensors(TransformerLM& m, bool hf_tied,
                     const std::function<torch::Tensor(const std::string&)>& get);

}  // namespace scalelab::model
