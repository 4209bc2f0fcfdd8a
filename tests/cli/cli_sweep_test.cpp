// `scalelab sweep plan` and the sweep's bad-input errors, through the real binary. Every error
// comes before any training (no runs/ directory, no run database) with one line naming the cause.
#include <gtest/gtest.h>

#include <filesystem>

#include "run_command.h"
#include "sweep_fixture.h"

namespace scalelab::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliSweep, PlanPrintsTheRunTableAndTrainsNothing) {
  const std::string d = temp_dir("cli_sweep_plan");
  const std::string cfg = write_config(d + "/sweep.json", tiny_sweep(d + "/out"));
  for (const std::string& cmd : {"sweep plan --config " + cfg, "sweep --dry-run --config " + cfg}) {
    CommandResult r = run_scalelab(cmd);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("b3-m3"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("exact FLOPs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("9 runs"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("vocabulary 300"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(d + "/out/runs")) << cmd;
    EXPECT_FALSE(fs::exists(d + "/out/runs.db")) << cmd;
  }
  // Flags override the file.
  CommandResult r = run_scalelab("sweep plan --config " + cfg + " --lr 0.0123");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1.23e-02"), std::string::npos) << r.out;
}

TEST(CliSweep, BadInputsFailBeforeTrainingWithOneLine) {
  const std::string d = temp_dir("cli_sweep_bad");
  const std::string out = d + "/out";
  auto expect_nothing_trained = [&] {
    EXPECT_FALSE(fs::exists(out + "/runs"));
    EXPECT_FALSE(fs::exists(out + "/runs.db"));
  };
  // Unknown field.
  json::Json j = tiny_sweep(out);
  j["model_per_budget"] = 4;
  expect_one_line_error(run_scalelab("sweep --config " + write_config(d + "/a.json", j)),
                        "model_per_budget");
  expect_nothing_trained();
  // Budget too small for the model family (--log-level error: only the error line).
  j = tiny_sweep(out);
  j["budgets"] = {1e9, 4e10};
  expect_one_line_error(
      run_scalelab("sweep --log-level error --config " + write_config(d + "/b.json", j)),
      "too small for the model family");
  expect_nothing_trained();
  // A family that allows no shape for a budget: it ends below the models the budget needs.
  j = tiny_sweep(out);
  j["architecture"]["max_layers"] = 1;
  j["architecture"]["max_d_model"] = 16;
  expect_one_line_error(
      run_scalelab("sweep --log-level error --config " + write_config(d + "/b2.json", j)),
      "the family's largest member (1 layers × d_model 16)");
  expect_nothing_trained();
  // A size convention that does not exist names the field and the choices.
  j = tiny_sweep(out);
  j["size_convention"] = "embeddings";
  expect_one_line_error(
      run_scalelab("sweep --log-level error --config " + write_config(d + "/b3.json", j)),
      "size_convention: expected total, non-embedding or flops, got 'embeddings'");
  expect_nothing_trained();
  // Corpus too short: says how many tokens exist and are needed.
  j = tiny_sweep(out);
  j["max_epochs"] = 2;
  j["warn_epochs"] = 1;
  CommandResult r =
      run_scalelab("sweep --log-level error --config " + write_config(d + "/c.json", j));
  expect_one_line_error(r, "corpus too short");
  EXPECT_NE(r.err.find("needs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("training split has"), std::string::npos) << r.err;
  expect_nothing_trained();
  // Unwritable output directory.
  fs::create_directories(d + "/ro");
  fs::permissions(d + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
  j = tiny_sweep(d + "/ro/out");
  if (::geteuid() != 0) {  // root writes anywhere
    expect_one_line_error(run_scalelab("sweep --config " + write_config(d + "/e.json", j)),
                          "ro/out");
  }
  fs::permissions(d + "/ro", fs::perms::owner_all);
  j = tiny_sweep(d + "/file/out");
  std::ofstream(d + "/file") << "x";
  expect_one_line_error(run_scalelab("sweep --config " + write_config(d + "/f.json", j)), "file");
  // Missing corpus file, malformed JSON, invalid value.
  j = tiny_sweep(out);
  j["corpus"] = {d + "/nope.txt"};
  expect_one_line_error(run_scalelab("sweep --config " + write_config(d + "/g.json", j)),
                        "nope.txt");
  std::ofstream(d + "/h.json") << "{\"budgets\": [1e10,";
  expect_one_line_error(run_scalelab("sweep --config " + d + "/h.json"), "h.json");
  j = tiny_sweep(out);
  j["lr"] = -1;
  expect_one_line_error(run_scalelab("sweep --config " + write_config(d + "/i.json", j)), "lr");
  expect_nothing_trained();
  // A corpus too small for the vocabulary (here bytes that are not even UTF-8) names the user's
  // file and the remedy, and leaves no output directory behind.
  {
    std::ofstream bad(d + "/tiny.txt", std::ios::binary);
    for (int i = 0; i < 40; ++i) bad << "\xff\xfe ab \xc3\x28\n";
  }
  j = tiny_sweep(d + "/tiny-out");
  j["corpus"] = {d + "/tiny.txt"};
  j["vocab_size"] = 4096;
  r = run_scalelab("sweep --log-level error --config " + write_config(d + "/j.json", j));
  expect_one_line_error(r, "tiny.txt: too small for vocab_size 4096");
  EXPECT_NE(r.err.find("smaller vocab_size"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(d + "/tiny-out")) << "a failed data preparation left its directory";
}

// device: cuda without a GPU: `demo --dry-run` fails as the real run would; `sweep plan` plans for
// the GPU machine with a warning.
TEST(CliSweep, CudaWithoutAGpu) {
  const std::string d = temp_dir("cli_sweep_cuda");
  const CommandResult probe = run_scalelab("sweep plan --log-level warn --device cuda --config " +
                                           write_config(d + "/a.json", tiny_sweep(d + "/out")));
  if (probe.err.find("no GPU") == std::string::npos)
    GTEST_SKIP() << "this machine has a GPU (or no LibTorch engine)";
  EXPECT_EQ(probe.exit_code, 0) << probe.err;
  EXPECT_NE(probe.out.find("b1-m1"), std::string::npos) << probe.out;
  expect_one_line_error(
      run_scalelab("demo --device cuda --dry-run --log-level error --out " + d + "/demo --corpus " +
                   std::string(SCALELAB_SHARED_DATA_DIR) + "/cs336/corpus.en"),
      "device: cuda requested but no GPU is available");
  EXPECT_FALSE(fs::exists(d + "/demo"));
}

TEST(CliReport, MissingDatabaseIsAnError) {
  const std::string d = temp_dir("cli_report_bad");
  expect_one_line_error(run_scalelab("report --db " + d + "/none.db --out " + d + "/r"), "none.db");
}

// A bad --tolerance is refused in one line naming it, before any page is written.
TEST(CliReport, NonPositiveToleranceIsAnError) {
  const std::string d = temp_dir("cli_report_tolerance");
  ASSERT_EQ(run_scalelab("runs import --db " + d + "/r.db " + std::string(SCALELAB_SOURCE_DIR) +
                         "/data/chinchilla_paper_runs.csv")
                .exit_code,
            0);
  for (const char* t : {"0", "-1"})
    expect_one_line_error(
        run_scalelab("report --db " + d + "/r.db --out " + d + "/rep --tolerance " + t),
        "--tolerance: the budget tolerance must be positive");
  EXPECT_FALSE(std::filesystem::exists(d + "/rep/index.html"));
}

}  // namespace
}  // namespace scalelab::testing
