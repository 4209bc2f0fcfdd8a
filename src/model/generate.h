// Sampling from a TransformerLM: temperature scaling and nucleus (top-p) sampling (Holtzman et al.
// 2020), deterministic for a seed, stopping at a given end-of-text token or after max_new_tokens.
#pragma once

#include <cstdint>
#include <vector>

#include "model/transformer.h"

namespace scalelab::model {

struct SampleOptions {
  int64_t max_new_tokens = 256;
  double temperature = 0.8;  // 0 = greedy
  double top_p = 0.9;        // keep the smallest set of tokens whose probability reaches top_p
  uint64_t seed = 0;
  int64_t stop_token = -1;  // e.g. <|endoftext|>; -1 = none
  // Sample only ids below this (the tokenizer's vocabulary when the model's is padded past it, as
  // 50,257 → 50,304): the padding rows' logits are never drawn. 0 = the model's whole vocabulary.
  int64_t vocab_limit = 0;
  // Ids never drawn either: those the tokenizer leaves unused (gaps such as cl100k's 100256).
  std::vector<int64_t> excluded_ids;
  void validate() const;
};

// Returns the new tokens only (the stop token is not included).
std::vector<int64_t> generate(TransformerLM& model, const std::vector<int64_t>& prompt,
                              const SampleOptions& options);

// One sampling step on a probability-like vector (exposed for tests): index drawn from top-p of
// probs.
int64_t sample_top_p(const std::vector<double>& probs, double top_p, double u);

}  // namespace scalelab::model
