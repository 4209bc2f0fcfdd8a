#include "scaling/observation.h"

#include <map>
#include <string>

namespace scalelab::scaling {

FitData to_fit_data(const std::vector<Observation>& observations) {
  FitData d;
  std::map<std::string, int64_t> ids;
  bool shared = false;
  for (const auto& o : observations) {
    d.N.push_back(o.N);
    d.D.push_back(o.D);
    d.loss.push_back(o.loss);
    int64_t g = static_cast<int64_t>(d.group.size());  // a group of its own
    if (!o.family.empty()) {
      const auto [it, added] = ids.emplace(o.family, g);
      g = it->second;
      shared = shared || !added;
    }
    d.group.push_back(g);
  }
  if (!shared) d.group.clear();  // every run its own: resample runs
  return d;
}

}  // namespace scalelab::scaling
