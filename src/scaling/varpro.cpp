// Variable projection fit of the parametric law.
//
// Outer problem: F(α, β) = min_{θ ≥ 0} f(θ; α, β), θ = (E, A, B), over a box of exponents.
//   1. Coarse grid (search_step apart): at each cell θ from the weighted least-squares fit (exact
//      for mse; a start for the Huber losses), then f at that θ.
//   2. From the best local minima of the grid (up to kRefinements), projected Newton on F in the
//      box with F's exact gradient and Hessian: by the envelope theorem ∇F = ∂f/∂(α, β) at the
//      inner optimum θ*(α, β) (also where θ* sits on a bound, since the bounds do not depend on
//      α, β), and by implicit differentiation ∇²F = H_φφ − H_φθ·H_θθ⁻¹·H_θφ. On the Chinchilla
//      runs it converges in 3–7 steps. (L-BFGS-B crawled here: with Huber δ = 1e-3 most runs sit
//      in the linear region, F is only piecewise smooth, and its curvature pairs are poor.)
//
// Inner problem (fixed α, β), in scaled coordinates θ̃ = (E, A·sᵤ, B·s_v) with sᵤ = maxᵢ Nᵢ^−α (so
// the three columns 1, Nᵢ^−α/sᵤ, Dᵢ^−β/s_v are all O(1)):
//   mse          a 3-variable non-negative least-squares problem, solved exactly by trying the 8
//                active sets (a feasible subset solution of least residual is the NNLS optimum);
//   huber        convex and piecewise quadratic in θ: projected Newton from the least-squares θ.
//                Once the partition of runs into quadratic and linear Huber regions is the final
//                one, one Newton step lands exactly on the optimum (Madsen & Nielsen 1990's
//                finite Huber algorithm, with the projection of Bertsekas 1982 for θ ≥ 0);
//   log-huber    ρ(log L̂ − log L), not convex in θ but smooth within a partition: the same
//                projected Newton with the exact Hessian (ρ'' − ρ')·zzᵀ/L̂² (z = ∂L̂/∂θ),
//                Levenberg-damped where it is not positive definite; converges quadratically.
//                Its start is the least-squares fit weighted 1/Lᵢ² (log L̂ − log L ≈ (L̂ − L)/L).
//   mae, asymmetric-mae: a linear program, not done here (fit.cpp falls back to the grid method).
//
// Sequential, so the result is the same bits for any thread count.
#include "scaling/varpro.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <vector>

#include "common/error.h"

