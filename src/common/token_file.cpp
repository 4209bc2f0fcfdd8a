#include "common/token_file.h"

#include "common/error.h"

namespace scalelab {

json::Json to_json(const TokenFileMeta& m) {
  return {{"dtype", m.dtype},           {"count", m.count},
          {"vocab_size", m.vocab_size}, {"tokenizer_hash", m.tokenizer_hash},
          {"source", m.source},         {"bytes", m.bytes}};
}

TokenFileMeta read_token_meta(const std::filesystem::path& bin) {
  const std::string side = bin.string() + ".json";
  SCALELAB_CHECK(std::filesystem::exists(side),
                 "{}: missing sidecar {} (write token files with `scalelab tokenizer encode`)",
                 bin.string(), side);
  json::Json j = json::read_file(side);
  json::ObjectReader r(j, side);
  TokenFileMeta m;
  r.require("dtype", m.dtype);
  r.require("count", m.count);
  r.get("vocab_size", m.vocab_size);
  r.get("tokenizer_hash", m.tokenizer_hash);
  r.get("source", m.source);
  r.get("bytes", m.bytes);
  r.finish();
  SCALELAB_CHECK(m.dtype == "uint16" || m.dtype == "uint32",
                 "{}: dtype must be uint16 or uint32, got '{}'", side, m.dtype);
  std::error_code ec;
  const auto size = std::filesystem::file_size(bin, ec);
  SCALELAB_CHECK(!ec, "{}: cannot open: {}", bin.string(), ec.message());
  SCALELAB_CHECK(size == m.count * m.width(),
                 "{}: {} bytes, but the sidecar says {} {} tokens ({} bytes); truncated?",
                 bin.string(), size, m.count, m.dtype, m.count * m.width());
  return m;
}

void write_token_meta(const std::filesystem::path& bin, const TokenFileMeta& m) {
  json::write_file(bin.string() + ".json", to_json(m));
}

}  // namespace scalelab
