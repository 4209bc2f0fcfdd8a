// Test helper: writes ids as a uint16 token file with its sidecar (write_token_meta, as `scalelab
// tokenizer encode` does). `count` may claim another length than the ids have (a truncated file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/token_file.h"

namespace scalelab::train::test_util {

inline std::filesystem::path write_token_file(const std::filesystem::path& path,
                                              const std::vector<uint16_t>& ids,
                                              int64_t count = -1) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(ids.data()),
             static_cast<std::streamsize>(2 * ids.size()));
  TokenFileMeta meta;
  meta.dtype = "uint16";
  meta.count = count < 0 ? ids.size() : static_cast<uint64_t>(count);
  write_token_meta(path, meta);
  return path;
}

}  // namespace scalelab::train::test_util