namespace scalelab::scaling::detail {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kRefinements = 3;  // local minima of the coarse grid refined

struct Runs {
  std::vector<double> lnN, lnD, L, lnL, w;  // w: mean 1 (all ones when unweighted)
  double inv_n = 0;
  size_t n = 0;
};

Runs prepare(const FitData& d) {
  Runs r;
  r.n = d.size();
  double sum = 0;
  for (size_t i = 0; i < r.n; ++i) {
    r.lnN.push_back(std::log(d.N[i]));
    r.lnD.push_back(std::log(d.D[i]));
    r.L.push_back(d.loss[i]);
    r.lnL.push_back(std::log(d.loss[i]));
    r.w.push_back(d.weight.empty() ? 1.0 : d.weight[i]);
    sum += r.w.back();
  }
  SCALELAB_CHECK(sum > 0, "fit data: all weights are zero");
  for (double& w : r.w) w *= static_cast<double>(r.n) / sum;
  r.inv_n = 1.0 / static_cast<double>(r.n);
  return r;
}

struct Loss {
  LossFunction f;
  double delta;
  bool log_space() const { return f == LossFunction::kLogHuber; }
  // ρ(r), ρ'(r), ρ''(r); the Huber test is the grid kernel's (|r| < δ is quadratic).
  void eval(double r, double& rho, double& d1, double& d2) const {
    if (f == LossFunction::kMse) {
      rho = r * r;
      d1 = 2 * r;
      d2 = 2;
      return;
    }
    const double ar = std::abs(r);
    if (ar < delta) {
      rho = 0.5 * r * r;
      d1 = r;
      d2 = 1;
    } else {
      rho = delta * (ar - 0.5 * delta);
      d1 = r > 0 ? delta : -delta;
      d2 = 0;
    }
  }
};

// The columns at (α, β): x1ᵢ = Nᵢ^−α / sᵤ, x2ᵢ = Dᵢ^−β / s_v.
struct Basis {
  double alpha = 0, beta = 0, su = 1, sv = 1;
  std::vector<double> x1, x2;
};

void column(const std::vector<double>& ln, double expo, std::vector<double>& x, double& s) {
  x.resize(ln.size());
  s = 0;
  for (size_t i = 0; i < ln.size(); ++i) {
    x[i] = std::exp(-expo * ln[i]);
    s = std::max(s, x[i]);
  }
  if (!(s > 0) || !std::isfinite(s)) s = 1;  // all underflowed: keep the zeros
  for (double& v : x) v /= s;
}

void make_basis(const Runs& R, double alpha, double beta, Basis& b) {
  b.alpha = alpha;
  b.beta = beta;
  column(R.lnN, alpha, b.x1, b.su);
  column(R.lnD, beta, b.x2, b.sv);
}

using Theta = std::array<double, 3>;

// Mean ρ at θ̃; with g and H (3×3, row-major) when given. +inf where a log-space prediction is not
// positive.
double evaluate(const Runs& R, const Loss& loss, const Basis& b, const Theta& t, double* g,
                double* H) {
  double f = 0;
  if (g != nullptr) {
    std::fill(g, g + 3, 0.0);
    std::fill(H, H + 9, 0.0);
  }
  const bool lg = loss.log_space();
  for (size_t i = 0; i < R.n; ++i) {
    const double p = t[0] + t[1] * b.x1[i] + t[2] * b.x2[i];
    double r, inv_p = 1;
    if (lg) {
      if (!(p > 0)) return kInf;
      r = std::log(p) - R.lnL[i];
      inv_p = 1 / p;
    } else {
      r = p - R.L[i];
    }
    double rho, d1, d2;
    loss.eval(r, rho, d1, d2);
    f += R.w[i] * rho;
    if (g != nullptr) {
      const double z[3] = {1, b.x1[i], b.x2[i]};
      const double c1 = R.w[i] * d1 * inv_p;
      const double c2 = lg ? R.w[i] * (d2 - d1) * inv_p * inv_p : R.w[i] * d2;
      for (int j = 0; j < 3; ++j) {
        g[j] += c1 * z[j];
        for (int k = j; k < 3; ++k) H[3 * j + k] += c2 * z[j] * z[k];
      }
    }
  }
  if (g != nullptr) {
    for (int j = 0; j < 3; ++j) {
      g[j] *= R.inv_n;
      for (int k = j; k < 3; ++k) H[3 * k + j] = H[3 * j + k] *= R.inv_n;
    }
  }
  return f * R.inv_n;
}

// Solves the k×k system M x = c (M symmetric positive definite, row-major 3×3 storage of the
// first k rows/columns) by Cholesky; false when M is not positive definite.
bool solve_spd(int k, const double* M, const double* c, double* x) {
  double Lc[3][3] = {};
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j <= i; ++j) {
      double s = M[3 * i + j];
      for (int m = 0; m < j; ++m) s -= Lc[i][m] * Lc[j][m];
      if (i == j) {
        if (!(s > 1e-14 * std::max(std::abs(M[3 * i + i]), 1e-300))) return false;
        Lc[i][i] = std::sqrt(s);
      } else {
        Lc[i][j] = s / Lc[j][j];
      }
    }
  }
  double y[3];
  for (int i = 0; i < k; ++i) {
    double s = c[i];
    for (int m = 0; m < i; ++m) s -= Lc[i][m] * y[m];
    y[i] = s / Lc[i][i];
  }
  for (int i = k - 1; i >= 0; --i) {
    double s = y[i];
    for (int m = i + 1; m < k; ++m) s -= Lc[m][i] * x[m];
    x[i] = s / Lc[i][i];
  }
  return true;
}

