// Held-out check, data diagnostics and loss-function comparison.
#include "scaling/analysis.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "common/error.h"
#include "scaling/isoflop.h"

namespace scalelab::scaling {

HoldoutSpec parse_holdout(const std::string& s) {
  HoldoutSpec h;
  if (s == "largest-budget") {
    h.largest_budget = true;
    return h;
  }
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  SCALELAB_CHECK(ec == std::errc() && p == s.data() + s.size() && std::isfinite(v) && v > 0,
                 "holdout: expected 'largest-budget' or a positive C threshold, got '{}'", s);
  h.c_threshold = v;
  return h;
}

HoldoutResult holdout_check(const std::vector<Observation>& runs, const HoldoutSpec& spec,
                            const FitOptions& options) {
  std::vector<char> held(runs.size(), 0);
  if (spec.largest_budget) {
    auto groups = group_by_budget(runs, spec.tolerance);
    SCALELAB_CHECK(groups.size() >= 2,
                   "holdout: need at least 2 budgets to hold out the largest, found {}",
                   groups.size());
    for (size_t i : groups.back().runs) held[i] = 1;
    // Points off the grid (a WSD sweep's extra branches) are fitted on only up to the compute of
    // the budgets kept: one beside a held-out point on its trajectory would turn the test of an
    // extrapolation in C into an interpolation in D.
    double kept_C = 0;
    for (size_t g = 0; g + 1 < groups.size(); ++g)
      for (size_t i : groups[g].runs) kept_C = std::max(kept_C, runs[i].C);
    for (size_t i = 0; i < runs.size(); ++i)
      if (!runs[i].isoflop && runs[i].C > kept_C * std::exp(spec.tolerance)) held[i] = 2;
  } else {
    SCALELAB_CHECK(spec.c_threshold > 0, "holdout: no threshold given");
    for (size_t i = 0; i < runs.size(); ++i) held[i] = runs[i].C >= spec.c_threshold;
  }
  std::vector<Observation> train;
  for (size_t i = 0; i < runs.size(); ++i)
    if (!held[i]) train.push_back(runs[i]);
  HoldoutResult res;
  FitData d = to_fit_data(train);
  SCALELAB_CHECK(d.size() >= 5, "holdout: only {} runs remain to fit on; need at least 5",
                 d.size());
  res.fit = fit_scaling_law(d, options);
  double sum = 0;
  res.threshold_C = INFINITY;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (held[i] != 1) continue;  // fitted on, or left out of both (2)
    const Observation& r = runs[i];
    HoldoutResult::Row row{r.id, r.N, r.D, r.C, r.loss, res.fit.law.predict_loss(r.N, r.D), 0};
    row.rel_error = (row.predicted - row.actual) / row.actual;
    sum += std::abs(row.rel_error);
    res.threshold_C = std::min(res.threshold_C, r.C);
    res.rows.push_back(row);
  }
  SCALELAB_CHECK(!res.rows.empty(), "holdout: no done runs are held out");
  res.mean_abs_rel_error = sum / static_cast<double>(res.rows.size());
  return res;
}

std::vector<std::string> data_warnings(const std::vector<Observation>& runs) {
  std::vector<std::string> w;
  double cmin = INFINITY, cmax = 0, nmin = INFINITY, nmax = 0, dmin = INFINITY, dmax = 0;
  size_t done = 0;
  for (const auto& r : runs) {
    ++done;
    cmin = std::min(cmin, r.C);
    cmax = std::max(cmax, r.C);
    nmin = std::min(nmin, r.N);
    nmax = std::max(nmax, r.N);
    dmin = std::min(dmin, r.D);
    dmax = std::max(dmax, r.D);
  }
  if (done == 0) return w;
  double dec = std::log10(cmax / cmin);
  if (dec < 1.5)
    w.push_back(fmt::format(
        "the runs span {:.2f} decades of compute (under 1.5): exponents and the allocation are "
        "poorly identified; add smaller or larger budgets",
        dec));
  if (std::log10(nmax / nmin) < 1.0)
    w.push_back(fmt::format("N spans only {:.2f} decades: alpha is poorly identified",
                            std::log10(nmax / nmin)));
  if (std::log10(dmax / dmin) < 1.0)
    w.push_back(fmt::format("D spans only {:.2f} decades: beta is poorly identified",
                            std::log10(dmax / dmin)));
  return w;
}

std::vector<LossComparison> compare_losses(const FitData& data, const FitOptions& options,
                                           const std::vector<double>& budgets) {
  std::vector<LossComparison> out;
  for (LossFunction f : kAllLossFunctions) {
    FitOptions o = options;
    o.loss = f;
    o.delta = f == options.loss ? options.delta : 0;  // each loss at its own default δ
    LossComparison c{f, fit_scaling_law(data, o), {}};
    for (double C : budgets)
      c.N_opt.push_back(c.fit.law.alpha > 0 && c.fit.law.beta > 0 ? c.fit.law.allocate(C).N : NAN);
    out.push_back(std::move(c));
  }
  return out;
}

json::Json to_json(const HoldoutResult& r) {
  json::Json rows = json::Json::array();
  for (const auto& x : r.rows)
    rows.push_back({{"id", x.id},
                    {"N", x.N},
                    {"D", x.D},
                    {"C", x.C},
                    {"actual", x.actual},
                    {"predicted", x.predicted},
                    {"relative_error", x.rel_error}});
  return {{"fit", to_json(r.fit)},
          {"held_out", rows},
          {"mean_abs_relative_error", r.mean_abs_rel_error},
          {"threshold_C", r.threshold_C}};
}

}  // namespace scalelab::scaling
