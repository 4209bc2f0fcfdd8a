// Exactness against tiktoken and HF tokenizers: ids equal to npm tiktoken's cl100k_base and
// o200k_base (from their rank files) and to HF tokenizers' on tokenizer.json files our trainer
// wrote, on the CS336 texts and a Unicode stress text (tests/data/tokenizers, its README). Plus the
// loaders' errors.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <sstream>

#include "common/file_util.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_io.h"

namespace scalelab::tokenizer {
namespace {

namespace fs = std::filesystem;

fs::path fixtures() { return fs::path(SCALELAB_SOURCE_DIR) / "tests/data/tokenizers"; }

std::vector<int32_t> read_ids(const fs::path& p) {
  std::vector<int32_t> ids;
  std::istringstream in(read_text_file(p));
  int64_t v = 0;
  while (in >> v) ids.push_back(static_cast<int32_t>(v));
  return ids;
}

// The texts and where they live.
std::vector<std::pair<std::string, fs::path>> texts() {
  return {{"corpus.en", testing::shared("cs336/corpus.en")},
          {"tinystories_sample", testing::shared("cs336/tinystories_sample.txt")},
          {"address", testing::shared("cs336/address.txt")},
          {"german", testing::shared("cs336/german.txt")},
          {"stress", fixtures() / "stress.txt"}};
}

// The first difference, for a readable failure.
void expect_ids(const std::vector<int32_t>& got, const std::vector<int32_t>& want,
                const std::string& what) {
  const size_t n = std::min(got.size(), want.size());
  for (size_t i = 0; i < n; ++i)
    if (got[i] != want[i]) {
      ADD_FAILURE() << what << ": id " << i << " is " << got[i] << ", expected " << want[i];
      return;
    }
  EXPECT_EQ(got.size(), want.size()) << what;
}

class Tiktoken : public ::testing::TestWithParam<std::string> {};

TEST_P(Tiktoken, IdsEqualNpmTiktoken) {
  const std::string enc = GetParam();
  const Tokenizer tok(load_tokenizer_dir(fixtures() / (enc + ".tiktoken")));
  EXPECT_EQ(tok.model().pattern, enc == "cl100k_base" ? Pattern::kCl100k : Pattern::kO200k);
  EXPECT_EQ(tok.vocab_size(), enc == "cl100k_base" ? 100277u : 200019u);  // tiktoken's n_vocab
  size_t checked = 0;
  for (const auto& [name, path] : texts()) {
    if (!fs::exists(path)) continue;
    const std::string text = read_text_file(path);
    const fs::path ordinary = fixtures() / (name + "." + enc + ".ordinary.ids");
    const fs::path special = fixtures() / (name + "." + enc + ".special.ids");
    const std::vector<int32_t> want = read_ids(ordinary);
    expect_ids(tok.encode_ordinary(text), want, name + " " + enc + " encode_ordinary");
    expect_ids(tok.encode(text), fs::exists(special) ? read_ids(special) : want,
               name + " " + enc + " encode (special tokens recognised)");
    EXPECT_EQ(tok.decode_bytes(tok.encode(text)), text) << name;
    ++checked;
  }
  EXPECT_GE(checked, 1u);
}

INSTANTIATE_TEST_SUITE_P(Encodings, Tiktoken, ::testing::Values("cl100k_base", "o200k_base"));

TEST(Tiktoken, GapIdsAreUnusedAndSpecialsHaveTheirIds) {
  const Tokenizer tok(load_tokenizer_dir(fixtures() / "cl100k_base.tiktoken"));
  EXPECT_EQ(tok.encode("<|endoftext|><|endofprompt|>"), (std::vector<int32_t>{100257, 100276}));
  EXPECT_EQ(testing::error_of([&] { tok.decode_bytes({100256}); }),
            "token id 100256 at position 0 is unused in this vocabulary");
}

// Saved as a tokenizer directory (vocab.json with the gaps left out, merges.txt, merge_priority
// "by_result") and read back, a tiktoken vocabulary encodes the same.
TEST(Tiktoken, SavedAsATokenizerDirectoryEncodesTheSame) {
  const BpeModel m = load_tokenizer_dir(fixtures() / "cl100k_base.tiktoken");
  const fs::path dir = fs::path(::testing::TempDir()) / "cl100k_dir";
  fs::remove_all(dir);
  save_tokenizer_dir(m, dir);
  const BpeModel back = load_tokenizer_dir(dir);
  EXPECT_EQ(back.tokens, m.tokens);
  EXPECT_EQ(back.pattern, Pattern::kCl100k);
  EXPECT_EQ(back.specials.size(), m.specials.size());
  const std::string text = read_text_file(fixtures() / "stress.txt");
  EXPECT_EQ(Tokenizer(back).encode(text), Tokenizer(m).encode(text));
}

TEST(Tiktoken, RankFileErrorsNameFileAndLine) {
  const fs::path dir = fs::path(::testing::TempDir()) / "tiktoken_errors";
  fs::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& body) {
    std::ofstream(dir / name) << body;
    return dir / name;
  };
  std::string bytes;
  for (int b = 0; b < 256; ++b) {
    static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    bytes += std::string{k[b >> 2], k[(b & 3) << 4], '=', '='} + " " + std::to_string(b) + "\n";
  }
  const auto f = write("mine.tiktoken", bytes + "aGk= 256\n");
  const BpeModel m = load_tiktoken(f, Pattern::kCl100k, {{"<|end|>", 300}});
  EXPECT_EQ(m.tokens.size(), 301u);
  EXPECT_EQ(Tokenizer(m).encode("hi<|end|>"), (std::vector<int32_t>{256, 300}));
  EXPECT_EQ(testing::error_of([&] {
              load_tiktoken(write("bad.tiktoken", bytes + "a?k= 256\n"), Pattern::kGpt2, {});
            }),
            (dir / "bad.tiktoken").string() + ":257: token 'a?k=' is not base64");
  // A binary or huge line is quoted printable and short: the error stays one readable line.
  EXPECT_EQ(
      testing::error_of([&] {
        load_tiktoken(write("bin.tiktoken", bytes + std::string(500, '\x01') + " 256\n"),
                      Pattern::kGpt2, {});
      }),
      (dir / "bin.tiktoken").string() + ":257: token '" +
          [] {
            std::string e;
            for (int i = 0; i < 48; ++i) e += "\\x01";
            return e;
          }() +
          "… (500 bytes)' is not base64");
  EXPECT_EQ(testing::error_of([&] {
              load_tiktoken(write("rank.tiktoken", bytes + "aGk= x\n"), Pattern::kGpt2, {});
            }),
            (dir / "rank.tiktoken").string() + ":257: rank 'x' is not an integer in [0, 4194304)");
  EXPECT_EQ(testing::error_of([&] {
              load_tiktoken(write("dup.tiktoken", bytes + "aGk= 255\n"), Pattern::kGpt2, {});
            }),
            (dir / "dup.tiktoken").string() + ":257: rank 255 appears twice");
  EXPECT_EQ(testing::error_of(
                [&] { load_tiktoken(write("short.tiktoken", "YQ== 0\n"), Pattern::kGpt2, {}); }),
            (dir / "short.tiktoken").string() + ": BPE model: no token for byte 0");
  EXPECT_EQ(testing::error_of([&] { load_tokenizer_dir(write("other.tiktoken", bytes)); }),
            (dir / "other.tiktoken").string() +
                ": unknown tiktoken encoding 'other' (known: cl100k_base, o200k_base, r50k_base, "
                "p50k_base); for another rank file write a tokenizer_config.json naming it, its "
                "pattern and its special tokens (docs/tokenizer.md)");
  // A rank file named by a native tokenizer_config.json, with its specials.
  write("tokenizer.model", bytes + "aGk= 256\n");
  write("tokenizer_config.json",
        R"({"format": "scalelab-bpe", "version": 1, "tiktoken": "tokenizer.model",
            "pretokenizer": "llama3", "special_tokens": {"<|begin_of_text|>": 257}})");
  const BpeModel l = load_tokenizer_dir(dir);
  EXPECT_EQ(l.pattern, Pattern::kLlama3);
  EXPECT_EQ(l.specials, (std::vector<std::pair<std::string, int32_t>>{{"<|begin_of_text|>", 257}}));
  write("tokenizer_config.json",
        R"({"format": "scalelab-bpe", "version": 1, "pretokenizer": "gpt5"})");
  EXPECT_EQ(testing::error_of([&] { load_tokenizer_dir(dir); }),
            (dir / "tokenizer_config.json").string() +
                ".pretokenizer: unknown pre-tokenizer pattern 'gpt5' (expected one of: gpt2, "
                "cl100k, o200k, llama3)");
}

