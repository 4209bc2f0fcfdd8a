// L-BFGS grid fit of the parametric law.
//
// Hot loop (Objective::operator()): per run, 3 exp + 1 log + a few FMAs; log N, log D, log L are
// precomputed once. What we tried and measured is recorded in docs/benchmarks.md ("scaling fit").
//
// Basin pruning: a start that converges publishes every point it evaluated (with its objective)
// into a spatial hash. A later start whose evaluated point lies within prune_radius (scaled
// coordinates) of a published point with a matching objective (relative 1e-2) is on a path already
// walked to the end: it stops and is counted in that basin. The first start to reach any basin
// always runs to full convergence, so the best optimum found is exactly what an unpruned run finds
// from those starts. Starts run in waves and publish between them (fit_impl), so the result is the
// same to the bit for any thread count.
#include "scaling/fit.h"

#include <LBFGS.h>
#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <type_traits>
#include <unordered_map>

#include "common/error.h"
#include "common/thread_pool.h"
#include "scaling/fit_kernel.h"
#include "scaling/varpro.h"

namespace scalelab::scaling {

std::string_view to_string(LossFunction f) { return fields::enum_name(f); }
LossFunction parse_loss_function(std::string_view s) {
  return fields::parse_enum<LossFunction>(s, "loss");
}
std::string_view to_string(FitMethod m) { return fields::enum_name(m); }
std::string_view to_string(Precision p) { return fields::enum_name(p); }
Precision parse_precision(std::string_view s) {
  return fields::parse_enum<Precision>(s, "precision");
}

void ParamGrid::validate() const {
  auto check = [](const char* name, const std::vector<double>& v) {
    SCALELAB_CHECK(!v.empty(), "grid.{}: needs at least one start value", name);
    for (double x : v)
      SCALELAB_CHECK(std::isfinite(x), "grid.{}: start value {} is not finite", name, x);
  };
  check("e", e);
  check("a", a);
  check("b", b);
  check("alpha", alpha);
  check("beta", beta);
}

json::Json to_json(const ParamGrid& g) {
  return {{"e", g.e}, {"a", g.a}, {"b", g.b}, {"alpha", g.alpha}, {"beta", g.beta}};
}

ParamGrid param_grid_from_json(const json::Json& j, std::string_view context) {
  ParamGrid g;
  json::ObjectReader r(j, std::string(context));
  auto axis = [&](const char* key, std::vector<double>& out) {
    if (!r.has(key)) return;
    const json::Json& v = r.at(key);
    if (v.is_object()) {
      json::ObjectReader lr(v, r.field_name(key));
      double start = 0, stop = 0;
      int64_t num = 0;
      lr.require("start", start);
      lr.require("stop", stop);
      lr.require("num", num);
      lr.finish();
      SCALELAB_CHECK(num >= 1 && num <= 10000, "{}.num: must be in [1, 10000] (got {})",
                     r.field_name(key), num);
      out.clear();
      for (int64_t i = 0; i < num; ++i)
        out.push_back(num == 1 ? start
                               : start + (stop - start) * static_cast<double>(i) /
                                             static_cast<double>(num - 1));
      r.accept(key);
    } else {
      r.get(key, out);
    }
  };
  // e, a, b are logs (the paper's parametrisation); E, A, B (the package's README grids) are given
  // as values and converted to logs here. Each axis may be given one way, not both.
  auto log_axis = [&](const char* log_key, const char* lin_key, std::vector<double>& out) {
    SCALELAB_CHECK(!(r.has(log_key) && r.has(lin_key)), "{}: give {} or {}, not both", context,
                   log_key, lin_key);
    if (r.has(lin_key)) {
      axis(lin_key, out);
      for (double& v : out) {
        SCALELAB_CHECK(v > 0, "{}: start values must be positive to take their log (got {})",
                       r.field_name(lin_key), v);
        v = std::log(v);
      }
    } else {
      axis(log_key, out);
    }
  };
  log_axis("e", "E", g.e);
  log_axis("a", "A", g.a);
  log_axis("b", "B", g.b);
  axis("alpha", g.alpha);
  axis("beta", g.beta);
  r.finish();
  g.validate();
  return g;
}

void FitData::validate(size_t min_runs) const {
  SCALELAB_CHECK(N.size() == D.size() && N.size() == loss.size(),
                 "fit data: N, D and loss differ in length");
  SCALELAB_CHECK(weight.empty() || weight.size() == N.size(), "fit data: {} weights for {} runs",
                 weight.size(), N.size());
  SCALELAB_CHECK(group.empty() || group.size() == N.size(), "fit data: {} groups for {} runs",
                 group.size(), N.size());
  SCALELAB_CHECK(N.size() >= min_runs, "need at least {} runs to fit the scaling law, got {}",
                 min_runs, N.size());
  for (size_t i = 0; i < N.size(); ++i) {
    auto ok = [](double v) { return std::isfinite(v) && v > 0; };
    SCALELAB_CHECK(ok(N[i]), "run {}: N must be a finite positive number (got {})", i + 1, N[i]);
    SCALELAB_CHECK(ok(D[i]), "run {}: D must be a finite positive number (got {})", i + 1, D[i]);
    SCALELAB_CHECK(ok(loss[i]), "run {}: loss must be a finite positive number (got {})", i + 1,
                   loss[i]);
    if (!weight.empty())
      SCALELAB_CHECK(std::isfinite(weight[i]) && weight[i] >= 0,
                     "run {}: weight must be finite and >= 0 (got {})", i + 1, weight[i]);
  }
}

const fields::Table<FitOptions>& fit_options_fields() {
  using fields::Range;
  static const auto t =
      fields::Table<FitOptions>()
          .add("loss", &FitOptions::loss,
               "Loss minimised over the runs: log-huber is Hoffmann et al.'s, asymmetric-mae the "
               "chinchilla package's")
          .add("method", &FitOptions::method,
               "varpro: search (alpha, beta), solve (E, A, B) exactly inside; grid: L-BFGS from "
               "every start of the grid (the reference)")
          .add("alpha_min", &FitOptions::alpha_min, "varpro: lower end of alpha's search range",
               Range::in(0, 2, true, true))
          .add("alpha_max", &FitOptions::alpha_max, "varpro: upper end of alpha's search range",
               Range::in(0, 2, true, true))
          .add("beta_min", &FitOptions::beta_min, "varpro: lower end of beta's search range",
               Range::in(0, 2, true, true))
          .add("beta_max", &FitOptions::beta_max, "varpro: upper end of beta's search range",
               Range::in(0, 2, true, true))
          .add("search_step", &FitOptions::search_step,
               "varpro: spacing of the coarse (alpha, beta) grid before the local refinement",
               Range::in(0, 1, true, false))
          .add("delta", &FitOptions::delta, "Huber delta (0 = 1e-3 for log-huber, 1.0 for huber)",
               Range::at_least(0))
          .add("asymmetric_weight", &FitOptions::asymmetric_weight,
               "asymmetric-mae: weight of over-prediction", Range::positive())
          .add("precision", &FitOptions::precision, "Arithmetic of the objective and L-BFGS")
          .add("threads", &FitOptions::threads, "Threads (0 = all cores)", Range::at_least(0))
          .add("max_iterations", &FitOptions::max_iterations,
               "L-BFGS iterations per start (grid) or refinement (varpro)", Range::at_least(1))
          .add("prune_radius", &FitOptions::prune_radius,
               "Stop a start on reaching a converged start's path (scaled units; 0 = run every "
               "start to the end)",
               Range::in(0, 1, false, true))
          .add("near_best_rtol", &FitOptions::near_best_rtol,
               "Relative objective within which a start counts as landing on the best",
               Range::at_least(0));
  return t;
}

void FitOptions::validate() const {
  fit_options_fields().check(*this);
  SCALELAB_CHECK(
      alpha_min < alpha_max,
      "alpha_min: the search range for alpha is empty ({:g} is not below alpha_max {:g})",
      alpha_min, alpha_max);
  SCALELAB_CHECK(beta_min < beta_max,
                 "beta_min: the search range for beta is empty ({:g} is not below beta_max {:g})",
                 beta_min, beta_max);
  SCALELAB_CHECK(precision == Precision::kDouble || method == FitMethod::kGrid,
                 "precision: long-double is for method grid (varpro works in double)");
  grid.validate();
}

double FitOptions::huber_delta() const {
  return loss == LossFunction::kLogHuber || loss == LossFunction::kHuber ? resolved_delta() : 0.0;
}

double FitOptions::resolved_delta() const {
  if (delta > 0) return delta;
  return loss == LossFunction::kLogHuber ? 1e-3 : 1.0;
}

namespace {

constexpr int kDim = 5;  // (e, a, b, alpha, beta)

template <typename T>
struct Prepared {
  std::vector<T> log_N, log_D, log_L, L, w;  // w empty = unweighted
  std::vector<T> ones;                       // all-ones weights for the vectorised kernel
  T inv_n = 0;
};

template <typename T>
Prepared<T> prepare(const FitData& d) {
  Prepared<T> p;
  const size_t n = d.size();
  p.log_N.resize(n);
  p.log_D.resize(n);
  p.log_L.resize(n);
  p.L.resize(n);
  for (size_t i = 0; i < n; ++i) {
    p.log_N[i] = std::log(static_cast<T>(d.N[i]));
    p.log_D[i] = std::log(static_cast<T>(d.D[i]));
    p.L[i] = static_cast<T>(d.loss[i]);
    p.log_L[i] = std::log(p.L[i]);
  }
  if (!d.weight.empty()) {
    T sum = 0;
    for (double w : d.weight) sum += static_cast<T>(w);
    SCALELAB_CHECK(sum > 0, "fit data: all weights are zero");
    p.w.resize(n);
    for (size_t i = 0; i < n; ++i)
      p.w[i] = static_cast<T>(d.weight[i]) * static_cast<T>(n) / sum;  // mean 1
  }
  p.inv_n = T(1) / static_cast<T>(n);
  p.ones.assign(n, T(1));
  return p;
}

// Spatial hash of points walked by converged starts (scaled coordinates).
class BasinMap {
 public:
  explicit BasinMap(double radius) : radius_(radius) {}
  bool enabled() const { return radius_ > 0; }

