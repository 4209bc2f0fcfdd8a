// Read-only memory-mapped file (POSIX mmap). Move-only; unmaps on destruction. An empty file maps
// to an empty span (no mapping). Used for corpora and token files far larger than memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace scalelab {

class MmapFile {
 public:
  MmapFile() = default;
  // Throws scalelab::Error naming the file when it is missing, a directory or cannot be mapped.
  explicit MmapFile(const std::filesystem::path& path);
  ~MmapFile();
  MmapFile(MmapFile&& other) noexcept;
  MmapFile& operator=(MmapFile&& other) noexcept;
  MmapFile(const MmapFile&) = delete;
  MmapFile& operator=(const MmapFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the resident pages of [offset, offset + len) (whole pages inside it): streaming readers
  // call this after a chunk so resident memory stays bounded by the chunks in flight, not the file
  // size. The mapping stays valid; touching the range again re-reads it from the file.
  void release(size_t offset, size_t len) const;

 private:
  void reset() noexcept;
  std::filesystem::path path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace scalelab
