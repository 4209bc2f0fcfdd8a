// IsoFLOP parabolas, power-law fits and the loss-curve envelope.
#include "scaling/isoflop.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "common/error.h"

namespace scalelab::scaling {

double PowerLaw::predict(double C) const { return coefficient * std::pow(C, exponent); }

PowerLaw fit_power_law(const std::vector<double>& C, const std::vector<double>& y) {
  SCALELAB_CHECK(C.size() == y.size(), "power law: {} budgets but {} values", C.size(), y.size());
  SCALELAB_CHECK(C.size() >= 2, "power law: need at least 2 budgets with a minimum, got {}",
                 C.size());
  const size_t n = C.size();
  double mx = 0, my = 0;
  std::vector<double> lx(n), ly(n);
  for (size_t i = 0; i < n; ++i) {
    SCALELAB_CHECK(C[i] > 0 && y[i] > 0 && std::isfinite(C[i]) && std::isfinite(y[i]),
                   "power law: values must be positive and finite");
    lx[i] = std::log(C[i]);
    ly[i] = std::log(y[i]);
    mx += lx[i];
    my += ly[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
    syy += (ly[i] - my) * (ly[i] - my);
  }
  SCALELAB_CHECK(sxx > 0, "power law: all budgets have the same C");
  PowerLaw p;
  p.exponent = sxy / sxx;
  p.coefficient = std::exp(my - p.exponent * mx);
  double ss_res = 0;
  for (size_t i = 0; i < n; ++i) {
    double r = ly[i] - (my + p.exponent * (lx[i] - mx));
    ss_res += r * r;
  }
  p.r2 = syy > 0 ? 1.0 - ss_res / syy : 1.0;
  p.points = n;
  return p;
}

namespace {
bool parse_label(const std::string& s, double& v) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && ptr == s.data() + s.size() && std::isfinite(v) && v > 0;
}
}  // namespace

std::vector<BudgetGroup> group_by_budget(const std::vector<Observation>& runs, double tol) {
  SCALELAB_CHECK(std::isfinite(tol) && tol > 0, "budget tolerance must be positive (got {})", tol);
  std::vector<size_t> done;
  bool all_labelled = true, all_exact = true;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].isoflop) continue;  // a point off the grid (a WSD sweep's extra branch)
    done.push_back(i);
    all_labelled &= !runs[i].budget.empty();
    all_exact &= runs[i].budget_C > 0;
  }
  std::vector<BudgetGroup> groups;
  auto finish = [&](BudgetGroup& g) {
    double v = 0;
    if (!g.label.empty() && parse_label(g.label, v)) {
      g.C = v;
    } else {
      double s = 0;
      for (size_t i : g.runs) s += std::log(runs[i].C);
      g.C = std::exp(s / static_cast<double>(g.runs.size()));
      if (g.label.empty()) g.label = fmt::format("{:.3g}", g.C);
    }
  };
  if (all_exact && !done.empty()) {
    std::map<double, BudgetGroup> by_c;
    for (size_t i : done) {
      auto& g = by_c[runs[i].budget_C];
      g.C = runs[i].budget_C;
      if (g.label.empty())
        g.label = runs[i].budget.empty() ? fmt::format("{:.3g}", g.C) : runs[i].budget;
      g.runs.push_back(i);
    }
    for (auto& [c, g] : by_c) groups.push_back(std::move(g));
  } else if (all_labelled && !done.empty()) {
    std::map<std::string, BudgetGroup> by_label;
    for (size_t i : done) {
      auto& g = by_label[runs[i].budget];
      g.label = runs[i].budget;
      g.runs.push_back(i);
    }
    for (auto& [k, g] : by_label) {
      finish(g);
      groups.push_back(std::move(g));
    }
  } else {
    std::sort(done.begin(), done.end(), [&](size_t a, size_t b) { return runs[a].C < runs[b].C; });
    for (size_t i : done) {
      if (groups.empty() ||
          std::log(runs[i].C) - std::log(runs[groups.back().runs.front()].C) > tol) {
        groups.emplace_back();
      }
      groups.back().runs.push_back(i);
    }
    for (auto& g : groups) finish(g);
  }
  std::sort(groups.begin(), groups.end(),
            [](const BudgetGroup& a, const BudgetGroup& b) { return a.C < b.C; });
  return groups;
}