// Weighted non-negative least squares of L on (1, x1, x2) with weights w (linear) or w/L²
// (log space): the best feasible solution over the 8 active sets.
Theta least_squares(const Runs& R, const Loss& loss, const Basis& b) {
  double M[9] = {}, c[3] = {};
  for (size_t i = 0; i < R.n; ++i) {
    const double om = loss.log_space() ? R.w[i] / (R.L[i] * R.L[i]) : R.w[i];
    const double z[3] = {1, b.x1[i], b.x2[i]};
    for (int j = 0; j < 3; ++j) {
      c[j] += om * z[j] * R.L[i];
      for (int k = j; k < 3; ++k) M[3 * j + k] += om * z[j] * z[k];
    }
  }
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < j; ++k) M[3 * j + k] = M[3 * k + j];
  Theta best{0, 0, 0};
  double best_q = 0;  // θᵀMθ − 2cᵀθ (the residual less a constant); 0 at θ = 0
  for (int mask = 1; mask < 8; ++mask) {
    int idx[3], k = 0;
    for (int j = 0; j < 3; ++j)
      if (mask & (1 << j)) idx[k++] = j;
    double Ms[9], cs[3], xs[3];
    for (int i = 0; i < k; ++i) {
      cs[i] = c[idx[i]];
      for (int j = 0; j < k; ++j) Ms[3 * i + j] = M[3 * idx[i] + idx[j]];
    }
    if (!solve_spd(k, Ms, cs, xs)) continue;
    Theta t{0, 0, 0};
    bool feasible = true;
    for (int i = 0; i < k; ++i) {
      feasible &= xs[i] >= 0;
      t[static_cast<size_t>(idx[i])] = xs[i];
    }
    if (!feasible) continue;
    double q = 0;
    for (int j = 0; j < 3; ++j) {
      q -= 2 * c[j] * t[static_cast<size_t>(j)];
      for (int m = 0; m < 3; ++m)
        q += t[static_cast<size_t>(j)] * M[3 * j + m] * t[static_cast<size_t>(m)];
    }
    if (q < best_q) {
      best_q = q;
      best = t;
    }
  }
  return best;
}

struct InnerResult {
  Theta t{};
  double f = kInf;
  int iterations = 0;
};

// Projected Newton on θ̃ ≥ 0 from t0 (see the top of the file).
InnerResult inner_newton(const Runs& R, const Loss& loss, const Basis& b, Theta t) {
  InnerResult out;
  double g[3], H[9];
  double f = evaluate(R, loss, b, t, g, H);
  if (!std::isfinite(f)) {
    // A start with a non-positive prediction (log space): from the least-squares fit instead.
    t = least_squares(R, loss, b);
    f = evaluate(R, loss, b, t, g, H);
    if (!std::isfinite(f)) return out;
  }
  for (int it = 0; it < 200; ++it) {
    out.iterations = it + 1;
    // Free variables: all but those on their bound with the gradient pushing outwards.
    int idx[3], k = 0;
    for (int j = 0; j < 3; ++j)
      if (!(t[static_cast<size_t>(j)] <= 0 && g[j] > 0)) idx[k++] = j;
    if (k == 0) break;
    double Ms[9], gs[3], ds[3];
    double trace = 0, gmax = 0;
    for (int i = 0; i < k; ++i) {
      gs[i] = -g[idx[i]];
      gmax = std::max(gmax, std::abs(g[idx[i]]));
      trace += std::abs(H[3 * idx[i] + idx[i]]);
      for (int j = 0; j < k; ++j) Ms[3 * i + j] = H[3 * idx[i] + idx[j]];
    }
    if (gmax == 0) break;
    // Levenberg damping where the Hessian is not positive definite (few runs in Huber's quadratic
    // region, or the negative curvature of log L̂).
    double mu = 0;
    const double base = trace > 0 ? trace / k : gmax;
    bool solved = false;
    for (int attempt = 0; attempt < 40 && !solved; ++attempt) {
      double Md[9];
      std::copy(Ms, Ms + 9, Md);
      for (int i = 0; i < k; ++i) Md[3 * i + i] += mu;
      solved = solve_spd(k, Md, gs, ds);
      mu = mu == 0 ? 1e-10 * base : mu * 10;
    }
    if (!solved) break;
    Theta d{0, 0, 0};
    double decrement = 0;  // −gᵀd: the Newton decrement², the predicted decrease × 2
    for (int i = 0; i < k; ++i) {
      d[static_cast<size_t>(idx[i])] = ds[i];
      decrement -= g[idx[i]] * ds[i];
    }
    if (!(decrement > 1e-17 * std::max(std::abs(f), 1e-300))) break;  // converged
    double step = 1;
    bool accepted = false;
    Theta tn{};
    double fn = kInf;
    for (int ls = 0; ls < 40; ++ls) {
      double pred = 0;
      for (size_t j = 0; j < 3; ++j) {
        tn[j] = std::max(0.0, t[j] + step * d[j]);
        pred += g[j] * (tn[j] - t[j]);
      }
      fn = evaluate(R, loss, b, tn, nullptr, nullptr);
      if (fn <= f + 1e-4 * pred) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted || !(fn < f)) break;  // no decrease left at double precision
    t = tn;
    f = evaluate(R, loss, b, t, g, H);
  }
  out.t = t;
  out.f = f;
  return out;
}

