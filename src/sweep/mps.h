// CUDA MPS (Multi-Process Service) for packed runs. Worker processes that share a GPU
// (runs_per_gpu > 1) are separate CUDA contexts, which the GPU time-slices: one process's kernels
// at a time. Under an MPS server their kernels run on the SMs at once, which is what small models,
// each too small to fill an H200, need (examples/h200-sweep.json packed 4 per GPU: 175 s → 142 s,
// every loss bit-identical; docs/benchmarks.md). The sweep starts a private control daemon — its
// pipe and log directories of its own, so only its workers connect — and quits it at the end. No
// GPU setting (compute mode, clocks, MIG) is touched.
#pragma once

#include <map>
#include <memory>
#include <string>

namespace scalelab::sweep {

class MpsDaemon {
 public:
  // The control daemon's executable.
  static constexpr const char* kControl = "nvidia-cuda-mps-control";

  // Starts one when kControl is on PATH and the environment names no MPS pipe directory (a daemon
  // the user runs is then used as it is); nullptr otherwise, with the reason in why_not.
  static std::unique_ptr<MpsDaemon> start(std::string& why_not);
  // Whether packed workers would run under MPS: a daemon the user runs (CUDA_MPS_PIPE_DIRECTORY),
  // or kControl on PATH for start().
  static bool available();
  // Quits the daemon (its servers end with it) and removes its directories.
  ~MpsDaemon();
  MpsDaemon(const MpsDaemon&) = delete;
  MpsDaemon& operator=(const MpsDaemon&) = delete;

  // CUDA_MPS_PIPE_DIRECTORY and CUDA_MPS_LOG_DIRECTORY, for the workers' environment.
  const std::map<std::string, std::string>& env() const { return env_; }
  const std::string& dir() const { return dir_; }

 private:
  MpsDaemon() = default;
  std::string control_, dir_;
  std::map<std::string, std::string> env_;
};

}  // namespace scalelab::sweep