namespace {

BudgetFit fit_parabola(const std::vector<Observation>& runs, const BudgetGroup& g) {
  BudgetFit f;
  f.group = g;
  const size_t n = g.runs.size();
  Eigen::MatrixXd X(n, 3);
  Eigen::VectorXd y(n);
  double xmin = INFINITY, xmax = -INFINITY;
  for (size_t k = 0; k < n; ++k) {
    const Observation& r = runs[g.runs[k]];
    f.N.push_back(r.N);
    f.loss.push_back(r.loss);
    double x = std::log(r.N);
    xmin = std::min(xmin, x);
    xmax = std::max(xmax, x);
    X(static_cast<Eigen::Index>(k), 0) = 1;
    X(static_cast<Eigen::Index>(k), 1) = x;
    X(static_cast<Eigen::Index>(k), 2) = x * x;
    y(static_cast<Eigen::Index>(k)) = r.loss;
  }
  // Centre x for conditioning: fit in u = x − x̄, then convert back.
  const double xc = 0.5 * (xmin + xmax);
  Eigen::MatrixXd U(n, 3);
  for (Eigen::Index k = 0; k < static_cast<Eigen::Index>(n); ++k) {
    double u = X(k, 1) - xc;
    U(k, 0) = 1;
    U(k, 1) = u;
    U(k, 2) = u * u;
  }
  Eigen::Vector3d q = U.colPivHouseholderQr().solve(y);
  // loss = q0 + q1 (x − xc) + q2 (x − xc)²
  f.p2 = q(2);
  f.p1 = q(1) - 2 * q(2) * xc;
  f.p0 = q(0) - q(1) * xc + q(2) * xc * xc;
  double ss = 0;
  for (Eigen::Index k = 0; k < static_cast<Eigen::Index>(n); ++k) {
    double r = y(k) - (U.row(k) * q)(0);
    ss += r * r;
  }
  f.rmse = std::sqrt(ss / static_cast<double>(n));
  const double span = xmax - xmin;
  // Flat: the curvature over the sampled span moves the loss by less than the residual noise.
  const double rise = q(2) * span * span / 4;
  f.convex = q(2) > 0 && span > 0;
  if (!f.convex) {
    f.warning = fmt::format(
        "budget {}: the IsoFLOP curve has no minimum (concave or flat parabola); excluded",
        g.label);
    return f;
  }
  const double u_star = -q(1) / (2 * q(2));
  const double x_star = xc + u_star;
  f.N_opt = std::exp(x_star);
  f.D_opt = g.C / (6 * f.N_opt);
  f.loss_opt = q(0) + q(1) * u_star + q(2) * u_star * u_star;
  f.vertex_inside = x_star >= xmin && x_star <= xmax;
  if (!f.vertex_inside) {
    f.warning = fmt::format(
        "budget {}: the parabola's minimum (N = {:.3g}) lies outside the sampled N range [{:.3g}, "
        "{:.3g}]; "
        "the optimum is extrapolated — add models on that side",
        g.label, f.N_opt, std::exp(xmin), std::exp(xmax));
  } else if (rise < 2 * f.rmse) {
    f.warning = fmt::format(
        "budget {}: the IsoFLOP curve is nearly flat (curvature moves the loss by {:.2g} across "
        "the sampled N, "
        "residual RMSE {:.2g}); its minimum is poorly determined",
        g.label, rise, f.rmse);
  } else {
    // Minimum at the edge: the best run is the smallest or largest model of the budget.
    size_t best =
        static_cast<size_t>(std::min_element(f.loss.begin(), f.loss.end()) - f.loss.begin());
    double xb = std::log(f.N[best]);
    if (xb == xmin || xb == xmax)
      f.warning = fmt::format(
          "budget {}: the lowest loss is at the edge of the sampled N (N = {:.3g}); sample "
          "beyond it to confirm the minimum",
          g.label, f.N[best]);
  }
  return f;
}

}  // namespace

