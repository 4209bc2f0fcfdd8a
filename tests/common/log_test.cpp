#include "common/log.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/error.h"

namespace scalelab::log {
namespace {

TEST(Log, ParseLevels) {
  EXPECT_EQ(parse_level("debug"), Level::kDebug);
  EXPECT_EQ(parse_level("WARN"), Level::kWarn);
  EXPECT_EQ(parse_level("off"), Level::kOff);
  EXPECT_THROW(parse_level("loud"), Error);
}

TEST(Log, LevelFiltersAndEnvOverrides) {
  set_level(Level::kWarn);
  EXPECT_FALSE(enabled(Level::kInfo));
  EXPECT_TRUE(enabled(Level::kError));
  setenv("SCALELAB_LOG_LEVEL", "trace", 1);
  init_from_env();
  EXPECT_EQ(level(), Level::kTrace);
  setenv("SCALELAB_LOG_LEVEL", "nonsense", 1);
  try {
    init_from_env();
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("SCALELAB_LOG_LEVEL"), std::string::npos);
  }
  unsetenv("SCALELAB_LOG_LEVEL");
  set_level(Level::kOff);
  EXPECT_FALSE(enabled(Level::kError));
  set_level(Level::kInfo);
}

}  // namespace
}  // namespace scalelab::log
