// The report as a browser shows it: headless Chromium (Debian's `chromium`) renders index.html
// from a synthetic sweep and takes a screenshot; the test checks the page loaded (a PNG of the
// requested size with real content) and keeps the screenshot next to the report for people to
// look at. Skips when Chromium is not installed.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "common/file_util.h"
#include "common/process.h"
#include "report/report.h"
#include "test_util.h"

namespace scalelab::report {
namespace {

namespace fs = std::filesystem;

uint32_t be32(const std::string& s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

TEST(ReportBrowser, ChromiumRendersTheReport) {
  std::string chromium = find_in_path("chromium");
  if (chromium.empty()) chromium = find_in_path("chromium-browser");
  if (chromium.empty()) GTEST_SKIP() << "chromium not installed (scripts/install-deps.sh)";
  const fs::path dir = testing::fresh_dir("browser");
  runs::RunDb db(dir / "runs.db");
  testing::fill_isoflop_db(db, {1.8, 400.0, 900.0, 0.34, 0.30});
  sweep::AnalysisOptions o;
  o.targets = {1e20};
  o.bootstrap_samples = 30;
  const sweep::SweepAnalysis a = sweep::analyze_runs(db, o);
  const fs::path page = write_report(a, {}, dir / "report");
  const fs::path shot = dir / "report" / "screenshot.png";
  const int64_t pid = spawn_process(
      {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
       "--disable-background-networking", "--no-first-run", "--hide-scrollbars",
       "--user-data-dir=" + (dir / "chromium-profile").string(), "--window-size=1400,2400",
       "--screenshot=" + shot.string(), "file://" + fs::absolute(page).string()},
      {}, (dir / "chromium.log").string());
  ASSERT_EQ(wait_process(pid), 0) << read_text_file(dir / "chromium.log");
  ASSERT_TRUE(fs::exists(shot)) << read_text_file(dir / "chromium.log");
  const std::string png = read_text_file(shot);
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  EXPECT_EQ(be32(png, 16), 1400u);  // IHDR width: the issue checked the layout at 1400 px
  EXPECT_EQ(be32(png, 20), 2400u);  // IHDR height
  // A blank page compresses to a few kB; six figures and tables do not.
  EXPECT_GT(png.size(), 100'000u) << "screenshot suspiciously small: " << shot;
  std::cerr << "screenshot: " << shot << "\n";
}

}  // namespace
}  // namespace scalelab::report