IsoflopResult isoflop_analysis(const std::vector<Observation>& runs, const IsoflopOptions& o) {
  SCALELAB_CHECK(o.min_runs >= 3,
                 "min runs per budget must be >= 3 (a parabola has 3 coefficients)");
  for (double t : o.targets)
    SCALELAB_CHECK(std::isfinite(t) && t > 0, "target budget must be positive (got {})", t);
  IsoflopResult res;
  std::vector<BudgetGroup> groups = group_by_budget(runs, o.tolerance);
  SCALELAB_CHECK(!groups.empty(), "IsoFLOP analysis: no done runs");
  std::vector<double> Cs, Ns, Ds;
  std::vector<const BudgetGroup*> small;  // skipped: one warning for all of them, below
  for (const auto& g : groups) {
    if (g.runs.size() < o.min_runs) {
      SCALELAB_CHECK(
          o.skip_small,
          "budget {} has {} runs; an IsoFLOP budget needs at least {} (or pass --skip-small)",
          g.label, g.runs.size(), o.min_runs);
      small.push_back(&g);
      continue;
    }
    BudgetFit f = fit_parabola(runs, g);
    if (!f.warning.empty()) res.warnings.push_back(f.warning);
    if (f.convex && !f.vertex_inside && !o.include_extrapolated)
      res.warnings.push_back(fmt::format(
          "budget {}: its extrapolated optimum is left out of the power laws", f.group.label));
    if (f.convex && (f.vertex_inside || o.include_extrapolated)) {
      Cs.push_back(f.group.C);
      Ns.push_back(f.N_opt);
      Ds.push_back(f.D_opt);
    }
    res.budgets.push_back(std::move(f));
  }
  if (small.size() == 1) {
    res.warnings.push_back(fmt::format("budget {}: {} runs, fewer than {}; skipped",
                                       small[0]->label, small[0]->runs.size(), o.min_runs));
  } else if (small.size() > 1) {
    // Data not planned as IsoFLOP budgets (e.g. a paper's runs, each at its own C) would otherwise
    // give one line per stray C.
    size_t n = 0;
    std::string labels;
    for (size_t i = 0; i < small.size(); ++i) {
      n += small[i]->runs.size();
      if (i < 4 || i + 1 == small.size())
        labels += fmt::format("{}{}", labels.empty() ? "" : ", ", small[i]->label);
      else if (i == 4)
        labels += ", …";
    }
    res.warnings.push_back(fmt::format(
        "{} budgets with fewer than {} runs skipped ({} runs in all; C = {}): runs are grouped "
        "into a budget by their budget label, else when their C lie within the tolerance ({:.3g} "
        "in ln C, --tolerance)",
        small.size(), o.min_runs, n, labels, o.tolerance));
  }
  if (Cs.size() < 2 && o.partial_ok) {
    res.warnings.push_back(fmt::format(
        "no power laws: they need at least 2 budgets whose curves have a minimum, got {} of {}",
        Cs.size(), groups.size()));
    return res;
  }
  SCALELAB_CHECK(
      Cs.size() >= 2,
      "IsoFLOP analysis needs at least 2 budgets whose curves have a minimum, got {} of {} budgets",
      Cs.size(), groups.size());
  res.n_opt = fit_power_law(Cs, Ns);
  res.d_opt = fit_power_law(Cs, Ds);
  if (std::log10(*std::max_element(Cs.begin(), Cs.end()) /
                 *std::min_element(Cs.begin(), Cs.end())) < 1.5)
    res.warnings.push_back(
        fmt::format("the budgets span {:.2f} decades of compute (under 1.5): the exponents are "
                    "poorly determined",
                    std::log10(*std::max_element(Cs.begin(), Cs.end()) /
                               *std::min_element(Cs.begin(), Cs.end()))));
  for (double t : o.targets) res.targets.push_back({t, res.n_opt.predict(t), res.d_opt.predict(t)});
  return res;
}

