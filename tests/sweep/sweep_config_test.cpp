// SweepConfig: JSON round trip, strictness, validation naming the field, budget ranges.
#include "sweep/sweep_config.h"
#include "sweep/config_docs.h"
#include "train/train_config.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "test_support.h"

namespace scalelab::sweep {
namespace {

SweepConfig valid() {
  SweepConfig c;
  c.corpus = {"a.txt"};
  c.budgets = {1e15, 1e16};
  return c;
}

std::string error_of(const SweepConfig& c) {
  return testing::error_of([&] { c.validate(); });
}

TEST(SweepConfig, JsonRoundTripKeepsEveryField) {
  SweepConfig c = valid();
  c.vocab_size = 777;
  c.models_per_budget = 6;
  c.architecture.head_dim = 32;
  c.architecture.multiple = 32;
  c.gpus = {0, 2};
  c.targets = {1e20};
  c.verify = true;
  c.lr_rule = LrRule::kKaplan;
  c.loss = scaling::LossFunction::kHuber;
  c.device = Device::kCpu;
  const SweepConfig back = sweep_config_from_json(to_json(c), "sweep.json");
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_EQ(back.gpus, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(back.architecture.head_dim, 32);
}

TEST(SweepConfig, UnknownFieldIsAnErrorNamingIt) {
  json::Json j = to_json(valid());
  j["budgetz"] = {1e15};
  try {
    sweep_config_from_json(j, "sweep.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("budgetz"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sweep.json"), std::string::npos) << e.what();
  }
}

TEST(SweepConfig, ValidationNamesTheField) {
  EXPECT_EQ(error_of(valid()), "<no error>");
  SweepConfig c = valid();
  c.corpus.clear();
  EXPECT_NE(error_of(c).find("corpus"), std::string::npos);
  c = valid();
  c.train_tokens = "x.bin";
  EXPECT_NE(error_of(c).find("exactly one"), std::string::npos);
  c = valid();
  c.budget_count = 3;
  EXPECT_NE(error_of(c).find("not both"), std::string::npos);
  c = valid();
  c.budgets = {1e15, -1};
  EXPECT_NE(error_of(c).find("budgets[1]"), std::string::npos);
  c = valid();
  c.models_per_budget = 2;
  EXPECT_NE(error_of(c).find("models_per_budget"), std::string::npos);
  c = valid();
  c.batch_tokens = 1000;  // not a multiple of 256
  EXPECT_NE(error_of(c).find("batch_tokens"), std::string::npos);
  c = valid();
  c.gpus = {1, 1};
  EXPECT_NE(error_of(c).find("twice"), std::string::npos);
  c = valid();
  c.max_epochs = 1;
  EXPECT_NE(error_of(c).find("max_epochs"), std::string::npos);
  c = valid();
  c.seeds = 0;
  EXPECT_NE(error_of(c).find("seeds"), std::string::npos);
  c = valid();
  c.bootstrap_samples = 5;  // the pipeline needs 0 or >= 10: refused before training, not after
  EXPECT_EQ(error_of(c), "bootstrap_samples: 0 (no intervals) or at least 10 (got 5)");
  for (double f : {0.0, 1.0, -0.1}) {
    c = valid();
    c.lr_schedule = train::LrScheduleKind::kWsd;
    c.cooldown_fraction = f;
    EXPECT_NE(error_of(c).find("cooldown_fraction"), std::string::npos) << f;
  }
  c = valid();
  c.lr_schedule = train::LrScheduleKind::kWsd;
  c.warmup_fraction = 0.3;
  c.cooldown_fraction = 0.8;
  EXPECT_EQ(error_of(c),
            "cooldown_fraction: 0.8 with warmup_fraction 0.3 leaves the runs no room (their sum "
            "must be at most 1)");
  c = valid();
  c.inference_tokens = -1e9;  // a target with negative inference tokens
  EXPECT_NE(error_of(c).find("inference_tokens"), std::string::npos) << error_of(c);
  c = valid();
  c.extra_branches = 9;
  EXPECT_NE(error_of(c).find("extra_branches"), std::string::npos) << error_of(c);
}

// Every choice is checked when the file is read, before any data is prepared or any run trains: the
// error names the field and the allowed values.
TEST(SweepConfig, RunsPerGpuNeedsAGpuAndExcludesWorkers) {
  SweepConfig c = valid();
  c.runs_per_gpu = 4;
  EXPECT_NO_THROW(c.validate());  // device auto: checked against the GPU when the sweep starts
  c.device = Device::kCpu;
  EXPECT_NE(error_of(c).find("runs_per_gpu: packs runs on a GPU but device is cpu"),
            std::string::npos);
  c.device = Device::kCuda;
  c.workers = 2;
  EXPECT_NE(error_of(c).find("workers: with runs_per_gpu"), std::string::npos);
  c.workers = 1;
  c.runs_per_gpu = 0;
  EXPECT_THROW(sweep_config_from_json(to_json(c), "sweep.json"), Error);
}

TEST(SweepConfig, BadChoiceInTheFileNamesTheFieldAndTheAllowedValues) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"loss", "log-huber, huber, mse, mae or asymmetric-mae"},
      {"lr_rule", "constant, kaplan or deepseek"},
      {"batch_rule", "constant or deepseek"},
      {"flop_count", "6nd or exact"},
      {"device", "auto, cpu or cuda"},
      {"precision", "auto, fp32, bf16-mixed or bf16"}};
  for (const auto& [field, allowed] : cases) {
    json::Json j = to_json(valid());
    j[field] = "log-hubr";
    const std::string e =
        scalelab::testing::error_of([&] { sweep_config_from_json(j, "sweep.json"); });
    EXPECT_EQ(e, "sweep.json." + field + ": expected " + allowed + ", got 'log-hubr'") << field;
  }
  json::Json j = to_json(valid());
  j["architecture"]["aspect_ratio"] = "wide";
  EXPECT_EQ(scalelab::testing::error_of([&] { sweep_config_from_json(j, "sweep.json"); }),
            "sweep.json.architecture.aspect_ratio: expected a number, got string \"wide\"");
}

