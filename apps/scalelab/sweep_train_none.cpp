// The sweep's training hooks in a build without LibTorch: planning and analysis work, training
// says what is missing.
#include "common/error.h"
#include "sweep_runner.h"

namespace scalelab::app {

bool training_available() { return false; }
bool cuda_available() { return false; }
train::TrainResult train_one(const train::TrainConfig&) {
  SCALELAB_FAIL(
      "this scalelab was built without LibTorch: `sweep plan` and `report` work, training needs a "
      "build with LibTorch (libtorch-dev)");
}

}  // namespace scalelab::app
