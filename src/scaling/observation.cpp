#include "scaling/observation.h"

namespace scalelab::scaling {

FitData to_fit_data(const std::vector<Observation>& observations) {
  FitData d;
  for (const auto& o : observations) {
    d.N.push_back(o.N);
    d.D.push_back(o.D);
    d.loss.push_back(o.loss);
  }
  return d;
}

}  // namespace scalelab::scaling
