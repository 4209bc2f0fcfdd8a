#include "train/trainer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/json.h"
#include "model/transformer.h"
#include "test_support.h"
#include "token_file.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/file_encoder.h"
#include "tokenizer/vocab_io.h"
#include "train/checkpoint.h"
#include "train/data.h"
#include "train/optim.h"

namespace scalelab::train {
namespace {

namespace fs = std::filesystem;

fs::path fresh(const std::string& name) { return testing::fresh_dir("trainer_" + name); }

using testing::error_of;

// A token file with a learnable structure: a repeating pseudo-random sequence over `vocab` ids.
fs::path token_file(const fs::path& dir, int64_t n, int64_t vocab) {
  std::vector<uint16_t> ids(static_cast<size_t>(n));
  uint32_t s = 12345;
  for (auto& t : ids) {
    s = s * 1103515245u + 12345u;
    t = static_cast<uint16_t>((s >> 16) % static_cast<uint32_t>(vocab));
  }
  for (size_t i = 200; i < ids.size(); ++i) ids[i] = ids[i % 200];  // period 200: memorisable
  return test_util::write_token_file(dir / "tokens.bin", ids);
}

accounting::ModelShape tiny() {
  accounting::ModelShape s;
  s.vocab_size = 64;
  s.context_length = 16;
  s.d_model = 32;
  s.n_layers = 2;
  s.n_heads = 4;
  return s;
}

TrainConfig tiny_config(const fs::path& dir) {
  TrainConfig c;
  c.model = tiny();
  c.train_data = token_file(dir, 4000, 64).string();
  c.out_dir = (dir / "run").string();
  c.batch_size = 4;
  c.max_steps = 12;
  c.lr_max = 3e-3;
  c.log_interval = 4;
  c.quiet = true;
  c.device = "cpu";  // the CPU path, on the GPU machine too
  return c;
}

// The tiny model's parameters in two checkpoints are bit-identical.
void expect_same_parameters(const fs::path& a, const fs::path& b) {
  model::TransformerLM ma(tiny()), mb(tiny());
  load_checkpoint(a, ma, nullptr);
  load_checkpoint(b, mb, nullptr);
  auto pa = ma->parameters(), pb = mb->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
}

TEST(Trainer, OverfitsOneBatch) {
  torch::manual_seed(0);
  model::TransformerLM m(tiny());
  AdamW opt(m->parameters(), {0.9, 0.95, 1e-8, 0.0});
  auto x = torch::randint(0, 64, {2, 16}, torch::kLong),
       y = torch::randint(0, 64, {2, 16}, torch::kLong);
  double first = 0, last = 0;
  for (int i = 0; i < 300; ++i) {
    auto loss = cross_entropy(m(x), y);
    if (i == 0) first = loss.item<double>();
    loss.backward();
    clip_grad_norm(m->parameters(), 1.0);
    opt.step(3e-3);
    opt.zero_grad();
    last = loss.item<double>();
  }
  EXPECT_NEAR(first, std::log(64.0), 0.5);  // near-uniform at init
  EXPECT_LT(last, 0.05);                    // 32 targets memorised
}

// Running a finished run again trains nothing and leaves its result alone.
TEST(Trainer, FinishedRunIsLeftAlone) {
  auto dir = fresh("finished");
  const TrainConfig c = tiny_config(dir);
  const TrainResult first = run_training(c);
  ASSERT_EQ(first.status, "done");
  const fs::path result = dir / "run" / "result.json";
  const std::string before = read_text_file(result.string());
  const auto mtime = fs::last_write_time(result);
  const TrainResult again = run_training(c);
  EXPECT_EQ(again.status, "done");
  EXPECT_EQ(again.steps, 12);
  EXPECT_DOUBLE_EQ(again.wall_seconds, first.wall_seconds);
  EXPECT_DOUBLE_EQ(again.final_train_loss, first.final_train_loss);
  EXPECT_EQ(read_text_file(result.string()), before);
  EXPECT_EQ(fs::last_write_time(result), mtime);
}

TEST(Trainer, ResumeContinuesBitExactly) {
  torch::set_num_threads(1);  // identical reduction order in both runs
  auto dir = fresh("resume");
  TrainConfig a = tiny_config(dir);
  a.out_dir = (dir / "straight").string();
  TrainResult ra = run_training(a);
  EXPECT_EQ(ra.status, "done");
  EXPECT_EQ(ra.steps, 12);

  TrainConfig b = tiny_config(dir);
  b.out_dir = (dir / "sliced").string();
  b.stop_at_step = 5;
  TrainResult rb1 = run_training(b);
  EXPECT_EQ(rb1.status, "interrupted");
  EXPECT_EQ(rb1.steps, 5);
  b.stop_at_step = 0;
  TrainResult rb2 = run_training(b);
  EXPECT_EQ(rb2.status, "done");
  EXPECT_EQ(rb2.steps, 12);
  // Steady-state throughput: measured after the warm-up steps of each process (steps 4–12, and
  // 9–12 after the resume at 5), none for the interrupted slice; no MFU on the CPU.
  EXPECT_GT(ra.steady_tokens_per_second, 0);
  EXPECT_EQ(ra.steady_mfu, 0);
  EXPECT_EQ(rb1.steady_tokens_per_second, 0);
  EXPECT_GT(rb2.steady_tokens_per_second, 0);
  EXPECT_DOUBLE_EQ(
      read_train_result((dir / "straight" / "result.json").string()).steady_tokens_per_second,
      ra.steady_tokens_per_second);

  expect_same_parameters(dir / "straight" / "checkpoint", dir / "sliced" / "checkpoint");
  EXPECT_DOUBLE_EQ(ra.final_train_loss, rb2.final_train_loss);
  // Outputs the sweep reads.
  json::Json res = json::read_file(dir / "straight" / "result.json");
  EXPECT_EQ(res["status"], "done");
  EXPECT_DOUBLE_EQ(res["tokens"].get<double>(), 12.0 * 4 * 16);
  EXPECT_GT(res["flops"].get<double>(), 0);
  std::ifstream metrics(dir / "straight" / "metrics.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(metrics, line)) {
    json::Json rec = json::parse(line, "metrics.jsonl");
    EXPECT_TRUE(rec.contains("flops") && rec.contains("train_loss") && rec.contains("lr"));
    ++lines;
  }
  EXPECT_EQ(lines, 3);  // steps 4, 8, 12
}

// A WSD run steps with the schedule's lr at every step (metrics.jsonl logs the lr each step used),
// warmup, constant, then the cooldown to lr_min at the last step.
TEST(Trainer, WsdRunFollowsItsSchedule) {
  auto dir = fresh("wsd");
  TrainConfig c = tiny_config(dir);
  c.lr_schedule = LrScheduleKind::kWsd;
  c.cooldown_fraction = 0.25;  // steps 9..11 of 12
  c.cooldown_shape = CooldownShape::kLinear;
  c.warmup_steps = 2;
  c.lr_min = 3e-4;
  c.log_interval = 1;
  ASSERT_EQ(run_training(c).status, "done");
  const LrSchedule sched = c.schedule();
  std::ifstream metrics(dir / "run" / "metrics.jsonl");
  std::string line;
  std::vector<double> lrs;
  while (std::getline(metrics, line)) {
    const json::Json rec = json::parse(line, "metrics.jsonl");
    const int64_t step = rec["step"].get<int64_t>();  // 1-based: the step just taken
    EXPECT_DOUBLE_EQ(rec["lr"].get<double>(), sched.lr(step - 1)) << step;
    lrs.push_back(rec["lr"].get<double>());
  }
  ASSERT_EQ(lrs.size(), 12u);
  EXPECT_DOUBLE_EQ(lrs[1], 1.5e-3);                             // warmup: step 1 of 2
  for (int i = 2; i < 10; ++i) EXPECT_DOUBLE_EQ(lrs[i], 3e-3);  // constant through step 9
  EXPECT_NEAR(lrs[10], 3e-3 - 2.7e-3 / 3, 1e-12);               // cooldown, a third of the way
  EXPECT_EQ(json::read_file(dir / "run" / "config.json")["lr_schedule"], "wsd");
}

// A cooldown branch from its parent's branch checkpoint trains exactly what a WSD run of its own
// length does (bit for bit on the CPU), also when it is interrupted and resumed; its result counts
// the compute it spent itself apart from the tokens it stands for.
TEST(Trainer, CooldownBranchMatchesAStraightWsdRun) {
  auto dir = fresh("branch");
  TrainConfig base = tiny_config(dir);
  base.lr_schedule = LrScheduleKind::kWsd;
  base.cooldown_fraction = 0.25;
  base.warmup_steps = 2;
  base.lr_min = 3e-4;
  TrainConfig straight = base;  // 12 steps, cooldown from step 9
  straight.out_dir = (dir / "straight").string();
  TrainConfig parent = base;  // 20 steps, cooldown from 15; keeps step 9 for the branch
  parent.out_dir = (dir / "parent").string();
  parent.max_steps = 20;
  parent.branch_steps = {4, 9};
  TrainConfig branch = base;
  branch.out_dir = (dir / "branch").string();
  branch.branch_from = (dir / "parent" / "branch-9").string();
  branch.stop_at_step = 10;  // interrupted after one cooldown step, then resumed
  const TrainResult ra = run_training(straight);
  ASSERT_EQ(run_training(parent).status, "done");
  EXPECT_TRUE(checkpoint_exists(dir / "parent" / "branch-4"));
  ASSERT_EQ(run_training(branch).status, "interrupted");
  branch.stop_at_step = 0;
  const TrainResult rb = run_training(branch);
  ASSERT_EQ(rb.status, "done");
  // Parameters, not final_train_loss: that is the mean over the last logging window, which the
  // resume at step 10 shortened.
  expect_same_parameters(dir / "straight" / "checkpoint", dir / "branch" / "checkpoint");
  // The point it stands for (all 12 steps' tokens) and what it cost (its 3 cooldown steps).
  EXPECT_DOUBLE_EQ(rb.tokens, ra.tokens);
  EXPECT_DOUBLE_EQ(rb.flops, ra.flops);
  EXPECT_EQ(rb.branch_step, 9);
  EXPECT_NEAR(rb.flops_spent, ra.flops * 3.0 / 12.0, 1e-6 * ra.flops);
  EXPECT_EQ(ra.branch_step, 0);
  EXPECT_DOUBLE_EQ(ra.flops_spent, ra.flops);
  const json::Json rj = json::read_file(dir / "branch" / "result.json");
  EXPECT_EQ(rj["branch_step"].get<int64_t>(), 9);
}

// A step that owes both writes the branch's checkpoint first: a kill -9 between the two then
// leaves the resume checkpoint at an earlier step, and the resumed parent writes the branch's
// again. (The other order once let a parent resume past its branch point without it, caught by a
// timing-dependent kill -9 test, CliSweepTrain.WsdBranchesSurviveKillNineAndFreeTheirCheckpoints.)
TEST(Trainer, BranchCheckpointIsWrittenBeforeTheResumeCheckpointOfItsStep) {
  const std::string out = (fs::path("runs") / "p").string();
  const std::string resume = (fs::path(out) / "checkpoint").string();
  const std::string branch = (fs::path(out) / "branch-9").string();
  EXPECT_EQ(branch_checkpoint_dir(out, 9), branch);
  EXPECT_EQ(checkpoints_due(out, resume, 9, true, true),
            (std::vector<std::string>{branch, resume}));
  EXPECT_EQ(checkpoints_due(out, resume, 9, true, false), std::vector<std::string>{branch});
  EXPECT_EQ(checkpoints_due(out, resume, 9, false, true), std::vector<std::string>{resume});
  EXPECT_TRUE(checkpoints_due(out, resume, 9, false, false).empty());
}

// A branch whose parent checkpoint is missing, at another step, or from another config is a
// one-line error naming branch_from, before any step.
TEST(Trainer, BadBranchesNameBranchFrom) {
  auto dir = fresh("bad_branch");
  TrainConfig parent = tiny_config(dir);
  parent.lr_schedule = LrScheduleKind::kWsd;
  parent.cooldown_fraction = 0.25;
  parent.warmup_steps = 2;
  parent.max_steps = 20;
  parent.branch_steps = {9};
  parent.out_dir = (dir / "parent").string();
  ASSERT_EQ(run_training(parent).status, "done");
  auto expect = [&](TrainConfig c, const std::string& needle) {
    c.out_dir = (dir / "b").string();
    fs::remove_all(c.out_dir);
    try {
      run_training(c);
      ADD_FAILURE() << "no error; expected " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  TrainConfig b = parent;
  b.branch_steps.clear();
  b.max_steps = 12;
  b.branch_from = (dir / "parent" / "branch-7").string();
  expect(b, "no checkpoint there");
  b.branch_from = (dir / "parent" / "branch-9").string();
  b.max_steps = 16;  // cooldown from step 12
  expect(b, "is at step 9, but this run's cooldown starts at step 12");
  b.max_steps = 12;
  b.lr_max = 1e-3;
  expect(b, "is from another config: lr_max is");
  b.lr_max = parent.lr_max;
  b.warmup_steps = -1;  // 5% of 12 steps, not the parent's 2
  expect(b, "is from another config: warmup_steps is 2 there, 1 here");
}

// The Trainer's phases one by one: set-up writes config.json before any step, step() reports the
// run's end, finish() writes result.json; stop_at_step ends the run early and a resume continues.
TEST(Trainer, PhasesStepByStep) {
  auto dir = fresh("phases");
  TrainConfig c = tiny_config(dir);
  c.stop_at_step = 7;
  {
    Trainer t(c);
    EXPECT_TRUE(fs::exists(dir / "run" / "config.json"));
    EXPECT_FALSE(fs::exists(dir / "run" / "result.json"));
    EXPECT_EQ(t.total_steps(), 12);
    int trues = 0;
    while (t.step()) ++trues;
    EXPECT_EQ(trues, 6);  // steps 1..6 go on; step 7 stops
    EXPECT_EQ(t.steps_done(), 7);
    EXPECT_FALSE(t.step());  // a stopped trainer takes no more steps
    EXPECT_EQ(t.steps_done(), 7);
    const TrainResult r = t.finish();
    EXPECT_EQ(r.status, "interrupted");
    EXPECT_EQ(r.steps, 7);
    EXPECT_TRUE(std::isfinite(r.final_train_loss));
  }
  EXPECT_EQ(json::read_file(dir / "run" / "result.json")["status"], "interrupted");
  c.stop_at_step = 0;
  Trainer t(c);
  EXPECT_EQ(t.steps_done(), 7);  // resumed from the checkpoint
  int trues = 0;
  while (t.step()) ++trues;
  EXPECT_EQ(trues, 4);  // steps 8..11; step 12 is the last
  const TrainResult r = t.finish();
  EXPECT_EQ(r.status, "done");
  EXPECT_EQ(r.steps, 12);
  EXPECT_DOUBLE_EQ(r.tokens, 12.0 * 4 * 16);
}

TEST(Trainer, DivergenceStopsWithAClearErrorAndKeepsTheLastGoodCheckpoint) {
  auto dir = fresh("nan");
  TrainConfig c = tiny_config(dir);
  c.checkpoint_interval = 2;
  c.lr_max = 1e9;
  c.warmup_steps = 0;
  c.grad_clip = 0;
  c.max_steps = 40;
  std::string msg = error_of([&] { run_training(c); });
  EXPECT_NE(msg.find("training diverged: loss is"), std::string::npos) << msg;
  EXPECT_NE(msg.find("the last good checkpoint"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(fs::path(c.out_dir) / "result.json"));
}

// device "auto" (train's default, as sweep's and demo's) is the GPU when LibTorch sees one, else
// the CPU; config.json records the device the run used.
TEST(Trainer, AutoDeviceIsResolvedAndRecorded) {
  auto dir = fresh("auto_device");
  TrainConfig c = tiny_config(dir);
  c.device = TrainConfig{}.device;
  EXPECT_EQ(c.device, "auto");
  c.max_steps = 2;
  Trainer t(c);
  const std::string expected = torch::cuda::is_available() ? "cuda" : "cpu";
  EXPECT_EQ(json::read_file(dir / "run" / "config.json")["device"].get<std::string>(), expected);
  EXPECT_EQ(resolve_device("auto"), expected);
  EXPECT_EQ(resolve_device("cuda:1"), "cuda:1");
  c.device = "gpu";
  EXPECT_NE(error_of([&] { run_training(c); }).find("expected auto, cpu, cuda or cuda:N"),
            std::string::npos);
}

TEST(Trainer, BadConfigurationsAreOneLineErrors) {
  auto dir = fresh("bad");
  TrainConfig c = tiny_config(dir);
  c.device = "cuda";
  if (!torch::cuda::is_available()) {
    EXPECT_NE(
        error_of([&] { run_training(c); }).find("CUDA requested (cuda) but no GPU is available"),
        std::string::npos);
  }
  c = tiny_config(dir);
  c.model.context_length = 8000;
  EXPECT_NE(
      error_of([&] { run_training(c); }).find("4000 tokens, fewer than context_length + 1 = 8001"),
      std::string::npos);
  c = tiny_config(dir);
  c.batch_size = 0;
  EXPECT_EQ(error_of([&] { run_training(c); }), "batch_size: must be positive (got 0)");
  c = tiny_config(dir);
  c.max_tokens = 1000;
  EXPECT_EQ(error_of([&] { run_training(c); }),
            "give exactly one of max_steps and max_tokens (got 12 and 1000)");
  json::Json j = to_json(tiny_config(dir));
  j["learning_rate"] = 3;
  EXPECT_EQ(error_of([&] {
              train_config_from_json(j, "train.json");
            }).rfind("train.json.learning_rate: unknown field", 0),
            0u);
  EXPECT_EQ(train_config_from_json(to_json(tiny_config(dir)), "x").batch_size, 4);
}

}  // namespace
}  // namespace scalelab::train
