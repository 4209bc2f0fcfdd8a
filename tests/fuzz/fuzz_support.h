// Shared by the libFuzzer harnesses (tests/fuzz/README.md). A reader of untrusted input may refuse
// it with scalelab::Error — the one-line error a user sees; anything else that escapes (another
// exception type, a crash, a sanitizer report, a hang) is a finding.
#pragma once

#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/error.h"

namespace scalelab::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs f; a scalelab::Error is the expected outcome of bad input.
template <class F>
void refused_or_read(F&& f) {
  try {
    f();
  } catch (const scalelab::Error&) {
  }
}

// A directory of this process's own (readers that take paths get files written here).
inline std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d =
        std::filesystem::temp_directory_path() / ("scalelab_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write_scratch(std::string_view name, std::string_view bytes) {
  const auto p = scratch_dir() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}

// The parts of an input split at NUL bytes (several files from one input); missing parts are empty.
template <size_t N>
std::array<std::string_view, N> split_parts(std::string_view s) {
  std::array<std::string_view, N> out{};
  for (size_t i = 0; i < N; ++i) {
    const size_t cut = i + 1 == N ? std::string_view::npos : s.find('\0');
    out[i] = s.substr(0, cut);
    if (cut == std::string_view::npos) break;
    s.remove_prefix(cut + 1);
  }
  return out;
}

}  // namespace scalelab::fuzz
