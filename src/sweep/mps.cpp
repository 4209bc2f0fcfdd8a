// The private MPS control daemon: `nvidia-cuda-mps-control -d` with its own directories, `quit`
// on its control pipe to stop it.
#include "sweep/mps.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/process.h"

namespace scalelab::sweep {

namespace fs = std::filesystem;

bool MpsDaemon::available() {
  const char* p = std::getenv("CUDA_MPS_PIPE_DIRECTORY");
  return (p != nullptr && *p != '\0') || !find_in_path(kControl).empty();
}

std::unique_ptr<MpsDaemon> MpsDaemon::start(std::string& why_not) {
  if (const char* p = std::getenv("CUDA_MPS_PIPE_DIRECTORY"); p != nullptr && *p != '\0') {
    why_not = fmt::format("CUDA_MPS_PIPE_DIRECTORY is set ({}): its daemon serves the workers", p);
    return nullptr;
  }
  const std::string control = find_in_path(kControl);
  if (control.empty()) {
    why_not = fmt::format("{} is not on PATH", kControl);
    return nullptr;
  }
  std::unique_ptr<MpsDaemon> d(new MpsDaemon);
  d->control_ = control;
  // Short: the pipe directory holds Unix sockets, whose paths are limited to 107 bytes.
  d->dir_ = (fs::temp_directory_path() / fmt::format("scalelab-mps-{}", ::getpid())).string();
  remove_tree(d->dir_);
  fs::create_directories(fs::path(d->dir_) / "pipe");
  fs::create_directories(fs::path(d->dir_) / "log");
  d->env_ = {{"CUDA_MPS_PIPE_DIRECTORY", d->dir_ + "/pipe"},
             {"CUDA_MPS_LOG_DIRECTORY", d->dir_ + "/log"}};
  const int rc = wait_process(spawn_process({control, "-d"}, d->env_));
  if (rc != 0) {
    why_not = fmt::format("{} -d exited with status {}", control, rc);
    d->control_.clear();  // nothing to quit
    return nullptr;
  }
  return d;
}

MpsDaemon::~MpsDaemon() {
  try {
    if (!control_.empty()) {
      const int rc =
          wait_process(spawn_process({"/bin/sh", "-c", "echo quit | \"$0\"", control_}, env_));
      if (rc != 0) SCALELAB_LOG_WARN("MPS: `quit` to {} exited with status {}", control_, rc);
    }
    remove_tree(dir_);
  } catch (const std::exception& e) {
    SCALELAB_LOG_WARN("MPS: stopping the daemon: {}", e.what());
  }
}

}  // namespace scalelab::sweep
