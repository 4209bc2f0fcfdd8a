// Vectorised objective of the parametric fit (see fit.cpp for the scalar reference).
//
// Performance notes (docs/benchmarks.md, "scaling fit"): 3 exp + 1 log per run dominate. glibc
// ships vector variants (libmvec, ≤ 4 ulp) but declares them only under -ffast-math; we declare the
// two we use with __attribute__((simd)) instead, so the rest of the arithmetic keeps IEEE semantics
// (inf/NaN checks stay valid). target_clones adds an AVX2 body (4 doubles per exp) beside the
// baseline SSE2 one. Measured on the 234 Chinchilla runs: 2.4× faster per evaluation than scalar
// exp/log. Without libmvec (other libc or arch) the same loop compiles to scalar calls.
#include "scaling/fit_kernel.h"

#include <algorithm>
#include <cmath>

#if SCALELAB_HAVE_LIBMVEC
extern "C" {
__attribute__((simd("notinbranch"))) double exp(double) noexcept;
__attribute__((simd("notinbranch"))) double log(double) noexcept;
}
// Clang (the fuzz preset) does not multiversion templates: the baseline body only there.
#if defined(__clang__)
#define SCALELAB_CLONES
#else
#define SCALELAB_CLONES __attribute__((target_clones("avx2", "default")))
#endif
#else
#define SCALELAB_CLONES
#endif

namespace scalelab::scaling {

namespace {

// One loop per loss so the loss switch is hoisted out; the body is branch-free (selects) so it
// if-converts and vectorises.
template <int kLoss>
SCALELAB_CLONES double kernel(const KernelData& d, double delta, double asym_w, const double* th,
                              double* grad) {
  const double e = th[0], a = th[1], b = th[2], al = th[3], be = th[4];
  double f = 0, ge = 0, ga = 0, gb = 0, gal = 0, gbe = 0;
  const double* lnN = d.log_N;
  const double* lnD = d.log_D;
  const double* lnL = d.log_L;
  const double* L = d.L;
  const double* W = d.w;
  const size_t n = d.n;
#pragma omp simd reduction(+ : f, ge, ga, gb, gal, gbe)
  for (size_t i = 0; i < n; ++i) {
    const double t1 = a - al * lnN[i], t2 = b - be * lnD[i];
    const double m = std::max(std::max(t1, t2), e);
    const double x1 = exp(t1 - m), x2 = exp(t2 - m), x3 = exp(e - m);
    const double s = x1 + x2 + x3;
    const double lse = m + log(s);
    double rho, drho;  // ρ and dρ/d(lse)
    if constexpr (kLoss == 0) {
      const double r = lse - lnL[i];
      const double ar = std::abs(r);
      const bool quad = ar < delta;
      rho = quad ? 0.5 * r * r : delta * (ar - 0.5 * delta);
      drho = quad ? r : (r > 0 ? delta : -delta);
    } else {
      const double Lhat = exp(std::min(lse, 700.0));
      const double r = Lhat - L[i];
      const double ar = std::abs(r);
      double dr;
      if constexpr (kLoss == 1) {
        const bool quad = ar < delta;
        rho = quad ? 0.5 * r * r : delta * (ar - 0.5 * delta);
        dr = quad ? r : (r > 0 ? delta : -delta);
      } else if constexpr (kLoss == 2) {
        rho = r * r;
        dr = 2 * r;
      } else if constexpr (kLoss == 3) {
        rho = ar;
        dr = r > 0 ? 1.0 : (r < 0 ? -1.0 : 0.0);
      } else {
        rho = r > 0 ? asym_w * r : -r;
        dr = r > 0 ? asym_w : -1.0;
      }
      drho = dr * Lhat;
    }
    const double w = W[i];
    f += w * rho;
    const double dd = w * drho / s;
    ge += dd * x3;
    ga += dd * x1;
    gb += dd * x2;
    gal -= dd * x1 * lnN[i];
    gbe -= dd * x2 * lnD[i];
  }
  if (grad != nullptr) {
    grad[0] = ge;
    grad[1] = ga;
    grad[2] = gb;
    grad[3] = gal;
    grad[4] = gbe;
  }
  return f;
}

}  // namespace

double fit_kernel(const KernelData& d, int loss, double delta, double asym_w, const double* theta,
                  double* grad) {
  switch (loss) {
    case 0:
      return kernel<0>(d, delta, asym_w, theta, grad);
    case 1:
      return kernel<1>(d, delta, asym_w, theta, grad);
    case 2:
      return kernel<2>(d, delta, asym_w, theta, grad);
    case 3:
      return kernel<3>(d, delta, asym_w, theta, grad);
    default:
      return kernel<4>(d, delta, asym_w, theta, grad);
  }
}

}  // namespace scalelab::scaling
