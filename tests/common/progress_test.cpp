#include "common/progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace scalelab {
namespace {

struct FakeSink {
  double now = 0;
  std::vector<std::string> writes;
  ProgressSink sink(bool tty) {
    ProgressSink s;
    s.is_tty = tty;
    s.write = [this](std::string_view w) { writes.emplace_back(w); };
    s.now_s = [this] { return now; };
    return s;
  }
};

TEST(Progress, RenderPlainLine) {
  ProgressOptions o;
  EXPECT_EQ(ProgressBar::render("merges", 450, 1000, 3.0, o, "", false),
            "merges: 450/1000 (45.0%) 150 it/s, elapsed 00:03, ETA 00:04");
  o.unit = "B";
  o.scale_units = true;
  EXPECT_EQ(ProgressBar::render("read", 2500000, 0, 2.0, o, "x", false),
            "read: 2.50M 1.25M B/s, elapsed 00:02 x");
}

TEST(Progress, RenderTtyBarHasPercentBarAndStats) {
  ProgressOptions o;
  o.width = 80;
  std::string line = ProgressBar::render("train", 500, 1000, 10.0, o, "loss 3.2", true);
  EXPECT_EQ(line.rfind("train:  50%|", 0), 0u) << line;
  EXPECT_NE(line.find("| 500/1000 [00:10<00:10, 50it/s] loss 3.2"), std::string::npos) << line;
  // Half of the bar cells are full blocks.
  size_t full = 0;
  for (size_t p = line.find("█"); p != std::string::npos; p = line.find("█", p + 1)) ++full;
  size_t bar_cells = 80 - std::string("train:  50%|").size() -
                     std::string("| 500/1000 [00:10<00:10, 50it/s] loss 3.2").size() - 1 + 1;
  EXPECT_NEAR(static_cast<double>(full), bar_cells / 2.0, 1.0) << line;
}

TEST(Progress, DurationFormat) {
  EXPECT_EQ(ProgressBar::format_duration(4.4), "00:04");
  EXPECT_EQ(ProgressBar::format_duration(3723), "1:02:03");
  EXPECT_EQ(ProgressBar::format_duration(-1), "?");
}

TEST(Progress, NonTtyPrintsALineEveryIntervalOnly) {
  FakeSink f;
  ProgressOptions o;
  o.line_interval_s = 5.0;
  {
    ProgressBar bar("enc", 100, o, f.sink(false));
    for (int i = 0; i < 100; ++i) {
      f.now += 0.25;  // 25 s in total
      bar.update(1);
    }
    EXPECT_EQ(f.writes.size(), 5u);  // at 5, 10, 15, 20, 25 s
    for (const auto& w : f.writes) EXPECT_EQ(w.back(), '\n');
  }
  // close() in the destructor prints the final state.
  EXPECT_EQ(f.writes.size(), 6u);
  EXPECT_NE(f.writes.back().find("100/100 (100.0%)"), std::string::npos) << f.writes.back();
}

TEST(Progress, TtyRedrawsInPlaceAndEndsLineOnClose) {
  FakeSink f;
  ProgressBar bar("x", 10, {}, f.sink(true));
  f.now = 1;
  bar.update(5);
  ASSERT_EQ(f.writes.size(), 1u);
  EXPECT_EQ(f.writes[0][0], '\r');
  bar.close();
  bar.close();  // idempotent
  EXPECT_EQ(f.writes.back(), "\n");
  EXPECT_EQ(f.writes.size(), 3u);  // redraw, final redraw, newline
}

}  // namespace
}  // namespace scalelab
