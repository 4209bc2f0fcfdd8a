// The data-parallel world from the launcher's environment (see world.h).
#include "train/world.h"

#include <charconv>
#include <cstdlib>

#include "common/error.h"

namespace scalelab::train {

namespace {

std::optional<std::string> process_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int64_t env_int(const std::optional<std::string>& value, const char* name, int64_t lo, int64_t hi) {
  int64_t v = 0;
  const std::string& s = *value;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  SCALELAB_CHECK(ec == std::errc() && end == s.data() + s.size() && v >= lo && v <= hi,
                 "{}: expected an integer in [{}, {}], got '{}'", name, lo, hi, *value);
  return v;
}

}  // namespace

void check_batch_splits(int64_t batch_size, int64_t ranks, std::string_view over) {
  SCALELAB_CHECK(batch_size % ranks == 0,
                 "batch_size: {} sequences per micro-batch do not split over {} (each rank trains "
                 "batch_size / world size of them; batch_size is the global micro-batch)",
                 batch_size, over);
}

std::string first_slurm_host(std::string_view list) {
  // "prefix[a-b,c],other": the prefix and the first number of the first bracket, zero padding kept.
  const size_t end = list.find_first_of(",[");
  SCALELAB_CHECK(!list.empty() && end != 0, "SLURM node list: cannot read '{}'", list);
  if (end == std::string_view::npos || list[end] == ',') return std::string(list.substr(0, end));
  const size_t close = list.find(']', end);
  const std::string_view range = list.substr(
      end + 1, close == std::string_view::npos ? std::string_view::npos : close - end - 1);
  const size_t first_end = range.find_first_of("-,");
  const std::string_view first = range.substr(0, first_end);
  SCALELAB_CHECK(close != std::string_view::npos && !first.empty() &&
                     first.find_first_not_of("0123456789") == std::string_view::npos,
                 "SLURM node list: cannot read '{}'", list);
  return std::string(list.substr(0, end)) + std::string(first);
}

World world_from_env(const std::function<std::optional<std::string>(const char*)>& getenv_in) {
  const auto getenv = getenv_in ? getenv_in : process_env;
  World w;
  constexpr int64_t kMaxRanks = 1 << 20;
  const auto port_from = [&](int64_t fallback) {
    const auto p = getenv("MASTER_PORT");
    return p ? env_int(p, "MASTER_PORT", 1, 65535) : fallback;
  };
  if (const auto rank = getenv("RANK")) {
    const auto size = getenv("WORLD_SIZE");
    SCALELAB_CHECK(size.has_value(),
                   "WORLD_SIZE: RANK is set ({}) but WORLD_SIZE is not (launch with torchrun, or "
                   "scalelab train --nproc-per-node N)",
                   *rank);
    w.size = env_int(size, "WORLD_SIZE", 1, kMaxRanks);
    w.rank = env_int(rank, "RANK", 0, w.size - 1);
    const auto local = getenv("LOCAL_RANK");
    w.local_rank = local ? env_int(local, "LOCAL_RANK", 0, kMaxRanks) : w.rank;
    const auto addr = getenv("MASTER_ADDR");
    SCALELAB_CHECK(addr.has_value(),
                   "MASTER_ADDR: RANK and WORLD_SIZE are set but MASTER_ADDR "
                   "(the host of rank 0) is not");
    w.master_addr = *addr;
    w.master_port = port_from(29500);
    w.launcher = "torchrun";
    return w;
  }
  const auto tasks = getenv("SLURM_NTASKS");
  const auto procid = getenv("SLURM_PROCID");
  if (!tasks || !procid) return w;
  w.size = env_int(tasks, "SLURM_NTASKS", 1, kMaxRanks);
  if (w.size == 1) return World{};  // one task (a sweep's array task, sbatch's batch step)
  w.rank = env_int(procid, "SLURM_PROCID", 0, w.size - 1);
  const auto local = getenv("SLURM_LOCALID");
  w.local_rank = local ? env_int(local, "SLURM_LOCALID", 0, kMaxRanks) : 0;
  if (const auto addr = getenv("MASTER_ADDR")) {
    w.master_addr = *addr;
  } else {
    auto nodes = getenv("SLURM_STEP_NODELIST");
    if (!nodes) nodes = getenv("SLURM_JOB_NODELIST");
    SCALELAB_CHECK(nodes.has_value(),
                   "MASTER_ADDR: not set, and no SLURM_STEP_NODELIST or "
                   "SLURM_JOB_NODELIST to take rank 0's host from");
    w.master_addr = first_slurm_host(*nodes);
  }
  const auto job = getenv("SLURM_JOB_ID");
  w.master_port = port_from(29500 + (job ? env_int(job, "SLURM_JOB_ID", 0, INT64_MAX) : 0) % 10000);
  w.launcher = "slurm";
  return w;
}

}  // namespace scalelab::train
