// What to run next: greedy Fisher-information design (see design.h for the method).
#include "scaling/design.h"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/error.h"

namespace scalelab::scaling {

namespace {

using Vec5 = Eigen::Matrix<double, 5, 1>;
using Mat5 = Eigen::Matrix<double, 5, 5>;

// ∂ log L̂(N, D) / ∂(E, log A, log B, α, β).
Vec5 jacobian_row(const ScalingLaw& l, double N, double D) {
  const double u = l.A * std::pow(N, -l.alpha), v = l.B * std::pow(D, -l.beta);
  const double L = l.E + u + v;
  Vec5 j;
  j << 1 / L, u / L, v / L, -u * std::log(N) / L, -v * std::log(D) / L;
  return j;
}

// ∂ log N_opt(C) / ∂(E, log A, log B, α, β) by central differences (N_opt is smooth in all five;
// it does not depend on E, which comes out as 0).
Vec5 n_opt_gradient(const ScalingLaw& l, double C) {
  Vec5 g;
  for (int k = 0; k < 5; ++k) {
    const double h = k == 0 ? 1e-6 * std::max(l.E, 1e-2) : 1e-6;
    auto at = [&](double s) {
      ScalingLaw m = l;
      if (k == 0) m.E += s;
      if (k == 1) m.A *= std::exp(s);
      if (k == 2) m.B *= std::exp(s);
      if (k == 3) m.alpha += s;
      if (k == 4) m.beta += s;
      return std::log(m.allocate(C).N);
    };
    g[k] = (at(h) - at(-h)) / (2 * h);
  }
  return g;
}

// z with Φ(z) = p, by bisection on erfc (p in (0, 1)).
double normal_quantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// Σ = σ²·M⁻¹ with M = Σᵢ wᵢ jᵢjᵢᵀ; a relative ridge of 1e-12 keeps a direction the runs do not
// see (e.g. E on runs far from the floor) finite instead of failing.
Mat5 covariance(const Mat5& M, double sigma) {
  Mat5 R = M;
  R.diagonal().array() += 1e-12 * M.trace() / 5;
  return sigma * sigma * R.ldlt().solve(Mat5::Identity());
}

Interval interval_from(double n_opt, double variance, double z) {
  const double sd = std::sqrt(std::max(variance, 0.0));
  return {n_opt * std::exp(-z * sd), n_opt, n_opt * std::exp(z * sd)};
}

}  // namespace

const fields::Table<DesignOptions>& design_options_fields() {
  using fields::Range;
  static const auto t =
      fields::Table<DesignOptions>()
          .add("target", &DesignOptions::target,
               "Budget (FLOPs) whose N_opt interval the proposed runs should narrow (required)",
               Range::at_least(0))
          .add("spend", &DesignOptions::spend,
               "FLOPs to spend on the proposed runs (0 = what the grid's next budget would cost)",
               Range::at_least(0))
          .add("max_runs", &DesignOptions::max_runs, "Proposed runs at most", Range::in(1, 1000))
          .add("budgets_per_decade", &DesignOptions::budgets_per_decade,
               "Candidate budgets per decade of C", Range::in(1, 100))
          .add("max_budget_factor", &DesignOptions::max_budget_factor,
               "Candidate budgets up to the largest recorded C times this (and at most the target)",
               Range::at_least(1))
          .add("noise", &DesignOptions::noise,
               "Standard deviation of a run's log loss (0 = estimate it from the fit's residuals)",
               Range::at_least(0))
          .add("confidence", &DesignOptions::confidence, "Central interval level",
               Range::in(0, 1, true, true));
  return t;
}

void DesignOptions::validate() const {
  design_options_fields().check(*this);
  SCALELAB_CHECK(target > 0, "target: give the budget (FLOPs) to design for, e.g. --target 1e21");
}

Design design_next_runs(const FitData& data, const ScalingLaw& law, const DesignOptions& o) {
  o.validate();
  const size_t n = data.size();
  SCALELAB_CHECK(n >= 5,
                 "design: needs at least 5 runs (the law has 5 parameters) to say what to run "
                 "next, got {}",
                 n);
  data.validate();
  SCALELAB_CHECK(o.noise > 0 || n > 5,
                 "design: 5 runs leave no degrees of freedom to estimate the noise; give --noise "
                 "(the standard deviation of a run's log loss) or add runs");
  SCALELAB_CHECK(
      std::isfinite(law.E) && law.E >= 0 && law.A > 0 && law.B > 0 && law.alpha > 0 && law.beta > 0,
      "design: the fitted law is not a valid scaling law (A, B, alpha and beta must be "
      "positive): the runs do not identify it");

  // Information of the runs so far, and the noise.
  double wsum = 0;
  for (size_t i = 0; i < n; ++i) wsum += data.weight.empty() ? 1.0 : data.weight[i];
  SCALELAB_CHECK(wsum > 0, "design: every run has weight 0");
  Mat5 M = Mat5::Zero();
  double ss = 0;
  for (size_t i = 0; i < n; ++i) {
    const double w = (data.weight.empty() ? 1.0 : data.weight[i]) * static_cast<double>(n) / wsum;
    const Vec5 j = jacobian_row(law, data.N[i], data.D[i]);
    M += w * j * j.transpose();
    const double r = std::log(law.predict_loss(data.N[i], data.D[i])) - std::log(data.loss[i]);
    ss += w * r * r;
  }
  Design d;
  d.target = o.target;
  d.sigma_from_fit = !(o.noise > 0);
  d.sigma = d.sigma_from_fit ? std::sqrt(ss / static_cast<double>(n - 5)) : o.noise;
  SCALELAB_CHECK(d.sigma > 0,
                 "design: the law fits the runs exactly (no residual noise); give --noise");
  const double z = normal_quantile(0.5 + o.confidence / 2);
  const double n_opt = law.allocate(o.target).N;
  const Vec5 g = n_opt_gradient(law, o.target);
  const Mat5 S0 = covariance(M, d.sigma);
  d.N_opt_now = interval_from(n_opt, g.dot(S0 * g), z);

  // The recorded grid's next budget: budgets are runs' C = 6ND grouped within 10%.
  std::vector<double> C(n);
  for (size_t i = 0; i < n; ++i) C[i] = 6 * data.N[i] * data.D[i];
  std::vector<double> sorted = C;
  std::sort(sorted.begin(), sorted.end());
  const double c_min = sorted.front(), c_top = sorted.back();
  double c_prev = 0;
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it)
    if (*it < c_top / 1.1) {
      c_prev = *it;
      break;
    }
  const double step = c_prev > 0 ? c_top / c_prev : std::sqrt(10.0);
  GridStep& gs = d.grid_step;
  gs.C = c_top * step;
  Mat5 Mg = M;
  for (size_t i = 0; i < n; ++i)
    if (C[i] >= c_top / 1.1) {
      const double N = data.N[i] * std::pow(gs.C / C[i], law.a());
      gs.N.push_back(N);
      const Vec5 j = jacobian_row(law, N, gs.C / (6 * N));
      Mg += j * j.transpose();
    }
  gs.cost = gs.C * static_cast<double>(gs.N.size());
  gs.N_opt = interval_from(n_opt, g.dot(covariance(Mg, d.sigma) * g), z);
  d.spend = o.spend > 0 ? o.spend : gs.cost;

