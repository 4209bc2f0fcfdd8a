// The data-constrained law (see data_constrained.h).
#include "scaling/data_constrained.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/error.h"
#include "scaling/golden_section.h"

namespace scalelab::scaling {

void DataConstrainedLaw::validate() const {
  base.validate();
  // +∞ is allowed: no decay (kNoDecay).
  SCALELAB_CHECK(!std::isnan(R_D_star) && R_D_star > 0, "R_D_star: must be positive (got {})",
                 R_D_star);
  SCALELAB_CHECK(!std::isnan(R_N_star) && R_N_star > 0, "R_N_star: must be positive (got {})",
                 R_N_star);
}

namespace {

// U + U·R*·(1 − e^(−R/R*)), written with expm1 so that a large R* loses no digits; R* = ∞ gives
// U·(1 + R), the value without decay.
double decayed(double U, double R, double R_star) {
  if (std::isinf(R_star)) return U * (1.0 + R);
  return U + U * R_star * -std::expm1(-R / R_star);
}

}  // namespace

double DataConstrainedLaw::effective_data(double D, double U_D) const {
  if (!(U_D > 0) || D <= U_D) return D;  // no repetition: every token is fresh
  return decayed(U_D, D / U_D - 1.0, R_D_star);
}

double DataConstrainedLaw::useful_params(double U_D) const {
  // adjust_D_to_N(N) = G^{-(1+b/a)} · N^{b/a} = U_D  ⇔  N = (U_D · G^{1+b/a})^{a/b}.
  const double a = base.a(), b = base.b();
  return std::pow(U_D * std::pow(base.G(), 1.0 + b / a), a / b);
}

double DataConstrainedLaw::effective_params(double N, double U_D) const {
  if (!(U_D > 0)) return N;
  const double U_N = std::min(N, useful_params(U_D));
  const double R_N = N / U_N - 1.0;
  if (R_N <= 0 || std::isinf(R_N_star)) return N;
  return decayed(U_N, R_N, R_N_star);
}

double DataConstrainedLaw::predict_loss(double N, double D, double U_D) const {
  return base.predict_loss(effective_params(N, U_D), effective_data(D, U_D));
}

Allocation DataConstrainedLaw::allocate(double C, double U_D) const {
  SCALELAB_CHECK(std::isfinite(C) && C > 0, "C: must be positive (got {})", C);
  SCALELAB_CHECK(std::isfinite(U_D) && U_D > 0, "unique tokens: must be positive (got {})", U_D);
  const auto loss_at = [&](double x) {
    const double N = std::exp(x);
    return predict_loss(N, C / (6.0 * N), U_D);
  };
  // Scan log N over ±8 e-folds of the fresh optimum (the constrained optimum is smaller: data
  // are the scarce side), then golden-section search in the best cell's neighbours.
  const double x0 = std::log(base.allocate(C).N);
  constexpr int kScan = 400;
  const double lo = x0 - 8.0, hi = x0 + 8.0, step = (hi - lo) / kScan;
  int best = 0;
  double best_loss = INFINITY;
  for (int i = 0; i <= kScan; ++i) {
    const double l = loss_at(lo + step * i);
    if (l < best_loss) {
      best_loss = l;
      best = i;
    }
  }
  const double a = lo + step * std::max(0, best - 1), b = lo + step * std::min(kScan, best + 1);
  Allocation out;
  out.C = C;
  out.N = std::exp(golden_section_min(loss_at, a, b, 1e-12));
  out.D = C / (6.0 * out.N);
  out.loss = predict_loss(out.N, out.D, U_D);
  return out;
}

namespace {

// JSON has no infinity: R* = ∞ (no decay) is written as null.
json::Json star_to_json(double r) { return std::isinf(r) ? json::Json(nullptr) : json::Json(r); }

}  // namespace

json::Json to_json(const DataConstrainedLaw& law) {
  return {{"base", to_json(law.base)},
          {"R_D_star", star_to_json(law.R_D_star)},
          {"R_N_star", star_to_json(law.R_N_star)}};
}

DataConstrainedLaw data_constrained_law_from_json(const json::Json& j, std::string_view context) {
  SCALELAB_CHECK(
      j.is_object() && j.contains("base") && j.contains("R_D_star") && j.contains("R_N_star"),
      "{}: expected {{\"base\": {{…}}, \"R_D_star\": …, \"R_N_star\": …}}", context);
  DataConstrainedLaw law;
  law.base = scaling_law_from_json(j.at("base"), std::string(context) + ".base");
  const auto star = [&](const char* key) {
    const json::Json& v = j.at(key);
    SCALELAB_CHECK(v.is_number() || v.is_null(), "{}.{}: must be a number (or null: no decay)",
                   context, key);
    return v.is_null() ? kNoDecay : v.get<double>();
  };
  law.R_D_star = star("R_D_star");
  law.R_N_star = star("R_N_star");
  law.validate();
  return law;
}

json::Json to_json(const DataConstrainedFit& f) {
  return {{"law", to_json(f.law)},
          {"repeated_runs", f.repeated_runs},
          {"excess_param_runs", f.excess_param_runs},
          {"R_D_fitted", f.R_D_fitted},
          {"R_N_fitted", f.R_N_fitted},
          {"note", f.note},
          {"objective", f.objective},
          {"rmse_log", f.rmse_log},
          {"rmse_log_base", f.rmse_log_base}};
}

std::string format_r_star(double r) {
  return std::isinf(r) ? std::string("∞ (no decay)") : fmt::format("{:.3g}", r);
}

std::string describe_constants(const DataConstrainedFit& f) {
  const auto one = [](double r, bool fitted) {
    return format_r_star(r) + (fitted || std::isinf(r) ? "" : " (published)");
  };
  return fmt::format("R_D* = {}, R_N* = {}", one(f.law.R_D_star, f.R_D_fitted),
                     one(f.law.R_N_star, f.R_N_fitted));
}

namespace {

double huber(double r, double delta) {
  const double a = std::abs(r);
  return a <= delta ? 0.5 * r * r : delta * (a - 0.5 * delta);
}

}  // namespace

DataConstrainedFit fit_data_constrained(const ScalingLaw& base,
                                        const std::vector<RepeatedRun>& runs) {
  base.validate();
  DataConstrainedFit out;
  out.law.base = base;
  // The runs the constants act on: repeated data, or more parameters than the data can use.
  std::vector<RepeatedRun> used;
  for (const auto& r : runs) {
    SCALELAB_CHECK(
        std::isfinite(r.N) && r.N > 0 && std::isfinite(r.D) && r.D > 0 && std::isfinite(r.loss) &&
            r.loss > 0 && std::isfinite(r.U_D) && r.U_D >= 0,
        "data-constrained fit: a run has a non-positive or non-finite N, D, U_D or loss");
    if (!(r.U_D > 0)) continue;
    const bool repeats = r.D > r.U_D * (1 + 1e-9);
    const bool excess = r.N > out.law.useful_params(r.U_D) * (1 + 1e-9);
    out.repeated_runs += repeats;
    out.excess_param_runs += excess;
    if (repeats || excess) used.push_back(r);
  }
  SCALELAB_CHECK(out.repeated_runs >= 3,
                 "data-constrained fit: {} run(s) repeat their data (D > unique tokens); R_D* is "
                 "not identified without at least 3 (every other run sees each token once, where "
                 "the law is the fresh-data law whatever R_D* is): train some runs past one epoch",
                 out.repeated_runs);
  out.R_N_fitted = out.excess_param_runs >= 3;

  constexpr double kDelta = 1e-3;
  const auto objective = [&](double log_rd, double log_rn) {
    DataConstrainedLaw l = out.law;
    l.R_D_star = std::exp(log_rd);
    l.R_N_star = std::exp(log_rn);
    double s = 0;
    for (const auto& r : used)
      s += huber(std::log(l.predict_loss(r.N, r.D, r.U_D) / r.loss), kDelta);
    return s / static_cast<double>(used.size());
  };
  // Grid over [0.1, 1000] in log space (R_N* fixed unless identified), then a compass search.
  const double lo = std::log(0.1), hi = std::log(1000.0);
  constexpr int kGrid = 60;
  double best_rd = std::log(kMuennighoffRDStar), best_rn = std::log(kMuennighoffRNStar);
  double best = objective(best_rd, best_rn);
  for (int i = 0; i <= kGrid; ++i) {
    const double x = lo + (hi - lo) * i / kGrid;
    for (int k = 0; k <= (out.R_N_fitted ? kGrid : 0); ++k) {
      const double y = out.R_N_fitted ? lo + (hi - lo) * k / kGrid : best_rn;
      const double v = objective(x, y);
      if (v < best) {
        best = v;
        best_rd = x;
        best_rn = y;
      }
    }
  }
  for (double step = (hi - lo) / kGrid; step > 1e-7;) {
    bool moved = false;
    for (const auto& [dx, dy] : {std::pair{1.0, 0.0}, {-1.0, 0.0}, {0.0, 1.0}, {0.0, -1.0}}) {
      if (dy != 0 && !out.R_N_fitted) continue;
      const double x = std::clamp(best_rd + dx * step, lo, hi);
      const double y = std::clamp(best_rn + dy * step, lo, hi);
      const double v = objective(x, y);
      if (v < best) {
        best = v;
        best_rd = x;
        best_rn = y;
        moved = true;
      }
    }
    if (!moved) step /= 2;
  }
  out.law.R_D_star = std::exp(best_rd);
  out.law.R_N_star = std::exp(best_rn);
  out.objective = best;
  // Identified? A constant at the edge of the search range, or a fit no better than treating
  // repeats as fresh, says the runs do not determine it: the published value is used instead.
  const auto rmse = [&](const DataConstrainedLaw& l, bool base_only) {
    double se = 0;
    for (const auto& r : used) {
      const double p = base_only ? base.predict_loss(r.N, r.D) : l.predict_loss(r.N, r.D, r.U_D);
      se += std::pow(std::log(p / r.loss), 2);
    }
    return std::sqrt(se / static_cast<double>(used.size()));
  };
  const double edge = std::log(1.05);
  const bool improves = rmse(out.law, false) < 0.99 * rmse(out.law, true);
  out.R_D_fitted = improves && best_rd > lo + edge && best_rd < hi - edge;
  const bool rn_searched = out.R_N_fitted;
  if (out.R_N_fitted && !(improves && best_rn > lo + edge && best_rn < hi - edge)) {
    out.R_N_fitted = false;
    out.law.R_N_star = kMuennighoffRNStar;
  }
  if (!out.R_D_fitted) out.law.R_D_star = kMuennighoffRDStar;
  // A constant the runs do not pin down takes the published value, unless the runs reject it: with
  // it they are predicted worse, by more than kRejectMargin RMS in log loss, than with no decay.
  const auto rmse_with = [&](double rd, double rn) {
    DataConstrainedLaw l = out.law;
    l.R_D_star = rd;
    l.R_N_star = rn;
    return rmse(l, false);
  };
  std::vector<std::string> notes;
  if (!out.R_N_fitted && out.excess_param_runs > 0) {
    const double pub = rmse_with(out.law.R_D_star, kMuennighoffRNStar),
                 none = rmse_with(out.law.R_D_star, kNoDecay);
    if (pub - none > kRejectMargin) {
      out.law.R_N_star = kNoDecay;
      notes.push_back(fmt::format(
          "the published R_N* = {:.3g} misfits the {} runs with more parameters than their data "
          "call for (RMSE of log loss {:.3g} against {:.3g} without decay): no excess-parameter "
          "decay is applied",
          kMuennighoffRNStar, out.excess_param_runs, pub, none));
    } else if (rn_searched) {
      notes.push_back(
          fmt::format("R_N* is not pinned down (the fit gave {:.3g}); the published {:.3g}",
                      std::exp(best_rn), kMuennighoffRNStar));
    }
  }
  if (!out.R_D_fitted) {
    const double pub = rmse_with(kMuennighoffRDStar, out.law.R_N_star),
                 none = rmse_with(kNoDecay, out.law.R_N_star);
    if (pub - none > kRejectMargin) {
      out.law.R_D_star = kNoDecay;
      notes.push_back(fmt::format(
          "the published R_D* = {:.3g} misfits the {} runs that repeat data (RMSE of log loss "
          "{:.3g} against {:.3g} without decay): repeats count as fresh, which is only known up to "
          "the epochs these runs reach",
          kMuennighoffRDStar, out.repeated_runs, pub, none));
    } else {
      notes.push_back(fmt::format(
          "R_D* is not pinned down by these runs (the fit gave {:.3g}{}); the published {:.3g} is "
          "used: train some runs for more epochs",
          std::exp(best_rd),
          improves ? ", at the edge of [0.1, 1000]" : ", no better than fresh data",
          kMuennighoffRDStar));
    }
  }
  out.note = fmt::format("{}", fmt::join(notes, "; "));
  out.rmse_log = rmse(out.law, false);
  out.rmse_log_base = rmse(out.law, true);
  return out;
}

}  // namespace scalelab::scaling
