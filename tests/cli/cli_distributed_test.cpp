// Data-parallel training through the real binary on the CPU (c10d Gloo, docs/distributed.md): the
// launcher, the equivalence with one rank, resuming with another world size, and the failures —
// a rank killed with -9, a master nobody serves, a WORLD_SIZE that never joins, a batch that does
// not split.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "common/file_util.h"
#include "common/json.h"
#include "run_command.h"
#include "train/launch.h"

namespace scalelab::testing {
namespace {

// CPU ranks talk through c10d's Gloo backend; a build without it (the GPU machine's wheel) skips.
#define REQUIRE_GLOO() \
  if (!SCALELAB_WITH_GLOO) GTEST_SKIP() << "this build has no c10d Gloo backend (libgloo-dev)"

struct Fixture {
  std::string d;
  Fixture() : d(temp_dir("cli_dist")) { tiny_shakespeare_tokens(d, 40000); }
  // The flags every test shares, after `extra` (which repeats none of them).
  std::string train(const std::string& extra) const {
    return "train " + extra + " --quiet true --device cpu --train-data " + d +
           "/small.bin --val-data " + d +
           "/small.bin --eval-tokens 2048 --vocab-size 300 --context-length 32 --d-model 32 "
           "--n-layers 2 --n-heads 2 --batch-size 8 --log-interval 5";
  }
  // The environment of rank `rank` of `size` at 127.0.0.1:port.
  static std::string env(int rank, int size, int port) {
    return "RANK=" + std::to_string(rank) + " WORLD_SIZE=" + std::to_string(size) +
           " MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port) + " ";
  }
};

std::vector<json::Json> metrics(const std::string& run) {
  std::vector<json::Json> lines;
  std::ifstream in(run + "/metrics.jsonl");
  for (std::string l; std::getline(in, l);) lines.push_back(json::Json::parse(l));
  return lines;
}

double rel(double a, double b) { return std::abs(a - b) / std::abs(b); }

// Two Gloo ranks, each training half of every batch (batch_size 8 is the global micro-batch), give
// the loss curve of one rank training all of it. Not bit-identical: the all-reduce sums the two
// halves' gradients where one rank's backward sums all rows at once, so fp32 rounding differs in
// the last bits (measured: ≤ 5e-8 relative after 20 steps); 1e-5 leaves room for more steps and
// other BLAS builds while still catching a wrong shard, a missing average or unsynced parameters,
// each of which moves the loss by > 1e-3 within a few steps.
TEST(CliDistributed, TwoRanksGiveTheLossCurveOfOneAndResumeAcrossWorldSizes) {
  REQUIRE_GLOO();
  Fixture f;
  CommandResult one =
      run_scalelab(f.train("--max-steps 20 --eval-interval 10 --out " + f.d + "/one"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  CommandResult two = run_scalelab(
      f.train("--max-steps 20 --eval-interval 10 --nproc-per-node 2 --out " + f.d + "/two"));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  // Rank 0 reports; rank 1 prints nothing.
  EXPECT_EQ(two.out.find("done: 20 steps"), two.out.rfind("done: 20 steps")) << two.out;
  EXPECT_NE(two.out.find("done: 20 steps"), std::string::npos) << two.out;
  const auto a = metrics(f.d + "/one"), b = metrics(f.d + "/two");
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(b[i]["step"], a[i]["step"]);
    EXPECT_EQ(b[i]["tokens"], a[i]["tokens"]);
    EXPECT_LT(rel(b[i]["train_loss"].get<double>(), a[i]["train_loss"].get<double>()), 1e-5) << i;
    EXPECT_LT(rel(b[i]["grad_norm"].get<double>(), a[i]["grad_norm"].get<double>()), 1e-4) << i;
    EXPECT_EQ(b[i].contains("val_loss"), a[i].contains("val_loss"));
    if (a[i].contains("val_loss")) {  // the evaluation is sharded over the ranks too
      EXPECT_LT(rel(b[i]["val_loss"].get<double>(), a[i]["val_loss"].get<double>()), 1e-5);
    }
  }
  const json::Json ra = json::read_file(f.d + "/one/result.json"),
                   rb = json::read_file(f.d + "/two/result.json");
  EXPECT_LT(rel(rb["final_val_loss"].get<double>(), ra["final_val_loss"].get<double>()), 1e-5);
  EXPECT_EQ(rb["flops"], ra["flops"]);
  EXPECT_EQ(json::read_file(f.d + "/two/checkpoint/state.json")["world_size"], 2);
  EXPECT_TRUE(std::filesystem::exists(f.d + "/two/launch.json"));

  // Stopped at step 10 with two ranks, resumed with one: the same run, and the log says so.
  CommandResult half = run_scalelab(
      f.train("--max-steps 20 --eval-interval 10 --nproc-per-node 2 --stop-at-step 10 --out " +
              f.d + "/resumed"));
  ASSERT_EQ(half.exit_code, 0) << half.err;
  EXPECT_NE(half.out.find("interrupted: 10 steps"), std::string::npos) << half.out;
  CommandResult rest =
      run_scalelab(f.train("--max-steps 20 --eval-interval 10 --out " + f.d + "/resumed"));
  ASSERT_EQ(rest.exit_code, 0) << rest.err;
  EXPECT_NE(rest.err.find("the checkpoint was written by 2 ranks, this run has 1"),
            std::string::npos)
      << rest.err;
  const auto c = metrics(f.d + "/resumed");
  ASSERT_EQ(c.size(), a.size());
  EXPECT_LT(rel(c.back()["train_loss"].get<double>(), a.back()["train_loss"].get<double>()), 1e-5);
}

// The overlapped all-reduce (buckets started from the gradient hooks during the last micro-batch's
// backward) with many small buckets, two micro-batches per step and tied embeddings (one
// parameter whose gradient comes from two uses): still the loss curve of one rank.
TEST(CliDistributed, OverlappedBucketsWithGradAccumAndTiedWeightsGiveTheCurveOfOne) {
  REQUIRE_GLOO();
  Fixture f;
  const std::string flags =
      "--max-steps 10 --eval-interval 10 --grad-accum 2 --tied-embeddings true";
  CommandResult one = run_scalelab(f.train(flags + " --out " + f.d + "/one"));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  CommandResult two = run_scalelab(
      f.train(flags + " --nproc-per-node 2 --dist-bucket-mb 0.01 --out " + f.d + "/two"));
  ASSERT_EQ(two.exit_code, 0) << two.err;
  const auto a = metrics(f.d + "/one"), b = metrics(f.d + "/two");
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_LT(rel(b[i]["train_loss"].get<double>(), a[i]["train_loss"].get<double>()), 1e-5) << i;
    EXPECT_LT(rel(b[i]["grad_norm"].get<double>(), a[i]["grad_norm"].get<double>()), 1e-4) << i;
  }
  CommandResult bad = run_scalelab(f.train("--max-steps 1 --dist-bucket-mb 0 --out " + f.d + "/x"));
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--dist-bucket-mb: must be in (0, 4096] (got 0)"), std::string::npos)
      << bad.err;
}

// kill -9 of one rank: the other's next collective fails at once (the peer's sockets close) with a
// one-line error naming it, well inside dist_timeout; nothing hangs.
TEST(CliDistributed, KilledRankStopsTheOtherWithAClearError) {
  REQUIRE_GLOO();
  Fixture f;
  const int port = train::free_tcp_port();
  const std::string run = f.d + "/killed", bin = SCALELAB_BINARY;
  const std::string args =
      f.train("--max-steps 100000 --log-interval 1 --dist-timeout 60 --out " + run);
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult r = run_shell(
      "cd " + f.d + "; (" + Fixture::env(0, 2, port) + bin + " " + args +
      " >r0.out 2>r0.err; echo $? >r0.status) & " + Fixture::env(1, 2, port) + bin + " " + args +
      " >r1.out 2>r1.err & pid1=$!; "
      // Both train (rank 0 logs a step), then rank 1 dies.
      "for i in $(seq 600); do [ -s " +
      run +
      "/metrics.jsonl ] && break; sleep 0.1; done; "
      "kill -9 $pid1; for i in $(seq 900); do [ -f r0.status ] && break; sleep 0.1; done; "
      "cat r0.status");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1\n") << "rank 0's exit status; stderr: " << read_text_file(f.d + "/r0.err");
  CommandResult rank0{.exit_code = 1, .out = "", .err = read_text_file(f.d + "/r0.err")};
  expect_one_line_error(rank0, "distributed: rank 0 of 2:");
  EXPECT_LT(secs, 50) << "rank 0 took until its collective timeout";
}

// A rank whose MASTER_ADDR:MASTER_PORT nobody serves gives up after dist_timeout.
TEST(CliDistributed, UnreachableMasterFailsInBoundedTime) {
  REQUIRE_GLOO();
  Fixture f;
  const int port = train::free_tcp_port();
  const auto t0 = std::chrono::steady_clock::now();
  CommandResult r = run_shell(Fixture::env(1, 2, port) + SCALELAB_BINARY + " " +
                              f.train("--max-steps 5 --dist-timeout 3 --out " + f.d + "/lost"));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  expect_one_line_error(
      r, "rendezvous at 127.0.0.1:" + std::to_string(port) + " did not complete within 3 s");
  EXPECT_NE(r.err.find("rank 0 is not reachable there"), std::string::npos) << r.err;
  EXPECT_LT(secs, 30);
  EXPECT_FALSE(std::filesystem::exists(f.d + "/lost/metrics.jsonl"));
}

// WORLD_SIZE 4, two ranks start: neither trains; both say so within the timeout.
TEST(CliDistributed, WorldSizeLargerThanTheRanksThatJoinIsAnError) {
  REQUIRE_GLOO();
  Fixture f;
  const int port = train::free_tcp_port();
  const std::string bin = SCALELAB_BINARY,
                    args = f.train("--max-steps 5 --dist-timeout 4 --out " + f.d + "/short");
  // (The whole list in braces: run_shell's redirections apply to its last command.)
  CommandResult r = run_shell("{ cd " + f.d + "; (" + Fixture::env(1, 4, port) + bin + " " + args +
                              " >r1.out 2>r1.err; echo $? >r1.status) & " +
                              Fixture::env(0, 4, port) + bin + " " + args + "; }");
  // Where the two ranks meet first (the store, or the Gloo group's address exchange) depends on
  // the LibTorch version; either way the message names the world size and the timeout.
  expect_one_line_error(r, "within 4 s (WORLD_SIZE=4: ");
  run_shell("for i in $(seq 300); do [ -f " + f.d + "/r1.status ] && break; sleep 0.1; done");
  EXPECT_EQ(read_text_file(f.d + "/r1.status"), "1\n");
  CommandResult rank1{.exit_code = 1, .out = "", .err = read_text_file(f.d + "/r1.err")};
  expect_one_line_error(rank1, "distributed: rank 1 of 4:");
}

TEST(CliDistributed, BadWorldsAreOneLineErrors) {
  Fixture f;
  // The launcher checks before it starts anything.
  CommandResult r = run_scalelab(f.train("--max-steps 5 --nproc-per-node 3 --out " + f.d + "/b"));
  expect_one_line_error(r,
                        "batch_size: 8 sequences per micro-batch do not split over "
                        "--nproc-per-node 3");
  EXPECT_FALSE(std::filesystem::exists(f.d + "/b/launch.json"));
  // Launched by torchrun: each rank checks before the rendezvous (no timeout to wait out).
  r = run_shell(Fixture::env(0, 3, 1) + SCALELAB_BINARY + " " +
                f.train("--max-steps 5 --out " + f.d + "/b"));
  expect_one_line_error(r,
                        "batch_size: 8 sequences per micro-batch do not split over the world "
                        "size 3");
  r = run_shell("RANK=one WORLD_SIZE=2 MASTER_ADDR=x " + std::string(SCALELAB_BINARY) + " " +
                f.train("--max-steps 5 --out " + f.d + "/b"));
  expect_one_line_error(r, "RANK: expected an integer in [0, 1], got 'one'");
  r = run_scalelab(f.train("--max-steps 5 --nproc-per-node 0 --out " + f.d + "/b"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--nproc-per-node: must be in [1, 1024] (got 0)"), std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace scalelab::testing