  void publish(const std::vector<std::array<double, kDim + 1>>& points, int basin) {
    std::unique_lock lock(mutex_);
    for (const auto& p : points) cells_[key(p.data())].push_back({p, basin});
  }
  // Returns the basin of a published point near x whose objective matches f, or -1.
  int find(const double* x, double f) const {
    std::shared_lock lock(mutex_);
    auto it = cells_.find(key(x));
    if (it == cells_.end()) return -1;
    for (const auto& e : it->second) {
      double d2 = 0;
      for (int k = 0; k < kDim; ++k) d2 += (e.p[k] - x[k]) * (e.p[k] - x[k]);
      double fp = e.p[kDim];
      if (d2 <= radius_ * radius_ && std::abs(f - fp) <= 1e-2 * std::max(std::abs(fp), 1e-300))
        return e.basin;
    }
    return -1;
  }

 private:
  struct Entry {
    std::array<double, kDim + 1> p;
    int basin;
  };
  uint64_t key(const double* x) const {
    uint64_t h = 1469598103934665603ull;
    for (int k = 0; k < kDim; ++k) {
      auto c = static_cast<int64_t>(std::floor(x[k] / radius_));
      h = (h ^ static_cast<uint64_t>(c)) * 1099511628211ull;
    }
    return h;
  }
  double radius_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<uint64_t, std::vector<Entry>> cells_;
};

struct JoinedBasin {
  int basin;
};

template <typename T>
class Objective {
 public:
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  Objective(const Prepared<T>& p, LossFunction loss, T delta, T asym_w,
            const std::array<T, kDim>& scale)
      : p_(p), loss_(loss), delta_(delta), asym_w_(asym_w), scale_(scale) {}