// The inner optimum at (α, β) from a warm start given as unscaled (E, A, B).
InnerResult solve_inner(const Runs& R, const Loss& loss, const Basis& b, const Theta* warm,
                        int* newton_iterations) {
  Theta t;
  if (warm != nullptr)
    t = {(*warm)[0], (*warm)[1] * b.su, (*warm)[2] * b.sv};
  else
    t = least_squares(R, loss, b);
  if (loss.f == LossFunction::kMse && warm == nullptr) {
    InnerResult r;
    r.t = t;
    r.f = evaluate(R, loss, b, t, nullptr, nullptr);
    return r;
  }
  InnerResult r = inner_newton(R, loss, b, t);
  if (newton_iterations != nullptr) *newton_iterations += r.iterations;
  return r;
}

Theta unscale(const Theta& t, const Basis& b) { return {t[0], t[1] / b.su, t[2] / b.sv}; }

// Gradient and Hessian of f in y = (θ̃₀, θ̃₁, θ̃₂, α, β) at a point, in one pass (sᵤ, s_v held
// fixed, so ∂x1/∂α = −x1·log N). With L̂ = θ̃₀ + θ̃₁x1 + θ̃₂x2, r = r(L̂), ρ' and ρ'' of the loss:
//   ∂f/∂y = mean w·ρ'·r'·∂L̂/∂y,  ∂²f/∂y∂y' = mean w·[(ρ''r'² + ρ'r'')·∂L̂/∂y·∂L̂/∂y' +
//   ρ'r'·∂²L̂/∂y∂y'].
void full_derivatives(const Runs& R, const Loss& loss, const Basis& b, const Theta& t, double* g,
                      double* H) {
  std::fill(g, g + 5, 0.0);
  std::fill(H, H + 25, 0.0);
  const bool lg = loss.log_space();
  for (size_t i = 0; i < R.n; ++i) {
    const double x1 = b.x1[i], x2 = b.x2[i], lnN = R.lnN[i], lnD = R.lnD[i];
    const double p = t[0] + t[1] * x1 + t[2] * x2;
    double r, q = 1, qq = 0;  // r, dr/dL̂, d²r/dL̂²
    if (lg) {
      r = std::log(p) - R.lnL[i];
      q = 1 / p;
      qq = -q * q;
    } else {
      r = p - R.L[i];
    }
    double rho, d1, d2;
    loss.eval(r, rho, d1, d2);
    const double c1 = R.w[i] * d1 * q, c2 = R.w[i] * (d2 * q * q + d1 * qq);
    const double py[5] = {1, x1, x2, -t[1] * x1 * lnN, -t[2] * x2 * lnD};
    for (int j = 0; j < 5; ++j) {
      g[j] += c1 * py[j];
      for (int k = j; k < 5; ++k) H[5 * j + k] += c2 * py[j] * py[k];
    }
    H[5 * 1 + 3] += c1 * (-x1 * lnN);
    H[5 * 2 + 4] += c1 * (-x2 * lnD);
    H[5 * 3 + 3] += c1 * (t[1] * x1 * lnN * lnN);
    H[5 * 4 + 4] += c1 * (t[2] * x2 * lnD * lnD);
  }
  for (int j = 0; j < 5; ++j) {
    g[j] *= R.inv_n;
    for (int k = j; k < 5; ++k) H[5 * k + j] = H[5 * j + k] *= R.inv_n;
  }
}

struct Bounds {
  double alpha_lo, alpha_hi, beta_lo, beta_hi;
};

struct Candidate {
  double f = kInf, alpha = 0, beta = 0;
  Theta theta{};  // unscaled (E, A, B)
  int iterations = 0;
  bool converged = false;  // stopped by a convergence test, not the iteration cap
};

