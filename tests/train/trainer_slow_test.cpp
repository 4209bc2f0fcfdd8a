#include <gtest/gtest.h>

#include "common/file_util.h"
#include "test_support.h"
#include "token_file.h"
#include "tokenizer/bpe_trainer.h"
#include "tokenizer/file_encoder.h"
#include "tokenizer/vocab_io.h"
#include "train/trainer.h"

namespace scalelab::train {
namespace {

namespace fs = std::filesystem;

fs::path fresh(const std::string& name) { return testing::fresh_dir("trainer_" + name); }

TEST(TrainerSlow, EndToEndOnBundledTextWithOurTokenizer) {
  const std::string text = std::string(SCALELAB_SOURCE_DIR) + "/data/tinyshakespeare.txt";
  auto dir = fresh("e2e");
  tokenizer::BpeTrainerOptions to;
  to.vocab_size = 512;
  tokenizer::BpeModel bpe = tokenizer::train_bpe({text}, to);
  tokenizer::save_tokenizer_dir(bpe, dir / "tok");
  tokenizer::Tokenizer tok(bpe);
  tokenizer::encode_file(tok, text, dir / "all.bin", {});
  // Split: the last 10% of tokens for validation.
  auto all = tokenizer::read_token_file(dir / "all.bin");
  const size_t cut = all.size() * 9 / 10;
  auto write = [&](const std::string& name, size_t b, size_t e) {
    test_util::write_token_file(
        dir / name, std::vector<uint16_t>(all.begin() + static_cast<std::ptrdiff_t>(b),
                                          all.begin() + static_cast<std::ptrdiff_t>(e)));
  };
  write("train.bin", 0, cut);
  write("val.bin", cut, all.size());
  TrainConfig c;
  c.model.vocab_size = 512;
  c.model.context_length = 64;
  c.model.d_model = 128;
  c.model.n_layers = 2;
  c.model.n_heads = 4;
  c.train_data = (dir / "train.bin").string();
  c.val_data = (dir / "val.bin").string();
  c.tokenizer = (dir / "tok").string();
  c.out_dir = (dir / "run").string();
  c.device = "cpu";
  c.batch_size = 16;
  c.max_steps = 300;
  c.lr_max = 3e-3;
  c.lr_min = 3e-4;
  c.eval_tokens = 16384;
  c.quiet = true;
  TrainResult r = run_training(c);
  // ln(512) = 6.24 nats at init; a unigram model of this tokenizer (fitted on the training split)
  // scores 5.19 on the validation split. This run measured 3.43 (2026-11-22, Debian LibTorch 1.13 +
  // OpenBLAS). The bound 4.0 allows platform differences in floating-point order while requiring
  // context use far beyond unigram statistics.
  EXPECT_LT(r.final_val_loss, 4.0);
  EXPECT_GT(r.final_val_loss, 2.0);
  EXPECT_EQ(r.status, "done");
}

}  // namespace
}  // namespace scalelab::train
