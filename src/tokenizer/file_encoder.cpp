// The streaming encoder.
#include "tokenizer/file_encoder.h"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "common/error.h"
#include "common/file_util.h"
#include "common/mmap_file.h"
#include "common/thread_pool.h"
#include "common/token_file.h"
#include "tokenizer/chunker.h"
#include "tokenizer/unicode.h"

namespace scalelab::tokenizer {

namespace {

class OutFile {
 public:
  explicit OutFile(const std::filesystem::path& final_path) : final_(final_path) {
    tmp_ = final_.string() + ".tmp." + std::to_string(::getpid());
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    SCALELAB_CHECK(fd_ >= 0, "{}: cannot write: {}", final_.string(), std::strerror(errno));
  }
  ~OutFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(tmp_.c_str());  // no partial files left behind
  }
  void write(const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n > 0) {
      ssize_t w = ::write(fd_, c, n);
      if (w < 0 && errno == EINTR) continue;
      SCALELAB_CHECK(w > 0, "{}: write failed: {}", final_.string(), std::strerror(errno));
      c += w;
      n -= static_cast<size_t>(w);
    }
  }
  void commit() {
    SCALELAB_CHECK(::fsync(fd_) == 0 && ::close(fd_) == 0, "{}: write failed: {}", final_.string(),
                   std::strerror(errno));
    fd_ = -1;
    SCALELAB_CHECK(::rename(tmp_.c_str(), final_.c_str()) == 0, "{}: cannot rename: {}",
                   final_.string(), std::strerror(errno));
    committed_ = true;
  }

 private:
  std::filesystem::path final_;
  std::string tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace

EncodeFileResult encode_file(const Tokenizer& tok, const std::filesystem::path& input,
                             const std::filesystem::path& output, const EncodeFileOptions& o,
                             ProgressBar* progress) {
  const auto t0 = std::chrono::steady_clock::now();
  SCALELAB_CHECK(o.dtype == "auto" || o.dtype == "uint16" || o.dtype == "uint32",
                 "dtype: expected auto, uint16 or uint32, got '{}'", o.dtype);
  const bool u16 = o.dtype == "uint16" || (o.dtype == "auto" && tok.vocab_size() <= 65536);
  SCALELAB_CHECK(!(u16 && tok.vocab_size() > 65536),
                 "dtype uint16 cannot hold a vocabulary of {} tokens", tok.vocab_size());
  MmapFile in(input);
  SCALELAB_CHECK(!in.empty(), "{}: file is empty", input.string());
  const std::string_view text = in.view();
  if (!output.parent_path().empty()) ensure_writable_directory(output.parent_path());
  OutFile out(output);
  if (progress != nullptr) progress->set_total(static_cast<int64_t>(text.size()));
  std::vector<std::string> special_texts;
  if (!o.ordinary)
    for (const auto& s : tok.model().specials) special_texts.push_back(s.first);
  SpecialSplitter sp(special_texts);
  const auto encode = [&](std::string_view t, std::vector<int32_t>& dst) {
    if (o.ordinary)
      tok.encode_ordinary(t, dst);
    else
      tok.encode(t, dst);
  };
  const std::vector<Chunk> chunks = plan_chunks(text, o.chunk_bytes, sp);
  ThreadPool pool(o.threads);
  EncodeFileResult res;
  res.dtype = u16 ? "uint16" : "uint32";
  res.bytes = text.size();
  const size_t window = std::max<size_t>(o.window_chunks, pool.size());
  std::vector<std::vector<int32_t>> ids(window);
  std::vector<uint16_t> buf16;
  std::vector<uint32_t> buf32;
  for (size_t w0 = 0; w0 < chunks.size(); w0 += window) {
    const size_t w1 = std::min(chunks.size(), w0 + window);
    pool.parallel_for(w1 - w0, [&](size_t b, size_t e) {
      for (size_t k = b; k < e; ++k) {
        const Chunk& c = chunks[w0 + k];
        std::string_view piece = text.substr(c.begin, c.end - c.begin);
        ids[k].clear();
        size_t bad = find_invalid_utf8(piece);
        if (bad != std::string_view::npos) {
          SCALELAB_CHECK(
              o.invalid_utf8 == InvalidUtf8::kReplace,
              "{}: invalid UTF-8 at byte offset {} (use --invalid-utf8 replace to proceed)",
              input.string(), c.begin + bad);
          encode(replace_invalid_utf8(piece), ids[k]);
        } else {
          encode(piece, ids[k]);
        }
      }
    });
    for (size_t k = 0; k < w1 - w0; ++k) {
      const auto& v = ids[k];
      if (u16) {
        buf16.assign(v.begin(), v.end());
        out.write(buf16.data(), buf16.size() * sizeof(uint16_t));
      } else {
        buf32.assign(v.begin(), v.end());
        out.write(buf32.data(), buf32.size() * sizeof(uint32_t));
      }
      res.tokens += v.size();
      const Chunk& c = chunks[w0 + k];
      in.release(c.begin, c.end - c.begin);
      if (progress != nullptr) progress->update(static_cast<int64_t>(c.end - c.begin));
    }
  }
  out.commit();
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_token_meta(output, {res.dtype, res.tokens, tok.vocab_size(), tok.model().hash(),
                            input.string(), res.bytes});
  return res;
}

std::vector<int32_t> read_token_file(const std::filesystem::path& path, size_t vocab_size) {
  const TokenFileMeta meta = read_token_meta(path);
  MmapFile f(path);
  std::vector<int32_t> ids(meta.count);
  for (size_t i = 0; i < meta.count; ++i) {
    uint32_t v = 0;
    if (meta.width() == 2) {
      uint16_t x;
      std::memcpy(&x, f.data() + 2 * i, 2);
      v = x;
    } else {
      std::memcpy(&v, f.data() + 4 * i, 4);
    }
    SCALELAB_CHECK(vocab_size == 0 || v < vocab_size,
                   "{}: token {} has id {}, beyond the vocabulary (size {})", path.string(), i, v,
                   vocab_size);
    ids[i] = static_cast<int32_t>(v);
  }
  return ids;
}

}  // namespace scalelab::tokenizer