  // Value and gradient in scaled coordinates: θ = x ∘ scale, θ = (e, a, b, α, β). double goes
  // through the vectorised kernel (fit_kernel.cpp); value_grad_reference is the plain scalar
  // version.
  T value_grad(const Vec& x, Vec* grad) const {
    if constexpr (std::is_same_v<T, double>) {
      if (use_kernel_) {
        const double th[kDim] = {x[0] * scale_[0], x[1] * scale_[1], x[2] * scale_[2],
                                 x[3] * scale_[3], x[4] * scale_[4]};
        double g[kDim];
        const KernelData kd{p_.log_N.data(),
                            p_.log_D.data(),
                            p_.log_L.data(),
                            p_.L.data(),
                            p_.w.empty() ? p_.ones.data() : p_.w.data(),
                            p_.L.size()};
        const double f = fit_kernel(kd, static_cast<int>(loss_), delta_, asym_w_, th, g);
        if (grad != nullptr) {
          grad->resize(kDim);
          for (int k = 0; k < kDim; ++k) (*grad)[k] = g[k] * p_.inv_n * scale_[k];
        }
        return f * p_.inv_n;
      }
    }
    return value_grad_reference(x, grad);
  }
  void set_use_kernel(bool on) { use_kernel_ = on; }

  T value_grad_reference(const Vec& x, Vec* grad) const {
    const T e = x[0] * scale_[0], a = x[1] * scale_[1], b = x[2] * scale_[2], al = x[3] * scale_[3],
            be = x[4] * scale_[4];
    T f = 0, ge = 0, ga = 0, gb = 0, gal = 0, gbe = 0;
    const size_t n = p_.L.size();
    const bool weighted = !p_.w.empty();
    const bool log_space = loss_ == LossFunction::kLogHuber;
    for (size_t i = 0; i < n; ++i) {
      const T t1 = a - al * p_.log_N[i], t2 = b - be * p_.log_D[i];
      const T m = std::max(std::max(t1, t2), e);
      const T x1 = std::exp(t1 - m), x2 = std::exp(t2 - m), x3 = std::exp(e - m);
      const T s = x1 + x2 + x3;
      const T lse = m + std::log(s);
      T rho, drho;  // ρ and dρ/d(lse)
      if (log_space) {
        const T r = lse - p_.log_L[i];
        huber(r, rho, drho);
      } else {
        const T Lhat = std::exp(std::min(lse, T(700)));
        const T r = Lhat - p_.L[i];  // prediction − truth
        T dr;
        switch (loss_) {
          case LossFunction::kHuber:
            huber(r, rho, dr);
            break;
          case LossFunction::kMse:
            rho = r * r;
            dr = 2 * r;
            break;
          case LossFunction::kMae:
            rho = std::abs(r);
            dr = r > 0 ? T(1) : (r < 0 ? T(-1) : T(0));
            break;
          default:  // asymmetric MAE: over-prediction weighted w
            if (r > 0) {
              rho = asym_w_ * r;
              dr = asym_w_;
            } else {
              rho = -r;
              dr = -1;
            }
        }
        drho = dr * Lhat;
      }
      const T w = weighted ? p_.w[i] : T(1);
      f += w * rho;
      if (grad != nullptr) {
        const T d = w * drho / s;
        ge += d * x3;
        ga += d * x1;
        gb += d * x2;
        gal -= d * x1 * p_.log_N[i];
        gbe -= d * x2 * p_.log_D[i];
      }
    }
    if (grad != nullptr) {
      grad->resize(kDim);
      (*grad)[0] = ge * p_.inv_n * scale_[0];
      (*grad)[1] = ga * p_.inv_n * scale_[1];
      (*grad)[2] = gb * p_.inv_n * scale_[2];
      (*grad)[3] = gal * p_.inv_n * scale_[3];
      (*grad)[4] = gbe * p_.inv_n * scale_[4];
    }
    return f * p_.inv_n;
  }

