// The private MPS daemon's life cycle against a stand-in nvidia-cuda-mps-control on PATH (CI has no
// GPU and no MPS): started with -d and its own pipe and log directories, quit through its control
// pipe when the sweep is done, not started when the user runs one or when there is none.
#include "sweep/mps.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "common/file_util.h"

namespace scalelab::sweep {
namespace {

namespace fs = std::filesystem;

// Sets an environment variable for the scope of the object.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* v = std::getenv(name)) old_ = v;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Mps, PrivateDaemonStartsWithItsDirectoriesAndQuits) {
  const fs::path bin = fs::path(::testing::TempDir()) / "mps_bin";
  fs::create_directories(bin);
  const fs::path log = bin / "calls.txt";
  fs::remove(log);
  // The stand-in logs its arguments, its pipe directory and what it reads on stdin.
  const fs::path control = bin / MpsDaemon::kControl;
  std::ofstream(control) << "#!/bin/sh\n"
                         << "if [ \"$1\" = -d ]; then echo \"start $CUDA_MPS_PIPE_DIRECTORY\" >> "
                         << log << "; else read cmd; echo \"$cmd $CUDA_MPS_PIPE_DIRECTORY\" >> "
                         << log << "; fi\n";
  ::chmod(control.c_str(), 0755);
  ScopedEnv path("PATH", bin.string() + ":" + std::getenv("PATH"));
  ::unsetenv("CUDA_MPS_PIPE_DIRECTORY");
  std::string why;
  std::string pipe;
  {
    auto d = MpsDaemon::start(why);
    ASSERT_NE(d, nullptr) << why;
    pipe = d->env().at("CUDA_MPS_PIPE_DIRECTORY");
    EXPECT_TRUE(fs::is_directory(pipe));
    EXPECT_TRUE(fs::is_directory(d->env().at("CUDA_MPS_LOG_DIRECTORY")));
    EXPECT_LT(pipe.size(), 80u);  // room for the socket names under the 107-byte limit
  }
  EXPECT_EQ(read_text_file(log), "start " + pipe + "\nquit " + pipe + "\n");
  EXPECT_FALSE(fs::exists(pipe));  // its directories are removed
  // A daemon the user runs is used as is.
  {
    ScopedEnv user("CUDA_MPS_PIPE_DIRECTORY", "/tmp/theirs");
    EXPECT_EQ(MpsDaemon::start(why), nullptr);
    EXPECT_EQ(why, "CUDA_MPS_PIPE_DIRECTORY is set (/tmp/theirs): its daemon serves the workers");
  }
  // A daemon that does not start: no MPS, nothing left behind.
  std::ofstream(control) << "#!/bin/sh\nexit 3\n";
  EXPECT_EQ(MpsDaemon::start(why), nullptr);
  EXPECT_NE(why.find("-d exited with status 3"), std::string::npos) << why;
}

TEST(Mps, NotStartedWithoutTheControlProgram) {
  ScopedEnv path("PATH", "/nonexistent");
  ::unsetenv("CUDA_MPS_PIPE_DIRECTORY");
  std::string why;
  EXPECT_EQ(MpsDaemon::start(why), nullptr);
  EXPECT_EQ(why, "nvidia-cuda-mps-control is not on PATH");
}

}  // namespace
}  // namespace scalelab::sweep
