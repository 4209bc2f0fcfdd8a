// Checkpoints: a directory with model.pt (parameters and buffers), optimizer.pt (AdamW moments),
// state.json (step, tokens, data-sampler RNG state, the resolved config). Written into a temporary
// directory and swapped in by rename, so a crash mid-write leaves the previous checkpoint intact.
#pragma once

#include <filesystem>
#include <string>

#include "common/json.h"
#include "model/transformer.h"
#include "train/optim.h"
#include "train/train_config.h"  // CheckpointState

namespace scalelab::train {

void save_checkpoint(const std::filesystem::path& dir, model::TransformerLM& model,
                     AdamW* optimizer, const CheckpointState& state);
bool checkpoint_exists(const std::filesystem::path& dir);
// Loads into an already built model (and optimizer when given). Throws naming the file when missing
// or truncated, or when shapes differ.
CheckpointState load_checkpoint(const std::filesystem::path& dir, model::TransformerLM& model,
                                AdamW* optimizer);
// Just state.json (to rebuild the model from its config first).
CheckpointState read_checkpoint_state(const std::filesystem::path& dir);

}  // namespace scalelab::train
