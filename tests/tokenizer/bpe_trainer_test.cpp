#include "tokenizer/bpe_trainer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "common/file_util.h"
#include "common/json.h"
#include "test_util.h"
#include "tokenizer/vocab_io.h"

namespace scalelab::tokenizer {
namespace {

using testing::error_of;
using testing::shared;

TEST(BpeTrainer, ReproducesCs336ReferenceMergesAndVocab) {
  const std::string corpus = shared("cs336/corpus.en");
  SCALELAB_REQUIRE_SHARED(corpus);
  BpeTrainerOptions o;
  o.vocab_size = 500;
  o.special_tokens = {"<|endoftext|>"};
  BpeModel m = train_bpe({corpus}, o);
  ASSERT_EQ(m.tokens.size(), 500u);
  // Merges, in order, exactly.
  std::ifstream in(shared("cs336/train-bpe-reference-merges.txt"));
  std::string line;
  size_t r = 0;
  while (std::getline(in, line)) {
    ASSERT_LT(r, m.merges.size());
    size_t sp = line.find(' ');
    std::string a = gpt2_to_bytes(line.substr(0, sp), "ref"),
                b = gpt2_to_bytes(line.substr(sp + 1), "ref");
    EXPECT_EQ(m.tokens[static_cast<size_t>(m.merges[r].first)], a) << "merge " << r + 1;
    EXPECT_EQ(m.tokens[static_cast<size_t>(m.merges[r].second)], b) << "merge " << r + 1;
    ++r;
  }
  EXPECT_EQ(r, m.merges.size());
  // The vocabulary as a set of byte strings.
  json::Json ref = json::read_file(shared("cs336/train-bpe-reference-vocab.json"));
  std::set<std::string> want, got(m.tokens.begin(), m.tokens.end());
  for (const auto& [tok, id] : ref.items())
    want.insert(tok == "<|endoftext|>" ? tok : gpt2_to_bytes(tok, "ref"));
  EXPECT_EQ(got, want);
  EXPECT_EQ(m.specials.size(), 1u);
  EXPECT_EQ(m.specials[0].second, 0);  // specials first, then bytes, then merges
  EXPECT_NO_THROW(m.validate());
}

TEST(BpeTrainer, SameResultWithOneOrManyThreadsAndTinyChunks) {
  const std::string corpus = shared("cs336/tinystories_sample.txt");
  SCALELAB_REQUIRE_SHARED(corpus);
  BpeTrainerOptions o;
  o.vocab_size = 400;
  o.threads = 1;
  BpeModel a = train_bpe({corpus}, o);
  o.threads = 4;
  o.chunk_bytes = 97;  // forces many cuts at special tokens and safe pre-token boundaries
  BpeModel b = train_bpe({corpus}, o);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.merges, b.merges);
}

TEST(BpeTrainer, SpecialTokensAreNeverMergedAcross) {
  BpeTrainerOptions o;
  o.vocab_size = 300;
  o.special_tokens = {"<|endoftext|>"};
  std::string text;
  for (int i = 0; i < 50; ++i) text += "ab<|endoftext|>ab<|endoftext|><|endoftext|>";
  BpeModel m = train_bpe_on_text(text, o);
  for (const auto& t : m.tokens) {
    if (t == "<|endoftext|>") continue;
    EXPECT_EQ(t.find("<|"), std::string::npos) << t;
    EXPECT_EQ(t.find("|>"), std::string::npos) << t;
  }
  // Only "ab" is mergeable: one merge, then no pairs are left.
  EXPECT_EQ(m.merges.size(), 1u);
  EXPECT_EQ(m.tokens.back(), "ab");
}

TEST(BpeTrainer, TiesGoToTheLexicographicallyGreaterPair) {
  BpeTrainerOptions o;
  o.vocab_size = 258;
  o.special_tokens = {};
  // "ab" and "cd" both occur twice; ("c","d") > ("a","b") so it merges first.
  BpeModel m = train_bpe_on_text("ab cd ab cd", o);
  ASSERT_GE(m.merges.size(), 1u);
  EXPECT_EQ(m.tokens[static_cast<size_t>(m.merge_result[0])], "cd");
}

TEST(BpeTrainer, BadInput) {
  BpeTrainerOptions o;
  o.vocab_size = 200;
  EXPECT_EQ(error_of([&] { train_bpe_on_text("abc", o); }),
            "vocab_size: 200 is smaller than 256 bytes + 1 special tokens = 257");
  o.vocab_size = 300;
  EXPECT_EQ(error_of([&] { train_bpe_on_text("", o, "empty.txt"); }), "empty.txt: text is empty");
  EXPECT_EQ(error_of([&] { train_bpe_on_text("<|endoftext|><|endoftext|>", o, "s.txt"); }),
            "s.txt: no text to train on (the input holds only special tokens)");
  EXPECT_EQ(error_of([&] { train_bpe_on_text("abc \xff\xfe def", o, "bad.txt"); }),
            "bad.txt: invalid UTF-8 at byte offset 4 (use --invalid-utf8 replace to proceed)");
  o.invalid_utf8 = InvalidUtf8::kReplace;
  BpeModel m = train_bpe_on_text("abc \xff\xfe def abc", o, "bad.txt");
  EXPECT_GT(m.merges.size(), 0u);
  auto dir = std::filesystem::temp_directory_path() / "scalelab_bpe_bad";
  std::filesystem::create_directories(dir);
  write_text_file_atomic(dir / "empty.txt", "");
  EXPECT_EQ(error_of([&] { train_bpe({dir / "empty.txt"}, o); }),
            (dir / "empty.txt").string() + ": file is empty");
  EXPECT_NE(error_of([&] { train_bpe({dir / "missing.txt"}, o); }).find("missing.txt: cannot open"),
            std::string::npos);
}

}  // namespace
}  // namespace scalelab::tokenizer
