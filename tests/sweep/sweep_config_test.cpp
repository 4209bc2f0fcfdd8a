// SweepConfig: JSON round trip, strictness, validation naming the field, budget ranges.
#include "sweep/sweep_config.h"

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
  c.lr_rule = "kaplan";
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
  c.device = "tpu";
  EXPECT_NE(error_of(c).find("device"), std::string::npos);
  c = valid();
  c.max_epochs = 1;
  EXPECT_NE(error_of(c).find("max_epochs"), std::string::npos);
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
