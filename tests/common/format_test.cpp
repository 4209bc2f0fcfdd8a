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

// Text from an input file quoted in an error: printable, valid UTF-8, short.
TEST(Format, PrintableExcerpt) {
  EXPECT_EQ(printable_excerpt("abc"), "abc");
  EXPECT_EQ(printable_excerpt("a\tb\x7f\x01"), "a\\x09b\\x7f\\x01");
  EXPECT_EQ(printable_excerpt("d\xc3\xa9j\xc3\xa0"), "d\xc3\xa9j\xc3\xa0");  // déjà kept
  // A lone continuation byte, a truncated sequence, an overlong form, a surrogate: escaped.
  EXPECT_EQ(printable_excerpt("\x80x\xe2\x82"), "\\x80x\\xe2\\x82");
  EXPECT_EQ(printable_excerpt("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(printable_excerpt("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(printable_excerpt(std::string(100, 'z'), 10), "zzzzzzzzzz… (100 bytes)");
  // Cut at a character, never inside one.
  EXPECT_EQ(printable_excerpt("ab\xc3\xa9"
                              "cd",
                              3),
            "ab\xc3\xa9… (6 bytes)");
}

}  // namespace
}  // namespace scalelab
