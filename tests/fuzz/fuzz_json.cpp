// Every JSON file a user or a run directory hands scalelab: the first byte picks the reader, the
// rest is the file. Each reader checks what it read the way its command does (validate()).
#include "common/json.h"
#include "fuzz_support.h"
#include "scaling/data_constrained.h"
#include "scaling/scaling_law.h"
#include "sweep/sweep_config.h"
#include "tokenizer/bpe_trainer.h"
#include "train/train_config.h"

using namespace scalelab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0] % 7;
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  fuzz::refused_or_read([&] {
    const json::Json j = json::parse(text, "fuzz.json");
    switch (which) {
      case 0: {  // train --config, a run's config.json
        train::TrainConfig c = train::train_config_from_json(j, "fuzz.json");
        c.model = c.model.resolved();
        c.validate();
        break;
      }
      case 1:  // sweep --config
        sweep::sweep_config_from_json(j, "fuzz.json").validate();
        break;
      case 2:  // a run's result.json
        (void)train::train_result_from_json(j, "fuzz.json");
        break;
      case 3: {  // a checkpoint's state.json, and the config it carries
        const train::CheckpointState st = train::checkpoint_state_from_json(j, "state.json");
        (void)train::train_config_from_json(st.config, "state.json.config");
        break;
      }
      case 4:  // allocate --params: a fitted law
        scaling::scaling_law_from_json(j, "fuzz.json").validate();
        break;
      case 5:  // the data-constrained law in a fit's JSON
        (void)scaling::data_constrained_law_from_json(j, "fuzz.json");
        break;
      default: {  // tokenizer train --config
        tokenizer::bpe_trainer_options_fields().from_json(j, "fuzz.json").validate();
      }
    }
  });
  return 0;
}