 private:
  void huber(T r, T& rho, T& drho) const {
    const T ar = std::abs(r);
    if (ar < delta_) {
      rho = r * r / 2;
      drho = r;
    } else {
      rho = delta_ * (ar - delta_ / 2);
      drho = r > 0 ? delta_ : -delta_;
    }
  }
  const Prepared<T>& p_;
  LossFunction loss_;
  T delta_, asym_w_;
  std::array<T, kDim> scale_;
  bool use_kernel_ = true;
};

// Wraps the objective for LBFGSpp: remembers the best point evaluated (line-search failures can
// leave the solver's x on a rejected trial point), records the path for pruning, and stops on
// joining a basin.
template <typename T>
class Tracker {
 public:
  using Vec = typename Objective<T>::Vec;
  Tracker(const Objective<T>& obj, const BasinMap* basins, bool record)
      : obj_(obj), basins_(basins), record_(record) {}

  T operator()(const Vec& x, Vec& grad) {
    T f = obj_.value_grad(x, &grad);
    if (!std::isfinite(static_cast<double>(f))) {
      // Let the backtracking line search shrink the step: NaN compares false, +inf always rejects.
      return std::numeric_limits<T>::infinity();
    }
    ++evals_;
    if (f < best_f_) {
      best_f_ = f;
      best_x_ = x;
    }
    std::array<double, kDim + 1> pt;
    for (int k = 0; k < kDim; ++k) pt[k] = static_cast<double>(x[k]);
    pt[kDim] = static_cast<double>(f);
    if (record_) path_.push_back(pt);
    if (basins_ != nullptr && basins_->enabled()) {
      int b = basins_->find(pt.data(), pt[kDim]);
      if (b >= 0) throw JoinedBasin{b};
    }
    return f;
  }
  T best_f() const { return best_f_; }
  const Vec& best_x() const { return best_x_; }
  int evaluations() const { return evals_; }
  const std::vector<std::array<double, kDim + 1>>& path() const { return path_; }

