// `scalelab train|generate|eval|export|import-hf` through the real binary (LibTorch builds only).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "common/json.h"
#include "run_command.h"

namespace scalelab::testing {
namespace {

struct Fixture {
  std::string d;
  Fixture() : d(temp_dir("cli_train")) { tiny_shakespeare_tokens(d, 20000); }
  // Flags given in `extra` replace the defaults (CLI11 rejects a repeated option).
  std::string train(const std::string& extra) const {
    std::vector<std::pair<std::string, std::string>> flags{
        {"--quiet", "true"},         {"--train-data", d + "/small.bin"},
        {"--tokenizer", d + "/tok"}, {"--vocab-size", "300"},
        {"--context-length", "32"},  {"--d-model", "32"},
        {"--n-layers", "1"},         {"--n-heads", "2"},
        {"--batch-size", "4"},       {"--log-interval", "5"}};
    std::string cmd = "train " + extra;
    for (const auto& [k, v] : flags)
      if (extra.find(k + " ") == std::string::npos) cmd += " " + k + " " + v;
    return cmd;
  }
};

TEST(CliTrain, TrainGenerateEval) {
  Fixture f;
  CommandResult t = run_scalelab(f.train("--max-steps 10 --out " + f.d + "/run"));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("done: 10 steps"), std::string::npos) << t.out;
  json::Json r = json::read_file(f.d + "/run/result.json");
  EXPECT_EQ(r["steps"], 10);
  EXPECT_TRUE(std::filesystem::exists(f.d + "/run/config.json"));
  // The same command again: the run is finished, its result stays as it was.
  const std::string result = read_text_file(f.d + "/run/result.json");
  CommandResult again = run_scalelab(f.train("--max-steps 10 --out " + f.d + "/run"));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("this run is finished"), std::string::npos) << again.err;
  EXPECT_NE(again.out.find("done: 10 steps"), std::string::npos) << again.out;
  EXPECT_EQ(read_text_file(f.d + "/run/result.json"), result);
  // A run trained with relative paths refers to its data and tokenizer by absolute ones, so
  // generate works from any directory.
  ASSERT_EQ(run_shell("cd " + f.d + " && " + SCALELAB_BINARY +
                      " train --quiet true --train-data small.bin --tokenizer tok "
                      "--context-length 32 --d-model 32 --n-layers 1 --n-heads 2 --batch-size 4 "
                      "--max-steps 2 --out rel")
                .exit_code,
            0);
  const std::filesystem::path stored =
      json::read_file(f.d + "/rel/config.json")["tokenizer"].get<std::string>();
  EXPECT_TRUE(stored.is_absolute()) << stored;
  EXPECT_EQ(std::filesystem::canonical(stored), std::filesystem::canonical(f.d + "/tok"));
  CommandResult rel =
      run_scalelab("generate --checkpoint " + f.d + "/rel --prompt 'To' --max-new-tokens 2");
  EXPECT_EQ(rel.exit_code, 0) << rel.err;
  CommandResult g = run_scalelab("generate --checkpoint " + f.d +
                                 "/run --prompt 'To be' --max-new-tokens 5 --seed 3");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out.rfind("To be", 0), 0u);
  CommandResult e =
      run_scalelab("eval --json --checkpoint " + f.d + "/run --data " + f.d + "/small.bin");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_GT(json::parse(e.out, "stdout")["loss"].get<double>(), 0);
}

// Without --vocab-size the model takes the data's vocabulary (300 here) instead of the default
// shape's 50257, padded to a multiple of 64 (320) unless --vocab-multiple 1; one asked for is kept.
TEST(CliTrain, VocabularyComesFromTheTrainingData) {
  Fixture f;
  const std::string base = "train --quiet true --train-data " + f.d + "/small.bin --tokenizer " +
                           f.d + "/tok --context-length 32 --d-model 32 --n-layers 1 --n-heads 2 " +
                           "--batch-size 4 --max-steps 2";
  CommandResult t = run_scalelab(base + " --out " + f.d + "/v1");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(json::read_file(f.d + "/v1/config.json")["model"]["vocab_size"], 320);
  EXPECT_NE(t.err.find("vocabulary 320 from"), std::string::npos) << t.err;
  CommandResult x = run_scalelab(base + " --vocab-multiple 1 --out " + f.d + "/v0");
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(json::read_file(f.d + "/v0/config.json")["model"]["vocab_size"], 300);
  CommandResult u = run_scalelab(base + " --vocab-size 320 --out " + f.d + "/v2");
  ASSERT_EQ(u.exit_code, 0) << u.err;
  EXPECT_EQ(json::read_file(f.d + "/v2/config.json")["model"]["vocab_size"], 320);
  // A model vocabulary padded past the tokenizer's 300 samples and evaluates: ids 300…319 are
  // never drawn (at temperature 1, top-p 1 a nearly untrained model would draw them ~6% of the
  // time, and decoding one fails).
  CommandResult g = run_scalelab("generate --checkpoint " + f.d +
                                 "/v2 --prompt 'To be' --max-new-tokens 60 --temperature 1 "
                                 "--top-p 1 --seed 1");
  ASSERT_EQ(g.exit_code, 0) << g.err;
  EXPECT_EQ(g.out.rfind("To be", 0), 0u);
  CommandResult e =
      run_scalelab("eval --json --checkpoint " + f.d + "/v2 --data " + f.d + "/small.bin");
  ASSERT_EQ(e.exit_code, 0) << e.err;
}

