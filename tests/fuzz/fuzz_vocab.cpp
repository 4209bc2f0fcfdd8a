// Tokenizer files from elsewhere: a GPT-2/HF vocab.json, merges.txt and tokenizer_config.json (the
// input's NUL-separated parts), read as a tokenizer directory; a tokenizer that loads then encodes
// and decodes a fixed text.
#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_io.h"

using namespace scalelab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto [vocab, merges, config] = fuzz::split_parts<3>(fuzz::as_text(data, size));
  const auto dir = fuzz::scratch_dir() / "tok";
  std::filesystem::create_directories(dir);
  fuzz::write_scratch("tok/vocab.json", vocab);
  fuzz::write_scratch("tok/merges.txt", merges);
  if (config.empty())
    std::filesystem::remove(dir / "tokenizer_config.json");
  else
    fuzz::write_scratch("tok/tokenizer_config.json", config);
  fuzz::refused_or_read([&] {
    const tokenizer::Tokenizer tok(tokenizer::load_tokenizer_dir(dir));
    (void)tok.decode(tok.encode("hello world <|endoftext|> déjà vu\n"));
  });
  return 0;
}
