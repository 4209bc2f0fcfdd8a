// The HTML report (see report.h).
#include "report/report.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <map>

#include "common/error.h"
#include "common/file_util.h"
#include "common/format.h"
#include "report/plots.h"

namespace scalelab::report {

namespace fs = std::filesystem;

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string inline_svg(const std::string& svg, const std::string& prefix) {
  size_t start = svg.find("<svg");
  SCALELAB_CHECK(start != std::string::npos, "figure {}: gnuplot output holds no <svg>", prefix);
  std::string s = svg.substr(start);
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
      s.replace(p, from.size(), to);
  };
  replace_all("id='", "id='" + prefix);
  replace_all("id=\"", "id=\"" + prefix);
  replace_all("href='#", "href='#" + prefix);
  replace_all("href=\"#", "href=\"#" + prefix);
  replace_all("url(#", "url(#" + prefix);
  return s;
}

namespace {

std::string num(double v, int digits = 4) {
  if (!std::isfinite(v)) return "–";
  return fmt::format("{:.{}g}", v, digits);
}

std::string interval(const std::optional<scaling::Interval>& i, int digits = 3) {
  if (!i) return "–";
  return fmt::format("[{}, {}]", num(i->lo, digits), num(i->hi, digits));
}

// A clause as a sentence of its own: its first letter in upper case.
std::string capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

// A cell's text; what follows a newline goes on a second, smaller line (an interval under its
// value), which keeps wide tables inside the page.
std::string cell_html(const std::string& c) {
  const size_t nl = c.find('\n');
  if (nl == std::string::npos) return html_escape(c);
  return html_escape(c.substr(0, nl)) + "<br><span class=\"sub\">" + html_escape(c.substr(nl + 1)) +
         "</span>";
}

// cls "notes": the last column is free text that wraps (the rest stay on one line).
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows, const std::string& cls = "") {
  std::string h = cls.empty() ? "<table>" : "<table class=\"" + cls + "\">";
  h += "<thead><tr>";
  for (const auto& c : header) h += "<th>" + html_escape(c) + "</th>";
  h += "</tr></thead><tbody>";
  for (const auto& r : rows) {
    h += "<tr>";
    for (const auto& c : r) h += "<td>" + cell_html(c) + "</td>";
    h += "</tr>";
  }
  return h + "</tbody></table>\n";
}

