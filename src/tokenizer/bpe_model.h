// A byte-level BPE model: token id → bytes, the ordered merges (rank r merges left/right into
// merge_result[r]), the special tokens and the pre-tokenizer pattern. Ids: special tokens first,
// then the 256 single bytes, then one id per merge in order (what training produces); files
// (GPT-2, tiktoken, tokenizer.json) keep their own id order. An empty token is an unused id (a
// gap in a file's ids, e.g. cl100k's 100256): never produced, not decodable.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/pretokenizer.h"

namespace scalelab::tokenizer {

struct BpeModel {
  std::vector<std::string> tokens;                        // id → bytes ("" = unused id)
  std::vector<std::pair<int32_t, int32_t>> merges;        // rank → (left id, right id)
  std::vector<int32_t> merge_result;                      // rank → merged token id
  std::vector<std::pair<std::string, int32_t>> specials;  // special token text → id
  Pattern pattern = Pattern::kGpt2;
  // Merge priority (lower first, leftmost on ties); empty = the merge's rank. tiktoken's rank
  // files rank tokens, not pairs: any adjacent pair whose concatenation is a token merges at that
  // token's rank, so every split of one token shares it (load_tiktoken lists them all).
  std::vector<int32_t> merge_priority;
  // A pre-token that is itself a token is that token, without merging (tiktoken; HF tokenizers
  // with "ignore_merges"). False: merges only (HF tokenizers' BPE without ignore_merges).
  bool whole_token_lookup = true;

  size_t vocab_size() const { return tokens.size(); }
  // Throws naming the first inconsistency (merge result not the concatenation, byte missing, …).
  void validate() const;
  // Stable 64-bit FNV-1a over tokens, merges and specials, as 16 hex digits (file sidecars cite
  // it).
  std::string hash() const;
  // Id of each single byte (GPT-2 files order them by their printable mapping, not by value).
  std::vector<int32_t> byte_ids() const;
  int32_t priority(size_t rank) const {
    return merge_priority.empty() ? static_cast<int32_t>(rank) : merge_priority[rank];
  }
};

}  // namespace scalelab::tokenizer
