// `scalelab train --nproc-per-node N` without torchrun: starts N ranks of a command on this
// machine with torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
// MASTER_ADDR=127.0.0.1, MASTER_PORT=a free port) and waits for them, as torchrun's
// --standalone does. No LibTorch: the launcher process only waits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace scalelab::train {

struct LaunchOptions {
  int64_t nproc = 1;
  // After the first rank fails, the others get SIGTERM (they save a checkpoint when they can) and,
  // still alive this much later, SIGKILL.
  double grace_seconds = 10;
  std::map<std::string, std::string> env;  // more variables for every rank
};

// Runs the ranks of `argv` (argv[0] a path or a name on PATH) to their end. SIGINT and SIGTERM to
// the launcher are passed on to the ranks. Throws a one-line error naming the first rank that
// failed and how (exit status or signal).
void launch_local_ranks(const std::vector<std::string>& argv, const LaunchOptions& options);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
int free_tcp_port();

}  // namespace scalelab::train
