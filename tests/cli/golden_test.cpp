// The machine-readable outputs of fit, isoflop, allocate, predict, account and `sweep plan` on the
// bundled examples (bench/golden_outputs.sh) against tests/data/golden/: a refactor changes none of
// them. Numbers compare to 1e-5 relative (a fit converges to its tolerance, not to the bit, across
// CPUs and build types: the ASan build computes it too); bootstrap intervals to 1e-2 (each is a
// percentile of 10–20 resample fits, which amplifies those last digits: the ASan build moved them
// by up to 0.3%); the optimiser's own counters (iterations, evaluations, starts by outcome) are not
// results and are not compared. Text and structure compare exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>

#include "common/file_util.h"
#include "common/json.h"
#include "run_command.h"

namespace scalelab::testing {
namespace {

namespace fs = std::filesystem;

// The optimiser's own counters: how it got there, not where.
bool is_counter(const std::string& where) {
  const std::string last = where.substr(where.rfind('.') + 1);
  return last == "best_iterations" || last == "best_evaluations" || last == "evaluations" ||
         where.find(".starts.") != std::string::npos;
}

void expect_same(const json::Json& want, const json::Json& got, const std::string& where) {
  if (is_counter(where)) return;
  if (want.is_number() && got.is_number()) {
    const double a = want.get<double>(), b = got.get<double>();
    const double rtol = where.find(".bootstrap.") != std::string::npos ? 1e-2 : 1e-5;
    EXPECT_LE(std::abs(a - b), rtol * std::max(std::abs(a), std::abs(b)) + 1e-300)
        << where << ": " << a << " vs " << b;
    return;
  }
  ASSERT_EQ(want.type(), got.type()) << where;
  if (want.is_object()) {
    ASSERT_EQ(want.size(), got.size()) << where << ": " << want.dump() << " vs " << got.dump();
    for (auto it = want.begin(); it != want.end(); ++it) {
      ASSERT_TRUE(got.contains(it.key())) << where << "." << it.key() << " missing";
      expect_same(it.value(), got.at(it.key()), where + "." + it.key());
    }
  } else if (want.is_array()) {
    ASSERT_EQ(want.size(), got.size()) << where;
    for (size_t i = 0; i < want.size(); ++i)
      expect_same(want[i], got[i], where + "[" + std::to_string(i) + "]");
  } else {
    EXPECT_EQ(want, got) << where;
  }
}

TEST(GoldenOutputs, AnalysisAndPlanOutputsAreUnchanged) {
  const std::string dir = temp_dir("golden");
  const std::string src = SCALELAB_SOURCE_DIR;
  const CommandResult r =
      run_shell("bash " + src + "/bench/golden_outputs.sh " SCALELAB_BINARY " " + dir + "/out");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path golden = fs::path(src) / "tests/data/golden";
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(golden)) {
    const std::string name = e.path().filename().string();
    const fs::path got = fs::path(dir) / "out" / name;
    ASSERT_TRUE(fs::exists(got)) << name << " was not written";
    ++files;
    if (e.path().extension() == ".json")
      expect_same(json::read_file(e.path().string()), json::read_file(got.string()), name);
    else
      EXPECT_EQ(read_text_file(e.path()), read_text_file(got)) << name;
  }
  EXPECT_EQ(files, 14u);
}

}  // namespace
}  // namespace scalelab::testing
