#include "accounting/model_shape.h"
#include "test_support.h"

#include <gtest/gtest.h>

namespace scalelab::accounting {
namespace {

using testing::error_of;

TEST(ModelShape, DefaultSwiGluWidthRoundsEightThirdsUpTo64) {
  EXPECT_EQ(default_swiglu_d_ff(768), 2048);  // 8/3·768 = 2048 exactly
  EXPECT_EQ(default_swiglu_d_ff(512), 1408);  // 1365.33 → 1366 → 1408
  EXPECT_EQ(default_swiglu_d_ff(64), 192);    // 170.67 → 192
  ModelShape s;
  s.ffn = FfnKind::kGeluMlp;
  EXPECT_EQ(s.resolved_d_ff(), 4 * 768);
}

TEST(ModelShape, ValidationNamesTheField) {
  ModelShape s;
  s.d_model = 0;
  EXPECT_EQ(error_of([&] { s.validate(); }), "model.d_model: must be positive (got 0)");
  s = ModelShape{};
  s.n_layers = -3;
  EXPECT_EQ(error_of([&] { s.validate(); }), "model.n_layers: must be positive (got -3)");
  s = ModelShape{};
  s.n_heads = 7;
  EXPECT_EQ(error_of([&] { s.validate(); }), "model.n_heads: 7 does not divide d_model 768");
  s = ModelShape{};
  s.n_kv_heads = 5;
  EXPECT_EQ(error_of([&] { s.validate(); }), "model.n_kv_heads: 5 does not divide n_heads 12");
  s.n_kv_heads = 24;
  EXPECT_EQ(error_of([&] { s.validate(); }), "model.n_kv_heads: 24 does not divide n_heads 12");
  s = ModelShape{};
  s.vocab_size = -1;
  EXPECT_EQ(error_of([&] { s.validate("cfg.json"); }),
            "cfg.json.vocab_size: must be positive (got -1)");
  s = ModelShape{};
  s.d_model = 12;
  s.n_heads = 4;  // head dim 3: odd, RoPE cannot rotate pairs
  EXPECT_EQ(error_of([&] { s.validate(); }),
            "model.n_heads: RoPE needs an even head dimension, got 3");
  s.rope = false;
  EXPECT_NO_THROW(s.validate());
}

TEST(ModelShape, JsonRoundTripAndStrictness) {
  ModelShape s = find_model_preset("cs336-tinystories").shape;
  s.n_kv_heads = 4;
  s.tied_embeddings = true;
  s.ffn = FfnKind::kGeluMlp;
  EXPECT_EQ(model_shape_from_json(to_json(s)), s);
  json::Json j = to_json(s);
  j["d_modle"] = 3;
  EXPECT_EQ(error_of([&] {
              model_shape_from_json(j, "model.json");
            }).rfind("model.json.d_modle: unknown field", 0),
            0u);
  j = to_json(s);
  j["ffn"] = "relu";
  EXPECT_EQ(error_of([&] { model_shape_from_json(j); }),
            "model.ffn: expected swiglu, gelu_mlp or gelu, got 'relu'");
  j = to_json(s);
  j["n_heads"] = "16";
  EXPECT_EQ(error_of([&] { model_shape_from_json(j); }),
            "model.n_heads: expected an integer, got string \"16\"");
  j = to_json(s);
  j["n_heads"] = 3;
  EXPECT_EQ(error_of([&] { model_shape_from_json(j); }),
            "model.n_heads: 3 does not divide d_model 512");
}

TEST(ModelShape, PresetsAreValidAndUnknownPresetListsKnown) {
  for (const auto& p : model_presets()) EXPECT_NO_THROW(p.shape.validate()) << p.name;
  std::string msg = error_of([] { find_model_preset("gpt5"); });
  EXPECT_EQ(msg.rfind("unknown preset 'gpt5' (known: gpt2-small, gpt2-medium", 0), 0u) << msg;
}

}  // namespace
}  // namespace scalelab::accounting
