// Streaming file encoding: memory-map the input, cut it into chunks (chunker.h), encode chunks on
// all threads a window at a time, and write ids in order as uint16 (vocabulary ≤ 65,536) or uint32,
// so a file far larger than memory streams through with bounded resident memory. The output is
// identical to encoding the whole text at once (test). Writes FILE.bin through a temporary file
// renamed at the end, and FILE.bin.json: {dtype, count, vocab_size, tokenizer_hash, source, bytes}.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/progress.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/tokenizer.h"

namespace scalelab::tokenizer {

struct EncodeFileOptions {
  size_t threads = 0;            // 0 = all cores
  size_t chunk_bytes = 1 << 20;  // target chunk size
  size_t window_chunks = 64;     // chunks in flight per window (bounds memory)
  InvalidUtf8 invalid_utf8 = InvalidUtf8::kError;
  std::string dtype = "auto";  // auto | uint16 | uint32
  // Special tokens' text is ordinary text (tiktoken's encode_ordinary); false: recognised as the
  // special tokens (tiktoken's encode with allowed_special="all").
  bool ordinary = false;
};

struct EncodeFileResult {
  uint64_t tokens = 0, bytes = 0;
  std::string dtype;
  double seconds = 0;
};

EncodeFileResult encode_file(const Tokenizer& tok, const std::filesystem::path& input,
                             const std::filesystem::path& output, const EncodeFileOptions& options,
                             ProgressBar* progress = nullptr);

// Reads a token file written by encode_file (dtype from its sidecar), checking ids < vocab_size
// when vocab_size > 0.
std::vector<int32_t> read_token_file(const std::filesystem::path& path, size_t vocab_size = 0);

}  // namespace scalelab::tokenizer