const char* kStyle = R"css(
body{font-family:Helvetica,Arial,sans-serif;margin:0;background:#f6f7f9;color:#222}
header{background:#1f2d3d;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px} header p{margin:4px 0 0;color:#c8d3df;font-size:13px}
main{max-width:1180px;margin:0 auto;padding:16px 32px 48px}
section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;margin:18px 0;padding:16px 20px}
h2{font-size:18px;margin:0 0 10px} p.caption{color:#555;font-size:13px;margin:6px 0 0}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 10px;text-align:right;white-space:nowrap}
th{background:#f0f2f5;text-align:center} td:first-child{text-align:left}
.figure svg{width:100%;height:auto;max-width:760px;display:block}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.rec{font-size:15px} .rec b{color:#0b5394}
.warn{color:#8a5300;background:#fff8e6;border-left:3px solid #e69f00;padding:4px 10px;margin:4px 0;font-size:13px}
.scroll{overflow-x:auto}
td .sub{color:#666;font-size:11px}
table.notes td:last-child{white-space:normal;text-align:left;min-width:16em}
)css";

// ---- one function per section of the page, in page order; each returns its HTML ("" when the
// analysis has nothing for it).

std::string page_header(const sweep::SweepAnalysis& a, const ReportInfo& info) {
  const std::time_t now = std::time(nullptr);
  char when[64];
  std::strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", std::gmtime(&now));
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" +
         html_escape(info.title) + "</title>\n<style>" + kStyle + "</style></head><body>\n" +
         "<header><h1>" + html_escape(info.title) + "</h1><p>" +
         html_escape(fmt::format(
             "{} done runs{}{} · {} · generated {}", a.runs.size(),
             a.failed ? fmt::format(", {} failed", a.failed) : "",
             a.planned + a.running ? fmt::format(", {} unfinished", a.planned + a.running) : "",
             info.db_path, when)) +
         "</p></header>\n<main>\n";
}

// Recommendation first: what users came for.
std::string recommendation_section(const sweep::SweepAnalysis& a) {
  if (a.recommendations.empty()) return "";
  std::vector<std::vector<std::string>> rows;
  // Each value with its interval below it: 9 columns, which fit a 1400-pixel window.
  const auto with = [](const std::string& value, const std::string& ci) {
    return ci == "–" ? value : value + "\n" + ci;
  };
  for (const auto& r : a.recommendations) {
    std::string shape = "–";
    if (r.shape)
      shape = fmt::format("{} layers × d {}\n{} heads, d_ff {}", r.shape->shape.n_layers,
                          r.shape->shape.d_model, r.shape->shape.n_heads, r.shape->shape.d_ff);
    rows.push_back(
        {format_sci(r.C, 3), with(format_si(r.law.N), interval(r.N_ci)),
         with(format_si(r.law.D), interval(r.D_ci)),
         with(fmt::format("{:.1f}", r.law.tokens_per_param()), interval(r.tokens_per_param_ci)),
         with(num(r.law.loss), interval(r.L_ci, 4)), shape,
         r.shape ? format_int(r.shape->params) : "–", r.shape ? format_si(r.shape_D) : "–",
         r.iso_N > 0 ? format_si(r.iso_N) : "–"});
  }
  std::string h = "<section id=\"recommendation\"><h2>Recommendation</h2>\n<div class=\"scroll\">" +
                  table({"target C", "N", "D", "D/N", "loss", "shape (architecture rule)",
                         "exact N", "D for it", "N (IsoFLOP)"},
                        rows) +
                  "</div>";
  if (a.boot)
    h += fmt::format(
        "<p class=\"caption\">Intervals (under each value): central {:.0f}% bootstrap percentile "
        "intervals over {} resamples of the runs ({} failed refits excluded).</p>",
        100 * a.boot->confidence, a.boot->samples, a.boot->failed);
  // With inference tokens (Sardana et al. 2024): the model that reaches each target's loss for the
  // least training + inference compute.
  std::vector<std::vector<std::string>> serve;
  for (const auto& r : a.recommendations)
    if (const auto& w = r.with_inference)
      serve.push_back({format_sci(r.C, 3), format_si(w->inference_tokens), format_si(w->N),
                       format_si(w->D), fmt::format("{:.1f}", w->D / w->N),
                       format_sci(w->total_flops(), 3), format_percent(w->saving())});
  if (!serve.empty())
    h += "<h3>To serve the model (inference-aware)</h3>\n<div class=\"scroll\">" +
         table({"target C", "inference tokens T", "N", "D", "D/N", "training + inference FLOPs",
                "less than the recommended model"},
               serve) +
         "</div><p class=\"caption\">The model that reaches the target's predicted loss for the "
         "least 6ND + 2N·T (Sardana et al. 2024, \"Beyond Chinchilla-Optimal\"): smaller, trained "
         "on more tokens; the last column against the recommended model serving the same T "
         "tokens (C + 2·N·T).</p>";
  // What the usual other answers would cost: compute beyond what the loss they reach needs.
  std::vector<std::vector<std::string>> alts;
  for (const auto& r : a.recommendations)
    for (const auto& alt : r.alternatives)
      alts.push_back(
          {format_sci(r.C, 3), alt.name, format_si(alt.N), format_si(alt.D), num(alt.loss, 4),
           with(format_percent(alt.excess),
                alt.excess_ci ? fmt::format("[{}, {}]", format_percent(alt.excess_ci->lo),
                                            format_percent(alt.excess_ci->hi))
                              : "–")});
  if (!alts.empty())
    h += "<h3>What the other answers cost</h3>\n<div class=\"scroll\">" +
         table({"target C", "instead", "N", "D", "loss", "more compute for that loss"}, alts) +
         "</div><p class=\"caption\">Each alternative spends the target's C on its own N (D = "
         "C/6N) and reaches a higher loss; the last column is how much more compute it spends "
         "than the recommended allocation needs for that loss, by the fitted law (under it: the "
         "same over the bootstrap's refitted laws, its N held fixed). 20 tokens/param is Hoffmann "
         "et al.'s rule of thumb, IsoFLOP the power laws of approach 2.</p>";
  return h + "</section>\n";
}

// The answer for the user's corpus when its tokens may be repeated (Muennighoff et al. 2023).
std::string corpus_section(const sweep::SweepAnalysis& a) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : a.recommendations) {
    if (!r.constrained) continue;
    rows.push_back({format_sci(r.C, 3), format_si(r.law.N), format_si(r.law.D), num(r.law.loss),
                    format_si(r.constrained->N), format_si(r.constrained->D),
                    fmt::format("{:.2f}", r.constrained->D / a.unique_tokens),
                    num(r.constrained->loss)});
  }
  if (rows.empty()) return "";
  bool beyond = false;
  for (const auto& r : a.recommendations)
    beyond |= r.constrained && r.constrained->D > 16 * a.unique_tokens;
  const std::string constants =
      a.data_constrained
          ? fmt::format(
                "{} from the {} runs that repeat their data (RMSE of log loss {:.4f}; "
                "{:.4f} treating repeats as fresh){}",
                scaling::describe_constants(*a.data_constrained), a.data_constrained->repeated_runs,
                a.data_constrained->rmse_log, a.data_constrained->rmse_log_base,
                a.data_constrained->note.empty() ? ""
                                                 : ". " + capitalised(a.data_constrained->note))
          : fmt::format(
                "the published R_D* = {:.3g}, R_N* = {:.3g} (fewer than 3 runs repeat "
                "their data, so the sweep cannot fit them)",
                scaling::kMuennighoffRDStar, scaling::kMuennighoffRNStar);
  return "<section id=\"corpus\"><h2>For this corpus</h2>\n" +
         table({"target C", "N (fresh data)", "D (fresh data)", "loss (fresh data)",
                "N (this corpus)", "D (this corpus)", "epochs", "loss (this corpus)"},
               rows) +
         "<p class=\"caption\">" +
         html_escape(fmt::format(
             "The fresh-data answer assumes unlimited unique text; this corpus holds {} unique "
             "training tokens. Repeated tokens are worth less (Muennighoff et al. 2023, effective "
             "data D' = U + U·R_D*·(1 − e^(−(D/U − 1)/R_D*))), with {}.",
             format_si(a.unique_tokens), constants)) +
         (beyond ? " Where a target needs over 16 epochs the budget is more than the corpus can "
                   "use: past there a repeated token adds almost nothing, and more text would help."
                 : "") +
         "</p></section>\n";
}

std::string warnings_section(const sweep::SweepAnalysis& a) {
  if (a.warnings.empty()) return "";
  std::string h = "<section id=\"warnings\"><h2>Warnings</h2>\n";
  for (const auto& w : a.warnings) h += "<div class=\"warn\">" + html_escape(w) + "</div>\n";
  return h + "</section>\n";
}

std::string figure_sections(const std::vector<Figure>& figs) {
  std::string h;
  for (size_t i = 0; i < figs.size(); ++i) {
    const auto& f = figs[i];
    h += "<section class=\"figure\" id=\"fig-" + f.name + "\"><h2>" + html_escape(f.title) +
         "</h2>\n" + inline_svg(f.svg, fmt::format("f{}_", i)) + "\n<p class=\"caption\">" +
         html_escape(f.caption) + " Data and gnuplot script: <code>plots/" + f.name +
         ".dat</code>, <code>plots/" + f.name + ".gp</code>.</p></section>\n";
  }
  return h;
}

std::string fit_section(const sweep::SweepAnalysis& a) {
  if (!a.fit) return "";
  const auto& L = a.fit->law;
  auto ci = [&](const char* k) -> std::optional<scaling::Interval> {
    if (!a.boot || a.boot->params.count(k) == 0) return std::nullopt;
    return a.boot->params.at(k);
  };
  std::string h = "<section id=\"fit\"><h2>Fitted parameters</h2>\n";
  h += table({"parameter", "value", "interval"},
             {{"E", num(L.E), interval(ci("E"))},
              {"A", num(L.A), interval(ci("A"))},
              {"B", num(L.B), interval(ci("B"))},
              {"α", num(L.alpha), interval(ci("alpha"))},
              {"β", num(L.beta), interval(ci("beta"))},
              {"a = β/(α+β)  (N_opt ∝ C^a)", num(L.a()), interval(ci("a"))},
              {"b = α/(α+β)  (D_opt ∝ C^b)", num(L.b()), interval(ci("b"))}});
  h += "<p class=\"caption\">" +
       html_escape(fmt::format(
           "L(N, D) = E + A/N^α + B/D^β fitted to {} runs with the {} loss by L-BFGS from {} "
           "starts ({} converged); objective {:.4g}, R² {:.4f}, RMSE of log L {:.4f}.",
           a.fit->n_runs, scaling::to_string(a.fit->loss), a.fit->starts, a.fit->starts_converged,
           a.fit->objective, a.fit->r2, a.fit->rmse_log)) +
       "</p>";
  if (a.iso && a.iso->n_opt.points >= 2)
    h += "<p class=\"caption\">" +
         html_escape(fmt::format("IsoFLOP power laws over {} budgets: N_opt = {:.3g}·C^{:.3f} "
                                 "(R² {:.3f}), D_opt = {:.3g}·C^{:.3f} (R² {:.3f}).",
                                 a.iso->n_opt.points, a.iso->n_opt.coefficient,
                                 a.iso->n_opt.exponent, a.iso->n_opt.r2, a.iso->d_opt.coefficient,
                                 a.iso->d_opt.exponent, a.iso->d_opt.r2)) +
         "</p>";
  return h + "</section>\n";
}

// How N_opt and D_opt at each target move with what N counts (docs/scaling.md).
std::string conventions_section(const sweep::SweepAnalysis& a) {
  if (a.conventions.size() < 2) return "";
  std::vector<std::vector<std::string>> rows;
  for (const auto& v : a.conventions) {
    const std::string name(fields::enum_name(v.convention));
    const std::string label = v.convention == a.convention ? name + " (used)" : name;
    if (!v.fit) {
      rows.push_back({label, "–", "–", "–", "–", "–", "–", "–", "–", v.failure});
      continue;
    }
    for (const auto& r : v.at_targets) {
      rows.push_back({label, num(v.fit->law.alpha, 3), num(v.fit->law.beta, 3),
                      num(v.fit->law.a(), 3),
                      v.holdout ? fmt::format("{:.2f}%", 100 * v.holdout->mean_abs_rel_error) : "–",
                      format_sci(r.C, 3), format_si(r.law.N), format_si(r.law.D),
                      r.shape ? fmt::format("{}×{}\n{} total, {} non-emb.", r.shape->shape.n_layers,
                                            r.shape->shape.d_model, format_si(r.shape->params),
                                            format_si(r.shape->non_embedding))
                              : "–",
                      r.shape ? num(r.shape_loss) : "–"});
    }
  }
  return "<section id=\"conventions\"><h2>The parameter convention</h2>\n<div class=\"scroll\">" +
         table({"N counts", "α", "β", "a (N_opt ∝ C^a)", "held-out error", "target C", "N_opt",
                "D_opt", "model built", "its predicted loss"},
               rows) +
         "</div><p class=\"caption\">The same runs fitted three times, with N the total parameter "
         "count (Hoffmann et al. 2022), the non-embedding count (Kaplan et al. 2020), or the "
         "training FLOPs per token outside the LM head over 6 (DeepSeek's M/6). N_opt is in "
         "each row's own units; the model built spends the target C exactly. "
         "docs/scaling.md says which the sweep uses and why.</p></section>\n";
}

std::string holdout_section(const sweep::SweepAnalysis& a) {
  if (!a.holdout) return "";
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : a.holdout->rows)
    rows.push_back({std::to_string(r.id), format_int(static_cast<int64_t>(r.N)), format_si(r.D),
                    format_sci(r.C, 3), num(r.actual), num(r.predicted),
                    fmt::format("{:+.2f}%", 100 * r.rel_error)});
  return "<section id=\"holdout\"><h2>Held-out check</h2>\n" +
         table({"run", "N", "D", "C", "actual loss", "predicted", "error"}, rows) +
         "<p class=\"caption\">" +
         html_escape(fmt::format("The law refitted without the largest budget (runs with C ≥ "
                                 "{}) predicts them with mean |error| {:.2f}%.",
                                 format_sci(a.holdout->threshold_C, 3),
                                 100 * a.holdout->mean_abs_rel_error)) +
         "</p></section>\n";
}

std::string budgets_section(const sweep::SweepAnalysis& a) {
  if (!a.iso || a.iso->budgets.empty()) return "";
  std::vector<std::vector<std::string>> rows;
  // With seeds: each budget's spread between seeds next to its models' spread (runs::seed_spread).
  std::map<std::string, const runs::SeedSpread*> noise;
  for (const auto& n : a.seed_noise) noise[n.budget] = &n;
  for (const auto& b : a.iso->budgets) {
    std::vector<std::string> row = {b.group.label,
                                    std::to_string(b.N.size()),
                                    b.convex ? "yes" : "no",
                                    b.convex ? format_si(b.N_opt) : "–",
                                    b.convex ? format_si(b.D_opt) : "–",
                                    b.convex ? num(b.loss_opt) : "–",
                                    num(b.rmse, 3)};
    if (!noise.empty()) {
      const auto it = noise.find(b.group.label);
      row.push_back(it == noise.end() ? "–" : num(it->second->sd, 3));
      row.push_back(it == noise.end() ? "–" : num(it->second->model_range, 3));
    }
    row.push_back(b.warning);
    rows.push_back(std::move(row));
  }
  std::vector<std::string> head = {"budget", "runs",          "convex", "N_opt",
                                   "D_opt",  "loss at N_opt", "RMSE"};
  if (!noise.empty()) {
    head.push_back("seed SD");
    head.push_back("models' range");
  }
  head.push_back("note");
  return "<section id=\"budgets\"><h2>IsoFLOP budgets</h2>\n<div class=\"scroll\">" +
         table(head, rows, "notes") + "</div>" +
         (noise.empty()
              ? std::string()
              : "<p class=\"caption\">Each model's seeds enter the fits at their mean loss; seed "
                "SD is the pooled standard deviation of a model's loss between its seeds, models' "
                "range the spread of the models' mean losses in that budget.</p>") +
         "</section>\n";
}

std::string runs_section(const sweep::SweepAnalysis& a) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : a.runs) {
    std::string shape = "–";
    if (r.config.contains("model")) {
      const auto& m = r.config["model"];
      shape = fmt::format("{}×{}/{}", m.value("n_layers", 0), m.value("d_model", 0),
                          m.value("n_heads", 0));
    }
    const double wall = r.extra.value("wall_seconds", 0.0);
    rows.push_back(
        {std::to_string(r.id), r.extra.value("key", std::string()), r.budget,
         format_int(static_cast<int64_t>(r.N)), shape, format_si(r.D),
         fmt::format("{:.1f}", r.D / r.N), format_sci(r.C, 3),
         r.extra.contains("flops_exact") ? format_sci(r.extra["flops_exact"].get<double>(), 3)
                                         : "–",
         num(r.loss),
         // The law's N is the analysis's convention, not necessarily the total count.
         a.fit ? num(a.fit->law.predict_loss(runs::size_under(r, a.convention), r.D)) : "–",
         wall > 0 ? format_duration_s(wall) : "–"});
  }
  return "<section id=\"runs\"><h2>Every run</h2><div class=\"scroll\">\n" +
         table({"id", "key", "budget", "N", "layers×d/heads", "D", "D/N", "C", "exact FLOPs",
                "val loss", "fit", "wall time"},
               rows) +
         "</div></section>\n";
}

