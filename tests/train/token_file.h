// Test helper: writes ids as a uint16 token file with its JSON sidecar, the format `scalelab
// tokenizer encode` writes. `count` may claim another length than the ids have (a truncated file).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/json.h"

namespace scalelab::train::test_util {

inline std::filesystem::path write_token_file(const std::filesystem::path& path,
                                              const std::vector<uint16_t>& ids,
                                              int64_t count = -1) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(ids.data()),
             static_cast<std::streamsize>(2 * ids.size()));
  json::write_file(
      path.string() + ".json",
      {{"dtype", "uint16"}, {"count", count < 0 ? static_cast<int64_t>(ids.size()) : count}});
  return path;
}

}  // namespace scalelab::train::test_util
