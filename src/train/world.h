// Which rank of which data-parallel world this process is, from the environment its launcher set
// (no LibTorch: the CLI's launcher and the tests read it too). Two launchers are understood:
//   torchrun (and `scalelab train --nproc-per-node N`): RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
//     MASTER_PORT — PyTorch's env:// rendezvous;
//   srun: SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, in a step of more than one task; MASTER_ADDR
//     and MASTER_PORT when set, else the first host of SLURM_STEP_NODELIST (or SLURM_JOB_NODELIST)
//     and 29500 + SLURM_JOB_ID % 10000, so that jobs sharing a node do not share a port.
// Anything else (no variables, or a Slurm allocation of one task) is a world of one, not
// distributed: the plain training path.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace scalelab::train {

struct World {
  int64_t rank = 0, size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  std::string launcher;  // "" (not distributed) | "torchrun" | "slurm"
  // Data-parallel: launched as a rank (a world of one under torchrun is: the same code path).
  bool distributed() const { return !launcher.empty(); }
  bool is_main() const { return rank == 0; }
};

// The world of this process from `getenv` (the process environment by default). Throws a one-line
// error naming the variable when one is malformed (not an integer, RANK outside [0, WORLD_SIZE),
// a port outside [1, 65535]) or when RANK is set without WORLD_SIZE and MASTER_ADDR.
World world_from_env(
    const std::function<std::optional<std::string>(const char*)>& getenv = nullptr);

// The global micro-batch splits evenly over the ranks (each trains batch_size / ranks of it);
// `over` names the ranks in the error ("the world size 3", "--nproc-per-node 3").
void check_batch_splits(int64_t batch_size, int64_t ranks, std::string_view over);

// The first host name of a Slurm host list: "gpu[07-09,12],cpu3" → "gpu07". Throws on an empty or
// malformed list.
std::string first_slurm_host(std::string_view nodelist);

}  // namespace scalelab::train
