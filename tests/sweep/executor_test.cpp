// Sweep execution without LibTorch: data preparation, plan insertion (once; a changed plan is
// refused), the worker loop with a fake trainer (done, failed, interrupted), and the release of
// runs whose owner process is gone.
#include "sweep/executor.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/file_util.h"
#include "common/process.h"
#include "common/token_file.h"
#include "test_util.h"

namespace scalelab::sweep {
namespace {

namespace fs = std::filesystem;
using testing::fresh_dir;

std::string corpus_en() { return std::string(SCALELAB_SHARED_DATA_DIR) + "/cs336/corpus.en"; }

SweepConfig small_config(const fs::path& out) {
  SweepConfig c;
  c.corpus = {corpus_en()};
  c.vocab_size = 300;
  c.val_fraction = 0.1;
  c.budgets = {4e10, 8e10, 1.6e11};
  c.models_per_budget = 4;
  c.tokens_per_param = 5;  // the grid centre above the family's smallest members
  c.n_spread = 2;
  c.architecture.context_length = 16;
  c.architecture.head_dim = 16;
  c.architecture.multiple = 16;
  c.architecture.aspect_ratio = 16;
  c.architecture.min_layers = 1;  // small and fast; the default depth 3 needs larger budgets
  c.architecture.tied_embeddings = true;
  c.batch_rule = BatchRule::kConstant;
  c.batch_tokens = 256;
  c.lr_rule = LrRule::kConstant;
  c.min_steps = 5;
  c.max_epochs = 1000;
  c.warn_epochs = 1000;
  c.out_dir = out.string();
  return c;
}

TEST(Executor, PrepareDataSplitsTrainsTokenizerEncodesAndReuses) {
  const fs::path out = fresh_dir("prepare");
  const SweepConfig c = small_config(out);
  const DataInfo d = prepare_data(c);
  const std::string train = read_text_file(out / "data/train.txt");
  const std::string val = read_text_file(out / "data/val.txt");
  const std::string all = read_text_file(corpus_en());
  // Every line of the corpus lands in exactly one split, whole, in order within each split;
  // validation is every 10th block and about 10% of the bytes.
  ASSERT_FALSE(train.empty());
  EXPECT_EQ(train.size() + val.size(), all.back() == '\n' ? all.size() : all.size() + 1);
  EXPECT_EQ(train.back(), '\n');
  EXPECT_EQ(val.back(), '\n');
  EXPECT_NEAR(static_cast<double>(val.size()) / static_cast<double>(all.size()), 0.1, 0.02);
  // Validation blocks come from the whole corpus, not its tail: its first line is in the first
  // quarter of the corpus.
  const std::string first_val_line = val.substr(0, val.find('\n') + 1);
  EXPECT_LT(all.find(first_val_line), all.size() / 4);
  // Reassembling: taking lines from train and val in block order gives the corpus back.
  std::multiset<std::string> lines_all, lines_split;
  auto lines = [](const std::string& s, std::multiset<std::string>& into) {
    size_t p = 0;
    for (size_t nl; (nl = s.find('\n', p)) != std::string::npos; p = nl + 1)
      into.insert(s.substr(p, nl - p));
  };
  lines(all.back() == '\n' ? all : all + "\n", lines_all);
  lines(train, lines_split);
  lines(val, lines_split);
  EXPECT_EQ(lines_all, lines_split);
  EXPECT_EQ(d.vocab_size, 300);
  EXPECT_EQ(d.train_tokens, static_cast<int64_t>(read_token_meta(d.train_bin).count));
  EXPECT_GT(d.val_tokens, 1000);
  // A second call reuses every stage.
  const auto t0 = fs::last_write_time(d.train_bin);
  const auto t1 = fs::last_write_time(out / "tokenizer" / "vocab.json");
  const DataInfo again = prepare_data(c);
  EXPECT_EQ(fs::last_write_time(again.train_bin), t0);
  EXPECT_EQ(fs::last_write_time(out / "tokenizer" / "vocab.json"), t1);
  // A different vocabulary for the same out_dir is refused, naming both.
  SweepConfig other = c;
  other.vocab_size = 400;
  try {
    prepare_data(other);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("vocab_size is 400"), std::string::npos) << e.what();
  }
}

// The tokenizer the sweep trains takes the config's pattern; a tokenizer given in another format
// (a tiktoken rank file) encodes the data as it is.
TEST(Executor, TokenizerPatternAndTiktokenFiles) {
  const fs::path out = fresh_dir("pattern");
  SweepConfig c = small_config(out);
  c.tokenizer_pattern = tokenizer::Pattern::kO200k;
  prepare_data(c);
  EXPECT_EQ(json::read_file(out / "tokenizer/tokenizer_config.json")["pretokenizer"], "o200k");
  const fs::path out2 = fresh_dir("tiktoken");
  SweepConfig t = small_config(out2);
  t.tokenizer =
      (fs::path(SCALELAB_SOURCE_DIR) / "tests/data/tokenizers/cl100k_base.tiktoken").string();
  const DataInfo d = prepare_data(t);
  EXPECT_EQ(d.vocab_size, 100277);
  EXPECT_EQ(read_token_meta(d.train_bin).dtype, "uint32");
}

TEST(Executor, EmptyCorpusAndMissingFileAreErrors) {
  const fs::path out = fresh_dir("empty");
  std::ofstream(out / "empty.txt").close();
  SweepConfig c = small_config(out / "sweep");
  c.corpus = {(out / "empty.txt").string()};
  EXPECT_THROW(prepare_data(c), Error);
  c.corpus = {(out / "missing.txt").string()};
  try {
    prepare_data(c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.txt"), std::string::npos);
  }
}

struct Fixture {
  fs::path out;
  SweepConfig config;
  DataInfo data;
  Plan plan;
  std::vector<runs::Run> runs;
};

Fixture planned(const std::string& name) {
  Fixture f;
  f.out = fresh_dir(name);
  f.config = small_config(f.out);
  f.data = prepare_data(f.config);
  f.plan = make_plan(f.config, f.data, 1e10);
  f.runs = plan_to_runs(f.plan, f.config.flop_count);
  return f;
}

// A stand-in trainer: writes metrics.jsonl like the real one and returns a loss that depends on
// N and D like a scaling law.
train::TrainResult fake_train(const train::TrainConfig& c) {
  fs::create_directories(c.out_dir);
  std::ofstream m(fs::path(c.out_dir) / "metrics.jsonl");
  const double tokens = static_cast<double>(c.max_steps * c.tokens_per_step());
  for (int64_t s = 1; s <= c.max_steps; ++s)
    m << json::Json{{"step", s},
                    {"tokens", tokens * s / c.max_steps},
                    {"flops", 1e6 * s},
                    {"train_loss", 5.0 - s * 0.01}}
             .dump()
      << "\n";
  train::TrainResult r;
  r.status = "done";
  r.steps = c.max_steps;
  r.tokens = tokens;
  r.params = 10000;
  r.flops = 1e6 * c.max_steps;
  r.flops_spent = r.flops;
  r.final_train_loss = 3;
  r.final_val_loss = 2.0 + 1.0 / std::log(tokens);
  r.wall_seconds = 0.5;
  return r;
}

TEST(Executor, PlanIsInsertedOnceAndADifferentPlanIsRefused) {
  Fixture f = planned("insert");
  runs::RunDb db(sweep_db_path(f.config));
  EXPECT_EQ(insert_plan(db, f.plan, f.runs), f.runs.size());
  EXPECT_EQ(insert_plan(db, f.plan, f.runs), 0u);  // same plan: nothing added
  EXPECT_EQ(db.count(), f.runs.size());
  SweepConfig changed = f.config;
  changed.lr = 0.5;
  const Plan p2 = make_plan(changed, f.data, 1e10);
  try {
    insert_plan(db, p2, plan_to_runs(p2, changed.flop_count));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("different sweep plan"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("run b1-m1 differs"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db.count(), f.runs.size());
  // Every planned run carries a complete TrainConfig.
  for (const auto& r : db.list()) {
    const train::TrainConfig t = train::train_config_from_json(r.config, "run");
    EXPECT_EQ(t.model.vocab_size, 320);  // the tokenizer's 300, padded to a multiple of 64
    EXPECT_EQ(t.tokens_per_step(), 256);
    EXPECT_NE(t.out_dir.find("runs"), std::string::npos);
  }
  // architecture.vocab_multiple 1: the tokenizer's vocabulary exactly.
  SweepConfig exact = f.config;
  exact.architecture.vocab_multiple = 1;
  for (const PlannedRun& r : make_plan(exact, f.data, 1e10).runs)
    EXPECT_EQ(r.choice.shape.vocab_size, 300);
}

TEST(Executor, WorkerRunsEverythingRecordsResultsAndCurves) {
  Fixture f = planned("worker");
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  const WorkerStats st = run_worker(db, fake_train);
  EXPECT_EQ(st.done, static_cast<int64_t>(f.runs.size()));
  EXPECT_EQ(st.failed, 0);
  EXPECT_EQ(db.count(runs::RunStatus::kDone), f.runs.size());
  for (const auto& r : db.list()) {
    EXPECT_EQ(r.N, 10000);
    EXPECT_GT(r.loss, 2.0);
    EXPECT_EQ(r.C, r.extra["flops_exact"].get<double>());  // exact FLOPs, the default
    EXPECT_GT(r.extra["n_non_embedding"].get<double>(), 0);
    EXPECT_GT(r.extra["body_flops_per_token"].get<double>(), 0);
    EXPECT_FALSE(r.extra.contains("owner"));
    EXPECT_EQ(r.extra["wall_seconds"].get<double>(), 0.5);
    const auto curve = db.curve(r.id);
    ASSERT_FALSE(curve.empty());
    EXPECT_EQ(curve.back().step, r.config["max_steps"].get<int64_t>());
  }
  // Nothing left: a second worker finds no work.
  EXPECT_EQ(run_worker(db, fake_train).done, 0);
}

// A worker packed with others on its GPU records its share (and MPS); the device's rate counts a
// packed run's rate divided by it and by the packing gain: the rate of the run alone.
TEST(Executor, PackedRunsRecordTheirShareAndCountAsTheWholeGpu) {
  Fixture f = planned("share");
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  ::setenv(kGpuShareEnv, "0.25", 1);
  ::setenv("CUDA_MPS_PIPE_DIRECTORY", "/tmp/mps-pipe", 1);
  run_worker(db, fake_train);
  ::unsetenv(kGpuShareEnv);
  ::unsetenv("CUDA_MPS_PIPE_DIRECTORY");
  std::vector<runs::Run> done = db.list(runs::RunStatus::kDone);
  ASSERT_FALSE(done.empty());
  for (const auto& r : done) {
    EXPECT_EQ(r.extra["trained_by"]["gpu_share"].get<double>(), 0.25);
    EXPECT_EQ(r.extra["trained_by"]["mps"], true);
  }
  const double f0 = done[0].extra["flops_exact"].get<double>();
  for (auto& r : done) r.extra["flops_spent"] = f0;  // one rate for all: f0 / 0.5 s
  EXPECT_DOUBLE_EQ(measured_device_rate(done), f0 / 0.5 / 0.25 / kPackingGainMps);
  for (auto& r : done) r.extra["trained_by"].erase("mps");  // time-sliced
  EXPECT_DOUBLE_EQ(measured_device_rate(done), f0 / 0.5 / 0.25 / kPackingGain);
  for (auto& r : done) r.extra["trained_by"].erase("gpu_share");  // alone on the GPU
  EXPECT_DOUBLE_EQ(measured_device_rate(done), f0 / 0.5);
  // A cooldown branch stands for more compute than it spent: its rate is that of what it trained.
  for (auto& r : done) r.extra["flops_exact"] = 10 * f0;
  EXPECT_DOUBLE_EQ(measured_device_rate(done), f0 / 0.5);
  EXPECT_EQ(measured_device_rate({}), 0);
}

// Rates per shape: each shape (its exact FLOPs per token) gets the median of its runs' rates
// alone; a run without a wall time or FLOPs per token is left out.
TEST(Executor, MeasuredRatesAreTheMedianOfEachShapesRuns) {
  auto run = [](double fpt, double flops, double seconds, double share) {
    runs::Run r;
    r.extra = {{"flops_per_token", fpt}, {"flops_exact", flops}, {"wall_seconds", seconds}};
    if (share < 1) r.extra["trained_by"] = {{"gpu_share", share}};
    return r;
  };
  const std::vector<runs::Run> done = {run(1e6, 1e12, 10, 1),   run(1e6, 1e12, 20, 1),
                                       run(1e6, 1e12, 40, 1),    // 1e11, 5e10, 2.5e10
                                       run(4e6, 1e13, 10, 0.5),  // packed: alone
                                       run(9e6, 1e13, 0, 1),    run(0, 1e13, 10, 1)};  // left out
  const std::map<double, double> rates = measured_rates_by_shape(done);
  ASSERT_EQ(rates.size(), 2u);
  EXPECT_DOUBLE_EQ(rates.at(1e6), 5e10);
  EXPECT_DOUBLE_EQ(rates.at(4e6), 1e13 / 10 / 0.5 / kPackingGain);
  EXPECT_TRUE(measured_rates_by_shape({}).empty());
}

// A run interrupted mid-way holds part of its own steps in its resume checkpoint; the estimate
// of what is left counts only the rest. A branch's own steps start at its branch step.
TEST(Executor, CheckpointedShareIsTheOwnStepsTheCheckpointHolds) {
  const Fixture f = planned("checkpointed");
  PlannedRun r = f.plan.runs.front();
  ASSERT_GE(r.steps, 10);
  EXPECT_EQ(checkpointed_share(r), 0);  // no checkpoint yet
  const fs::path ckpt = train::resume_checkpoint_dir(r.train.out_dir);
  fs::create_directories(ckpt);
  json::write_file(ckpt / "state.json", json::Json{{"step", r.steps / 2}});
  EXPECT_DOUBLE_EQ(checkpointed_share(r),
                   static_cast<double>(r.steps / 2) / static_cast<double>(r.steps));
  r.branch_step = r.steps / 4;  // as a branch: only the steps after it are its own
  EXPECT_DOUBLE_EQ(checkpointed_share(r), static_cast<double>(r.steps / 2 - r.steps / 4) /
                                              static_cast<double>(r.steps - r.steps / 4));
  json::write_file(ckpt / "state.json", json::Json{{"step", r.steps}});
  EXPECT_EQ(checkpointed_share(r), 1);
  std::ofstream(ckpt / "state.json") << "{not json";
  try {
    checkpointed_share(r);
    ADD_FAILURE() << "a malformed state.json was read";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("state.json"), std::string::npos) << e.what();
  }
}

TEST(Executor, FailedRunIsRecordedAndTheWorkerGoesOn) {
  Fixture f = planned("failed");
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  int calls = 0;
  const WorkerStats st = run_worker(db, [&](const train::TrainConfig& c) {
    if (++calls == 2) SCALELAB_FAIL("training diverged: loss is nan at step 3");
    return fake_train(c);
  });
  EXPECT_EQ(st.failed, 1);
  EXPECT_EQ(st.done, static_cast<int64_t>(f.runs.size()) - 1);
  const auto failed = db.list(runs::RunStatus::kFailed);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].extra["error"].get<std::string>().find("diverged"), std::string::npos);
  // retry_failed puts it back.
  EXPECT_EQ(release_runs(db, /*retry_failed=*/true).size(), 1u);
  EXPECT_EQ(run_worker(db, fake_train).done, 1);
}

TEST(Executor, InterruptedRunGoesBackToPlanned) {
  Fixture f = planned("interrupted");
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  const WorkerStats st = run_worker(db, [](const train::TrainConfig&) {
    train::TrainResult r;
    r.status = "interrupted";
    return r;
  });
  EXPECT_TRUE(st.interrupted);
  EXPECT_EQ(db.count(runs::RunStatus::kPlanned), f.runs.size());
  EXPECT_EQ(db.count(runs::RunStatus::kRunning), 0u);
}

TEST(Executor, RunsOfDeadOwnersAreReleasedLiveOnesKept) {
  Fixture f = planned("release");
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  // A process that has exited: its identity is dead.
  const int64_t pid = spawn_process({"true"});
  ProcessIdentity dead{current_process().host, pid, 0};
  {
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");  // may be a zombie still
  }
  ASSERT_EQ(wait_process(pid), 0);
  EXPECT_TRUE(process_is_dead(dead));
  EXPECT_FALSE(process_is_dead(current_process()));
  auto a = db.claim_next(to_json(dead));
  auto b = db.claim_next(to_json(current_process()));
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->id, b->id);
  const auto released = release_runs(db, false);
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0], a->id);
  EXPECT_EQ(db.get(a->id)->status, runs::RunStatus::kPlanned);
  EXPECT_EQ(db.get(b->id)->status, runs::RunStatus::kRunning);
  // Another host's process is never declared dead.
  EXPECT_FALSE(process_is_dead({"some-other-host", 1, 1}));
}