TEST(CliTrain, BadInputIsOneLineErrorWithoutPartialFiles) {
  Fixture f;
  expect_one_line_error(run_scalelab(f.train("--max-steps 5 --out " + f.d + "/r1 --device cuda")),
                        "CUDA requested (cuda) but no GPU is available");
  expect_one_line_error(run_scalelab(f.train("--max-steps 5 --out " + f.d + "/r2 --batch-size -3")),
                        "--batch-size: must be positive (got -3)");
  // A model far beyond the machine's memory is refused before anything is allocated, with the
  // memory model's figure and what the machine has.
  expect_one_line_error(run_scalelab(f.train("--max-steps 2 --out " + f.d +
                                             "/r5 --d-model 262144 --n-layers 1 "
                                             "--n-heads 1")),
                        "memory: this run needs about");
  EXPECT_FALSE(std::filesystem::exists(f.d + "/r5/config.json"));
  expect_one_line_error(
      run_scalelab(f.train("--max-steps 5 --out " + f.d + "/r3 --context-length 100000")),
      "fewer than context_length + 1 = 100001");
  EXPECT_FALSE(std::filesystem::exists(f.d + "/r3/config.json"));
  expect_one_line_error(
      run_scalelab(f.train("--max-steps 5 --out " + f.d + "/r4 --vocab-size 100")),
      "vocab_size: 100 is smaller than the vocabulary of");
  expect_one_line_error(run_scalelab("generate --checkpoint " + f.d + "/nope --prompt x"),
                        "nope: no such checkpoint directory");
  // A truncated checkpoint.
  ASSERT_EQ(run_scalelab(f.train("--max-steps 3 --out " + f.d + "/r5")).exit_code, 0);
  std::filesystem::resize_file(f.d + "/r5/checkpoint/model.pt", 100);
  expect_one_line_error(
      run_scalelab("eval --checkpoint " + f.d + "/r5 --data " + f.d + "/small.bin"),
      "cannot load model.pt (truncated, or a different model shape)");
  std::ofstream(f.d + "/bad.json") << R"({"batch_size": 4, "learning_rate": 1})";
  expect_one_line_error(run_scalelab("train --config " + f.d + "/bad.json"),
                        "bad.json.learning_rate: unknown field");
}

// export writes a LlamaForCausalLM directory with the tokenizer; import-hf reads it back to a run
// that evaluates and generates exactly as the original (fp32: the weights are the same bits).
// What Llama cannot express and broken directories are one-line errors.
TEST(CliTrain, ExportAndImportHf) {
  Fixture f;
  ASSERT_EQ(run_scalelab(f.train("--max-steps 4 --n-kv-heads 1 --out " + f.d + "/run")).exit_code,
            0);
  CommandResult x = run_scalelab("export --checkpoint " + f.d + "/run --out " + f.d + "/hf");
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_NE(x.out.find("exported 12 tensors"), std::string::npos) << x.out;
  EXPECT_NE(x.out.find("tokenizer.json, tokenizer_config.json"), std::string::npos) << x.out;
  for (const char* file : {"model.safetensors", "config.json", "generation_config.json",
                           "tokenizer.json", "tokenizer_config.json"})
    EXPECT_TRUE(std::filesystem::exists(f.d + "/hf/" + file)) << file;
  const json::Json config = json::read_file(f.d + "/hf/config.json");
  EXPECT_EQ(config["num_key_value_heads"], 1);
  EXPECT_EQ(config["vocab_size"], 300);
  CommandResult i = run_scalelab("import-hf " + f.d + "/hf --out " + f.d + "/back");
  ASSERT_EQ(i.exit_code, 0) << i.err;
  EXPECT_NE(i.out.find("1 layers × d_model 32, vocabulary 300"), std::string::npos) << i.out;
  auto eval = [&](const std::string& run) {
    CommandResult e = run_scalelab("eval --json --checkpoint " + f.d + "/" + run + " --data " +
                                   f.d + "/small.bin");
    EXPECT_EQ(e.exit_code, 0) << e.err;
    return json::parse(e.out, "stdout")["loss"].get<double>();
  };
  EXPECT_EQ(eval("back"), eval("run"));
  auto greedy = [&](const std::string& run) {
    CommandResult g =
        run_scalelab("generate --checkpoint " + f.d + "/" + run + " --tokenizer " + f.d +
                     "/tok --prompt 'To be' --max-new-tokens 8 --temperature 0");
    EXPECT_EQ(g.exit_code, 0) << g.err;
    return g.out;
  };
  EXPECT_EQ(greedy("back"), greedy("run"));
  CommandResult b =
      run_scalelab("export --checkpoint " + f.d + "/run --dtype bf16 --out " + f.d + "/hf16");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(json::read_file(f.d + "/hf16/config.json")["torch_dtype"], "bfloat16");
  EXPECT_LT(std::filesystem::file_size(f.d + "/hf16/model.safetensors"),
            std::filesystem::file_size(f.d + "/hf/model.safetensors"));

  ASSERT_EQ(run_scalelab(f.train("--max-steps 2 --ffn gelu_mlp --out " + f.d + "/gelu")).exit_code,
            0);
  expect_one_line_error(run_scalelab("export --checkpoint " + f.d + "/gelu --out " + f.d + "/g"),
                        "export: model.ffn is gelu_mlp; LlamaForCausalLM has a SwiGLU MLP only");
  EXPECT_FALSE(std::filesystem::exists(f.d + "/g"));
  EXPECT_FALSE(std::filesystem::exists(f.d + "/g.partial"));
  expect_one_line_error(run_scalelab("export --checkpoint " + f.d + "/run --dtype fp16 --out x"),
                        "--dtype");
  expect_one_line_error(run_scalelab("import-hf " + f.d + "/nope --out " + f.d + "/n"),
                        "import-hf: " + f.d + "/nope is not a directory");
  std::filesystem::create_directories(f.d + "/broken");
  std::filesystem::copy_file(f.d + "/hf/config.json", f.d + "/broken/config.json");
  expect_one_line_error(run_scalelab("import-hf " + f.d + "/broken --out " + f.d + "/n"),
                        "has neither model.safetensors nor model.safetensors.index.json");
  std::ofstream(f.d + "/broken/model.safetensors") << "not a safetensors file";
  expect_one_line_error(run_scalelab("import-hf " + f.d + "/broken --out " + f.d + "/n"),
                        "model.safetensors");
  json::Json wrong = config;
  wrong["hidden_act"] = "gelu";
  json::write_file(f.d + "/hf/config.json", wrong);
  expect_one_line_error(run_scalelab("import-hf " + f.d + "/hf --out " + f.d + "/n"),
                        "config.json: hidden_act gelu is not supported");
  wrong = config;
  wrong["hidden_size"] = 64;
  wrong.erase("head_dim");
  json::write_file(f.d + "/hf/config.json", wrong);
  expect_one_line_error(run_scalelab("import-hf " + f.d + "/hf --out " + f.d + "/n"),
                        "import-hf: tensor model.embed_tokens.weight has shape 300×32 but the "
                        "config needs 300×64");
  EXPECT_FALSE(std::filesystem::exists(f.d + "/n/checkpoint"));
}

