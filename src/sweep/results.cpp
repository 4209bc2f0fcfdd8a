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

Recommendation recommend(double C, const scaling::Allocation& law, const scaling::FitResult& fit,
                         const std::vector<ShapeChoice>& family,
                         scaling::SizeConvention convention) {
  Recommendation r;
  r.C = C;
  r.law = law;
  if (!family.empty()) {
    r.shape = best_member(family, fit.law, C, convention);
    r.shape_D = C / r.shape->flops_per_token;
    r.shape_loss = fit.law.predict_loss(r.shape->size(convention), r.shape_D);
  }
  return r;
}

}  // namespace

ShapeChoice best_member(const std::vector<ShapeChoice>& family, const scaling::ScalingLaw& law,
                        double C, scaling::SizeConvention convention) {
  SCALELAB_CHECK(!family.empty(), "architecture: the family is empty");
  const ShapeChoice* best = nullptr;
  double best_loss = INFINITY;
  for (const auto& m : family) {
    const double loss = law.predict_loss(m.size(convention), C / m.flops_per_token);
    if (loss < best_loss) {
      best_loss = loss;
      best = &m;
    }
  }
  return *best;
}

SweepAnalysis analyze_runs(const runs::RunDb& db, const AnalysisOptions& o) {
  // An option, not the data: refused here, before the pipeline turns its failures into warnings.
  SCALELAB_CHECK(std::isfinite(o.budget_tolerance) && o.budget_tolerance > 0,
                 "--tolerance: the budget tolerance must be positive (got {})", o.budget_tolerance);
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
  io.tolerance = o.budget_tolerance;
  io.partial_ok = true;
  po.isoflop = io;
  po.on_failure = scaling::OnFailure::kWarn;
  a.convention = o.convention;
  // Replicated models (seeds > 1) enter the fits once, at their mean loss.
  const std::vector<runs::Run> fitted = runs::mean_over_seeds(a.runs);
  a.seed_noise = runs::seed_spread(a.runs);
  for (const auto& n : a.seed_noise)
    if (n.sd > kSeedNoiseShare * n.model_range)
      a.warnings.push_back(fmt::format(
          "budget {}: seeds of one model differ by {:.3g} in loss (pooled SD, {} models × their "
          "seeds), against {:.3g} between its models' mean losses: its IsoFLOP minimum is "
          "mostly noise; use larger budgets or more seeds",
          n.budget, n.sd, n.models, n.model_range));
  scaling::Analysis an = scaling::analyze(runs::observations(fitted, o.convention), po);
  for (const auto& w : an.warnings) a.warnings.push_back(w.str());
  a.iso = std::move(an.isoflop);
  a.fit = std::move(an.fit);
  a.boot = std::move(an.bootstrap);
  a.band = std::move(an.band);
  a.holdout = std::move(an.holdout);
  a.data_constrained = an.data_constrained;
  a.unique_tokens = an.unique_tokens;
  if (!a.fit) return a;

  std::vector<ShapeChoice> family;
  if (o.architecture) family = model_family(*o.architecture);
  for (size_t i = 0; i < o.targets.size(); ++i) {
    Recommendation r = recommend(o.targets[i], an.allocations[i], *a.fit, family, o.convention);
    if (i < an.constrained.size()) r.constrained = an.constrained[i];
    if (a.boot) {
      r.N_ci = a.boot->budgets[i].N_opt;
      r.D_ci = a.boot->budgets[i].D_opt;
      r.L_ci = a.boot->budgets[i].L_opt;
      r.tokens_per_param_ci = a.boot->budgets[i].tokens_per_param;
    }
    if (a.iso && a.iso->n_opt.points >= 2) {
      r.iso_N = a.iso->n_opt.predict(r.C);
      r.iso_D = a.iso->d_opt.predict(r.C);
    }
    // What the usual alternatives would cost at this C by the law (and its bootstrap laws).
    const auto alternative = [&](std::string name, double N) {
      Alternative x{std::move(name),
                    N,
                    r.C / (6.0 * N),
                    a.fit->law.predict_loss(N, r.C / (6.0 * N)),
                    a.fit->law.excess_compute(r.C, N),
                    std::nullopt};
      if (a.boot)
        x.excess_ci = a.boot->interval_of(
            [&](const scaling::ScalingLaw& l) { return l.excess_compute(r.C, N); });
      r.alternatives.push_back(std::move(x));
    };
    if (o.inference_tokens > 0)
      r.with_inference = a.fit->law.allocate_with_inference(r.C, o.inference_tokens);
    alternative("20 tokens/param", std::sqrt(r.C / (6.0 * 20.0)));
    if (r.iso_N > 0) alternative("IsoFLOP", r.iso_N);
    a.recommendations.push_back(r);
  }

  // The other conventions, fitted the same way without the bootstrap.
  ConventionView main;
  main.convention = o.convention;
  main.fit = a.fit;
  main.holdout = a.holdout;
  main.at_targets = a.recommendations;
  a.conventions.push_back(main);
  for (const auto& [conv, name] : fields::EnumNames<scaling::SizeConvention>::kNames) {
    if (conv == o.convention || !runs::supports(a.runs, conv)) continue;
    ConventionView v;
    v.convention = conv;
    scaling::PipelineOptions pv = po;
    pv.bootstrap.samples = 0;
    pv.band_points = 0;
    pv.isoflop.reset();
    pv.repeat =
        scaling::RepeatStage::kOff;  // the views show fits; the repeat stage is the main one's
    const scaling::Analysis av = scaling::analyze(runs::observations(fitted, conv), pv);
    v.fit = av.fit;
    v.holdout = av.holdout;
    if (!v.fit) {
      v.failure = av.warnings.empty() ? "no fit" : av.warnings.front().str();
    } else {
      for (size_t i = 0; i < o.targets.size(); ++i)
        v.at_targets.push_back(recommend(o.targets[i], av.allocations[i], *v.fit, family, conv));
    }
    a.conventions.push_back(std::move(v));
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
  if (a.data_constrained) j["data_constrained"] = scaling::to_json(*a.data_constrained);
  if (a.unique_tokens > 0) j["unique_tokens"] = a.unique_tokens;
  if (!a.seed_noise.empty()) {
    json::Json n = json::Json::array();
    for (const auto& x : a.seed_noise)
      n.push_back({{"budget", x.budget},
                   {"C", x.budget_C},
                   {"models", x.models},
                   {"runs", x.runs},
                   {"sd", x.sd},
                   {"model_range", x.model_range}});
    j["seed_noise"] = std::move(n);
  }
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
    if (r.tokens_per_param_ci)
      x["tokens_per_param_interval"] = interval_json(r.tokens_per_param_ci);
    json::Json alts = json::Json::array();
    for (const auto& alt : r.alternatives)
      alts.push_back({{"name", alt.name},
                      {"N", alt.N},
                      {"D", alt.D},
                      {"loss", alt.loss},
                      {"excess_compute", alt.excess},
                      {"excess_compute_interval", interval_json(alt.excess_ci)}});
    x["alternatives"] = std::move(alts);
    if (r.with_inference) x["with_inference"] = scaling::to_json(*r.with_inference);
    if (r.constrained)
      x["for_the_corpus"] = {{"unique_tokens", a.unique_tokens},
                             {"N", r.constrained->N},
                             {"D", r.constrained->D},
                             {"epochs", r.constrained->D / a.unique_tokens},
                             {"loss", r.constrained->loss}};
    if (r.shape)
      x["shape"] = {{"model", accounting::to_json(r.shape->shape)},
                    {"N", r.shape->params},
                    {"D", r.shape_D},
                    {"loss", r.shape_loss}};
    recs.push_back(std::move(x));
  }
  j["recommendations"] = recs;
  j["size_convention"] = fields::enum_name(a.convention);
  json::Json views = json::Json::array();
  for (const auto& v : a.conventions) {
    json::Json x{{"convention", fields::enum_name(v.convention)}};
    if (v.fit) x["fit"] = scaling::to_json(*v.fit);
    if (v.holdout) x["holdout_mean_abs_rel_error"] = v.holdout->mean_abs_rel_error;
    if (!v.failure.empty()) x["failure"] = v.failure;
    json::Json t = json::Json::array();
    for (const auto& r : v.at_targets) {
      json::Json y{{"C", r.C}, {"N", r.law.N}, {"D", r.law.D}, {"loss", r.law.loss}};
      if (r.shape)
        y["shape"] = {{"model", accounting::to_json(r.shape->shape)},
                      {"N_total", r.shape->params},
                      {"N_non_embedding", r.shape->non_embedding},
                      {"D", r.shape_D},
                      {"loss", r.shape_loss}};
      t.push_back(std::move(y));
    }
    x["targets"] = std::move(t);
    views.push_back(std::move(x));
  }
  j["conventions"] = std::move(views);
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
  if (!a.seed_noise.empty()) {
    std::string per;
    for (const auto& n : a.seed_noise)
      per += fmt::format("{}{} {:.3g} ({:.3g})", per.empty() ? "" : ", ", n.budget, n.sd,
                         n.model_range);
    out += fmt::format(
        "seed noise (pooled SD of a model's loss between seeds, and in brackets the range of "
        "the models' mean losses; fits use the means): {}\n",
        per);
  }
  if (a.data_constrained)
    out += fmt::format(
        "repeated data ({} runs past one epoch): {}; RMSE of log loss on them {:.4f} (treating "
        "repeats as fresh: {:.4f}){}\n",
        a.data_constrained->repeated_runs, scaling::describe_constants(*a.data_constrained),
        a.data_constrained->rmse_log, a.data_constrained->rmse_log_base,
        a.data_constrained->note.empty() ? "" : "\n  " + a.data_constrained->note);
  if (a.holdout)
    out += fmt::format(
        "held-out check (largest budget, {} runs): mean |error| of predicted loss {:.2f}%\n",
        a.holdout->rows.size(), 100 * a.holdout->mean_abs_rel_error);
  if (a.fit)
    out += fmt::format("  N counts {} parameters (size_convention {})\n",
                       a.convention == scaling::SizeConvention::kTotal          ? "all"
                       : a.convention == scaling::SizeConvention::kNonEmbedding ? "non-embedding"
                                                                                : "FLOPs/6 of",
                       fields::enum_name(a.convention));
  for (const auto& r : a.recommendations) {
    out += fmt::format(
        "recommendation for C = {}: N = {}{}, D = {}{} ({:.1f}{} tokens/param), "
        "predicted loss {:.4f}{}\n",
        format_sci(r.C, 3), format_si(r.law.N),
        r.N_ci ? fmt::format(" [{}, {}]", format_si(r.N_ci->lo), format_si(r.N_ci->hi)) : "",
        format_si(r.law.D),
        r.D_ci ? fmt::format(" [{}, {}]", format_si(r.D_ci->lo), format_si(r.D_ci->hi)) : "",
        r.law.tokens_per_param(),
        r.tokens_per_param_ci
            ? fmt::format(" [{:.1f}, {:.1f}]", r.tokens_per_param_ci->lo, r.tokens_per_param_ci->hi)
            : "",
        r.law.loss, r.L_ci ? fmt::format(" [{:.4f}, {:.4f}]", r.L_ci->lo, r.L_ci->hi) : "");
    if (r.shape) {
      const auto& s = r.shape->shape;
      out += fmt::format(
          "  build: {} layers × d_model {} ({} heads of {}), d_ff {}: N = {} ({} non-embedding), "
          "D = {} (spends C exactly), predicted loss {:.4f}\n",
          s.n_layers, s.d_model, s.n_heads, s.head_dim(), s.d_ff, format_int(r.shape->params),
          format_int(r.shape->non_embedding), format_si(r.shape_D), r.shape_loss);
    }
    // The alternatives by the law: what their allocation of C wastes against the recommended one.
    const auto cost = [](const Alternative& alt) {
      return fmt::format("{} more compute than its loss needs{}", format_percent(alt.excess),
                         alt.excess_ci ? fmt::format(" [{}, {}]", format_percent(alt.excess_ci->lo),
                                                     format_percent(alt.excess_ci->hi))
                                       : "");
    };
    for (const auto& alt : r.alternatives)
      out += alt.name == "IsoFLOP"
                 ? fmt::format("  IsoFLOP power laws at this C: N = {}, D = {}: {}\n",
                               format_si(alt.N), format_si(alt.D), cost(alt))
                 : fmt::format("  {} instead: N = {}, D = {}: {}\n", alt.name, format_si(alt.N),
                               format_si(alt.D), cost(alt));
    if (const auto& w = r.with_inference)
      out += fmt::format(
          "  to serve {} tokens: N = {}, D = {} ({:.1f} tokens/param) reaches the same loss for "
          "{} FLOPs of training + inference, {} less than this model serving them (Sardana et "
          "al. 2024)\n",
          format_si(w->inference_tokens), format_si(w->N), format_si(w->D), w->D / w->N,
          format_sci(w->total_flops(), 3), format_percent(w->saving()));
    if (r.constrained)
      out += fmt::format(
          "  for this corpus ({} unique tokens, repeated as needed): N = {}, D = {} ({:.1f} "
          "epochs), predicted loss {:.4f} ({})\n",
          format_si(a.unique_tokens), format_si(r.constrained->N), format_si(r.constrained->D),
          r.constrained->D / a.unique_tokens, r.constrained->loss,
          a.data_constrained
              ? scaling::describe_constants(*a.data_constrained)
              : fmt::format("R_D* = {:.3g} (published): fewer than 3 runs repeat data",
                            scaling::kMuennighoffRDStar));
    if (r.constrained && r.constrained->D > 16 * a.unique_tokens)
      out += fmt::format(
          "    over 16 epochs: past there a repeated token adds almost nothing (Muennighoff et "
          "al. 2023), so this budget is more than the corpus can use; more text would help "
          "(fresh-data loss {:.4f})\n",
          r.law.loss);
  }
  if (a.conventions.size() > 1) {
    out += "by size convention (N, D and the built model at each target; held-out error):\n";
    for (const auto& v : a.conventions) {
      if (!v.fit) {
        out += fmt::format("  {:<14} no fit: {}\n", fields::enum_name(v.convention), v.failure);
        continue;
      }
      std::string at;
      for (const auto& r : v.at_targets)
        at += fmt::format(
            "; C = {}: N = {}, D = {}{}", format_sci(r.C, 2), format_si(r.law.N),
            format_si(r.law.D),
            r.shape ? fmt::format(" → {}×{}", r.shape->shape.n_layers, r.shape->shape.d_model)
                    : "");
      out += fmt::format(
          "  {:<14} a = {:.3f}, b = {:.3f}{}{}\n", fields::enum_name(v.convention), v.fit->law.a(),
          v.fit->law.b(),
          v.holdout ? fmt::format(", held-out {:.2f}%", 100 * v.holdout->mean_abs_rel_error) : "",
          at);
    }
  }
  return out;
}

}  // namespace scalelab::sweep
