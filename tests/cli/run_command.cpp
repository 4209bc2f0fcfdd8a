#include "run_command.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_util.h"

namespace scalelab::testing {

int CommandResult::err_lines() const {
  int n = 0;
  for (char c : err) n += c == '\n';
  if (!err.empty() && err.back() != '\n') ++n;
  return n;
}

std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("scalelab_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

CommandResult run_shell(const std::string& command) {
  auto dir = std::filesystem::temp_directory_path();
  std::string id = std::to_string(::getpid()) + "_" + std::to_string(std::rand());
  auto out_path = dir / ("scalelab_cmd_out_" + id), err_path = dir / ("scalelab_cmd_err_" + id);
  std::string full = command + " >" + out_path.string() + " 2>" + err_path.string() + " </dev/null";
  int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  r.out = slurp(out_path);
  r.err = slurp(err_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(err_path);
  return r;
}

CommandResult run_scalelab(const std::string& args) {
  return run_shell(std::string(SCALELAB_BINARY) + " " + args);
}

void expect_one_line_error(const CommandResult& r, const std::string& needle) {
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err_lines(), 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "expected '" << needle << "' in: " << r.err;
}

std::string tiny_shakespeare_tokens(const std::string& dir, size_t chars) {
  const std::string text = std::string(SCALELAB_SOURCE_DIR) + "/data/tinyshakespeare.txt";
  EXPECT_EQ(run_scalelab("tokenizer train --quiet --input " + text + " --vocab-size 300 --out " +
                         dir + "/tok")
                .exit_code,
            0);
  std::ofstream(dir + "/small.txt") << read_text_file(text).substr(0, chars);
  EXPECT_EQ(run_scalelab("tokenizer encode --quiet --tokenizer " + dir + "/tok --input " + dir +
                         "/small.txt --out " + dir + "/small.bin")
                .exit_code,
            0);
  return dir + "/small.bin";
}

}  // namespace scalelab::testing
