// The HTML report from a synthetic sweep: every figure rendered by gnuplot and inlined, tables
// present, scripts and data saved next to the page, nothing fetched from the network.
#include "report/report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "report/plots.h"
#include "test_util.h"

namespace scalelab::report {
namespace {

namespace fs = std::filesystem;

size_t count(const std::string& s, const std::string& needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1)) ++n;
  return n;
}

TEST(Report, WritesASelfContainedPageWithEveryFigure) {
  const fs::path dir = testing::fresh_dir("report");
  runs::RunDb db(dir / "runs.db");
  testing::fill_isoflop_db(db, {1.8, 400.0, 900.0, 0.34, 0.30});
  sweep::AnalysisOptions o;
  o.targets = {1e20};
  o.bootstrap_samples = 40;
  sweep::ArchitectureRule rule;
  rule.vocab_size = 32000;
  o.architecture = rule;
  const sweep::SweepAnalysis a = sweep::analyze_runs(db, o);
  ReportInfo info;
  info.db_path = (dir / "runs.db").string();
  const fs::path page = write_report(a, info, dir / "report");
  const std::string html = read_text_file(page);
  // Training curves: the partial last interval (step 44 after 10-step intervals) is left out, and
  // the five models of a budget have five dash patterns.
  const std::string curves = read_text_file(dir / "report" / "plots" / "curves.dat");
  EXPECT_EQ(count(curves, "\n\n\n"), 20u);  // one block per run
  EXPECT_EQ(std::count(curves.begin(), curves.end(), '\n') - 1 - 20 - 2 * 20, 4 * 20);
  const std::string gp = read_text_file(dir / "report" / "plots" / "curves.gp");
  for (int d = 1; d <= 5; ++d) EXPECT_NE(gp.find(fmt::format(" dt {} ", d)), std::string::npos);
  for (const char* name : {"isoflop", "n_opt", "d_opt", "contour", "curves", "residuals"}) {
    EXPECT_TRUE(fs::exists(dir / "report/plots" / (std::string(name) + ".gp"))) << name;
    EXPECT_TRUE(fs::exists(dir / "report/plots" / (std::string(name) + ".dat"))) << name;
    EXPECT_NE(html.find(std::string("id=\"fig-") + name + "\""), std::string::npos) << name;
  }
  EXPECT_EQ(count(html, "<svg"), 6u);
  EXPECT_EQ(count(html, "<?xml"), 0u);
  // Self-contained: no external resource of any kind (the SVG namespace URIs are names, not
  // fetches).
  EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*["']?(https?:)?//)")));
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  // Tables: recommendation, fitted parameters, held-out check, budgets, runs (20 rows).
  for (const char* id : {"recommendation", "fit", "holdout", "budgets", "runs"})
    EXPECT_NE(html.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  EXPECT_GE(count(html, "<tr>"), 20u + 7u + 4u);
  EXPECT_TRUE(fs::exists(dir / "report/analysis.json"));
  // Widths (issue: the recommendation scrolled at 1400 px): each interval sits under its value, the
  // recommendation has 9 columns, the budgets' note column wraps.
  const size_t rec = html.find("id=\"recommendation\"");
  const std::string rec_head = html.substr(rec, html.find("</thead>", rec) - rec);
  EXPECT_EQ(count(rec_head, "<th>"), 9u) << rec_head;
  EXPECT_NE(html.find("<br><span class=\"sub\">["), std::string::npos);
  EXPECT_NE(html.find("<table class=\"notes\">"), std::string::npos);
  // The contour figure's map was inlined as an image inside the SVG, not a separate file.
  for (const auto& e : fs::directory_iterator(dir / "report/plots"))
    EXPECT_NE(e.path().extension(), ".png") << e.path();
}

// Under the non-embedding convention the runs' points, the "fit" column and the residuals use the
// N the law was fitted on, not the total count (which here is the law's N plus a large embedding).
TEST(Report, RunsArePlacedUnderTheAnalysisConvention) {
  const fs::path dir = testing::fresh_dir("report-convention");
  runs::RunDb db(dir / "runs.db");
  const scaling::ScalingLaw truth{1.8, 400.0, 900.0, 0.34, 0.30};
  testing::fill_isoflop_db(db, truth, 0.0, 1, /*embedding=*/5e8);
  sweep::AnalysisOptions o;
  o.targets = {1e20};
  o.bootstrap_samples = 0;
  o.convention = scaling::SizeConvention::kNonEmbedding;
  const sweep::SweepAnalysis a = sweep::analyze_runs(db, o);
  ASSERT_TRUE(a.fit);
  write_report(a, ReportInfo{}, dir / "report");
  std::istringstream in(read_text_file(dir / "report" / "plots" / "residuals.dat"));
  std::string line;
  int points = 0;
  while (std::getline(in, line) && !line.empty()) {
    if (line[0] == '#') continue;
    double C = 0, residual = 0;
    std::istringstream(line) >> C >> residual;
    EXPECT_LT(std::abs(residual), 0.5) << line;  // noise-free runs: the law fits them
    ++points;
  }
  EXPECT_EQ(points, 20);
  const std::string html = read_text_file(dir / "report" / "index.html");
  EXPECT_NE(html.find("non-embedding parameters N"), std::string::npos);
}

