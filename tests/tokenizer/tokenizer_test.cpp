#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <random>
#include <sstream>

#include "common/file_util.h"
#include "test_util.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/file_encoder.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab_io.h"

namespace scalelab::tokenizer {
namespace {

using testing::error_of;
using testing::shared;

const Tokenizer& gpt2() {
  static const Tokenizer t(load_gpt2(shared("cs336/gpt2_vocab.json"),
                                     shared("cs336/gpt2_merges.txt"), {"<|endoftext|>"}));
  return t;
}

std::vector<int32_t> read_ids(const std::string& path) {
  std::ifstream in(path);
  std::vector<int32_t> ids;
  int32_t v;
  while (in >> v) ids.push_back(v);
  return ids;
}

class Gpt2Exactness : public ::testing::TestWithParam<const char*> {};

TEST_P(Gpt2Exactness, IdsEqualTiktoken) {
  SCALELAB_REQUIRE_SHARED(shared("cs336/gpt2_vocab.json"));
  const std::string name = GetParam();
  std::string text = read_text_file(shared("cs336/" + name));
  std::vector<int32_t> want = read_ids(shared("gpt2_expected/" + name + ".ids.txt"));
  // tiktoken's encode_ordinary: no special-token handling.
  std::vector<int32_t> got = gpt2().encode_ordinary(text);
  ASSERT_EQ(got.size(), want.size());
  EXPECT_EQ(got, want);
  EXPECT_EQ(gpt2().decode(got), text);
}
INSTANTIATE_TEST_SUITE_P(Texts, Gpt2Exactness,
                         ::testing::Values("corpus.en", "tinystories_sample.txt", "address.txt",
                                           "german.txt"));

TEST(Tokenizer, Gpt2SpecialTokens) {
  SCALELAB_REQUIRE_SHARED(shared("cs336/gpt2_vocab.json"));
  const Tokenizer& t = gpt2();
  EXPECT_EQ(t.encode("<|endoftext|>"), (std::vector<int32_t>{50256}));
  EXPECT_EQ(t.encode("<|endoftext|><|endoftext|>"), (std::vector<int32_t>{50256, 50256}));
  std::vector<int32_t> ids = t.encode("Hello<|endoftext|> world");
  EXPECT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1], 50256);
  EXPECT_EQ(t.decode(ids), "Hello<|endoftext|> world");
}

TEST(Tokenizer, OverlappingSpecialsLongestFirst) {
  BpeTrainerOptions o;
  o.vocab_size = 280;
  o.special_tokens = {"<|a|>", "<|a|><|a|>"};
  BpeModel m = train_bpe_on_text("some text <|a|> more text <|a|><|a|> end", o);
  Tokenizer t(m);
  int32_t one = -1, two = -1;
  for (const auto& [s, id] : m.specials) (s == "<|a|>" ? one : two) = id;
  std::vector<int32_t> ids = t.encode("x<|a|><|a|><|a|>y");
  // Longest first at each position: the double token, then the single one.
  std::vector<int32_t> specials;
  for (int32_t id : ids)
    if (id == one || id == two) specials.push_back(id);
  EXPECT_EQ(specials, (std::vector<int32_t>{two, one}));
  EXPECT_EQ(t.decode(ids), "x<|a|><|a|><|a|>y");
}

TEST(Tokenizer, HeapAndLinearMergeAgree) {
  SCALELAB_REQUIRE_SHARED(shared("cs336/gpt2_vocab.json"));
  const Tokenizer& t = gpt2();
  std::mt19937 rng(5);
  std::string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ,.'";
  for (int k = 0; k < 300; ++k) {
    std::string piece;
    int len = 1 + static_cast<int>(rng() % 300);
    for (int i = 0; i < len; ++i) piece.push_back(alphabet[rng() % alphabet.size()]);
    std::vector<int32_t> a, b;
    t.encode_piece_linear(piece, a);
    t.encode_piece_heap(piece, b);
    ASSERT_EQ(a, b) << piece;
  }
}

