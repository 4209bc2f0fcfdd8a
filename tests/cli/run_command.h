// Runs the scalelab binary (or any shell command) for CLI tests: exit code, stdout, stderr.
#pragma once

#include <string>

namespace scalelab::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // The stderr lines, trailing newline stripped; a one-line error has exactly one.
  int err_lines() const;
};

// Runs `SCALELAB_BINARY args` through /bin/sh (args are shell words, quote as needed).
CommandResult run_scalelab(const std::string& args);
CommandResult run_shell(const std::string& command);
// A fresh empty directory under the system temp dir, unique per test.
std::string temp_dir(const std::string& name);

// A small training set for CLI tests: a tokenizer of 300 trained on Tiny Shakespeare (dir/tok) and
// its first `chars` characters encoded with it (dir/small.txt, dir/small.bin). Returns the .bin.
std::string tiny_shakespeare_tokens(const std::string& dir, size_t chars);

// Asserts the contract for bad input: exit status 1, exactly one stderr line starting "error: " and
// containing `needle`.
void expect_one_line_error(const CommandResult& r, const std::string& needle);

}  // namespace scalelab::testing