// Replicated models: the budgets table gives each budget's seed SD next to its models' range.
TEST(Report, BudgetsShowTheSeedNoise) {
  const fs::path dir = testing::fresh_dir("report-seeds");
  runs::RunDb db(dir / "runs.db");
  testing::fill_seeded_db(db, {1.8, 400.0, 900.0, 0.34, 0.30});
  sweep::AnalysisOptions o;
  o.targets = {1e20};
  o.bootstrap_samples = 0;
  const std::string html =
      read_text_file(write_report(sweep::analyze_runs(db, o), ReportInfo{}, dir / "report"));
  EXPECT_NE(html.find("<th>seed SD</th>"), std::string::npos);
  EXPECT_NE(html.find("<td>0.2</td>"), std::string::npos);  // 1e17's pooled SD, 3 digits
  EXPECT_NE(html.find("seeds of one model differ"), std::string::npos);  // the warning
}

// A WSD sweep's branches: one row per parent with its points, what they cost and what separate
// runs would have; a sweep without branches has no such section.
TEST(Report, CooldownBranchesAreShownAsOneFamilyPerParent) {
  const fs::path dir = testing::fresh_dir("report-branches");
  runs::RunDb db(dir / "runs.db");
  testing::fill_isoflop_db(db, {1.8, 400.0, 900.0, 0.34, 0.30});
  sweep::AnalysisOptions o;
  o.targets = {1e20};
  o.bootstrap_samples = 0;
  const std::string plain =
      read_text_file(write_report(sweep::analyze_runs(db, o), ReportInfo{}, dir / "plain"));
  EXPECT_EQ(plain.find("id=\"branches\""), std::string::npos);
  // Two runs of one N become a parent and its branch.
  std::vector<runs::Run> all = db.list();
  ASSERT_GE(all.size(), 2u);
  runs::Run& parent = all[all.size() - 1];
  runs::Run& branch = all[all.size() - 2];
  parent.extra["key"] = "b5-m2";
  parent.extra["flops_spent"] = parent.C;
  parent.config["model"] = {{"n_layers", 4}, {"d_model", 224}};
  branch.extra["key"] = "b4-m3";
  branch.extra["parent_key"] = "b5-m2";
  branch.extra["branch_step"] = 1288;
  branch.extra["flops_spent"] = 0.2 * branch.C;
  db.update(parent);
  db.update(branch);
  const std::string html =
      read_text_file(write_report(sweep::analyze_runs(db, o), ReportInfo{}, dir / "wsd"));
  ASSERT_NE(html.find("id=\"branches\""), std::string::npos);
  EXPECT_NE(html.find("<td>b5-m2</td><td>4×224</td>"), std::string::npos);
  EXPECT_NE(
      html.find(fmt::format("{:.0f}%", 100 * (parent.C + 0.2 * branch.C) / (parent.C + branch.C))),
      std::string::npos);
}

TEST(Report, InlineSvgPrefixesIdsAndReferences) {
  const std::string svg =
      "<?xml version=\"1.0\"?>\n<svg viewBox='0 0 1 1'><defs><path id='gpPt1'/></defs>"
      "<use xlink:href='#gpPt1'/><g id=\"canvas\" fill=\"url(#grad)\"/></svg>";
  const std::string s = inline_svg(svg, "f3_");
  EXPECT_EQ(s.rfind("<svg", 0), 0u);
  EXPECT_NE(s.find("id='f3_gpPt1'"), std::string::npos);
  EXPECT_NE(s.find("href='#f3_gpPt1'"), std::string::npos);
  EXPECT_NE(s.find("id=\"f3_canvas\""), std::string::npos);
  EXPECT_NE(s.find("url(#f3_grad)"), std::string::npos);
  EXPECT_THROW(inline_svg("not svg", "x"), Error);
  EXPECT_EQ(html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
}

TEST(Report, MissingGnuplotIsAClearError) {
  setenv("SCALELAB_GNUPLOT", "/nonexistent/gnuplot", 1);
  try {
    find_gnuplot();
    unsetenv("SCALELAB_GNUPLOT");
    FAIL();
  } catch (const Error& e) {
    unsetenv("SCALELAB_GNUPLOT");
    EXPECT_NE(std::string(e.what()).find("gnuplot-nox"), std::string::npos);
  }
}

}  // namespace
}  // namespace scalelab::report