 private:
  const Objective<T>& obj_;
  const BasinMap* basins_;
  bool record_;
  T best_f_ = std::numeric_limits<T>::infinity();
  Vec best_x_;
  int evals_ = 0;
  std::vector<std::array<double, kDim + 1>> path_;
};

enum class StartStatus { kConverged, kPruned, kFailed };

struct StartOutcome {
  StartStatus status = StartStatus::kFailed;
  std::array<double, kDim> theta{};  // (e, a, b, α, β), unscaled
  double f = std::numeric_limits<double>::infinity();
  int iterations = 0;   // L-BFGS iterations completed (0 when the solver stopped by exception)
  int evaluations = 0;  // objective evaluations
  int basin = -1;
};

template <typename T>
LBFGSpp::LBFGSParam<T> solver_params(int max_iterations) {
  LBFGSpp::LBFGSParam<T> prm;
  prm.m = 10;
  prm.epsilon = T(1e-10);  // absolute gradient norm (scaled coordinates)
  prm.epsilon_rel = T(0);
  prm.past = 3;
  prm.delta =
      T(1e-13);  // objective values are ≪ 1, so this is an absolute decrease over 3 iterations
  prm.max_iterations = max_iterations;
  prm.max_linesearch = 25;
  prm.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_WOLFE;
  return prm;
}

template <typename T>
StartOutcome run_start(const Objective<T>& obj, const std::array<double, kDim>& theta0,
                       const std::array<T, kDim>& scale, int max_iterations, const BasinMap* basins,
                       std::vector<std::array<double, kDim + 1>>* path) {
  using Vec = typename Objective<T>::Vec;
  Vec x(kDim);
  for (int k = 0; k < kDim; ++k) x[k] = static_cast<T>(theta0[k]) / scale[k];
  Tracker<T> tracker(obj, basins, path != nullptr);
  // LBFGSSolver keeps a reference to its parameter struct: it must outlive the solver (no
  // temporary).
  const LBFGSpp::LBFGSParam<T> params = solver_params<T>(max_iterations);
  LBFGSpp::LBFGSSolver<T, LBFGSpp::LineSearchBacktracking> solver(params);
  StartOutcome out;
  T fx = 0;
  bool capped = false;
  try {
    out.iterations = solver.minimize(tracker, x, fx);
    capped = out.iterations >= max_iterations;
  } catch (const JoinedBasin& j) {
    out.status = StartStatus::kPruned;
    out.basin = j.basin;
  } catch (const std::exception&) {
    // The line search could not decrease the objective further along the L-BFGS direction: at the
    // resolution of double arithmetic (or at a kink of MAE/Huber) this is how a start ends. The
    // best point evaluated is the result; a start that never got a finite value fails below.
  }
  out.evaluations = tracker.evaluations();
  if (!std::isfinite(static_cast<double>(tracker.best_f()))) return out;  // kFailed
  const Vec& bx = tracker.best_x();
  for (int k = 0; k < kDim; ++k) out.theta[k] = static_cast<double>(bx[k] * scale[k]);
  out.f = static_cast<double>(tracker.best_f());
  if (out.status != StartStatus::kPruned)
    out.status = capped ? StartStatus::kFailed : StartStatus::kConverged;
  if (path != nullptr) *path = tracker.path();
  return out;
}

ScalingLaw theta_to_law(const std::array<double, kDim>& t) {
  return {std::exp(t[0]), std::exp(t[1]), std::exp(t[2]), t[3], t[4]};
}

// Starts per pruning wave (fit_impl): large enough to keep the threads of a big machine busy,
// small enough that most starts can prune against the waves before theirs.
constexpr size_t kPruneWave = 32;

// A fixed permutation of 0 … n−1 that visits the grid with a stride coprime to n near n·(√5−1)/2,
// so that consecutive starts (neighbours in the grid's nested order, which tend to share a basin)
// land in different waves.
std::vector<size_t> spread_order(size_t n) {
  std::vector<size_t> order(n);
  size_t stride =
      std::max<size_t>(1, static_cast<size_t>(0.6180339887498949 * static_cast<double>(n)));
  while (std::gcd(stride, n) != 1) ++stride;
  for (size_t k = 0; k < n; ++k) order[k] = (k * stride) % n;
  return order;
}

template <typename T>
FitResult fit_impl(const FitData& data, const FitOptions& opt, ProgressBar* progress,
                   const std::vector<std::array<double, kDim>>& starts, bool prune) {
  const auto t0 = std::chrono::steady_clock::now();
  const Prepared<T> prep = prepare<T>(data);
  const ParamGrid& g = opt.grid;
  auto range = [](const std::vector<double>& v) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    double r = *hi - *lo;
    return r > 0 ? r : 1.0;
  };
  const std::array<T, kDim> scale{static_cast<T>(range(g.e)), static_cast<T>(range(g.a)),
                                  static_cast<T>(range(g.b)), static_cast<T>(range(g.alpha)),
                                  static_cast<T>(range(g.beta))};
  const Objective<T> obj(prep, opt.loss, static_cast<T>(opt.resolved_delta()),
                         static_cast<T>(opt.asymmetric_weight), scale);
  BasinMap basins(prune ? opt.prune_radius : 0.0);
  std::vector<StartOutcome> outcomes(starts.size());
  std::vector<double> basin_f;  // objective of each published basin

