// Shared helpers for tokenizer tests: shared-data paths (skip with a clear message when missing).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "common/error.h"
#include "test_support.h"

namespace scalelab::tokenizer::testing {

inline std::string shared(const std::string& rel) {
  return std::string(SCALELAB_SHARED_DATA_DIR) + "/" + rel;
}

#define SCALELAB_REQUIRE_SHARED(path)                                                      \
  do {                                                                                     \
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data missing: " << (path); \
  } while (0)

using scalelab::testing::error_of;

}  // namespace scalelab::tokenizer::testing
