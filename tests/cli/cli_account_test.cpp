// End-to-end tests of `scalelab account` through the real binary: outputs, exit codes, and the
// one-line errors for every kind of bad input the issue names.
#include <gtest/gtest.h>

#include <fstream>

#include "common/json.h"
#include "run_command.h"

namespace scalelab::testing {
namespace {

TEST(CliAccount, VersionAndHelp) {
  CommandResult v = run_scalelab("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("scalelab 0.", 0), 0u) << v.out;
  CommandResult h = run_scalelab("account --help");
  EXPECT_EQ(h.exit_code, 0);
  // Defaults are shown, and they come from the config structs.
  EXPECT_NE(h.out.find("--d-model"), std::string::npos);
  EXPECT_NE(h.out.find("--d-model INT=768"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("=h100-sxm"), std::string::npos) << h.out;
  EXPECT_NE(h.out.find("=bf16-mixed"), std::string::npos) << h.out;
}

TEST(CliAccount, PresetTextReport) {
  CommandResult r = run_scalelab("account --preset gpt2-small");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("190,460,160"), std::string::npos);
  EXPECT_NE(r.out.find("349,630,365,696"), std::string::npos);
  EXPECT_NE(r.out.find("gpt2-small (preset)"), std::string::npos);
}

TEST(CliAccount, JsonMatchesGroundTruthAndFlagsOverridePreset) {
  CommandResult r = run_scalelab("account --preset gpt2-xl --context-length 16384 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json::Json j = json::parse(r.out, "stdout");
  EXPECT_EQ(j["flops"]["forward_matmul_per_sequence"]["total"].get<int64_t>(), 149'522'795'724'800);
  EXPECT_EQ(j["shape"]["context_length"].get<int64_t>(), 16384);
  EXPECT_EQ(j["model"], "gpt2-xl (preset) + flags");
}

TEST(CliAccount, FlagsAndConfigFile) {
  std::string dir = temp_dir("cli_account_config");
  std::ofstream(dir + "/model.json")
      << R"({"vocab_size": 50257, "context_length": 1024, "d_model": 768,
     "n_layers": 12, "n_heads": 12, "d_ff": 3072})";
  CommandResult c = run_scalelab("account --config " + dir + "/model.json --json");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(json::parse(c.out, "stdout")["params"]["total"].get<int64_t>(), 190'460'160);
  CommandResult f = run_scalelab(
      "account --vocab-size 50257 --context-length 1024 --d-model 768 --n-layers 12 --n-heads 12 "
      "--d-ff 3072 --json");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(json::parse(f.out, "stdout")["params"]["total"].get<int64_t>(), 190'460'160);
}

TEST(CliAccount, MfuGpusPresets) {
  CommandResult r =
      run_scalelab("account mfu --preset gpt2-small --tokens-per-sec 100000 --gpu h100-sxm --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(json::parse(r.out, "stdout")["mfu"].get<double>(),
              100000 * 1'024'307'712.0 / 989.4e12, 1e-12);
  CommandResult g = run_scalelab("account gpus");
  EXPECT_EQ(g.exit_code, 0);
  EXPECT_NE(g.out.find("989.4"), std::string::npos);
  CommandResult p = run_scalelab("account presets --json");
  EXPECT_EQ(p.exit_code, 0);
  EXPECT_EQ(json::parse(p.out, "stdout").size(), 6u);
}

TEST(CliAccount, BadInputIsOneLineErrorExit1) {
  expect_one_line_error(run_scalelab("account --d-model 0"),
                        "model.d_model: must be positive (got 0)");
  expect_one_line_error(run_scalelab("account --n-layers -2"), "model.n_layers: must be positive");
  expect_one_line_error(run_scalelab("account --n-heads 7"),
                        "model.n_heads: 7 does not divide d_model 768");
  expect_one_line_error(run_scalelab("account --n-kv-heads 5"),
                        "model.n_kv_heads: 5 does not divide n_heads 12");
  expect_one_line_error(run_scalelab("account --preset gpt5"), "unknown preset 'gpt5'");
  expect_one_line_error(run_scalelab("account --gpu tpu-v5"), "unknown GPU 'tpu-v5'");
  expect_one_line_error(run_scalelab("account mfu --tokens-per-sec 1000 --gpu tpu-v5"),
                        "unknown GPU 'tpu-v5'");
  expect_one_line_error(run_scalelab("account --d-model abc"), "--d-model");
  expect_one_line_error(run_scalelab("account --no-such-flag"), "--no-such-flag");
  expect_one_line_error(run_scalelab("account --precision fp16"), "--precision");
  expect_one_line_error(run_scalelab("account --mfu 2"), "mfu: must be in (0, 1]");
  expect_one_line_error(run_scalelab("account mfu --preset gpt2-small"), "--tokens-per-sec");
  expect_one_line_error(run_scalelab("account mfu --tokens-per-sec -5"),
                        "tokens-per-sec: must be a positive number");
  expect_one_line_error(run_scalelab("frobnicate"), "unknown command 'frobnicate'");
  expect_one_line_error(run_scalelab("--log-level loud account"), "unknown log level 'loud'");

  std::string dir = temp_dir("cli_account_bad");
  std::ofstream(dir + "/broken.json") << "{\"d_model\": 768,";
  expect_one_line_error(run_scalelab("account --config " + dir + "/broken.json"),
                        "broken.json: malformed JSON");
  std::ofstream(dir + "/typo.json") << R"({"d_modell": 768})";
  expect_one_line_error(run_scalelab("account --config " + dir + "/typo.json"),
                        "typo.json.d_modell: unknown field");
  std::ofstream(dir + "/type.json") << R"({"n_heads": "twelve"})";
  expect_one_line_error(run_scalelab("account --config " + dir + "/type.json"),
                        "type.json.n_heads: expected an integer, got string \"twelve\"");
  expect_one_line_error(run_scalelab("account --config " + dir + "/missing.json"),
                        "missing.json: no such file");
}

}  // namespace
}  // namespace scalelab::testing
