// The sweep's training hooks on LibTorch.
#include <torch/torch.h>

#include "sweep_runner.h"
#include "train/trainer.h"

namespace scalelab::app {

bool training_available() { return true; }
bool cuda_available() { return torch::cuda::is_available(); }
train::TrainResult train_one(const train::TrainConfig& config) {
  return train::run_training(config);
}

}  // namespace scalelab::app
