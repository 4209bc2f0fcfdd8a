// The data-parallel world from a launcher's environment (train/world.h).
#include "train/world.h"

#include <gtest/gtest.h>

#include <map>

#include "test_support.h"

namespace scalelab::train {
namespace {

using testing::error_of;
using Env = std::map<std::string, std::string>;

World world_of(const Env& env) {
  return world_from_env([&](const char* name) -> std::optional<std::string> {
    const auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(World, NoLauncherIsOneProcessNotDistributed) {
  const World w = world_of({});
  EXPECT_FALSE(w.distributed());
  EXPECT_EQ(w.size, 1);
  EXPECT_TRUE(w.is_main());
  // A Slurm allocation of one task (sbatch's batch step, a sweep's array task) trains alone.
  EXPECT_FALSE(world_of({{"SLURM_NTASKS", "1"}, {"SLURM_PROCID", "0"}}).distributed());
}

TEST(World, TorchrunVariables) {
  const World w = world_of({{"RANK", "3"},
                            {"WORLD_SIZE", "4"},
                            {"LOCAL_RANK", "1"},
                            {"MASTER_ADDR", "node7"},
                            {"MASTER_PORT", "29411"}});
  EXPECT_TRUE(w.distributed());
  EXPECT_EQ(w.launcher, "torchrun");
  EXPECT_EQ(w.rank, 3);
  EXPECT_EQ(w.size, 4);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.master_addr, "node7");
  EXPECT_EQ(w.master_port, 29411);
  EXPECT_FALSE(w.is_main());
  // torchrun --nproc-per-node 1 is a world of one on the data-parallel path.
  const World one = world_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}, {"MASTER_ADDR", "localhost"}});
  EXPECT_TRUE(one.distributed());
  EXPECT_EQ(one.master_port, 29500);
  EXPECT_EQ(one.local_rank, 0);
}

TEST(World, SrunVariables) {
  const World w = world_of({{"SLURM_NTASKS", "8"},
                            {"SLURM_PROCID", "5"},
                            {"SLURM_LOCALID", "1"},
                            {"SLURM_JOB_ID", "123456"},
                            {"SLURM_STEP_NODELIST", "gpu[07-09,12],cpu3"}});
  EXPECT_EQ(w.launcher, "slurm");
  EXPECT_EQ(w.rank, 5);
  EXPECT_EQ(w.size, 8);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.master_addr, "gpu07");
  EXPECT_EQ(w.master_port, 29500 + 3456);
  // MASTER_ADDR and MASTER_PORT, when the job script sets them, win.
  const World set = world_of({{"SLURM_NTASKS", "2"},
                              {"SLURM_PROCID", "0"},
                              {"SLURM_JOB_NODELIST", "a1"},
                              {"MASTER_ADDR", "10.0.0.1"},
                              {"MASTER_PORT", "1234"}});
  EXPECT_EQ(set.master_addr, "10.0.0.1");
  EXPECT_EQ(set.master_port, 1234);
}

TEST(World, FirstSlurmHost) {
  EXPECT_EQ(first_slurm_host("node01"), "node01");
  EXPECT_EQ(first_slurm_host("node01,node02"), "node01");
  EXPECT_EQ(first_slurm_host("gpu[007-009]"), "gpu007");
  EXPECT_EQ(first_slurm_host("gpu[3,5-6]x"), "gpu3");
  EXPECT_EQ(error_of([] { first_slurm_host(""); }), "SLURM node list: cannot read ''");
  EXPECT_EQ(error_of([] { first_slurm_host("gpu[a-b]"); }),
            "SLURM node list: cannot read 'gpu[a-b]'");
  EXPECT_EQ(error_of([] { first_slurm_host("gpu[1-2"); }),
            "SLURM node list: cannot read 'gpu[1-2'");
}

TEST(World, MalformedVariablesAreOneLineErrors) {
  EXPECT_EQ(error_of([] {
              world_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}});
            }),
            "RANK: expected an integer in [0, 1], got 'x'");
  EXPECT_EQ(error_of([] {
              world_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}});
            }),
            "RANK: expected an integer in [0, 1], got '2'");
  EXPECT_EQ(error_of([] {
              world_of({{"RANK", "0"}, {"WORLD_SIZE", "0"}, {"MASTER_ADDR", "h"}});
            }),
            "WORLD_SIZE: expected an integer in [1, 1048576], got '0'");
  EXPECT_NE(error_of([] {
              world_of({{"RANK", "0"}});
            }).find("WORLD_SIZE: RANK is set"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              world_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}});
            }).find("MASTER_ADDR"),
            std::string::npos);
  EXPECT_EQ(
      error_of([] {
        world_of(
            {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}});
      }),
      "MASTER_PORT: expected an integer in [1, 65535], got '70000'");
  EXPECT_NE(error_of([] {
              world_of({{"SLURM_NTASKS", "2"}, {"SLURM_PROCID", "0"}});
            }).find("SLURM_STEP_NODELIST"),
            std::string::npos);
}

}  // namespace
}  // namespace scalelab::train
