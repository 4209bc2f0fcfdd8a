// Exact parameter counts of a ModelShape, by component, under the conventions users meet in papers:
//   total          every learnable scalar (embedding, blocks, final norm, LM head unless tied);
//   embedding      the token-embedding table (Kaplan et al. 2020 exclude it from N);
//   non_embedding  total − embedding − LM head (Kaplan et al. 2020 eq. 2.1: N ≈ 12·L·d², no
//                  vocabulary matrix either way, tied or not);
//   matmul         weights that take part in a matrix multiply: attention, FFN and the LM head
//                  (PaLM App. B / torchtitan / nanoGPT MFU convention; excludes the embedding
//                  lookup and RMSNorm gains). With it, 6N + 12·L·H·Q·T equals our exact
//                  full-attention count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accounting/model_shape.h"

namespace scalelab::accounting {

struct ParamComponent {
  std::string name;   // "token embedding", "attention Q", …
  std::string shape;  // "50257×768 (tied: LM head)", "12 × 768×768"
  int64_t count = 0;  // all layers together
  bool embedding = false;
  bool matmul = false;
};

struct ParamCounts {
  std::vector<ParamComponent> components;
  int64_t total = 0;
  int64_t embedding = 0;
  int64_t non_embedding = 0;
  int64_t matmul = 0;
  int64_t per_layer = 0;  // one transformer block
  int64_t attention = 0;  // Q, K, V, O over all layers
  int64_t ffn = 0;        // W1, (W3), W2 over all layers
  int64_t norms = 0;      // all RMSNorm gains
  int64_t lm_head = 0;    // 0 when tied
};

ParamCounts count_params(const ModelShape& shape);

json::Json to_json(const ParamCounts& p);

}  // namespace scalelab::accounting