std::string random_unicode(std::mt19937& rng, size_t n_chars) {
  // A mix designed to hit every branch: ASCII, Latin-1, spaces of every kind (incl. U+180E, which
  // is not White_Space, and U+0085/U+00A0/U+3000, which are), digits of several scripts, letters of
  // many scripts, combining marks, emoji, apostrophes and contractions.
  static const char32_t pool[] = {
      'a',     'z',    'A',    'Q',    '0',    '7',    ' ',    ' ',     ' ',     '\n',   '\t',
      '\r',    '\'',   '!',    '.',    ',',    '-',    's',    't',     'l',     'v',    'e',
      'r',     'd',    'm',    0x0B,   0x0C,   0x1C,   0x85,   0xA0,    0x1680,  0x180E, 0x2000,
      0x2009,  0x200B, 0x2028, 0x202F, 0x3000, 0xE9,   0xDF,   0xBD,    0x2167,  0x0663, 0x0966,
      0xFF11,  0x03B1, 0x0416, 0x05D0, 0x0627, 0x4E2D, 0x3042, 0xAC00,  0x0301,  0x0308, 0x1F600,
      0x1F468, 0x200D, 0xFE0F, 0x2019, 0x00B7, 0x02B0, 0x16EE, 0x1D7CE, 0x10FFFD};
  std::string s;
  for (size_t i = 0; i < n_chars; ++i) {
    char32_t cp = rng() % 4 == 0 ? static_cast<char32_t>(0x20 + rng() % 0x2FFF)
                                 : pool[rng() % std::size(pool)];
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
    append_utf8(s, cp);
  }
  return s;
}

TEST(Tokenizer, RoundTripRandomUnicodeAndRandomBytes) {
  SCALELAB_REQUIRE_SHARED(shared("cs336/gpt2_vocab.json"));
  const Tokenizer& t = gpt2();
  std::mt19937 rng(9);
  for (int k = 0; k < 50; ++k) {
    std::string text = random_unicode(rng, 400);
    ASSERT_EQ(find_invalid_utf8(text), std::string_view::npos);
    EXPECT_EQ(t.decode(t.encode(text)), text);
  }
  // Random bytes: every byte sequence is representable; decode_bytes gives them back exactly, and
  // decode() replaces the invalid parts with U+FFFD.
  for (int k = 0; k < 50; ++k) {
    std::string bytes;
    for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<char>(rng() % 256));
    std::string fixed = replace_invalid_utf8(bytes);
    std::vector<int32_t> ids = t.encode(fixed);
    EXPECT_EQ(t.decode(ids), fixed);
    EXPECT_EQ(find_invalid_utf8(t.decode(ids)), std::string_view::npos);
  }
  // Tokens that split a character decode to U+FFFD.
  std::vector<int32_t> ids = t.encode("é");
  std::vector<int32_t> half;
  for (unsigned char c : std::string("\xC3")) half.push_back(gpt2().model().byte_ids()[c]);
  EXPECT_EQ(t.decode(half), "\xEF\xBF\xBD");
}

// Found by fuzzing (tests/fuzz, fuzz_bpe): encoding bytes that end in a lead byte, or hold one
// followed by a non-continuation byte, read past the end of the text in the pre-tokenizer (ASan:
// heap-buffer-overflow). Any bytes now encode, and decode_bytes gives them back exactly.
TEST(Tokenizer, EncodesAnyBytesWithinTheText) {
  BpeTrainerOptions o;
  o.vocab_size = 300;
  o.threads = 1;
  const Tokenizer t(train_bpe_on_text("hello world, hello there, d\xC3\xA9j\xC3\xA0 vu", o));
  for (const std::string& bytes :
       {std::string("ab \"\xFF"), std::string(",\x03d?u \"\xFF"), std::string("end \xC3"),
        std::string("\xE6\x97"), std::string("\xF0\x9F\x99"), std::string("x\xC3 \"\xA3"),
        std::string("\xF8\x88\x80\x80\x80"), std::string("\x80\xBF tail"),
        std::string("ok d\xC3\xA9j\xC3\xA0")}) {
    // Each in a buffer of its exact size, so that ASan sees a read past the end.
    const std::unique_ptr<char[]> buf(new char[bytes.size()]);
    std::copy(bytes.begin(), bytes.end(), buf.get());
    const std::string_view text(buf.get(), bytes.size());
    EXPECT_EQ(t.decode_bytes(t.encode(text)), bytes);
    EXPECT_EQ(t.decode_bytes(t.encode_ordinary(text)), bytes);
  }
  // A truncated sequence decodes as one byte of U+FFFD; valid ones as their code point.
  size_t len = 0;
  EXPECT_EQ(decode_utf8("\xE6\x97", 0, len), U'\uFFFD');
  EXPECT_EQ(len, 1u);
  EXPECT_EQ(decode_utf8("\xE6\x97\xA5", 0, len), U'\u65E5');
  EXPECT_EQ(len, 3u);
}