// A stand-in for a WSD trainer: a parent leaves out_dir/branch-S for each of its branch_steps; a
// branch needs its parent's checkpoint (as the trainer does) and reports its own compute.
train::TrainResult fake_wsd_train(const train::TrainConfig& c) {
  if (!c.branch_from.empty())
    SCALELAB_CHECK(fs::exists(c.branch_from), "branch_from: {}: no checkpoint there",
                   c.branch_from);
  train::TrainResult r = fake_train(c);
  for (const int64_t s : c.branch_steps) {
    fs::create_directories(fs::path(c.out_dir) / fmt::format("branch-{}", s));
    std::ofstream(fs::path(c.out_dir) / fmt::format("branch-{}", s) / "state.json") << "{}";
  }
  r.branch_step = c.branch_start_step();
  r.flops_spent = r.flops * static_cast<double>(c.max_steps - r.branch_step) / c.max_steps;
  return r;
}

Fixture planned_wsd(const std::string& name) {
  Fixture f;
  f.out = fresh_dir(name);
  f.config = small_config(f.out);
  f.config.lr_schedule = train::LrScheduleKind::kWsd;
  f.data = prepare_data(f.config);
  f.plan = make_plan(f.config, f.data, 1e10);
  f.runs = plan_to_runs(f.plan, f.config.flop_count);
  return f;
}