// tokenizer.json files written by `scalelab tokenizer train --pattern llama3|o200k --vocab-size
// 1000 --special-token "<|endoftext|>" --special-token "<|begin_of_text|>" --input
// ../shared/data/cs336/corpus.en --input tests/data/tokenizers/stress.txt` (a Split on the
// pattern's regex, then ByteLevel: Llama 3's layout), read back, give HF tokenizers' ids.
class HfTokenizerJson : public ::testing::TestWithParam<std::string> {};

TEST_P(HfTokenizerJson, IdsEqualHfTokenizers) {
  const std::string name = GetParam();
  const Tokenizer tok(load_tokenizer_dir(fixtures() / (name + ".tokenizer.json")));
  EXPECT_EQ(tok.model().pattern, name == "llama3-style" ? Pattern::kCl100k : Pattern::kO200k);
  size_t checked = 0;
  for (const auto& [text_name, path] : texts()) {
    if (!fs::exists(path)) continue;
    const std::string text = read_text_file(path);
    expect_ids(tok.encode(text), read_ids(fixtures() / (text_name + "." + name + ".ids")),
               text_name + " " + name);
    ++checked;
  }
  EXPECT_GE(checked, 1u);
  // Written back, the file says the same (pattern, merges, added tokens, ignore_merges).
  const nlohmann::json again = to_hf_tokenizer_json(tok.model());
  const nlohmann::json orig =
      nlohmann::json::parse(read_text_file(fixtures() / (name + ".tokenizer.json")));
  EXPECT_EQ(again["pre_tokenizer"], orig["pre_tokenizer"]);
  EXPECT_EQ(again["model"], orig["model"]);
  EXPECT_EQ(again["added_tokens"], orig["added_tokens"]);
}