EnvelopeResult envelope_analysis(const std::vector<Observation>& runs, const Curves& curves,
                                 int levels) {
  SCALELAB_CHECK(levels >= 2, "envelope: need at least 2 FLOP levels");
  EnvelopeResult res;
  struct Curve {
    const Observation* run;
    const std::vector<CurveSample>* pts;
  };
  std::vector<Curve> cs;
  for (const auto& r : runs) {
    auto it = curves.find(r.id);
    if (it == curves.end() || it->second.size() < 2) continue;
    cs.push_back({&r, &it->second});
  }
  SCALELAB_CHECK(cs.size() >= 2,
                 "envelope (approach 1): need loss curves of at least 2 runs, found {}", cs.size());
  double lo = INFINITY, hi = 0;
  for (const auto& c : cs) {
    lo = std::min(lo, std::max(c.pts->front().flops, 1.0));
    hi = std::max(hi, c.pts->back().flops);
  }
  SCALELAB_CHECK(hi > lo, "envelope: loss curves span no FLOP range");
  for (int k = 0; k < levels; ++k) {
    double f = std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * k / (levels - 1));
    EnvelopeResult::Point best;
    best.loss = INFINITY;
    int covering = 0;
    for (const auto& c : cs) {
      const auto& p = *c.pts;
      if (f < p.front().flops || f > p.back().flops) continue;
      ++covering;
      auto it = std::lower_bound(p.begin(), p.end(), f,
                                 [](const CurveSample& a, double v) { return a.flops < v; });
      double loss, tokens;
      if (it == p.begin()) {
        loss = it->loss;
        tokens = it->tokens;
      } else {
        const CurveSample& a = *(it - 1);
        const CurveSample& b = *it;
        double t = (std::log(f) - std::log(std::max(a.flops, 1.0))) /
                   (std::log(b.flops) - std::log(std::max(a.flops, 1.0)));
        loss = a.loss + t * (b.loss - a.loss);
        tokens = a.tokens + t * (b.tokens - a.tokens);
      }
      if (loss < best.loss) best = {f, loss, c.run->N, tokens, c.run->id};
    }
    if (covering >= 2 && best.D > 0) res.frontier.push_back(best);
  }
  SCALELAB_CHECK(res.frontier.size() >= 2,
                 "envelope: fewer than 2 FLOP levels are covered by two or more runs");
  std::vector<double> C, N, D;
  for (const auto& p : res.frontier) {
    C.push_back(p.flops);
    N.push_back(p.N);
    D.push_back(p.D);
  }
  res.n_opt = fit_power_law(C, N);
  res.d_opt = fit_power_law(C, D);
  return res;
}

json::Json to_json(const PowerLaw& p) {
  return {
      {"exponent", p.exponent}, {"coefficient", p.coefficient}, {"r2", p.r2}, {"points", p.points}};
}

json::Json to_json(const IsoflopResult& r) {
  json::Json b = json::Json::array();
  for (const auto& f : r.budgets) {
    b.push_back({{"budget", f.group.label},
                 {"C", f.group.C},
                 {"runs", f.N.size()},
                 {"parabola", {{"p0", f.p0}, {"p1", f.p1}, {"p2", f.p2}, {"x", "ln N"}}},
                 {"convex", f.convex},
                 {"vertex_inside_sampled_range", f.vertex_inside},
                 {"N_opt", f.N_opt},
                 {"D_opt", f.D_opt},
                 {"loss_opt", f.loss_opt},
                 {"rmse", f.rmse},
                 {"warning", f.warning}});
  }
  json::Json t = json::Json::array();
  for (const auto& x : r.targets) t.push_back({{"C", x.C}, {"N_opt", x.N}, {"D_opt", x.D}});
  return {{"budgets", b},
          {"N_opt", to_json(r.n_opt)},
          {"D_opt", to_json(r.d_opt)},
          {"targets", t},
          {"warnings", r.warnings}};
}

json::Json to_json(const EnvelopeResult& r) {
  json::Json f = json::Json::array();
  for (const auto& p : r.frontier)
    f.push_back(
        {{"flops", p.flops}, {"loss", p.loss}, {"N", p.N}, {"D", p.D}, {"run_id", p.run_id}});
  return {{"frontier", f},
          {"N_opt", to_json(r.n_opt)},
          {"D_opt", to_json(r.d_opt)},
          {"warnings", r.warnings}};
}

}  // namespace scalelab::scaling