  // Candidates.
  struct Cand {
    double C, N;
    Vec5 j;
    bool taken = false;
  };
  std::vector<Cand> cands;
  const double c_hi = std::min(o.target, c_top * o.max_budget_factor);
  const double decades = std::log10(std::max(c_hi / c_min, 1.0));
  const int nb = std::max(1, static_cast<int>(std::ceil(decades * o.budgets_per_decade))) + 1;
  // Where the law was checked: tokens per parameter within the recorded range widened 2× either
  // way, models no smaller than half the smallest recorded one. (Without this, the information
  // alone asks for the cheapest extremes — a 100k-parameter model on 1,000 tokens per parameter,
  // or 0.1 tokens per parameter — exactly where a five-parameter law stops describing training.)
  double ratio_lo = std::numeric_limits<double>::infinity(), ratio_hi = 0, n_lo = ratio_lo;
  for (size_t i = 0; i < n; ++i) {
    ratio_lo = std::min(ratio_lo, data.D[i] / data.N[i]);
    ratio_hi = std::max(ratio_hi, data.D[i] / data.N[i]);
    n_lo = std::min(n_lo, data.N[i]);
  }
  ratio_lo /= 2;
  ratio_hi *= 2;
  n_lo /= 2;
  for (int b = 0; b < nb; ++b) {
    const double Cb = nb == 1 ? c_hi : c_min * std::pow(c_hi / c_min, b / double(nb - 1));
    const double nb_opt = law.allocate(Cb).N;
    for (int k = -8; k <= 8; ++k) {
      const double N = nb_opt * std::pow(10.0, k / 8.0);
      const double ratio = Cb / (6 * N) / N;
      if (N < n_lo || ratio < ratio_lo || ratio > ratio_hi) continue;
      cands.push_back({Cb, N, jacobian_row(law, N, Cb / (6 * N)), false});
    }
  }

  // Greedy: the largest cut in Var(log N_opt) per FLOP that fits what is left of the spend.
  Mat5 P = S0;
  double var = g.dot(P * g), spent = 0;
  const double s2 = d.sigma * d.sigma;
  for (int r = 0; r < o.max_runs; ++r) {
    Cand* best = nullptr;
    double best_score = 0;
    for (Cand& c : cands) {
      if (c.taken || spent + c.C > d.spend * (1 + 1e-9)) continue;
      const Vec5 Pj = P * c.j;
      const double s = g.dot(Pj);
      const double cut = s * s / (s2 + c.j.dot(Pj));
      const double score = cut / c.C;
      if (score > best_score) {
        best_score = score;
        best = &c;
      }
    }
    if (best == nullptr) break;
    best->taken = true;
    const Vec5 Pj = P * best->j;
    const double denom = s2 + best->j.dot(Pj);
    var -= g.dot(Pj) * g.dot(Pj) / denom;
    P -= Pj * Pj.transpose() / denom;
    spent += best->C;
    d.runs.push_back(
        {best->C, best->N, best->C / (6 * best->N), spent, interval_from(n_opt, var, z)});
  }
  return d;
}

json::Json to_json(const Design& d) {
  auto iv = [](const Interval& i) {
    return json::Json{{"lo", i.lo}, {"median", i.median}, {"hi", i.hi}};
  };
  json::Json runs = json::Json::array();
  for (const auto& r : d.runs)
    runs.push_back(
        {{"C", r.C}, {"N", r.N}, {"D", r.D}, {"spent", r.spent}, {"N_opt", iv(r.N_opt)}});
  return {{"target", d.target},
          {"method", "fisher-information"},
          {"sigma_log_loss", d.sigma},
          {"sigma_from_fit", d.sigma_from_fit},
          {"spend", d.spend},
          {"N_opt_now", iv(d.N_opt_now)},
          {"runs", runs},
          {"grid_next_budget",
           {{"C", d.grid_step.C},
            {"N", d.grid_step.N},
            {"cost", d.grid_step.cost},
            {"N_opt", iv(d.grid_step.N_opt)}}}};
}

}  // namespace scalelab::scaling