  // Deterministic pruning (the same bits for any thread count and scheduling): the starts run in
  // waves of kPruneWave, in a fixed order that spreads each wave over the grid; a start prunes only
  // against basins published by earlier waves, and a wave's converged paths are published after it,
  // in that order. So what each start does depends on the order and the wave size alone.
  const std::vector<size_t> order = spread_order(starts.size());
  ThreadPool pool(
      std::min(opt.threads == 0 ? ThreadPool::default_threads() : opt.threads, kPruneWave));
  const size_t n_threads = std::min(pool.size(), starts.size());
  std::vector<std::vector<std::array<double, kDim + 1>>> paths(kPruneWave);
  for (size_t w0 = 0; w0 < starts.size(); w0 += kPruneWave) {
    const size_t wave = std::min(kPruneWave, starts.size() - w0);
    std::atomic<size_t> next{0};
    pool.parallel_for(
        n_threads,
        [&](size_t, size_t) {
          for (size_t k = next++; k < wave; k = next++) {  // dynamic: pruned starts are quick
            const size_t i = order[w0 + k];
            paths[k].clear();
            outcomes[i] = run_start<T>(obj, starts[i], scale, opt.max_iterations,
                                       basins.enabled() ? &basins : nullptr,
                                       basins.enabled() ? &paths[k] : nullptr);
            if (progress != nullptr) progress->update(1);
          }
        },
        1);
    if (!basins.enabled()) continue;
    for (size_t k = 0; k < wave; ++k) {
      StartOutcome& o = outcomes[order[w0 + k]];
      if (o.status != StartStatus::kConverged) continue;
      o.basin = static_cast<int>(basin_f.size());
      basin_f.push_back(o.f);
      basins.publish(paths[k], o.basin);
    }
  }