// A WSD sweep with branches: every branch trains after its parent (whatever the claim order), from
// the parent's checkpoint, which it then removes; the database records each branch's parent, step
// and spent compute.
TEST(Executor, BranchesTrainAfterTheirParentAndFreeItsCheckpoint) {
  Fixture f = planned_wsd("wsd_worker");
  ASSERT_TRUE(f.plan.has_branches());
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  std::vector<std::string> order;
  const WorkerStats st = run_worker(db, [&](const train::TrainConfig& c) {
    order.push_back(fs::path(c.out_dir).filename().string());
    return fake_wsd_train(c);
  });
  EXPECT_EQ(st.done, static_cast<int64_t>(f.runs.size()));
  EXPECT_EQ(st.failed, 0);
  auto position = [&](const std::string& key) {
    return std::find(order.begin(), order.end(), key) - order.begin();
  };
  int64_t branches = 0;
  for (const auto& r : db.list()) {
    EXPECT_EQ(r.status, runs::RunStatus::kDone);
    const std::string key = r.extra["key"];
    if (!r.extra.contains("parent_key")) {
      EXPECT_EQ(r.extra["flops_spent"].get<double>(), r.extra["flops_exact"].get<double>());
      continue;
    }
    ++branches;
    const std::string parent = r.extra["parent_key"];
    EXPECT_LT(position(parent), position(key)) << key;
    EXPECT_GT(r.extra["branch_step"].get<int64_t>(), 0);
    EXPECT_LT(r.extra["flops_spent"].get<double>(), r.extra["flops_exact"].get<double>());
    const train::TrainConfig t = train::train_config_from_json(r.config, key);
    EXPECT_FALSE(fs::exists(t.branch_from)) << t.branch_from;  // removed once used
  }
  EXPECT_GT(branches, 0);
}

