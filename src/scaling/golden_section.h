// Golden-section search: the minimum of a function unimodal on [a, b], to a bracket narrower than
// `tolerance` (absolute) or after max_iterations shrinks by 0.618 each. Used for the 1-D searches
// of the closed-form tools (the inference-aware allocation, the data-constrained allocation).
#pragma once

#include <cmath>

namespace scalelab::scaling {

// Returns the midpoint of the final bracket. Ties move the bracket's lower end.
template <typename F>
double golden_section_min(F&& f, double a, double b, double tolerance, int max_iterations = 200) {
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = f(c), fd = f(d);
  for (int it = 0; it < max_iterations && b - a > tolerance; ++it) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = f(d);
    }
  }
  return 0.5 * (a + b);
}

}  // namespace scalelab::scaling