  FitResult r;
  r.loss = opt.loss;
  r.delta = opt.huber_delta();
  r.n_runs = data.size();
  r.starts = starts.size();
  const StartOutcome* best = nullptr;
  for (const auto& o : outcomes) {
    r.evaluations += static_cast<uint64_t>(o.evaluations);
    if (o.status == StartStatus::kFailed) {
      ++r.starts_failed;
      continue;
    }
    ++r.starts_converged;
    if (o.status == StartStatus::kPruned) {
      ++r.starts_pruned;
      continue;  // its objective is its basin's; the basin's own start carries the result
    }
    if (best == nullptr || o.f < best->f) best = &o;
  }
  if (best == nullptr) {
    bool any_finite = false;
    for (const auto& o : outcomes) any_finite |= std::isfinite(o.f);
    SCALELAB_CHECK(any_finite,
                   "the fit failed from every one of {} starts: the objective was not finite "
                   "anywhere (check the "
                   "runs for extreme N, D or loss values)",
                   starts.size());
    SCALELAB_FAIL(
        "the fit failed from every one of {} starts: none converged within {} L-BFGS iterations "
        "(raise "
        "--max-iterations)",
        starts.size(), opt.max_iterations);
  }
  const double tol = opt.near_best_rtol * std::max(std::abs(best->f), 1e-300);
  for (const auto& o : outcomes) {
    if (o.status == StartStatus::kFailed) continue;
    double f = o.status == StartStatus::kPruned ? basin_f[static_cast<size_t>(o.basin)] : o.f;
    if (f - best->f <= tol) ++r.starts_near_best;
  }
  r.law = theta_to_law(best->theta);
  r.objective = best->f;
  r.best_iterations = best->iterations;
  r.best_evaluations = best->evaluations;
  r.method = FitMethod::kGrid;
  if (r.starts > 1 && r.starts_near_best == 1)
    r.warnings.push_back(
        "only one start reached the best objective: the optimum may be fragile (try a denser grid "
        "or check the data)");
  detail::finish_fit(data, r);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::vector<std::array<double, kDim>> grid_starts(const ParamGrid& g) {
  std::vector<std::array<double, kDim>> s;
  s.reserve(g.size());
  for (double e : g.e)
    for (double a : g.a)
      for (double b : g.b)
        for (double al : g.alpha)
          for (double be : g.beta) s.push_back({e, a, b, al, be});
  return s;
}

}  // namespace

namespace detail {

// Fit quality and the warnings both methods share.
void finish_fit(const FitData& d, FitResult& r) {
  double se = 0, mx = 0, mean = 0;
  for (double l : d.loss) mean += l;
  mean /= static_cast<double>(d.size());
  double ss_res = 0, ss_tot = 0;
  for (size_t i = 0; i < d.size(); ++i) {
    double pred = r.law.predict_loss(d.N[i], d.D[i]);
    double el = std::log(pred) - std::log(d.loss[i]);
    se += el * el;
    mx = std::max(mx, std::abs(el));
    ss_res += (d.loss[i] - pred) * (d.loss[i] - pred);
    ss_tot += (d.loss[i] - mean) * (d.loss[i] - mean);
  }
  r.rmse_log = std::sqrt(se / static_cast<double>(d.size()));
  r.max_abs_err_log = mx;
  r.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 0.0;
  if (!(r.law.alpha > 0) || !(r.law.beta > 0))
    r.warnings.push_back(
        "fitted alpha or beta is not positive: the data do not identify a compute-optimal "
        "allocation");
  // E = exp(e) driven towards 0 (e far negative, its edge): the runs show no loss floor.
  const double min_loss = *std::min_element(d.loss.begin(), d.loss.end());
  if (r.law.E < kEffectivelyZeroE * min_loss)
    r.warnings.push_back(fmt::format(
        "E fitted at {:.3g}, effectively 0: the runs show no loss floor, so the irreducible loss "
        "is not identified (an interval on it is not meaningful) and losses extrapolated far "
        "beyond the runs come out too low; add budgets over a wider range",
        r.law.E));
}

}  // namespace detail

FitResult fit_scaling_law(const FitData& data, const FitOptions& opt, ProgressBar* progress) {
  data.validate();
  opt.validate();
  if (opt.method == FitMethod::kVarPro) return detail::fit_varpro(data, opt, nullptr);
  auto starts = grid_starts(opt.grid);
  if (opt.precision == Precision::kLongDouble)
    return fit_impl<long double>(data, opt, progress, starts, true);
  return fit_impl<double>(data, opt, progress, starts, true);
}

FitResult fit_from_start(const FitData& data, const FitOptions& opt, const ScalingLaw& start) {
  data.validate(1);
  opt.validate();
  if (opt.method == FitMethod::kVarPro) return detail::fit_varpro(data, opt, &start);
  std::vector<std::array<double, kDim>> starts{
      {std::log(start.E), std::log(start.A), std::log(start.B), start.alpha, start.beta}};
  FitOptions one = opt;
  one.threads = 1;
  if (opt.precision == Precision::kLongDouble)
    return fit_impl<long double>(data, one, nullptr, starts, false);
  return fit_impl<double>(data, one, nullptr, starts, false);
}

double fit_objective(const FitData& data, const FitOptions& opt, const ScalingLaw& law,
                     std::array<double, 5>* grad, bool reference) {
  data.validate(1);
  const Prepared<double> p = prepare<double>(data);
  Objective<double> obj(p, opt.loss, opt.resolved_delta(), opt.asymmetric_weight, {1, 1, 1, 1, 1});
  obj.set_use_kernel(!reference);
  Eigen::VectorXd x(kDim), g(kDim);
  x << std::log(law.E), std::log(law.A), std::log(law.B), law.alpha, law.beta;
  double f = obj.value_grad(x, &g);
  if (grad != nullptr)
    for (int k = 0; k < kDim; ++k) (*grad)[static_cast<size_t>(k)] = g[k];
  return f;
}

json::Json to_json(const FitResult& r) {
  json::Json j;
  j["law"] = to_json(r.law);
  j["method"] = std::string(to_string(r.method));
  j["a"] = r.law.a();
  j["b"] = r.law.b();
  j["loss"] = std::string(to_string(r.loss));
  if (r.delta > 0) j["delta"] = r.delta;
  j["objective"] = r.objective;
  j["n_runs"] = r.n_runs;
  j["starts"] = {
      {"total", r.starts},         {"grid_cells", r.grid_cells}, {"converged", r.starts_converged},
      {"pruned", r.starts_pruned}, {"failed", r.starts_failed},  {"near_best", r.starts_near_best}};
  j["best_iterations"] = r.best_iterations;
  j["best_evaluations"] = r.best_evaluations;
  j["evaluations"] = r.evaluations;
  j["rmse_log_loss"] = r.rmse_log;
  j["max_abs_error_log_loss"] = r.max_abs_err_log;
  j["r2"] = r.r2;
  j["seconds"] = r.seconds;
  j["warnings"] = r.warnings;
  return j;
}

}  // namespace scalelab::scaling
