// The planner: grid around the guess, exact N, D from C in whole steps, and the errors raised
// before anything trains.
#include "sweep/planner.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <cmath>
#include <map>
#include <set>

#include "accounting/flops.h"
#include "accounting/hardware.h"
#include "accounting/memory.h"
#include "common/error.h"
#include "sweep/mps.h"
#include "test_support.h"
#include "train/schedule.h"

namespace scalelab::sweep {
namespace {

SweepConfig config() {
  SweepConfig c;
  c.corpus = {"unused.txt"};
  c.budgets = {1e16, 1e17};
  c.models_per_budget = 5;
  c.architecture.context_length = 256;
  c.batch_rule = BatchRule::kConstant;
  c.batch_tokens = 16384;
  c.lr_rule = LrRule::kConstant;
  return c;
}

DataInfo data(int64_t train = 2'000'000'000) {
  return {8192, train, 1'000'000, "tok", "train.bin", "val.bin"};
}

std::string error_of(const SweepConfig& c, const DataInfo& d) {
  return testing::error_of([&] { make_plan(c, d, 1e12); });
}

TEST(Planner, EachRunCarriesItsCompleteTrainConfig) {
  SweepConfig c = config();
  c.device = Device::kCuda;  // resolved by the coordinator before planning
  c.warmup_fraction = 0.1;
  c.lr_min_ratio = 0.2;
  c.curve_points = 10;
  for (const auto& r : make_plan(c, data(), 1e12).runs) {
    const train::TrainConfig& t = r.train;
    EXPECT_NO_THROW(t.validate()) << r.key;
    EXPECT_EQ(t.model.d_model, r.choice.shape.d_model);
    EXPECT_EQ(t.model.n_layers, r.choice.shape.n_layers);
    EXPECT_EQ(t.train_data, "train.bin");
    EXPECT_EQ(t.val_data, "val.bin");
    EXPECT_EQ(t.tokenizer, "tok");
    EXPECT_EQ(t.out_dir, (std::filesystem::path(c.out_dir) / "runs" / r.key).string());
    EXPECT_EQ(t.max_steps, r.steps);
    EXPECT_EQ(t.batch_size, r.batch_size);
    EXPECT_EQ(t.grad_accum, r.grad_accum);
    EXPECT_DOUBLE_EQ(t.lr_max, r.lr);
    EXPECT_DOUBLE_EQ(t.lr_min, 0.2 * r.lr);
    EXPECT_EQ(t.warmup_steps, std::llround(0.1 * static_cast<double>(r.steps)));
    EXPECT_EQ(t.log_interval, std::max<int64_t>(1, r.steps / 10));
    EXPECT_EQ(t.device, "cuda");
    EXPECT_EQ(t.precision, accounting::Precision::kBf16Mixed);  // auto on CUDA
    EXPECT_TRUE(t.quiet);
  }
}

TEST(Planner, RunsBracketTheGuessAndSpendTheBudget) {
  const SweepConfig c = config();
  const Plan p = make_plan(c, data(), 1e12);
  ASSERT_EQ(p.runs.size(), 10u);
  std::set<std::string> keys;
  for (const auto& r : p.runs) {
    keys.insert(r.key);
    // D is whole steps of batch_tokens, and the exact FLOPs (the default flop_count) land on C
    // within half a step: every run spends its budget.
    EXPECT_EQ(r.D, static_cast<double>(r.steps * c.batch_tokens));
    const double per_token = accounting::count_flops(r.choice.shape).training_per_token;
    EXPECT_NEAR(r.flops_exact, r.budget_C, per_token * c.batch_tokens / 2 + 1);
    EXPECT_EQ(r.C, r.flops_exact);
    EXPECT_DOUBLE_EQ(r.flops_exact, per_token * r.D);
    EXPECT_EQ(r.batch_size * r.grad_accum * 256, c.batch_tokens);
    EXPECT_DOUBLE_EQ(r.est_seconds, r.flops_exact / 1e12);
    EXPECT_DOUBLE_EQ(make_plan(c, data(), 1e12, 0.01).runs[&r - &p.runs[0]].est_seconds,
                     r.flops_exact / 1e12 + 0.01 * static_cast<double>(r.steps));
    EXPECT_DOUBLE_EQ(r.lr, c.lr);
  }
  EXPECT_EQ(keys.size(), 10u);
  // Both sides of the 20-tokens-per-parameter guess are covered in every budget.
  for (const double C : {1e16, 1e17}) {
    const double guess = std::sqrt(C / 120);
    double lo = INFINITY, hi = 0;
    for (const auto& r : p.runs)
      if (r.budget_C == C) {
        lo = std::min(lo, r.choice.size(c.size_convention));
        hi = std::max(hi, r.choice.size(c.size_convention));
      }
    EXPECT_LT(lo, guess / 2);
    EXPECT_GT(hi, guess * 2);
  }
  const std::string table = format_plan(p);
  EXPECT_NE(table.find("b2-m5"), std::string::npos);
  EXPECT_NE(table.find("exact FLOPs"), std::string::npos);
}

TEST(Planner, SixNdConventionSpendsSixNd) {
  SweepConfig c = config();
  c.flop_count = FlopCount::k6nd;
  for (const auto& r : make_plan(c, data(), 1e12).runs) {
    const double N = static_cast<double>(r.choice.params);
    EXPECT_EQ(r.C, r.flops_6nd);
    EXPECT_NEAR(r.flops_6nd, r.budget_C, 6.0 * N * c.batch_tokens / 2 + 1);
    // The embedding table is in N but does no matmul: at vocab 8192 exact is below 6ND here.
    EXPECT_DOUBLE_EQ(r.flops_exact, r.choice.flops_per_token * r.D);
  }
}

// Along every budget the models grow in depth and width, for each vocabulary and convention.
TEST(Planner, ShapesGrowMonotonicallyAlongEveryBudget) {
  for (int64_t vocab : {512, 8192, 32000}) {
    for (auto conv : {scaling::SizeConvention::kTotal, scaling::SizeConvention::kNonEmbedding,
                      scaling::SizeConvention::kFlops}) {
      SweepConfig c = config();
      c.size_convention = conv;
      c.budgets = {3e16, 1e17, 1e18};
      c.models_per_budget = 7;
      DataInfo d = data(100'000'000'000);
      d.vocab_size = vocab;
      const Plan p = make_plan(c, d, 1e12);
      for (size_t i = 1; i < p.runs.size(); ++i) {
        const auto &a = p.runs[i - 1], &b = p.runs[i];
        if (a.budget_C != b.budget_C) continue;
        EXPECT_GE(b.choice.shape.n_layers, a.choice.shape.n_layers) << b.key;
        EXPECT_GE(b.choice.shape.d_model, a.choice.shape.d_model) << b.key;
        EXPECT_GT(b.choice.size(conv), a.choice.size(conv)) << b.key;
      }
      const std::string table = format_plan(p);
      EXPECT_NE(table.find("model family (layers×d_model"), std::string::npos) << table;
      EXPECT_NE(table.find(std::string("N is ") + std::string(fields::enum_name(conv))),
                std::string::npos)
          << table;
    }
  }
}

TEST(Planner, BudgetBeyondTheFamilyIsAnError) {
  SweepConfig c = config();
  c.architecture.max_layers = 4;
  c.architecture.max_d_model = 256;
  const std::string e = error_of(c, data());
  EXPECT_NE(e.find("the family's largest member (4 layers × d_model 256)"), std::string::npos) << e;
  EXPECT_NE(e.find("raise architecture.max_layers"), std::string::npos) << e;
}

TEST(Planner, BudgetTooSmallForTheSmallestModel) {
  SweepConfig c = config();
  c.budgets = {1e12, 1e16};
  const std::string e = error_of(c, data());
  EXPECT_NE(e.find("C = 1e+12 is too small for the model family"), std::string::npos) << e;
  EXPECT_NE(e.find("use budgets >="), std::string::npos) << e;
}

TEST(Planner, CorpusTooShortSaysTokensExistingAndNeeded) {
  const std::string e = error_of(config(), data(1'000'000));
  EXPECT_NE(e.find("corpus too short"), std::string::npos) << e;
  EXPECT_NE(e.find("1,000,000"), std::string::npos) << e;  // what exists
  EXPECT_NE(e.find("needs"), std::string::npos) << e;
}

TEST(Planner, RepeatedDataWarnsWithTheStatedThreshold) {
  SweepConfig c = config();
  c.warn_epochs = 2;
  c.max_epochs = 1000;
  const Plan p = make_plan(c, data(20'000'000), 1e12);
  bool warned = false;
  for (const auto& w : p.warnings) warned |= w.find("more than 2 epochs") != std::string::npos;
  EXPECT_TRUE(warned);
}

TEST(Planner, TooFewStepsIsAnError) {
  SweepConfig c = config();
  c.batch_tokens = 256 * 1024;
  c.min_steps = 500;
  EXPECT_NE(error_of(c, data()).find("optimizer steps"), std::string::npos);
}

TEST(Planner, ValidationSplitShorterThanAWindow) {
  DataInfo d = data();
  d.val_tokens = 100;
  EXPECT_NE(error_of(config(), d).find("validation split"), std::string::npos);
}

TEST(Planner, KaplanLearningRateFallsWithSize) {
  SweepConfig c = config();
  c.lr_rule = LrRule::kKaplan;
  const Plan p = make_plan(c, data(), 1e12);
  EXPECT_GT(p.runs.front().lr, p.runs[4].lr);
  EXPECT_GT(p.runs.front().lr, 1e-4);
}

TEST(Planner, DeepSeekRulesScaleBatchAndLearningRateWithCompute) {
  SweepConfig c = config();
  c.lr_rule = LrRule::kDeepSeek;
  c.batch_rule = BatchRule::kDeepSeek;
  c.batch_tokens = 1 << 20;  // the cap, out of the way here
  const Plan p = make_plan(c, data(), 1e12);
  for (const auto& r : p.runs) {
    // C_M = non-embedding FLOPs per token × D (DeepSeek LLM, 2024), D before whole steps.
    const double cm = r.choice.body_flops_per_token * r.budget_C / r.choice.flops_per_token;
    EXPECT_NEAR(r.lr, 0.3118 * std::pow(cm, -0.125), 1e-12);
    EXPECT_NEAR(static_cast<double>(r.batch_tokens), 0.2920 * std::pow(cm, 0.3271), 128.0);
    EXPECT_EQ(r.batch_tokens % 256, 0);
    EXPECT_EQ(r.D, static_cast<double>(r.steps * r.batch_tokens));
    EXPECT_EQ(r.train.batch_size * r.train.grad_accum * 256, r.batch_tokens);
    EXPECT_DOUBLE_EQ(r.train.lr_max, r.lr);
  }
  // A larger budget: a larger batch and a smaller lr for the same model.
  const auto& small = p.runs[2];
  for (const auto& r : p.runs)
    if (r.budget_C > small.budget_C && r.choice.shape == small.choice.shape) {
      EXPECT_GT(r.batch_tokens, small.batch_tokens);
      EXPECT_LT(r.lr, small.lr);
    }
  // The cap, and micro-batches: whole micro-batches, accumulated.
  c.batch_tokens = 4096;
  c.micro_batch_tokens = 1024;
  for (const auto& r : make_plan(c, data(), 1e12).runs) {
    EXPECT_EQ(r.batch_tokens, 4096);
    EXPECT_EQ(r.train.batch_size, 4);
    EXPECT_EQ(r.train.grad_accum, 4);
  }
}

// The grid centres on tokens_per_param with D from the exact FLOPs: at vocabulary 8192 and small
// budgets the LM head dominates those FLOPs, and √(C / 6r) would centre far from r under
// non-embedding.
TEST(Planner, MiddleModelTrainsNearTokensPerParam) {
  for (const auto conv : {scaling::SizeConvention::kNonEmbedding, scaling::SizeConvention::kTotal,
                          scaling::SizeConvention::kFlops}) {
    SweepConfig c = config();
    c.size_convention = conv;
    c.budgets = {1e15, 1e16, 1e17};
    c.batch_tokens = 4096;
    c.n_spread = 2.5;
    const Plan p = make_plan(c, data(), 1e12);
    for (const double C : c.budgets) {
      std::vector<double> ratios;
      for (const auto& r : p.runs)
        if (r.budget_C == C) ratios.push_back(r.D / r.choice.size(conv));
      ASSERT_GE(ratios.size(), 3u);
      // Largest D/N first; the middle of the grid within the family's step of 20.
      EXPECT_GT(ratios.front(), 20.0) << fields::enum_name(conv) << " C " << C;
      EXPECT_LT(ratios.back(), 20.0) << fields::enum_name(conv) << " C " << C;
      const double mid = ratios[ratios.size() / 2];
      EXPECT_GT(mid, 20.0 / 2.5) << fields::enum_name(conv) << " C " << C;
      EXPECT_LT(mid, 20.0 * 2.5) << fields::enum_name(conv) << " C " << C;
    }
  }
}

// Packed runs on one GPU: each gets 1/runs_per_gpu of the default GPU's memory, and a micro-batch
// that does not fit its share is cut (whole sequences dividing the batch, the rest accumulated).
TEST(Planner, PackedRunsCutMicroBatchesToTheirShareOfGpuMemory) {
  SweepConfig c = config();
  c.device = Device::kCuda;
  c.batch_tokens = 1 << 20;  // 4096 sequences of 256: far beyond a 1/16 share for these models
  c.runs_per_gpu = 16;
  const Plan p = make_plan(c, data(), 1e12);
  const auto& gpu = accounting::default_training_gpu();
  for (const auto& r : p.runs) {
    EXPECT_EQ(r.train.batch_size * r.train.grad_accum * 256, c.batch_tokens) << r.key;
    EXPECT_GT(r.train.grad_accum, 1) << r.key;
    accounting::MemoryOptions mo;
    mo.precision = accounting::Precision::kBf16Mixed;
    mo.fused_kernels = true;
    mo.batch_size = r.train.batch_size;
    EXPECT_LE(accounting::estimate_memory(r.choice.shape, mo).total() + 1024.0 * 1024 * 1024,
              gpu.memory_bytes() / 16)
        << r.key;
  }
  // One run per GPU: the whole share, so fewer micro-batches.
  c.runs_per_gpu = 1;
  EXPECT_LT(make_plan(c, data(), 1e12).runs.back().train.grad_accum,
            p.runs.back().train.grad_accum);
  // On the CPU nothing is cut.
  c.device = Device::kCpu;
  EXPECT_EQ(make_plan(c, data(), 1e12).runs.back().train.grad_accum, 1);
  // A share too small for even one sequence, and a micro-batch set by hand that does not fit.
  c.device = Device::kCuda;
  c.runs_per_gpu = 64;
  c.budgets = {1e19};
  EXPECT_NE(error_of(c, data(200'000'000'000)).find("runs_per_gpu: run b1-m"), std::string::npos)
      << error_of(c, data(200'000'000'000));
  c.runs_per_gpu = 16;
  c.budgets = {1e16};
  c.micro_batch_tokens = 1 << 18;
  EXPECT_NE(error_of(c, data()).find("micro_batch_tokens: run b1-m"), std::string::npos);
}

// The plan's wall-time estimate divides the one-at-a-time total by the runs trained at once: the
// GPUs, times the measured gain of packing (with MPS when it would be used).
TEST(Planner, WallTimeEstimateCountsGpusAndPacking) {
  SweepConfig c = config();
  c.device = Device::kCuda;
  const Plan one = make_plan(c, data(), 1e12);
  EXPECT_EQ(one.concurrency, 1);
  EXPECT_EQ(one.wall_seconds(), one.total_seconds());
  c.gpus = {0, 1};
  EXPECT_EQ(make_plan(c, data(), 1e12).concurrency, 2);
  c.gpus.clear();
  c.runs_per_gpu = 4;
  c.mps = false;
  EXPECT_DOUBLE_EQ(make_plan(c, data(), 1e12).concurrency, kPackingGain);
  c.mps = true;
  EXPECT_DOUBLE_EQ(make_plan(c, data(), 1e12).concurrency,
                   MpsDaemon::available() ? kPackingGainMps : kPackingGain);
  c.device = Device::kCpu;  // CPU workers share the cores: no gain assumed
  c.runs_per_gpu = 1;
  c.workers = 2;
  EXPECT_EQ(make_plan(c, data(), 1e12).concurrency, 1);
}

// Rates measured per shape replace the one device rate: a measured shape's runs take its rate,
// one between two measured shapes the log-linear interpolation, one beyond them the nearest one's;
// the plan's header says where its estimate came from.
TEST(Planner, MeasuredRatesPerShapeDecideTheEstimates) {
  Plan plan = make_plan(config(), data(), 1e12, 0.001);
  std::set<double> fpts;
  for (const auto& r : plan.runs) fpts.insert(r.choice.flops_per_token);
  ASSERT_GE(fpts.size(), 4u);
  const double lo = *fpts.begin(), hi = *std::next(fpts.begin(), 2), top = *fpts.rbegin();
  const double mid = *std::next(fpts.begin());  // between lo and hi
  Plan same = plan;
  estimate_from_measured_rates(same, {});  // nothing measured: nothing changes
  EXPECT_EQ(same.measured_shapes, 0u);
  EXPECT_EQ(same.total_seconds(), plan.total_seconds());
  estimate_from_measured_rates(plan, {{lo, 1e10}, {hi, 4e10}});
  EXPECT_EQ(plan.measured_shapes, 2u);
  const double t = std::log(mid / lo) / std::log(hi / lo);
  for (const auto& r : plan.runs) {
    const double f = r.choice.flops_per_token;
    const double rate = f == lo    ? 1e10
                        : f == hi  ? 4e10
                        : f == mid ? 1e10 * std::pow(4.0, t)
                        : f > hi   ? 4e10
                                   : 1e10;
    EXPECT_DOUBLE_EQ(r.est_seconds, r.flops_spent / rate) << r.key;
  }
  EXPECT_GT(top, hi);
  EXPECT_NE(format_plan(plan).find("at the FLOP/s measured on 2 shapes of finished runs"),
            std::string::npos);
  EXPECT_EQ(format_plan(plan).find("ms per step"), std::string::npos);
}

// seeds = 3: every model three times, same shape and data, seeds seed .. seed + 2, own keys and
// directories; the run count says so.
TEST(Planner, SeedsReplicateEveryModel) {
  const Plan one = make_plan(config(), data(), 1e12);
  SweepConfig c = config();
  c.seeds = 3;
  c.seed = 7;
  const Plan three = make_plan(c, data(), 1e12);
  ASSERT_EQ(three.runs.size(), 3 * one.runs.size());
  std::set<std::string> keys, dirs;
  for (size_t i = 0; i < one.runs.size(); ++i) {
    for (size_t k = 0; k < 3; ++k) {
      const PlannedRun& r = three.runs[3 * i + k];
      EXPECT_EQ(r.key, one.runs[i].key + "-s" + std::to_string(k));
      EXPECT_EQ(r.train.seed, 7 + k);
      EXPECT_EQ(r.choice.params, one.runs[i].choice.params);
      EXPECT_EQ(r.D, one.runs[i].D);
      EXPECT_EQ(r.steps, one.runs[i].steps);
      keys.insert(r.key);
      dirs.insert(r.train.out_dir);
    }
  }
  EXPECT_EQ(keys.size(), three.runs.size());
  EXPECT_EQ(dirs.size(), three.runs.size());
  EXPECT_NE(format_plan(three).find(
                fmt::format("{} runs ({} models × 3 seeds)", three.runs.size(), one.runs.size())),
            std::string::npos);
  EXPECT_NE(plan_fingerprint(one), plan_fingerprint(three));
}

TEST(Planner, FingerprintIsStableAndSeesChanges) {
  const Plan a = make_plan(config(), data(), 1e12);
  const Plan b = make_plan(config(), data(), 5e12);  // device speed does not change the runs
  EXPECT_EQ(plan_fingerprint(a), plan_fingerprint(b));
  SweepConfig c = config();
  c.lr = 1e-2;
  EXPECT_NE(plan_fingerprint(a), plan_fingerprint(make_plan(c, data(), 1e12)));
  c = config();
  c.seed = 3;  // the same runs with another seed are other runs
  EXPECT_NE(plan_fingerprint(a), plan_fingerprint(make_plan(c, data(), 1e12)));
  c = config();
  c.lr_schedule = train::LrScheduleKind::kWsd;  // so are the same runs with another schedule
  const Plan w = make_plan(c, data(), 1e12);
  EXPECT_NE(plan_fingerprint(a), plan_fingerprint(w));
  c.cooldown_shape = train::CooldownShape::kLinear;
  EXPECT_NE(plan_fingerprint(w), plan_fingerprint(make_plan(c, data(), 1e12)));
  // A cosine plan's fingerprint is what it was before schedules were recorded (databases of
  // earlier sweeps still match): no schedule entry.
  EXPECT_FALSE(plan_fingerprint(a)["runs"][0].contains("schedule"));
}

// lr_schedule wsd with branches: the points of one shape share one trajectory, that of the point
// with the largest budget (the parent), which keeps a checkpoint at each other point's cooldown
// start; each branch has the parent's batch, lr and warmup, its own steps for its budget, and
// costs only its cooldown.
TEST(Planner, WsdBranchesShareOneTrajectoryPerShape) {
  SweepConfig c = config();
  c.budgets = {1e16, 2e16, 4e16, 8e16};
  c.lr_schedule = train::LrScheduleKind::kWsd;
  const Plan plan = make_plan(c, data(), 1e12);
  std::map<std::string, const PlannedRun*> by_key;
  for (const auto& r : plan.runs) by_key[r.key] = &r;
  int64_t branches = 0;
  for (const auto& r : plan.runs) {
    EXPECT_NO_THROW(r.train.validate()) << r.key;
    if (r.parent.empty()) {
      EXPECT_TRUE(r.train.branch_from.empty());
      EXPECT_EQ(r.flops_spent, r.flops_exact);
      continue;
    }
    ++branches;
    ASSERT_TRUE(by_key.count(r.parent)) << r.key;
    const PlannedRun& p = *by_key[r.parent];
    EXPECT_TRUE(p.parent.empty()) << r.key;  // one level: parents are not branches
    EXPECT_EQ(p.choice.shape, r.choice.shape);
    EXPECT_GT(p.budget_C, r.budget_C);
    EXPECT_EQ(r.train.batch_size, p.train.batch_size);
    EXPECT_EQ(r.train.grad_accum, p.train.grad_accum);
    EXPECT_EQ(r.train.lr_max, p.train.lr_max);
    EXPECT_EQ(r.train.warmup_steps, p.train.warmup_steps);
    EXPECT_EQ(r.train.seed, p.train.seed);
    EXPECT_EQ(r.branch_step, train::wsd_cooldown_start(r.steps, c.cooldown_fraction));
    EXPECT_EQ(r.branch_step, r.train.branch_start_step());
    EXPECT_EQ(r.train.branch_from,
              (std::filesystem::path(p.train.out_dir) / fmt::format("branch-{}", r.branch_step))
                  .string());
    const auto& steps = p.train.branch_steps;
    EXPECT_NE(std::find(steps.begin(), steps.end(), r.branch_step), steps.end()) << r.key;
    // Still spends its budget, in whole steps of the parent's batch.
    EXPECT_NEAR(r.flops_exact, r.budget_C, 0.5 * r.choice.flops_per_token * r.batch_tokens);
    EXPECT_NEAR(r.flops_spent,
                r.flops_exact * static_cast<double>(r.steps - r.branch_step) / r.steps, 1);
  }
  EXPECT_GE(branches, 4);
  EXPECT_LT(plan.spent_flops(), 0.9 * plan.total_flops());
  const std::string table = format_plan(plan);
  EXPECT_NE(table.find("wsd with cooldown branches"), std::string::npos) << table;
  EXPECT_NE(table.find("parent"), std::string::npos);
  // Without branches every point is its own WSD run; the two plans are different sweeps.
  c.branches = false;
  const Plan alone = make_plan(c, data(), 1e12);
  for (const auto& r : alone.runs) {
    EXPECT_TRUE(r.parent.empty());
    EXPECT_TRUE(r.train.branch_steps.empty());
  }
  EXPECT_EQ(alone.spent_flops(), alone.total_flops());
  EXPECT_EQ(format_plan(alone).find("cooldown branches"), std::string::npos);
  EXPECT_NE(plan_fingerprint(plan), plan_fingerprint(alone));
}

// Under DeepSeek's rules a shape's points share the smallest budget's batch and lr: no point trains
// with a larger batch (fewer steps) than the rule gives it.
TEST(Planner, WsdBranchesTakeTheSmallestBudgetsBatchAndLr) {
  SweepConfig c = config();
  c.budgets = {1e16, 2e16, 4e16, 8e16};
  c.batch_rule = BatchRule::kDeepSeek;
  c.batch_tokens = 1 << 20;
  c.lr_rule = LrRule::kDeepSeek;
  c.lr_schedule = train::LrScheduleKind::kWsd;
  const Plan plan = make_plan(c, data(), 1e12);
  ASSERT_TRUE(plan.has_branches());
  std::map<std::string, std::vector<const PlannedRun*>> family;  // parent key → its points
  for (const auto& r : plan.runs) {
    EXPECT_LE(r.batch_tokens, batch_tokens_for(c, r.choice, r.D) + c.architecture.context_length)
        << r.key;
    if (!r.parent.empty()) family[r.parent].push_back(&r);
    if (!r.train.branch_steps.empty()) family[r.key].push_back(&r);
  }
  for (const auto& [parent, points] : family) {
    // The smallest D among the points: the smallest grid budget's, or a quarter of the parent's
    // (its extra points' lowest).
    const PlannedRun* grid_smallest = nullptr;
    const PlannedRun* largest = nullptr;
    for (const PlannedRun* r : points) {
      if (r->isoflop && (!grid_smallest || r->budget_C < grid_smallest->budget_C))
        grid_smallest = r;
      if (!largest || r->budget_C > largest->budget_C) largest = r;
    }
    ASSERT_TRUE(grid_smallest) << parent;
    const double lowest = std::min(grid_smallest->budget_C, largest->budget_C / 4);
    for (const PlannedRun* r : points) {
      EXPECT_EQ(r->batch_tokens, points.front()->batch_tokens) << r->key;
      EXPECT_EQ(r->lr, points.front()->lr) << r->key;
    }
    EXPECT_DOUBLE_EQ(
        points.front()->lr,
        learning_rate(c, grid_smallest->choice, lowest / grid_smallest->choice.flops_per_token))
        << parent;
  }
}

// extra_branches: every parent (a shape seen at one budget too) gets extra cooldown branches at
// D ≈ its D · 2^(−k/extra_branches) over the two doublings below it, off the IsoFLOP grid: they
// make the WSD plan's points cheap enough that it costs a fraction of the same points as separate
// cosine runs.
TEST(Planner, WsdExtraBranchesFillTheTwoDoublingsBelowEachParent) {
  SweepConfig c = config();
  c.budgets = {1e16, 2.38e16, 5.66e16, 1.345e17, 3.2e17};  // the H200 examples' spacing
  c.lr_schedule = train::LrScheduleKind::kWsd;
  ASSERT_EQ(c.extra_branches, 3);  // the default
  const Plan plan = make_plan(c, data(), 1e12);
  std::map<std::string, const PlannedRun*> by_key;
  for (const auto& r : plan.runs) by_key[r.key] = &r;
  std::map<std::string, std::vector<const PlannedRun*>> extras;  // parent key → its extra points
  bool seen_extra = false;
  for (const auto& r : plan.runs) {
    EXPECT_NO_THROW(r.train.validate()) << r.key;
    if (r.isoflop) {
      EXPECT_FALSE(seen_extra) << r.key << ": the grid's points come first";
      continue;
    }
    seen_extra = true;
    ASSERT_FALSE(r.parent.empty()) << r.key;
    const PlannedRun& p = *by_key.at(r.parent);
    EXPECT_EQ(r.key.rfind(r.parent + "-x", 0), 0u) << r.key;
    EXPECT_EQ(r.choice.shape, p.choice.shape);
    EXPECT_EQ(r.budget_C, r.C);  // its own exact C: no budget of the grid
    EXPECT_EQ(r.budget, budget_label(r.C));
    EXPECT_EQ(r.train.out_dir, (std::filesystem::path(c.out_dir) / "runs" / r.key).string());
    EXPECT_EQ(r.batch_tokens, p.batch_tokens);
    const int64_t k = std::stoll(r.key.substr(r.parent.size() + 2));
    EXPECT_NEAR(r.D, p.D * std::exp2(-k / 3.0), static_cast<double>(r.batch_tokens)) << r.key;
    const auto& steps = p.train.branch_steps;
    EXPECT_NE(std::find(steps.begin(), steps.end(), r.branch_step), steps.end()) << r.key;
    extras[r.parent].push_back(&r);
  }
  // Every shape's largest point is a parent with up to six extra points (one whose step a grid
  // point has taken already is not planned twice), and its branch steps are distinct and
  // increasing.
  std::set<std::string> shapes;
  for (const auto& r : plan.runs) shapes.insert(accounting::to_json(r.choice.shape).dump());
  EXPECT_EQ(extras.size(), shapes.size());
  for (const auto& [parent, points] : extras) {
    EXPECT_GE(points.size(), 4u) << parent;
    EXPECT_LE(points.size(), 6u) << parent;
    const auto& steps = by_key.at(parent)->train.branch_steps;
    EXPECT_TRUE(std::is_sorted(steps.begin(), steps.end()));
    EXPECT_EQ(std::set<int64_t>(steps.begin(), steps.end()).size(), steps.size());
  }
  EXPECT_LE(plan.spent_flops(), 0.40 * plan.total_flops());
  const std::string table = format_plan(plan);
  EXPECT_NE(table.find("extra points along D"), std::string::npos) << table;

  // Without extra points: the grid's points alone, a different sweep.
  c.extra_branches = 0;
  const Plan grid = make_plan(c, data(), 1e12);
  for (const auto& r : grid.runs) EXPECT_TRUE(r.isoflop) << r.key;
  EXPECT_GT(grid.spent_flops() / grid.total_flops(), plan.spent_flops() / plan.total_flops());
  EXPECT_NE(plan_fingerprint(plan), plan_fingerprint(grid));
  EXPECT_EQ(format_plan(grid).find("extra points"), std::string::npos);
}

// With seeds the extra points keep the seed suffix: one set per seed's trajectory.
TEST(Planner, WsdExtraBranchesKeepTheSeedSuffix) {
  SweepConfig c = config();
  c.budgets = {1e16, 2e16, 4e16};
  c.lr_schedule = train::LrScheduleKind::kWsd;
  c.extra_branches = 1;
  c.seeds = 2;
  const Plan plan = make_plan(c, data(), 1e12);
  std::set<std::string> keys;
  for (const auto& r : plan.runs) {
    keys.insert(r.key);
    if (r.isoflop) continue;
    const std::string seed = r.key.substr(r.key.rfind("-s"));
    EXPECT_EQ(r.parent.substr(r.parent.rfind("-s")), seed) << r.key;
    EXPECT_EQ(r.train.seed, std::stoull(seed.substr(2))) << r.key;
    EXPECT_NE(r.key.find("-x"), std::string::npos) << r.key;
  }
  EXPECT_EQ(keys.size(), plan.runs.size());
}

// A cosine sweep never branches, whatever `branches` says.
TEST(Planner, CosineSweepHasNoBranches) {
  const Plan plan = make_plan(config(), data(), 1e12);
  EXPECT_FALSE(plan.has_branches());
  EXPECT_EQ(plan.spent_flops(), plan.total_flops());
}

TEST(Planner, WsdSweepGivesEveryRunTheSchedule) {
  SweepConfig c = config();
  c.lr_schedule = train::LrScheduleKind::kWsd;
  c.cooldown_fraction = 0.25;
  c.cooldown_shape = train::CooldownShape::kLinear;
  for (const auto& r : make_plan(c, data(), 1e12).runs) {
    const train::TrainConfig& t = r.train;
    EXPECT_NO_THROW(t.validate()) << r.key;
    EXPECT_EQ(t.lr_schedule, train::LrScheduleKind::kWsd);
    EXPECT_EQ(t.schedule().cooldown_start, r.steps - std::llround(0.25 * r.steps)) << r.key;
    EXPECT_EQ(t.cooldown_shape, train::CooldownShape::kLinear);
  }
}

}  // namespace
}  // namespace scalelab::sweep
