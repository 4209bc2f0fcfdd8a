// A run CSV (`fit --csv`, `runs import`): parsed, then read as runs.
#include "common/csv.h"
#include "fuzz_support.h"
#include "runs/run.h"

using namespace scalelab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::refused_or_read([&] {
    const csv::Table t = csv::parse(fuzz::as_text(data, size), "fuzz.csv");
    (void)runs::runs_from_csv(t, "fuzz.csv");
    (void)csv::format(t);
  });
  return 0;
}
