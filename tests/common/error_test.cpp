#include "common/error.h"

#include <gtest/gtest.h>

namespace scalelab {
namespace {

TEST(Error, CheckThrowsWithFormattedMessageAndLocation) {
  int line = 0;
  try {
    line = __LINE__ + 1;
    SCALELAB_CHECK(1 + 1 == 3, "field {} must be {} (got {})", "d_model", "positive", -4);
    FAIL() << "expected a throw";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "field d_model must be positive (got -4)");
    EXPECT_EQ(e.line(), line);
    EXPECT_EQ(e.where(), "tests/common/error_test.cpp:" + std::to_string(line));
  }
}

TEST(Error, CheckPassesSilentlyWhenTrue) {
  int evaluated = 0;
  SCALELAB_CHECK(++evaluated == 1, "never shown");
  EXPECT_EQ(evaluated, 1);  // condition evaluated exactly once
}

TEST(Error, FailAlwaysThrowsAndIsARuntimeError) {
  EXPECT_THROW(SCALELAB_FAIL("unknown preset '{}'", "x"), std::runtime_error);
}

}  // namespace
}  // namespace scalelab
