// Tokenizer files of other tools: the first byte picks a tiktoken rank file (read with each
// pattern in turn) or a HuggingFace tokenizer.json, the rest is the file; a tokenizer that loads
// encodes a fixed text, decodes it back exactly, and writes its tokenizer.json.
#include "fuzz_support.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_io.h"

using namespace scalelab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view body = fuzz::as_text(data + 1, size - 1);
  const bool tiktoken = data[0] % 2 == 0;
  const auto pattern = static_cast<tokenizer::Pattern>((data[0] / 2) % 4);
  const auto file = fuzz::write_scratch(tiktoken ? "ranks.tiktoken" : "tokenizer.json", body);
  fuzz::refused_or_read([&] {
    const tokenizer::Tokenizer tok(
        tiktoken ? tokenizer::load_tiktoken(file, pattern, {{"<|endoftext|>", 300}})
                 : tokenizer::load_hf_tokenizer_json(file));
    const std::string text = "Hello world <|endoftext|> déjà vu DON'T 12345\r\n\n  x";
    if (tok.decode_bytes(tok.encode(text)) != text) std::abort();
    (void)tokenizer::to_hf_tokenizer_json(tok.model()).dump();
  });
  return 0;
}
