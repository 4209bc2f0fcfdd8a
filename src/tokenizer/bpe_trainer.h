// Byte-level BPE training (Sennrich et al. 2016; GPT-2's byte-level variant), CS336 semantics:
// vocabulary = special tokens + 256 bytes + merges; repeatedly merge the most frequent adjacent
// pair within pre-tokens, ties to the lexicographically greater pair of byte strings (left, then
// right); special tokens are split out first and never counted or merged across.
//
// Phase 1 (bytes): memory-map each input, cut it into chunks at special tokens or safe pre-token
// boundaries, pre-tokenize and count on all threads (owned keys: memory grows with distinct
// pre-tokens, and each chunk's pages are released after use), merge per-thread counts. Phase 2
// (merges): pair counts with incremental updates (only words containing the merged pair change), a
// pair → words index, and a max-heap with lazy invalidation; 64-bit counts.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/fields.h"
#include "common/progress.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/pretokenizer.h"

namespace scalelab::tokenizer {

enum class InvalidUtf8 { kError, kReplace };
InvalidUtf8 parse_invalid_utf8(std::string_view s);  // "error" | "replace"

}  // namespace scalelab::tokenizer

template <>
struct scalelab::fields::EnumNames<scalelab::tokenizer::InvalidUtf8> {
  using E = scalelab::tokenizer::InvalidUtf8;
  static constexpr std::array<std::pair<E, std::string_view>, 2> kNames{
      {{E::kError, "error"}, {E::kReplace, "replace"}}};
};

namespace scalelab::tokenizer {

// Fields and defaults: bpe_trainer_options_fields() (`scalelab tokenizer train`'s flags, its
// train_config.json, docs/config.md).
struct BpeTrainerOptions {
  int64_t vocab_size = 10000;
  std::vector<std::string> special_tokens{"<|endoftext|>"};
  Pattern pattern = Pattern::kGpt2;
  size_t threads = 0;  // 0 = all cores
  InvalidUtf8 invalid_utf8 = InvalidUtf8::kError;
  size_t chunk_bytes = 4 << 20;  // target chunk size for the counting phase
  void validate() const;         // the table's ranges, then vocab_size against the specials
};
const fields::Table<BpeTrainerOptions>& bpe_trainer_options_fields();

struct BpeTrainingStats {
  uint64_t bytes = 0;
  uint64_t pretokens = 0;
  uint64_t distinct_pretokens = 0;
  uint64_t merges = 0;
  double count_seconds = 0, merge_seconds = 0;
};

// Trains on the concatenation of the files (each file is also a document boundary).
BpeModel train_bpe(const std::vector<std::filesystem::path>& inputs,
                   const BpeTrainerOptions& options, ProgressBar* bytes_progress = nullptr,
                   ProgressBar* merges_progress = nullptr, BpeTrainingStats* stats = nullptr);
// The same on an in-memory text (source names it in errors).
BpeModel train_bpe_on_text(std::string_view text, const BpeTrainerOptions& options,
                           std::string_view source = "text", BpeTrainingStats* stats = nullptr);

}  // namespace scalelab::tokenizer
