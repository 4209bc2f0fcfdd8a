// POSIX implementation of the atomic write (open/write/fsync/rename) and whole-file read.
#include "common/file_util.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/error.h"

namespace scalelab {

std::string read_text_file(const std::filesystem::path& path) {
  std::error_code ec;
  SCALELAB_CHECK(std::filesystem::exists(path, ec), "{}: no such file", path.string());
  SCALELAB_CHECK(!std::filesystem::is_directory(path, ec), "{}: is a directory, expected a file",
                 path.string());
  std::ifstream in(path, std::ios::binary);
  SCALELAB_CHECK(in.good(), "{}: cannot open for reading: {}", path.string(), std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  SCALELAB_CHECK(!in.bad(), "{}: read error", path.string());
  return std::move(ss).str();
}

void write_text_file_atomic(const std::filesystem::path& path, std::string_view content) {
  auto dir = path.parent_path();
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    SCALELAB_CHECK(!ec, "{}: cannot create directory: {}", dir.string(), ec.message());
  }
  std::string tmp = path.string() + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SCALELAB_CHECK(fd >= 0, "{}: cannot write: {}", path.string(), std::strerror(errno));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = ::write(fd, content.data() + off, content.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      SCALELAB_FAIL("{}: write failed: {}", path.string(), std::strerror(err));
    }
    off += static_cast<size_t>(w);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    SCALELAB_FAIL("{}: write failed: {}", path.string(), std::strerror(err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    SCALELAB_FAIL("{}: cannot replace file: {}", path.string(), std::strerror(err));
  }
}

void ensure_writable_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  SCALELAB_CHECK(!ec, "{}: cannot create directory: {}", dir.string(), ec.message());
  SCALELAB_CHECK(std::filesystem::is_directory(dir, ec), "{}: not a directory", dir.string());
  SCALELAB_CHECK(::access(dir.c_str(), W_OK | X_OK) == 0, "{}: directory is not writable: {}",
                 dir.string(), std::strerror(errno));
}

void remove_tree(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // nothing there
  auto rm = [](const char* p, const struct stat*, int, struct FTW*) -> int {
    return ::remove(p) == 0 ? 0 : -1;
  };
  SCALELAB_CHECK(::nftw(path.c_str(), rm, 16, FTW_DEPTH | FTW_PHYS) == 0, "{}: cannot remove: {}",
                 path.string(), std::strerror(errno));
}

}  // namespace scalelab
