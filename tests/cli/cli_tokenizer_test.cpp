// `scalelab tokenizer …` through the real binary: train → encode → decode round trip, GPT-2 files,
// and one-line errors with nothing half-written for every bad input the issue lists.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "common/json.h"
#include "run_command.h"

namespace scalelab::testing {
namespace {

const std::string kShared = std::string(SCALELAB_SHARED_DATA_DIR);

TEST(CliTokenizer, TrainEncodeDecodeRoundTrip) {
  if (!std::filesystem::exists(kShared + "/cs336/corpus.en")) GTEST_SKIP() << "shared data missing";
  std::string d = temp_dir("cli_tok");
  CommandResult t = run_scalelab("tokenizer train --quiet --input " + kShared +
                                 "/cs336/corpus.en --vocab-size 500 --out " + d + "/tok");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  for (const char* f :
       {"vocab.json", "merges.txt", "tokenizer_config.json", "tokenizer.json", "train_config.json"})
    EXPECT_TRUE(std::filesystem::exists(d + "/tok/" + f)) << f;
  CommandResult e = run_scalelab("tokenizer encode --quiet --tokenizer " + d + "/tok --input " +
                                 kShared + "/cs336/corpus.en --out " + d + "/c.bin");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  json::Json side = json::read_file(d + "/c.bin.json");
  EXPECT_EQ(side["dtype"], "uint16");
  EXPECT_EQ(side["vocab_size"], 500);
  EXPECT_EQ(std::filesystem::file_size(d + "/c.bin"), 2 * side["count"].get<uint64_t>());
  CommandResult x = run_scalelab("tokenizer decode --tokenizer " + d + "/tok --input " + d +
                                 "/c.bin --out " + d + "/c.txt");
  ASSERT_EQ(x.exit_code, 0) << x.err;
  EXPECT_EQ(read_text_file(d + "/c.txt"), read_text_file(kShared + "/cs336/corpus.en"));
  CommandResult s = run_scalelab("tokenizer stats --json --tokenizer " + d + "/tok --input " +
                                 kShared + "/cs336/corpus.en");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(json::parse(s.out, "stdout")["vocab_size"], 500);
  EXPECT_EQ(json::parse(s.out, "stdout")["pattern"], "gpt2");
}

TEST(CliTokenizer, Gpt2FilesEncodeLikeTiktoken) {
  if (!std::filesystem::exists(kShared + "/cs336/gpt2_vocab.json"))
    GTEST_SKIP() << "shared data missing";
  std::string d = temp_dir("cli_gpt2");
  std::filesystem::copy_file(kShared + "/cs336/gpt2_vocab.json", d + "/vocab.json");
  std::filesystem::copy_file(kShared + "/cs336/gpt2_merges.txt", d + "/merges.txt");
  CommandResult r = run_scalelab("tokenizer decode --tokenizer " + d + " --ids 15496,11,995,0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "Hello, world!");
}

TEST(CliTokenizer, BadInputIsOneLineErrorAndNothingHalfWritten) {
  std::string d = temp_dir("cli_tokbad");
  std::ofstream(d + "/ok.txt") << "some text to train on, some more text";
  std::ofstream(d + "/empty.txt");
  std::ofstream(d + "/bad.txt") << "fine text \xC3\x28 broken";
  expect_one_line_error(run_scalelab("tokenizer train --quiet --input " + d +
                                     "/ok.txt --vocab-size 100 --out " + d + "/t1"),
                        "vocab_size: 100 is smaller than 256 bytes + 1 special tokens = 257");
  EXPECT_FALSE(std::filesystem::exists(d + "/t1"));
  expect_one_line_error(
      run_scalelab("tokenizer train --quiet --input " + d + "/empty.txt --out " + d + "/t2"),
      "empty.txt: file is empty");
  expect_one_line_error(
      run_scalelab("tokenizer train --quiet --input " + d + "/missing.txt --out " + d + "/t3"),
      "missing.txt: cannot open");
  expect_one_line_error(
      run_scalelab("tokenizer train --quiet --input " + d + "/bad.txt --vocab-size 300 --out " + d +
                   "/t4"),
      "bad.txt: invalid UTF-8 at byte offset 10 (use --invalid-utf8 replace to proceed)");
  EXPECT_FALSE(std::filesystem::exists(d + "/t4/vocab.json"));
  CommandResult ok = run_scalelab("tokenizer train --quiet --invalid-utf8 replace --input " + d +
                                  "/bad.txt --vocab-size 300 --out " + d + "/t5");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // Encoding invalid UTF-8: error, and no output file or temp file.
  expect_one_line_error(run_scalelab("tokenizer encode --quiet --tokenizer " + d + "/t5 --input " +
                                     d + "/bad.txt --out " + d + "/o.bin"),
                        "bad.txt: invalid UTF-8 at byte offset 10");
  EXPECT_FALSE(std::filesystem::exists(d + "/o.bin"));
  // Malformed tokenizer files.
  std::filesystem::create_directories(d + "/broken");
  std::ofstream(d + "/broken/vocab.json") << "{\"a\": 0,";
  std::ofstream(d + "/broken/merges.txt") << "a b\n";
  expect_one_line_error(run_scalelab("tokenizer stats --tokenizer " + d + "/broken"),
                        "vocab.json: malformed JSON");
  std::ofstream(d + "/t5/merges.txt", std::ios::app) << "this line is wrong\n";
  expect_one_line_error(run_scalelab("tokenizer stats --tokenizer " + d + "/t5"), "merges.txt:");
  // Ids beyond the vocabulary.
  ASSERT_EQ(run_scalelab("tokenizer train --quiet --input " + d +
                         "/ok.txt --vocab-size 270 --out " + d + "/t6")
                .exit_code,
            0);
  expect_one_line_error(run_scalelab("tokenizer decode --tokenizer " + d + "/t6 --ids 1,2,999"),
                        "--ids: token id 999 is outside the vocabulary (size 270)");
}

TEST(CliTokenizer, PatternsTiktokenFilesAndOrdinaryEncoding) {
  if (!std::filesystem::exists(kShared + "/cs336/corpus.en")) GTEST_SKIP() << "shared data missing";
  const std::string d = temp_dir("cli_tokfmt");
  const std::string fx = std::string(SCALELAB_SOURCE_DIR) + "/tests/data/tokenizers";
  // Train with the o200k pattern: the pattern is recorded and used when the files are read back.
  CommandResult t = run_scalelab("tokenizer train --quiet --pattern o200k --input " + kShared +
                                 "/cs336/corpus.en --vocab-size 400 --out " + d + "/tok");
  ASSERT_EQ(t.exit_code, 0) << t.err;
  EXPECT_EQ(json::read_file(d + "/tok/tokenizer_config.json")["pretokenizer"], "o200k");
  EXPECT_EQ(json::read_file(d + "/tok/train_config.json")["pattern"], "o200k");
  // A tiktoken rank file as --tokenizer; --ordinary treats special-token text as text.
  std::ofstream(d + "/s.txt") << "hi<|endoftext|>";
  for (const auto& [flag, ids] : std::vector<std::pair<std::string, std::vector<uint32_t>>>{
           {"", {6151, 100257}}, {" --ordinary", {6151, 27, 91, 8862, 728, 428, 91, 29}}}) {
    CommandResult e =
        run_scalelab("tokenizer encode --quiet" + flag + " --tokenizer " + fx +
                     "/cl100k_base.tiktoken --input " + d + "/s.txt --out " + d + "/s.bin");
    ASSERT_EQ(e.exit_code, 0) << e.err;
    const std::string raw = read_text_file(d + "/s.bin");
    std::vector<uint32_t> got(raw.size() / 4);
    std::memcpy(got.data(), raw.data(), raw.size());
    EXPECT_EQ(got, ids) << flag;
  }
  // A rank file with a line that is not base64; an unknown pattern.
  std::ofstream(d + "/cl100k_base.tiktoken") << "YQ== 0\nnot-base64! 1\n";
  expect_one_line_error(
      run_scalelab("tokenizer encode --tokenizer " + d + "/cl100k_base.tiktoken --input " + d +
                   "/s.txt --out " + d + "/x.bin"),
      "cl100k_base.tiktoken:2: token 'not-base64!' is not base64");
  EXPECT_FALSE(std::filesystem::exists(d + "/x.bin"));
  expect_one_line_error(run_scalelab("tokenizer train --quiet --pattern gpt5 --input " + d +
                                     "/s.txt --out " + d + "/t2"),
                        "gpt5");
}

}  // namespace
}  // namespace scalelab::testing
