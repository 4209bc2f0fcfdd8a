// Helpers every test suite shares (the suites' own test_util.h files add theirs on top): the
// message of the scalelab::Error a call throws, and a fresh per-process temporary directory.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

#include "common/error.h"

namespace scalelab::testing {

// The what() of the scalelab::Error that f throws, or "<no error>".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error>";
}

// $TMPDIR/scalelab_<name>_<pid>, emptied and created.
inline std::filesystem::path fresh_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() /
           ("scalelab_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace scalelab::testing