TEST(Tokenizer, UnknownIdIsAnError) {
  SCALELAB_REQUIRE_SHARED(shared("cs336/gpt2_vocab.json"));
  EXPECT_EQ(error_of([] {
              gpt2().decode({15496, 50257});
            }),
            "token id 50257 at position 1 is outside the vocabulary (size 50257)");
  EXPECT_THROW(gpt2().decode({-1}), Error);
}

TEST(FileEncoder, StreamingEqualsWholeTextForAnyChunking) {
  SCALELAB_REQUIRE_SHARED(shared("cs336/gpt2_vocab.json"));
  auto dir = std::filesystem::temp_directory_path() / ("scalelab_enc_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string text = read_text_file(shared("cs336/tinystories_sample.txt"));
  text += "<|endoftext|>" + read_text_file(shared("cs336/german.txt")) +
          "<|endoftext|><|endoftext|>  \n\n  end";
  write_text_file_atomic(dir / "in.txt", text);
  const std::vector<int32_t> whole = gpt2().encode(text);
  for (size_t chunk : {7ul, 64ul, 1000ul, 1ul << 20}) {
    EncodeFileOptions o;
    o.chunk_bytes = chunk;
    o.window_chunks = 3;
    o.threads = 3;
    EncodeFileResult r = encode_file(gpt2(), dir / "in.txt", dir / "out.bin", o);
    EXPECT_EQ(r.dtype, "uint16");  // 50,257 ids fit in 16 bits
    std::vector<int32_t> got = read_token_file(dir / "out.bin", gpt2().vocab_size());
    EXPECT_EQ(got, whole) << "chunk " << chunk;
  }
  std::filesystem::remove_all(dir);
}

TEST(FileEncoder, BadInputLeavesNoFiles) {
  SCALELAB_REQUIRE_SHARED(shared("cs336/gpt2_vocab.json"));
  auto dir =
      std::filesystem::temp_directory_path() / ("scalelab_encbad_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  write_text_file_atomic(dir / "bad.txt", "hello world \xC3\x28 more");
  EXPECT_EQ(error_of([&] { encode_file(gpt2(), dir / "bad.txt", dir / "out.bin", {}); }),
            (dir / "bad.txt").string() +
                ": invalid UTF-8 at byte offset 12 (use --invalid-utf8 replace to proceed)");
  EXPECT_FALSE(std::filesystem::exists(dir / "out.bin"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // no temp file either
  EncodeFileOptions o;
  o.invalid_utf8 = InvalidUtf8::kReplace;
  encode_file(gpt2(), dir / "bad.txt", dir / "out.bin", o);
  EXPECT_EQ(gpt2().decode(read_token_file(dir / "out.bin")), "hello world \xEF\xBF\xBD( more");
  // A truncated token file and ids beyond a vocabulary are errors.
  std::filesystem::resize_file(dir / "out.bin", std::filesystem::file_size(dir / "out.bin") - 1);
  EXPECT_NE(error_of([&] { read_token_file(dir / "out.bin"); }).find("truncated?"),
            std::string::npos);
  encode_file(gpt2(), dir / "bad.txt", dir / "out.bin", o);
  EXPECT_NE(error_of([&] {
              read_token_file(dir / "out.bin", 100);
            }).find("beyond the vocabulary (size 100)"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace scalelab::tokenizer
