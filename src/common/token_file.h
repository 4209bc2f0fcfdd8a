// The token-file sidecar: FILE.bin holds ids as uint16 or uint32; FILE.bin.json says which, how
// many, and for which tokenizer. Written by `scalelab tokenizer encode`, read by the trainer and
// `decode`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/json.h"

namespace scalelab {

struct TokenFileMeta {
  std::string dtype = "uint16";  // uint16 | uint32
  uint64_t count = 0;
  uint64_t vocab_size = 0;
  std::string tokenizer_hash, source;
  uint64_t bytes = 0;
  size_t width() const { return dtype == "uint16" ? 2 : 4; }
};

json::Json to_json(const TokenFileMeta& m);
// Reads and checks FILE.bin.json, and that FILE.bin has count × width bytes ("truncated?"
// otherwise).
TokenFileMeta read_token_meta(const std::filesystem::path& bin);
void write_token_meta(const std::filesystem::path& bin, const TokenFileMeta& m);

}  // namespace scalelab