// A WSD sweep's cooldown branches, one family per parent run: the points its one trajectory gave
// (D and loss, in order), what training them cost and what the same points cost as separate runs.
std::string branches_section(const sweep::SweepAnalysis& a) {
  std::map<std::string, std::vector<const runs::Run*>> family;  // parent key → its points
  for (const auto& r : a.runs)
    if (r.extra.contains("parent_key"))
      family[r.extra["parent_key"].get<std::string>()].push_back(&r);
  if (family.empty()) return "";
  for (const auto& r : a.runs)
    if (const auto it = family.find(r.extra.value("key", std::string())); it != family.end())
      it->second.push_back(&r);
  std::vector<std::vector<std::string>> rows;
  double spent_all = 0, points_all = 0;
  for (auto& [parent, points] : family) {
    std::sort(points.begin(), points.end(),
              [](const runs::Run* x, const runs::Run* y) { return x->D < y->D; });
    std::string shape = "–", list;
    double spent = 0, whole = 0;
    for (const runs::Run* r : points) {
      if (r->extra.value("key", std::string()) == parent && r->config.contains("model")) {
        const auto& m = r->config["model"];
        shape = fmt::format("{}×{}", m.value("n_layers", 0), m.value("d_model", 0));
      }
      list += fmt::format("{}{}: {}", list.empty() ? "" : ", ", format_si(r->D), num(r->loss));
      whole += r->C;
      spent += r->extra.value("flops_spent", r->C);
    }
    spent_all += spent;
    points_all += whole;
    rows.push_back({parent, shape, format_int(static_cast<int64_t>(points.front()->N)),
                    std::to_string(points.size()), list, format_sci(spent, 3),
                    fmt::format("{:.0f}%", 100 * spent / whole)});
  }
  return "<section id=\"branches\"><h2>Cooldown branches</h2>\n<div class=\"scroll\">" +
         table({"parent run", "shape", "N", "points", "D: val loss", "FLOPs trained",
                "of separate runs"},
               rows) +
         "</div>" +
         fmt::format(
             "<p class=\"caption\">Each row is one WSD run and the cooldowns branched from its "
             "checkpoints (Hägele et al. 2024): the losses of runs of every length listed, for "
             "the compute trained; the same points as separate runs would cost {} FLOPs, these "
             "cost {} ({:.0f}%).</p>",
             format_sci(points_all, 3), format_sci(spent_all, 3), 100 * spent_all / points_all) +
         "</section>\n";
}

std::string config_section(const ReportInfo& info) {
  if (info.sweep_config.is_null()) return "";
  return "<section id=\"config\"><h2>Sweep configuration</h2><pre>" +
         html_escape(info.sweep_config.dump(2)) + "</pre></section>\n";
}

}  // namespace

fs::path write_report(const sweep::SweepAnalysis& a, const ReportInfo& info, const fs::path& out) {
  ensure_writable_directory(out);
  const std::vector<Figure> figs = draw_figures(a, out / "plots");
  const std::string h = page_header(a, info) + recommendation_section(a) + corpus_section(a) +
                        warnings_section(a) + figure_sections(figs) + fit_section(a) +
                        conventions_section(a) + holdout_section(a) + budgets_section(a) +
                        branches_section(a) + runs_section(a) + config_section(info) +
                        "</main></body></html>\n";
  write_text_file_atomic(out / "index.html", h);
  json::write_file(out / "analysis.json", sweep::to_json(a));
  return out / "index.html";
}

}  // namespace scalelab::report