// A parent that fails takes its branches with it (failed, naming it); --retry-failed trains all.
TEST(Executor, BranchesOfAFailedParentFailAndRetryTogether) {
  Fixture f = planned_wsd("wsd_failed");
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  const WorkerStats st = run_worker(db, [&](const train::TrainConfig& c) {
    if (!c.branch_steps.empty()) SCALELAB_FAIL("training diverged: loss is nan at step 3");
    return fake_wsd_train(c);
  });
  EXPECT_GT(st.failed, 0);
  size_t branch_failures = 0;
  for (const auto& r : db.list(runs::RunStatus::kFailed))
    if (r.extra.contains("parent_key")) {
      ++branch_failures;
      EXPECT_EQ(r.extra["error"].get<std::string>(),
                fmt::format("its parent run {} failed", r.extra["parent_key"].get<std::string>()));
    }
  EXPECT_GT(branch_failures, 0u);
  EXPECT_EQ(db.count(runs::RunStatus::kPlanned), 0u);  // nothing left waiting
  release_runs(db, /*retry_failed=*/true);
  run_worker(db, fake_wsd_train);
  EXPECT_EQ(db.count(runs::RunStatus::kDone), f.runs.size());
}

// Two workers: one waits while the other trains the parent, then takes the branches it can.
TEST(Executor, AWorkerWaitsForAParentAnotherWorkerTrains) {
  Fixture f = planned_wsd("wsd_wait");
  runs::RunDb db(sweep_db_path(f.config));
  insert_plan(db, f.plan, f.runs);
  // This process holds every parent as another live worker would.
  std::vector<runs::Run> held;
  while (auto r = db.claim_next(to_json(current_process()))) held.push_back(*r);
  ASSERT_FALSE(held.empty());
  std::thread other([&] {
    runs::RunDb own(sweep_db_path(f.config));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (auto& r : held) {
      const train::TrainConfig t = train::train_config_from_json(r.config, "held");
      own.complete(finished_run(r, fake_wsd_train(t)), {});
    }
  });
  runs::RunDb mine(sweep_db_path(f.config));
  const WorkerStats st = run_worker(mine, fake_wsd_train);
  other.join();
  EXPECT_EQ(st.done + static_cast<int64_t>(held.size()), static_cast<int64_t>(f.runs.size()));
  EXPECT_EQ(db.count(runs::RunStatus::kDone), f.runs.size());
}

TEST(Executor, LossCurveReaderKeepsTheLastLineOfARepeatedStep) {
  const fs::path dir = fresh_dir("curve");
  std::ofstream m(dir / "metrics.jsonl");
  m << R"({"step":10,"tokens":100,"flops":1,"train_loss":5.0})"
    << "\n"
    << R"({"step":20,"tokens":200,"flops":2,"train_loss":4.0})"
    << "\n"
    << R"({"step":20,"tokens":200,"flops":2,"train_loss":3.5})"
    << "\n";
  m.close();
  const auto c = read_loss_curve((dir / "metrics.jsonl").string());
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[1].loss, 3.5);
  std::ofstream(dir / "bad.jsonl") << "{not json\n";
  EXPECT_THROW(read_loss_curve((dir / "bad.jsonl").string()), Error);
}

}  // namespace
}  // namespace scalelab::sweep
