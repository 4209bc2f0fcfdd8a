// Sweep analysis (see results.h).
#include "sweep/results.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/format.h"
#include "common/log.h"

namespace scalelab::sweep {

namespace {

json::Json interval_json(const std::optional<scaling::Interval>& i) {
  if (!i) return nullptr;
  return {{"lo", i->lo}, {"median", i->median}, {"hi", i->hi}};
}

}  // namespace

SweepAnalysis analyze_runs(const runs::RunDb& db, const AnalysisOptions& o) {
  SweepAnalysis a;
  for (auto& r : db.list()) {
    switch (r.status) {
      case runs::RunStatus::kDone:
        a.runs.push_back(std::move(r));
        break;
      case runs::RunStatus::kPlanned:
        ++a.planned;
        break;
      case runs::RunStatus::kRunning:
        ++a.running;
        break;
      case runs::RunStatus::kFailed:
        ++a.failed;
        break;
    }
  }
  a.curves = db.curves();
  if (a.failed > 0)
    a.warnings.push_back(fmt::format("{} run(s) failed and are left out of the fits", a.failed));
  if (a.planned + a.running > 0)
    a.warnings.push_back(fmt::format("{} run(s) not finished yet; the fits use the {} done",
                                     a.planned + a.running, a.runs.size()));
  SCALELAB_CHECK(!a.runs.empty(), "{}: no finished runs to analyse", db.path().string());

  // One pipeline (scaling/pipeline.h) with failures as warnings: a report shows what it can.
  scaling::PipelineOptions po;
  po.targets = o.targets;
  po.fit.loss = o.loss;
  po.bootstrap.samples = static_cast<int>(o.bootstrap_samples);
  po.bootstrap.seed = o.seed;
  po.band_points = 24;
  if (o.holdout) po.holdout = scaling::HoldoutSpec{.largest_budget = true};
  scaling::IsoflopOptions io;
  io.skip_small = true;
  io.partial_ok = true;
  po.isoflop = io;
  po.on_failure = scaling::OnFailure::kWarn;
  scaling::Analysis an = scaling::analyze(runs::observations(a.runs), po);
  for (const auto& w : an.warnings) a.warnings.push_back(w.str());
  a.iso = std::move(an.isoflop);
  a.fit = std::move(an.fit);
  a.boot = std::move(an.bootstrap);
  a.band = std::move(an.band);
  a.holdout = std::move(an.holdout);
  if (!a.fit) return a;

  std::vector<ShapeChoice> candidates;
  if (o.architecture) candidates = candidate_shapes(*o.architecture);
  for (size_t i = 0; i < o.targets.size(); ++i) {
    Recommendation r;
    r.C = o.targets[i];
    r.law = an.allocations[i];
    if (a.boot) {
      r.N_ci = a.boot->budgets[i].N_opt;
      r.D_ci = a.boot->budgets[i].D_opt;
      r.L_ci = a.boot->budgets[i].L_opt;
    }
    if (a.iso && a.iso->n_opt.points >= 2) {
      r.iso_N = a.iso->n_opt.predict(r.C);
      r.iso_D = a.iso->d_opt.predict(r.C);
    }
    if (!candidates.empty()) {
      r.shape = shape_for_params(candidates, r.law.N, o.architecture->aspect_ratio);
      const double n = static_cast<double>(r.shape->params);
      r.shape_D = r.C / (6.0 * n);
      r.shape_loss = a.fit->law.predict_loss(n, r.shape_D);
    }
    a.recommendations.push_back(r);
  }
  return a;
}

json::Json to_json(const SweepAnalysis& a) {
  json::Json j;
  j["runs_done"] = a.runs.size();
  j["runs_failed"] = a.failed;
  j["runs_unfinished"] = a.planned + a.running;
  if (a.iso) j["isoflop"] = scaling::to_json(*a.iso);
  if (a.fit) j["fit"] = scaling::to_json(*a.fit);
  if (a.boot) j["bootstrap"] = scaling::to_json(*a.boot);
  if (a.holdout) j["holdout"] = scaling::to_json(*a.holdout);
  json::Json recs = json::Json::array();
  for (const auto& r : a.recommendations) {
    json::Json x{{"C", r.C},
                 {"N", r.law.N},
                 {"D", r.law.D},
                 {"loss", r.law.loss},
                 {"tokens_per_param", r.law.tokens_per_param()},
                 {"N_interval", interval_json(r.N_ci)},
                 {"D_interval", interval_json(r.D_ci)},
                 {"loss_interval", interval_json(r.L_ci)}};
    if (r.iso_N > 0) x["isoflop"] = {{"N", r.iso_N}, {"D", r.iso_D}};
    if (r.shape)
      x["shape"] = {{"model", accounting::to_json(r.shape->shape)},
                    {"N", r.shape->params},
                    {"D", r.shape_D},
                    {"loss", r.shape_loss}};
    recs.push_back(std::move(x));
  }
  j["recommendations"] = recs;
  j["warnings"] = a.warnings;
  return j;
}

std::string format_recommendations(const SweepAnalysis& a) {
  std::string out;
  if (a.fit) {
    const auto& L = a.fit->law;
    auto ci = [&](const char* k) -> std::string {
      if (!a.boot || a.boot->params.count(k) == 0) return "";
      const auto& i = a.boot->params.at(k);
      return fmt::format(" [{:.3g}, {:.3g}]", i.lo, i.hi);
    };
    out += fmt::format(
        "parametric fit ({} runs, {}): L(N, D) = {:.3f}{} + {:.4g}{}/N^{:.3f}{} + "
        "{:.4g}{}/D^{:.3f}{}\n",
        a.fit->n_runs, scaling::to_string(a.fit->loss), L.E, ci("E"), L.A, ci("A"), L.alpha,
        ci("alpha"), L.B, ci("B"), L.beta, ci("beta"));
    out +=
        fmt::format("  N_opt ∝ C^{:.3f}, D_opt ∝ C^{:.3f}; R² {:.4f}\n", L.a(), L.b(), a.fit->r2);
  }
  if (a.iso && a.iso->n_opt.points >= 2)
    out += fmt::format("IsoFLOP ({} budgets): N_opt ∝ C^{:.3f}, D_opt ∝ C^{:.3f}\n",
                       a.iso->n_opt.points, a.iso->n_opt.exponent, a.iso->d_opt.exponent);
  if (a.holdout)
    out += fmt::format(
        "held-out check (largest budget, {} runs): mean |error| of predicted loss {:.2f}%\n",
        a.holdout->rows.size(), 100 * a.holdout->mean_abs_rel_error);
  for (const auto& r : a.recommendations) {
    out += fmt::format(
        "recommendation for C = {}: N = {}{}, D = {}{} ({:.1f} tokens/param), "
        "predicted loss {:.4f}{}\n",
        format_sci(r.C, 3), format_si(r.law.N),
        r.N_ci ? fmt::format(" [{}, {}]", format_si(r.N_ci->lo), format_si(r.N_ci->hi)) : "",
        format_si(r.law.D),
        r.D_ci ? fmt::format(" [{}, {}]", format_si(r.D_ci->lo), format_si(r.D_ci->hi)) : "",
        r.law.tokens_per_param(), r.law.loss,
        r.L_ci ? fmt::format(" [{:.4f}, {:.4f}]", r.L_ci->lo, r.L_ci->hi) : "");
    if (r.shape) {
      const auto& s = r.shape->shape;
      out += fmt::format(
          "  build: {} layers × d_model {} ({} heads of {}), d_ff {}: N = {}, "
          "D = {}, predicted loss {:.4f}\n",
          s.n_layers, s.d_model, s.n_heads, s.head_dim(), s.d_ff, format_int(r.shape->params),
          format_si(r.shape_D), r.shape_loss);
    }
    if (r.iso_N > 0)
      out += fmt::format("  IsoFLOP power laws at this C: N = {}, D = {}\n", format_si(r.iso_N),
                         format_si(r.iso_D));
  }
  return out;
}

}  // namespace scalelab::sweep
