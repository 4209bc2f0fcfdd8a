// The token-file sidecar FILE.bin.json next to a FILE.bin of the input's length byte count: the
// first two bytes give FILE.bin's size (0–65535), the rest is the sidecar.
#include "common/token_file.h"
#include "fuzz_support.h"

using namespace scalelab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const size_t bin_bytes = data[0] | (static_cast<size_t>(data[1]) << 8);
  const auto bin = fuzz::write_scratch("t.bin", std::string(bin_bytes, '\x01'));
  fuzz::write_scratch("t.bin.json", fuzz::as_text(data + 2, size - 2));
  fuzz::refused_or_read([&] { (void)read_token_meta(bin); });
  return 0;
}
