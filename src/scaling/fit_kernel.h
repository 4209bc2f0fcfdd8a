// The double-precision objective kernel of the parametric fit, vectorised over runs. fit.cpp keeps
// a plain scalar template of the same computation (used for long double, and as the reference that
// tests compare this kernel against).
#pragma once

#include <cstddef>

namespace scalelab::scaling {

struct KernelData {
  const double* log_N;
  const double* log_D;
  const double* log_L;
  const double* L;
  const double* w;  // weights, mean 1 (all ones when unweighted)
  size_t n;
};

// loss: 0 log-huber, 1 huber, 2 mse, 3 mae, 4 asymmetric mae (LossFunction's order).
// theta = (e, a, b, α, β). Returns Σ wᵢ ρᵢ and writes Σ wᵢ ∂ρᵢ/∂θ into grad (not divided by n).
double fit_kernel(const KernelData& d, int loss, double delta, double asym_w, const double* theta,
                  double* grad);

}  // namespace scalelab::scaling
