#include <gtest/gtest.h>

#include "common/csv.h"
#include "common/file_util.h"
#include "runs/run.h"
#include "test_support.h"

namespace scalelab::runs {
namespace {

using scalelab::testing::error_of;

TEST(RunCsv, ChinchillaPaperDataRoundTripsByteForByte) {
  std::string path = std::string(SCALELAB_SOURCE_DIR) + "/data/chinchilla_paper_runs.csv";
  std::string text = read_text_file(path);
  auto runs = runs_from_csv(csv::parse(text, path), path);
  ASSERT_EQ(runs.size(), 234u);
  EXPECT_EQ(runs[0].c_source, FlopSource::kGiven);
  EXPECT_EQ(csv::format(runs_to_csv(runs)), text);
}

TEST(RunCsv, ExtraColumnsAndBudgetAreKeptAndCDefaultsTo6ND) {
  std::string text =
      "N,D,loss,budget,lr,note\n1e8,2e9,3.1,1e18,0.0003,\"a, b\"\n2e8,1e9,3.0,1e18,0.0006,x\n";
  auto runs = runs_from_csv(csv::parse(text, "t.csv"), "t.csv");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_DOUBLE_EQ(runs[0].C, 1.2e18);
  EXPECT_EQ(runs[0].c_source, FlopSource::kSixND);
  EXPECT_EQ(runs[0].budget, "1e18");
  EXPECT_EQ(runs[0].extra["note"], "a, b");
  EXPECT_EQ(runs[1].extra["lr"], "0.0006");
  std::string out = csv::format(runs_to_csv(runs));
  EXPECT_EQ(out,
            "C,N,D,loss,budget,lr,note\n1.2e+18,100000000,2000000000,3.1,1e18,0.0003,\"a, b\"\n"
            "1.2e+18,200000000,1000000000,3,1e18,0.0006,x\n");
  auto again = runs_from_csv(csv::parse(out, "o"), "o");
  EXPECT_EQ(again[0].extra, runs[0].extra);
  EXPECT_DOUBLE_EQ(again[1].loss, 3.0);
}

TEST(RunCsv, MalformedInputNamesFileAndLine) {
  EXPECT_EQ(error_of([] { csv::parse("C,N,D,loss\n1,2,3\n", "bad.csv"); }),
            "bad.csv:2: expected 4 fields, found 3");
  EXPECT_EQ(error_of([] { csv::parse("a,b\n\"x,1\n", "q.csv"); }),
            "q.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of([] { csv::parse("", "e.csv"); }), "e.csv: empty file, expected a header row");
  EXPECT_EQ(error_of([] { runs_from_csv(csv::parse("C,N,loss\n1,2,3\n", "m.csv"), "m.csv"); }),
            "m.csv: header must have columns N, D and loss (found: C, N, loss)");
  EXPECT_EQ(error_of([] {
              runs_from_csv(csv::parse("N,D,loss\n1e8,1e9,3\n1e8,1e9,nan\n", "n.csv"), "n.csv");
            }),
            "n.csv:3: loss must be a finite positive number (got nan)");
  EXPECT_EQ(error_of([] { runs_from_csv(csv::parse("N,D,loss\n1e8,abc,3\n", "n.csv"), "n.csv"); }),
            "n.csv:2: D: 'abc' is not a number");
  EXPECT_EQ(error_of([] { runs_from_csv(csv::parse("N,D,loss\n0,1e9,3\n", "z.csv"), "z.csv"); }),
            "z.csv:2: N must be a finite positive number (got 0)");
}

}  // namespace
}  // namespace scalelab::runs
