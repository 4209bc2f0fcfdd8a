// Whole-file reads and crash-safe writes. A write goes to "<path>.tmp.<pid>" in the same directory,
// is flushed and fsync'd, then renamed over the target: readers see the old file or the new one,
// never a half-written one. Errors name the file and the OS reason.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace scalelab {

std::string read_text_file(const std::filesystem::path& path);
void write_text_file_atomic(const std::filesystem::path& path, std::string_view content);
// Throws unless `dir` exists (or can be created) and a file can be created in it.
void ensure_writable_directory(const std::filesystem::path& dir);
// Removes a file or directory tree; a missing path is not an error. POSIX nftw, not
// std::filesystem::remove_all: PyTorch 2.x's libtorch.so exports its own copy of that symbol, built
// by another compiler, and calls through it crash (seen on the GPU machine).
void remove_tree(const std::filesystem::path& path);

}  // namespace scalelab
