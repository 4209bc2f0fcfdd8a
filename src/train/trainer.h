// The training loop: one TrainConfig (JSON and CLI flags feed it; it is written next to the
// outputs), AdamW + cosine schedule + clipping, gradient accumulation, periodic evaluation and
// checkpoints, metrics JSONL with exact FLOPs from accounting, result.json with the totals the
// sweep reads. Console: `step i/N | loss | lr | grad-norm | tok/s | MFU | ETA` per log interval and
// a progress bar. Host syncs happen only at log/eval/checkpoint steps. SIGINT/SIGTERM → checkpoint,
// exit cleanly. A non-finite loss stops the run with an error; the last good checkpoint is kept.
#pragma once

#include <cstdint>
#include <string>

#include "accounting/model_shape.h"
#include "common/json.h"
#include "model/transformer.h"
#include "train/data.h"
#include "train/train_config.h"

namespace scalelab::train {

struct EvalResult {
  double loss = 0;     // mean cross-entropy per token
  int64_t tokens = 0;  // tokens evaluated
};
// Mean loss over up to max_tokens tokens (0 = all) of the dataset's non-overlapping windows, batch
// windows at a time (bf16 autocast when bf16). Leaves the model in the mode it found it in.
EvalResult evaluate_loss(model::TransformerLM& model, const TokenDataset& data, int64_t batch,
                         int64_t max_tokens, const torch::Device& device, bool bf16);

// Runs (or resumes) training as configured; writes config.json, metrics.jsonl, result.json and
// checkpoint/ under out_dir.
TrainResult run_training(const TrainConfig& config);

}  // namespace scalelab::train
