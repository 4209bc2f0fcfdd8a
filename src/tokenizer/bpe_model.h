// A byte-level BPE model: token id → bytes, the ordered merges (rank r merges left/right into
// merge_result[r]) and the special tokens. Ids: special tokens first, then the 256 single bytes,
// then one id per merge in order (what training produces); GPT-2 files use their own id order,
// which is kept.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace scalelab::tokenizer {

struct BpeModel {
  std::vector<std::string> tokens;                        // id → bytes
  std::vector<std::pair<int32_t, int32_t>> merges;        // rank → (left id, right id)
  std::vector<int32_t> merge_result;                      // rank → merged token id
  std::vector<std::pair<std::string, int32_t>> specials;  // special token text → id

  size_t vocab_size() const { return tokens.size(); }
  // Throws naming the first inconsistency (merge result not the concatenation, byte missing, …).
  void validate() const;
  // Stable 64-bit FNV-1a over tokens, merges and specials, as 16 hex digits (file sidecars cite
  // it).
  std::string hash() const;
  // Id of each single byte (GPT-2 files order them by their printable mapping, not by value).
  std::vector<int32_t> byte_ids() const;
};

}  // namespace scalelab::tokenizer
