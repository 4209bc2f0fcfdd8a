// Process identity and liveness (Linux /proc), and spawning child processes: what a sweep needs to
// tell a run left `running` by a dead process from one a live worker holds, and to start one
// worker per GPU. Identity = host, pid and the kernel's start time of the process, so a recycled
// pid is not mistaken for the original process. Not a general process library.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json.h"

namespace scalelab {

struct ProcessIdentity {
  std::string host;
  int64_t pid = 0;
  uint64_t start_time = 0;  // /proc/<pid>/stat field 22 (clock ticks since boot)
};
ProcessIdentity current_process();
json::Json to_json(const ProcessIdentity& p);
// Missing fields read as 0 / empty.
ProcessIdentity process_identity_from_json(const json::Json& j);
// True when the process is known to be gone: same host and either no such pid or a different start
// time. A process on another host, or an identity without a pid, is never declared dead.
bool process_is_dead(const ProcessIdentity& p);

// The running executable (/proc/self/exe).
std::string current_executable();

// Memory the kernel can give new allocations without swapping (MemAvailable of /proc/meminfo, in
// bytes); 0 when it cannot be read.
double available_memory_bytes();

// Keeps freed heap memory in the process for the next allocation instead of returning it to the
// kernel (glibc's malloc: mmap threshold 32 MiB, its maximum, and heap trimming only above 1 GiB
// free). A CPU training step frees and allocates the same activation-sized buffers every step;
// with glibc's defaults (mmap from 128 KiB up, a threshold that moves, trimming at twice it) each
// step page-faults them in again, which took a 2-core VM's time to 3.5–5× the CPU work
// (docs/benchmarks.md, "CPU training"). Process-wide and idempotent; does nothing, and returns
// false, without glibc or when the user set any of glibc's MALLOC_*_ variables or GLIBC_TUNABLES.
bool keep_freed_memory_for_reuse();

// The share of a GPU's memory (a fraction in (0, 1]) a process may use, in its environment: a sweep
// that packs runs_per_gpu runs on one GPU sets it to 1/runs_per_gpu for each worker; the trainer
// caps its CUDA caching allocator there and checks a run's memory against it.
inline constexpr const char* kGpuShareEnv = "SCALELAB_GPU_SHARE";
// This process's share from kGpuShareEnv; 0 when unset or empty (the GPU is its own). Throws a
// one-line error naming the variable when it is not a number in (0, 1].
double gpu_share_from_env();

// Starts argv[0] (a path, or a name looked up in PATH) with argv and the current environment plus
// `env` overrides; returns the pid. With output_path, the child's stdout and stderr go to that
// file (truncated).
int64_t spawn_process(const std::vector<std::string>& argv,
                      const std::map<std::string, std::string>& env = {},
                      const std::string& output_path = "");
// The full path of an executable named `name` on PATH; empty when there is none.
std::string find_in_path(const std::string& name);
// Waits for the pid; returns its exit status, or 128 + signal when a signal ended it.
int wait_process(int64_t pid);

// Runs argv to its end and captures what it printed (a scheduler's client: sbatch, squeue).
struct CommandOutput {
  int status = 0;  // exit status, or 128 + signal
  std::string out, err;
};
CommandOutput run_command(const std::vector<std::string>& argv);

}  // namespace scalelab