// Cooldown branches from the command line: a parent keeps branch-STEP checkpoints, a branch trains
// its cooldown from one; every wrong combination is a one-line error before any step.
TEST(CliTrain, CooldownBranchesAndTheirErrors) {
  Fixture f;
  const std::string wsd = " --lr-schedule wsd --warmup-steps 1 --lr-max 0.01";
  ASSERT_EQ(run_scalelab(f.train("--max-steps 10 --branch-steps 4 --out " + f.d + "/parent" + wsd))
                .exit_code,
            0);
  ASSERT_TRUE(std::filesystem::exists(f.d + "/parent/branch-4"));
  // 5 steps with a 20% cooldown start at step 4: the branch trains steps 5 only.
  CommandResult ok = run_scalelab(f.train("--max-steps 5 --branch-from " + f.d +
                                          "/parent/branch-4 --out " + f.d + "/branch" + wsd));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  const json::Json res = json::read_file(f.d + "/branch/result.json");
  EXPECT_EQ(res["branch_step"].get<int64_t>(), 4);
  EXPECT_LT(res["flops_spent"].get<double>(), res["flops"].get<double>());
  expect_one_line_error(
      run_scalelab(f.train("--max-steps 5 --branch-from " + f.d + "/parent/branch-4 --out " + f.d +
                           "/b2 --lr-schedule wsd --warmup-steps 1 --lr-max 0.02")),
      "is from another config: lr_max is 0.01 there, 0.02 here");
  expect_one_line_error(run_scalelab(f.train("--max-steps 5 --branch-from " + f.d +
                                             "/parent/branch-3 --out " + f.d + "/b3" + wsd)),
                        "no checkpoint there");
  expect_one_line_error(run_scalelab(f.train("--max-steps 6 --branch-from " + f.d +
                                             "/parent/branch-4 --out " + f.d + "/b4" + wsd)),
                        "is at step 4, but this run's cooldown starts at step 5");
  expect_one_line_error(
      run_scalelab(f.train("--max-steps 10 --branch-steps 9 --out " + f.d + "/p2" + wsd)),
      "branch_steps: step 9 is not in the constant phase [1, 8)");
  expect_one_line_error(
      run_scalelab(f.train("--max-steps 10 --branch-steps 6,3 --out " + f.d + "/p3" + wsd)),
      "branch_steps: must be increasing");
  expect_one_line_error(
      run_scalelab(f.train("--max-steps 10 --cooldown-fraction 1.5 --out " + f.d + "/p4" + wsd)),
      "cooldown-fraction");
  EXPECT_FALSE(std::filesystem::exists(f.d + "/b2/result.json"));
}

}  // namespace
}  // namespace scalelab::testing
