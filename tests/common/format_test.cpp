#include "common/format.h"

#include <gtest/gtest.h>

namespace scalelab {
namespace {

TEST(Format, Integers) {
  EXPECT_EQ(format_int(190460160), "190,460,160");
  EXPECT_EQ(format_int(0), "0");
  EXPECT_EQ(format_int(-1234), "-1,234");
  EXPECT_EQ(format_int(999), "999");
  EXPECT_EQ(format_int(INT64_MIN), "-9,223,372,036,854,775,808");
}

TEST(Format, SiAndPercent) {
  EXPECT_EQ(format_si(190460160), "190M");
  EXPECT_EQ(format_si(3.8e9), "3.80G");
  EXPECT_EQ(format_si(12), "12.0");
  EXPECT_EQ(format_si(3.5e21), "3.50e+21");
  EXPECT_EQ(format_percent(0.1234), "12.3%");
  EXPECT_EQ(format_gib(1024.0 * 1024 * 1024 * 1.5), "1.50 GiB");
  EXPECT_EQ(format_duration_s(90), "1.5 min");
}

TEST(Format, TableAlignsColumns) {
  TextTable t({"name", "count"});
  t.add_row({"a", "1,000"});
  t.add_row({"longer", "5"});
  EXPECT_EQ(t.str(), "name    count\n-------------\na       1,000\nlonger      5\n");
}

}  // namespace
}  // namespace scalelab
