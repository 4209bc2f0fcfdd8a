#include "tokenizer/vocab_io.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "test_util.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/tokenizer.h"

namespace scalelab::tokenizer {
namespace {

using testing::error_of;

std::filesystem::path tmp(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() /
           ("scalelab_vocab_" + name + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(VocabIo, Gpt2ByteMapping) {
  EXPECT_EQ(bytes_to_gpt2(" the"), "\u0120the");
  EXPECT_EQ(bytes_to_gpt2("\n"), "\u010A");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(gpt2_to_bytes(bytes_to_gpt2(all), "x"), all);
  EXPECT_EQ(error_of([] { gpt2_to_bytes("a\u4E2D", "vocab.json: token"); }),
            "vocab.json: token: character U+4E2D is not in GPT-2's byte map");
}

TEST(VocabIo, NativeDirectoryRoundTripAndHfExport) {
  BpeTrainerOptions o;
  o.vocab_size = 320;
  o.special_tokens = {"<|endoftext|>", "<|pad|>"};
  BpeModel m = train_bpe_on_text("the cat sat on the mat<|endoftext|>the dog ate the cat food", o);
  auto d = tmp("native");
  save_tokenizer_dir(m, d);
  BpeModel back = load_tokenizer_dir(d);
  EXPECT_EQ(back.tokens, m.tokens);
  EXPECT_EQ(back.merges, m.merges);
  EXPECT_EQ(back.specials, m.specials);
  EXPECT_EQ(back.hash(), m.hash());
  json::Json hf = to_hf_tokenizer_json(m);
  EXPECT_EQ(hf["model"]["type"], "BPE");
  EXPECT_EQ(hf["pre_tokenizer"]["type"], "ByteLevel");
  EXPECT_EQ(hf["pre_tokenizer"]["add_prefix_space"], false);
  EXPECT_EQ(hf["added_tokens"].size(), 2u);
  EXPECT_EQ(hf["model"]["merges"].size(), m.merges.size());
  EXPECT_EQ(hf["model"]["vocab"].size(), m.tokens.size());
}

TEST(VocabIo, MalformedFilesNameFileAndLine) {
  auto d = tmp("bad");
  write_text_file_atomic(d / "vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
  write_text_file_atomic(d / "merges.txt", "#version: 0.2\na b\nab\n");
  EXPECT_EQ(error_of([&] { load_gpt2(d / "vocab.json", d / "merges.txt", {}); }),
            (d / "merges.txt").string() + ":3: expected two tokens separated by one space");
  write_text_file_atomic(d / "merges.txt", "a c\n");
  EXPECT_EQ(error_of([&] { load_gpt2(d / "vocab.json", d / "merges.txt", {}); }),
            (d / "merges.txt").string() + ":1: merge of tokens not in the vocabulary");
  write_text_file_atomic(d / "vocab.json", R"({"a": 0, "b": 0})");
  EXPECT_EQ(error_of([&] { load_gpt2(d / "vocab.json", d / "merges.txt", {}); }),
            (d / "vocab.json").string() + ": id 0 is used twice");
  write_text_file_atomic(d / "vocab.json", R"(["a"])");
  EXPECT_EQ(error_of([&] { load_gpt2(d / "vocab.json", d / "merges.txt", {}); }),
            (d / "vocab.json").string() + ": expected a JSON object mapping tokens to ids");
  // Every byte must have a token.
  write_text_file_atomic(d / "vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
  write_text_file_atomic(d / "merges.txt", "a b\n");
  EXPECT_EQ(error_of([&] { load_gpt2(d / "vocab.json", d / "merges.txt", {}); }),
            (d / "vocab.json").string() + ": BPE model: no token for byte 0");
  EXPECT_EQ(error_of([&] { load_tokenizer_dir(d / "nope"); }),
            (d / "nope").string() + ": not a tokenizer directory");
}

}  // namespace
}  // namespace scalelab::tokenizer
