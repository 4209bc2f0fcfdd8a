// Byte-level BPE training on arbitrary bytes, then encode → decode must give the bytes back.
// The first byte picks the options: vocab_size 257 + (b & 63) (≥ the 256 bytes and the special),
// and invalid UTF-8 refused (b & 64) or replaced. Training on invalid UTF-8 may refuse (Error);
// encoding never does.
#include <cstdlib>

#include "fuzz_support.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/tokenizer.h"

using namespace scalelab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t b = data[0];
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  tokenizer::BpeTrainerOptions o;
  o.vocab_size = 257 + (b & 63);
  o.threads = 1;
  o.invalid_utf8 = (b & 64) ? tokenizer::InvalidUtf8::kError : tokenizer::InvalidUtf8::kReplace;
  fuzz::refused_or_read([&] {
    const tokenizer::Tokenizer tok(tokenizer::train_bpe_on_text(text, o, "fuzz"));
    const std::vector<int32_t> ids = tok.encode(text);
    if (tok.decode_bytes(ids) != text) std::abort();  // the round trip is exact, any bytes
    if (tok.decode_bytes(tok.encode_ordinary(text)) != text) std::abort();
  });
  return 0;
}