TEST(SweepConfig, ReadsAutoAsUnsetAndWritesItBack) {
  json::Json j = to_json(valid());
  j["device"] = "auto";
  j["precision"] = "bf16-mixed";
  const SweepConfig c = sweep_config_from_json(j, "sweep.json");
  EXPECT_FALSE(c.device.has_value());
  EXPECT_EQ(c.precision, accounting::Precision::kBf16Mixed);
  EXPECT_EQ(to_json(c)["device"], "auto");
  EXPECT_EQ(to_json(c)["precision"], "bf16-mixed");
}

TEST(SweepConfig, BudgetRangeIsLogSpaced) {
  SweepConfig c = valid();
  c.budgets.clear();
  c.budget_min = 1e15;
  c.budget_max = 1e17;
  c.budget_count = 3;
  const auto b = c.resolved_budgets();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_DOUBLE_EQ(b[0], 1e15);
  EXPECT_NEAR(b[1] / 1e16, 1.0, 1e-12);
  EXPECT_NEAR(b[2] / 1e17, 1.0, 1e-12);
  EXPECT_NEAR(c.resolved_targets().at(0), 1e19, 1e7);  // default: 100 × the largest
  EXPECT_EQ(budget_label(1e18), "1e+18");
  EXPECT_EQ(budget_label(3.2e17), "3.2e+17");
}

}  // namespace
}  // namespace scalelab::sweep

namespace scalelab::sweep {
namespace {

// docs/config.md is generated from the field tables: the committed file must be what the code
// says (regenerate with `scalelab config-reference > docs/config.md`).
TEST(ConfigReference, DocsConfigMdIsTheGeneratedReference) {
  std::ifstream in(std::string(SCALELAB_SOURCE_DIR) + "/docs/config.md");
  ASSERT_TRUE(in) << "docs/config.md is missing";
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), config_reference_markdown())
      << "docs/config.md is stale: run `build/bin/scalelab config-reference > docs/config.md`";
}

TEST(ConfigReference, EveryFieldOfEveryTableIsDocumentedOnce) {
  const std::string md = config_reference_markdown();
  for (const auto& f : sweep_config_fields().fields()) {
    EXPECT_FALSE(f.doc.empty()) << f.name;
    if (f.kind != fields::Kind::kObject) {
      EXPECT_NE(md.find("| `" + f.name + "` |"), std::string::npos) << f.name;
    }
  }
  for (const auto& f : train::train_config_fields().fields()) EXPECT_FALSE(f.doc.empty()) << f.name;
  EXPECT_NE(md.find("| `architecture.aspect_ratio` | `--aspect-ratio` |"), std::string::npos);
  EXPECT_NE(md.find("| `model.d_model` |"), std::string::npos);
}

}  // namespace
}  // namespace scalelab::sweep