// The inner optimum at (α, β) from a warm start. A warm start far from the optimum can end on a
// degenerate corner of log-huber's non-convex inner problem (E or A or B = 0); the least-squares
// start decides then.
InnerResult inner_at(const Runs& R, const Loss& loss, const Basis& b, const Theta& warm,
                     uint64_t* solves) {
  ++*solves;
  InnerResult in = solve_inner(R, loss, b, &warm, nullptr);
  if (std::isfinite(in.f) && in.t[0] > 0 && in.t[1] > 0 && in.t[2] > 0) return in;
  ++*solves;
  const InnerResult ls = solve_inner(R, loss, b, nullptr, nullptr);
  return ls.f < in.f ? ls : in;
}

// Projected Newton on F(α, β) in the box, with F's exact Hessian within a Huber partition:
// ∇²F = H_φφ − H_φθ·H_θθ⁻¹·H_θφ over the free inner variables (implicit differentiation of the
// inner optimum), Levenberg-damped where it is not positive definite. Each trial point's inner
// solve starts from the first-order prediction θ + dθ/dφ·Δφ.
Candidate refine(const Runs& R, const Loss& loss, const Bounds& bx, Candidate c, int max_iterations,
                 uint64_t* solves) {
  Basis b;
  make_basis(R, c.alpha, c.beta, b);
  InnerResult in = inner_at(R, loss, b, c.theta, solves);
  if (!std::isfinite(in.f)) return c;
  c.f = in.f;
  c.theta = unscale(in.t, b);
  const double lo[2] = {bx.alpha_lo, bx.beta_lo}, hi[2] = {bx.alpha_hi, bx.beta_hi};
  c.converged = true;  // unless the loop runs out of iterations below
  for (int it = 0;; ++it) {
    c.iterations = it;
    if (it == max_iterations) {
      c.converged = false;
      break;
    }
    double g[5], H[25];
    full_derivatives(R, loss, b, in.t, g, H);
    // Free inner variables (not held at 0 by a positive gradient), Schur complement onto (α, β).
    int fi[3], nf = 0;
    for (int j = 0; j < 3; ++j)
      if (!(in.t[static_cast<size_t>(j)] <= 0 && g[j] > 0)) fi[nf++] = j;
    double Hff[9], Hfp[3][2] = {}, sol[3][2] = {};
    for (int i = 0; i < nf; ++i) {
      for (int j = 0; j < nf; ++j) Hff[3 * i + j] = H[5 * fi[i] + fi[j]];
      Hfp[i][0] = H[5 * fi[i] + 3];
      Hfp[i][1] = H[5 * fi[i] + 4];
    }
    bool inner_pd = true;
    for (int col = 0; col < 2 && nf > 0; ++col) {
      double rhs[3], x[3];
      for (int i = 0; i < nf; ++i) rhs[i] = Hfp[i][col];
      inner_pd &= solve_spd(nf, Hff, rhs, x);
      for (int i = 0; i < nf; ++i) sol[i][col] = x[i];  // H_θθ⁻¹·H_θφ
    }
    if (!inner_pd) nf = 0;  // singular inner Hessian: fall back to H_φφ alone
    double S[4];
    for (int a = 0; a < 2; ++a)
      for (int e = 0; e < 2; ++e) {
        double v = H[5 * (3 + a) + 3 + e];
        for (int i = 0; i < nf; ++i) v -= Hfp[i][a] * sol[i][e];
        S[2 * a + e] = v;
      }
    // Exponents held on a bound by the gradient.
    const double phi[2] = {c.alpha, c.beta};
    const double gp[2] = {g[3], g[4]};
    bool free_p[2];
    for (int a = 0; a < 2; ++a)
      free_p[a] = !((phi[a] <= lo[a] && gp[a] > 0) || (phi[a] >= hi[a] && gp[a] < 0));
    int pi[2], np = 0;
    for (int a = 0; a < 2; ++a)
      if (free_p[a]) pi[np++] = a;
    if (np == 0) break;
    double Ms[9], rs[3], ds[3];
    const double base = std::max(std::abs(S[0]) + std::abs(S[3]), 1e-300);
    bool solved = false;
    for (double mu = 0; !solved && mu < 1e30 * base; mu = mu == 0 ? 1e-10 * base : mu * 10) {
      for (int i = 0; i < np; ++i) {
        rs[i] = -gp[pi[i]];
        for (int j = 0; j < np; ++j) Ms[3 * i + j] = S[2 * pi[i] + pi[j]] + (i == j ? mu : 0);
      }
      solved = solve_spd(np, Ms, rs, ds);
    }
    if (!solved) break;
    double d[2] = {0, 0}, decrement = 0;
    for (int i = 0; i < np; ++i) {
      d[pi[i]] = ds[i];
      decrement -= gp[pi[i]] * ds[i];
    }
    if (!(decrement > 1e-16 * c.f)) break;  // converged
    double step = 1;
    bool accepted = false;
    for (int ls = 0; ls < 40 && !accepted; ++ls, step *= 0.5) {
      double pn[2], pred = 0;
      for (int a = 0; a < 2; ++a) {
        pn[a] = std::clamp(phi[a] + step * d[a], lo[a], hi[a]);
        pred += gp[a] * (pn[a] - phi[a]);
      }
      Basis bn;
      make_basis(R, pn[0], pn[1], bn);
      // Warm start: θ̃ + dθ̃/dφ·Δφ with dθ̃/dφ = −H_θθ⁻¹H_θφ, back in unscaled units.
      Theta tw = in.t;
      for (int i = 0; i < nf; ++i)
        tw[static_cast<size_t>(fi[i])] =
            std::max(0.0, tw[static_cast<size_t>(fi[i])] -
                              (sol[i][0] * (pn[0] - phi[0]) + sol[i][1] * (pn[1] - phi[1])));
      const InnerResult tn = inner_at(R, loss, bn, unscale(tw, b), solves);
      if (std::isfinite(tn.f) && tn.f <= c.f + 1e-4 * pred && tn.f < c.f) {
        accepted = true;
        c.alpha = pn[0];
        c.beta = pn[1];
        c.f = tn.f;
        c.theta = unscale(tn.t, bn);
        in = tn;
        b = std::move(bn);
      }
    }
    if (!accepted) break;  // no decrease left at double precision
  }
  return c;
}

