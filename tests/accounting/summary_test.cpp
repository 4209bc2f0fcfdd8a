#include "accounting/summary.h"

#include <gtest/gtest.h>

namespace scalelab::accounting {
namespace {

TEST(Summary, DefaultTokensAreTwentyPerParameterAndJsonCarriesExactNumbers) {
  AccountSummary s = summarize(find_model_preset("gpt2-small").shape, {}, "gpt2-small (preset)");
  EXPECT_DOUBLE_EQ(s.tokens, 20.0 * 190'460'160);
  json::Json j = to_json(s);
  EXPECT_EQ(j["params"]["total"].get<int64_t>(), 190'460'160);
  EXPECT_EQ(j["flops"]["forward_matmul_per_sequence"]["total"].get<int64_t>(), 349'630'365'696);
  EXPECT_EQ(j["gpu"]["name"], "h100-sxm");
  EXPECT_GT(j["max_batch_size"].get<int64_t>(), 0);
  EXPECT_NEAR(
      j["training_flops"]["six_nd"].get<double>() / j["training_flops"]["exact"].get<double>(),
      6.0 * 190'460'160 / 1'024'307'712.0, 1e-12);
}

TEST(Summary, TextStatesConventionsAndGroundTruth) {
  AccountOptions o;
  o.memory.batch_size = 8;
  std::string t = to_text(summarize(find_model_preset("gpt2-xl").shape, o, "gpt2-xl (preset)"));
  for (const char* needle : {"2,127,057,600", "4,513,336,524,800", "754,974,720,000",
                             "164,682,137,600", "Kaplan et al. 2020", "PaLM", "2mnp", "GiB",
                             "largest batch on h100-sxm", "not in totals", "one AdamW step"}) {
    EXPECT_NE(t.find(needle), std::string::npos) << needle << "\n" << t;
  }
}

TEST(Summary, OptionsValidateByName) {
  AccountOptions o;
  o.mfu = 0;
  EXPECT_THROW(summarize(find_model_preset("gpt2-small").shape, o, "x"), Error);
  o = AccountOptions{};
  o.gpu = "tpu";
  EXPECT_THROW(summarize(find_model_preset("gpt2-small").shape, o, "x"), Error);
  o = AccountOptions{};
  o.n_gpus = 0;
  try {
    summarize(find_model_preset("gpt2-small").shape, o, "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "n-gpus: must be positive (got 0)");
  }
}

}  // namespace
}  // namespace scalelab::accounting