INSTANTIATE_TEST_SUITE_P(Files, HfTokenizerJson, ::testing::Values("llama3-style", "o200k-style"));

TEST(HfTokenizerJson, UnsupportedFilesAreOneLineErrors) {
  const fs::path dir = fs::path(::testing::TempDir()) / "hf_json_errors";
  fs::create_directories(dir);
  nlohmann::json base =
      nlohmann::json::parse(read_text_file(fixtures() / "llama3-style.tokenizer.json"));
  const auto error_with = [&](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json j = base;
    edit(j);
    const fs::path f = dir / "tokenizer.json";
    std::ofstream(f) << j.dump();
    return testing::error_of([&] { load_tokenizer_dir(f); });
  };
  const std::string f = (dir / "tokenizer.json").string();
  EXPECT_EQ(error_with([](nlohmann::json& j) {
              j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\w+";
            }),
            f + ": pre_tokenizer.pretokenizers[0].pattern.Regex: not one of scalelab's patterns "
                "(gpt2, cl100k, o200k, llama3): \\w+");
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["model"]["type"] = "WordPiece"; }),
            f + ": model.type: expected BPE, got \"WordPiece\"");
  EXPECT_EQ(error_with([](nlohmann::json& j) {
              j["normalizer"] = {{"type", "NFC"}};
            }),
            f + ": normalizer: not supported (scalelab's tokenizers have none)");
  EXPECT_EQ(error_with([](nlohmann::json& j) { j["model"]["merges"][0] = "t"; }),
            f + ": model.merges[0]: expected two tokens separated by one space");
  EXPECT_EQ(error_with([](nlohmann::json& j) {
              j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true;
            }),
            f + ": pre_tokenizer.pretokenizers[1].add_prefix_space: true is not supported "
                "(scalelab adds no prefix space)");
  {
    std::ofstream(dir / "tokenizer.json") << "{\"model\": ";
    EXPECT_NE(testing::error_of([&] {
                load_tokenizer_dir(dir / "tokenizer.json");
              }).find(f + ": malformed JSON"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace scalelab::tokenizer