std::vector<double> axis(double lo, double hi, double step) {
  const auto n = static_cast<size_t>(std::max(2.0, std::ceil((hi - lo) / step - 1e-9) + 1));
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
  return v;
}

}  // namespace

FitResult fit_varpro(const FitData& data, const FitOptions& opt, const ScalingLaw* start) {
  const auto t0 = std::chrono::steady_clock::now();
  const Runs R = prepare(data);
  const Loss loss{opt.loss, opt.resolved_delta()};
  const Bounds bx{opt.alpha_min, opt.alpha_max, opt.beta_min, opt.beta_max};
  uint64_t solves = 0;

  std::vector<Candidate> starts;
  size_t cells = 0;
  if (start != nullptr) {
    Candidate c;
    c.alpha = std::clamp(start->alpha, bx.alpha_lo, bx.alpha_hi);
    c.beta = std::clamp(start->beta, bx.beta_lo, bx.beta_hi);
    c.theta = {start->E, start->A, start->B};
    starts.push_back(c);
  } else {
    // 1. The coarse grid, least-squares θ per cell. Columns are computed once per axis value.
    const std::vector<double> al = axis(bx.alpha_lo, bx.alpha_hi, opt.search_step);
    const std::vector<double> be = axis(bx.beta_lo, bx.beta_hi, opt.search_step);
    cells = al.size() * be.size();
    std::vector<Basis> cols_a(al.size()), cols_b(be.size());
    for (size_t i = 0; i < al.size(); ++i) column(R.lnN, al[i], cols_a[i].x1, cols_a[i].su);
    for (size_t j = 0; j < be.size(); ++j) column(R.lnD, be[j], cols_b[j].x2, cols_b[j].sv);
    std::vector<Candidate> grid(cells);
    Basis b;
    for (size_t i = 0; i < al.size(); ++i)
      for (size_t j = 0; j < be.size(); ++j) {
        b.alpha = al[i];
        b.beta = be[j];
        b.x1 = cols_a[i].x1;
        b.su = cols_a[i].su;
        b.x2 = cols_b[j].x2;
        b.sv = cols_b[j].sv;
        const Theta t = least_squares(R, loss, b);
        Candidate& c = grid[i * be.size() + j];
        c.alpha = al[i];
        c.beta = be[j];
        c.theta = unscale(t, b);
        c.f = evaluate(R, loss, b, t, nullptr, nullptr);
        if (!std::isfinite(c.f)) c.f = kInf;
      }
    // Local minima over the 8 neighbours, best first.
    for (size_t i = 0; i < al.size(); ++i)
      for (size_t j = 0; j < be.size(); ++j) {
        const Candidate& c = grid[i * be.size() + j];
        if (!std::isfinite(c.f)) continue;
        bool is_min = true;
        for (int di = -1; di <= 1 && is_min; ++di)
          for (int dj = -1; dj <= 1; ++dj) {
            const auto ii = static_cast<ptrdiff_t>(i) + di, jj = static_cast<ptrdiff_t>(j) + dj;
            if ((di == 0 && dj == 0) || ii < 0 || jj < 0 ||
                ii >= static_cast<ptrdiff_t>(al.size()) || jj >= static_cast<ptrdiff_t>(be.size()))
              continue;
            if (grid[static_cast<size_t>(ii) * be.size() + static_cast<size_t>(jj)].f < c.f) {
              is_min = false;
              break;
            }
          }
        if (is_min) starts.push_back(c);
      }
    std::stable_sort(starts.begin(), starts.end(),
                     [](const Candidate& x, const Candidate& y) { return x.f < y.f; });
    if (starts.size() > static_cast<size_t>(kRefinements)) starts.resize(kRefinements);
    SCALELAB_CHECK(!starts.empty(),
                   "the fit failed: the objective was not finite at any of {} (alpha, beta) grid "
                   "points (check the runs for extreme N, D or loss values)",
                   cells);
  }

  // 2. Refinement of each start; the best wins (ties: the earlier, i.e. the better grid cell).
  FitResult r;
  r.method = FitMethod::kVarPro;
  r.loss = opt.loss;
  r.delta = opt.loss == LossFunction::kMse ? 0.0 : opt.resolved_delta();
  r.n_runs = data.size();
  r.starts = starts.size();
  r.grid_cells = cells;
  std::vector<Candidate> done;
  for (const Candidate& s : starts)
    done.push_back(refine(R, loss, bx, s, opt.max_iterations, &solves));
  const Candidate* best = nullptr;
  for (const Candidate& c : done) {
    if (!std::isfinite(c.f) || !c.converged) {
      ++r.starts_failed;
      continue;
    }
    ++r.starts_converged;
    if (best == nullptr || c.f < best->f) best = &c;
  }
  SCALELAB_CHECK(best != nullptr,
                 "the fit failed: none of {} refinements from the (alpha, beta) grid converged "
                 "within {} Newton iterations (raise --max-iterations)",
                 done.size(), opt.max_iterations);
  const double tol = opt.near_best_rtol * std::max(std::abs(best->f), 1e-300);
  for (const Candidate& c : done)
    if (std::isfinite(c.f) && c.converged && c.f - best->f <= tol) ++r.starts_near_best;
  r.law = ScalingLaw{best->theta[0], best->theta[1], best->theta[2], best->alpha, best->beta};
  r.objective = best->f;
  r.best_iterations = best->iterations;
  r.best_evaluations = 0;
  r.evaluations = solves;
  auto at_bound = [](double v, double lo, double hi) {
    return v <= lo + 1e-9 * (hi - lo) || v >= hi - 1e-9 * (hi - lo);
  };
  if (at_bound(best->alpha, bx.alpha_lo, bx.alpha_hi) ||
      at_bound(best->beta, bx.beta_lo, bx.beta_hi))
    r.warnings.push_back(fmt::format(
        "alpha {:.4g} or beta {:.4g} is at its search bound (alpha in [{:g}, {:g}], beta in "
        "[{:g}, {:g}]): the optimum may lie outside; widen --alpha-min/--alpha-max/--beta-min/"
        "--beta-max or check the data",
        best->alpha, best->beta, bx.alpha_lo, bx.alpha_hi, bx.beta_lo, bx.beta_hi));
  if (!(r.law.A > 0) || !(r.law.B > 0))
    r.warnings.push_back(fmt::format(
        "{} fitted at 0: the runs show no effect of {} on the loss; the law does not identify a "
        "compute-optimal allocation",
        r.law.A > 0 ? "B" : "A", r.law.A > 0 ? "D" : "N"));
  finish_fit(data, r);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace scalelab::scaling::detail
