// Figures for the report (see plots.h). Each figure: data written with full precision, a script
// whose plot command is generated to match the data blocks, then `gnuplot -e "cd DIR" NAME.gp`.
#include "report/plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "common/error.h"
#include "common/file_util.h"
#include "common/process.h"

namespace scalelab::report {

namespace fs = std::filesystem;

namespace {

// The N axis under the analysis's size convention (docs/scaling.md, "The parameter convention").
std::string n_label(scaling::SizeConvention c) {
  return c == scaling::SizeConvention::kTotal          ? "parameters N"
         : c == scaling::SizeConvention::kNonEmbedding ? "non-embedding parameters N"
                                                       : "N = body FLOPs per token / 6";
}

// A colour per budget (colour-blind-safe, Okabe–Ito), cycling.
std::string colour(size_t i) {
  static const char* k[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                            "#CC79A7", "#56B4E9", "#F0E442", "#000000"};
  return k[i % (sizeof(k) / sizeof(k[0]))];
}

const char* kTerminal =
    "set terminal svg size 760,480 dynamic enhanced font 'Helvetica,12' background '#ffffff'\n"
    "set border lw 1 lc '#444444'\nset grid lc '#dddddd' lw 1\nset key outside right top box "
    "lc '#bbbbbb'\nset format x '10^{%L}'\n";

struct Writer {
  fs::path dir;
  std::ofstream open(const std::string& name) {
    std::ofstream f(dir / name);
    SCALELAB_CHECK(f.good(), "{}: cannot write", (dir / name).string());
    f.precision(10);
    return f;
  }
};

void run_gnuplot(const fs::path& dir, const std::string& name) {
  const std::string log = (dir / (name + ".log")).string();
  const int64_t pid = spawn_process(
      {find_gnuplot(), "-e", fmt::format("cd '{}'", dir.string()), name + ".gp"}, {}, log);
  const int rc = wait_process(pid);
  if (rc == 0) {
    std::error_code ec;
    fs::remove(log, ec);  // gnuplot's own output is only kept when it failed
    return;
  }
  {
    std::string msg = read_text_file(log);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    const size_t nl = msg.rfind('\n');
    SCALELAB_FAIL("gnuplot failed on {} (exit {}): {}", (dir / (name + ".gp")).string(), rc,
                  nl == std::string::npos ? msg : msg.substr(nl + 1));
  }
}

Figure render(const fs::path& dir, const std::string& name, std::string title,
              std::string caption) {
  run_gnuplot(dir, name);
  return {name, std::move(title), std::move(caption), read_text_file(dir / (name + ".svg"))};
}

// Budgets of the IsoFLOP analysis in ascending C, with their colour index.
std::vector<const scaling::BudgetFit*> sorted_budgets(const sweep::SweepAnalysis& a) {
  std::vector<const scaling::BudgetFit*> out;
  if (!a.iso) return out;
  for (const auto& b : a.iso->budgets) out.push_back(&b);
  std::sort(out.begin(), out.end(),
            [](const auto* x, const auto* y) { return x->group.C < y->group.C; });
  return out;
}

Figure isoflop_figure(const sweep::SweepAnalysis& a, Writer& w) {
  const auto budgets = sorted_budgets(a);
  {
    auto f = w.open("isoflop.dat");
    f << "# blocks: one per budget (ascending C); columns: N loss; then the parabola: N loss\n";
    for (const auto* b : budgets) {
      f << "# budget " << b->group.label << "\n";
      for (size_t i = 0; i < b->N.size(); ++i) f << b->N[i] << " " << b->loss[i] << "\n";
      f << "\n\n";
      const double lo = *std::min_element(b->N.begin(), b->N.end()) / 1.3;
      const double hi = *std::max_element(b->N.begin(), b->N.end()) * 1.3;
      for (int k = 0; k <= 60; ++k) {
        const double x = std::log(lo) + (std::log(hi) - std::log(lo)) * k / 60.0;
        f << std::exp(x) << " " << b->p0 + b->p1 * x + b->p2 * x * x << "\n";
      }
      f << "\n\n";
    }
    // Only the minima the power laws use: a vertex outside the sampled N range is an extrapolation
    // (the warnings say which budget).
    f << "# minima: N_opt loss_opt (convex budgets with the vertex inside the sampled N range)\n";
    for (const auto* b : budgets)
      if (b->convex && b->vertex_inside) f << b->N_opt << " " << b->loss_opt << "\n";
  }
  auto g = w.open("isoflop.gp");
  g << kTerminal << "set output 'isoflop.svg'\nset logscale x\nset xlabel '"
    << n_label(a.convention) << "'\n"
    << "set ylabel 'validation loss'\nset title 'IsoFLOP profiles: loss against N at fixed C'\n";
  g << "plot \\\n";
  for (size_t i = 0; i < budgets.size(); ++i) {
    g << fmt::format(
        "  'isoflop.dat' index {} using 1:2 with points pt 7 ps 0.9 lc rgb '{}' title 'C = {}', "
        "\\\n  'isoflop.dat' index {} using 1:2 with lines lw 1.5 lc rgb '{}' notitle, \\\n",
        2 * i, colour(i), budgets[i]->group.label, 2 * i + 1, colour(i));
  }
  g << fmt::format(
      "  'isoflop.dat' index {} using 1:2 with points pt 3 ps 1.6 lc rgb '#000000' "
      "title 'parabola minima'\n",
      2 * budgets.size());
  g.close();
  return render(w.dir, "isoflop", "IsoFLOP curves",
                "Final validation loss of every run against its parameter count, one colour per "
                "FLOP budget, with the parabola in log N fitted per budget (approach 2) and its "
                "minimum.");
}

// N_opt (which = "N") or D_opt ("D") against C.
Figure opt_figure(const sweep::SweepAnalysis& a, Writer& w, const std::string& which,
                  const std::vector<double>& targets) {
  const bool isN = which == "N";
  const std::string name = isN ? "n_opt" : "d_opt";
  const auto budgets = sorted_budgets(a);
  double c_lo = INFINITY, c_hi = 0;
  for (const auto& r : a.runs) {
    c_lo = std::min(c_lo, r.C);
    c_hi = std::max(c_hi, r.C);
  }
  for (double t : targets) c_hi = std::max(c_hi, t);
  c_lo /= 1.5;
  c_hi *= 1.5;
  {
    auto f = w.open(name + ".dat");
    f << "# block 0: IsoFLOP minima inside their sampled N range: C " << which << "_opt\n";
    for (const auto* b : budgets)
      if (b->convex && b->vertex_inside)
        f << b->group.C << " " << (isN ? b->N_opt : b->D_opt) << "\n";
    f << "\n\n# block 1: C power_law parametric\n";
    for (int k = 0; k <= 80; ++k) {
      const double C = std::exp(std::log(c_lo) + (std::log(c_hi) - std::log(c_lo)) * k / 80.0);
      const double pl =
          a.iso && a.iso->n_opt.points >= 2 ? (isN ? a.iso->n_opt : a.iso->d_opt).predict(C) : NAN;
      const double law = a.fit ? (isN ? a.fit->law.allocate(C).N : a.fit->law.allocate(C).D) : NAN;
      f << C << " " << (std::isnan(pl) ? std::string("NaN") : fmt::format("{:.10g}", pl)) << " "
        << (std::isnan(law) ? std::string("NaN") : fmt::format("{:.10g}", law)) << "\n";
    }
    f << "\n\n# block 2: bootstrap band: C lo hi\n";
    for (const auto& b : a.band) {
      const auto& i = isN ? b.N_opt : b.D_opt;
      f << b.C << " " << i.lo << " " << i.hi << "\n";
    }
    f << "\n\n# block 3: recommendations: C " << which << "\n";
    for (const auto& r : a.recommendations) f << r.C << " " << (isN ? r.law.N : r.law.D) << "\n";
    f << "\n\n# block 4: runs: C " << which << "\n";
    for (const auto& r : a.runs)
      f << r.C << " " << (isN ? runs::size_under(r, a.convention) : r.D) << "\n";
  }
  auto g = w.open(name + ".gp");
  g << kTerminal << "set output '" << name << ".svg'\nset logscale xy\nset format y '10^{%L}'\n"
    << "set xlabel 'compute C (FLOPs)'\nset ylabel '" << (isN ? n_label(a.convention) : "tokens D")
    << "'\nset title 'Compute-optimal " << (isN ? "model size N_{opt}" : "data D_{opt}")
    << " against C'\n"
    << "set style fill transparent solid 0.18 noborder\n";
  std::vector<std::string> parts;
  if (!a.band.empty())
    parts.push_back("'" + name +
                    ".dat' index 2 using 1:2:3 with filledcurves lc rgb '#0072B2' title "
                    "'bootstrap interval'");
  parts.push_back("'" + name +
                  ".dat' index 4 using 1:2 with points pt 6 ps 0.6 lc rgb '#999999' title 'runs'");
  if (a.iso && a.iso->n_opt.points >= 2) {
    const auto& pl = isN ? a.iso->n_opt : a.iso->d_opt;
    parts.push_back("'" + name +
                    fmt::format(".dat' index 1 using 1:2 with lines lw 2 dt 2 lc rgb "
                                "'#D55E00' title 'IsoFLOP power law C^{{{:.3f}}}'",
                                pl.exponent));
    parts.push_back("'" + name +
                    ".dat' index 0 using 1:2 with points pt 7 ps 1.2 lc rgb '#D55E00' title "
                    "'IsoFLOP minima'");
  }
  if (a.fit)
    parts.push_back("'" + name +
                    fmt::format(".dat' index 1 using 1:3 with lines lw 2 lc rgb '#0072B2' "
                                "title 'parametric law C^{{{:.3f}}}'",
                                isN ? a.fit->law.a() : a.fit->law.b()));
  if (!a.recommendations.empty())
    parts.push_back("'" + name +
                    ".dat' index 3 using 1:2 with points pt 5 ps 1.4 lc rgb '#000000' title "
                    "'target'");
  g << "plot " << fmt::format("{}", fmt::join(parts, ", \\\n  ")) << "\n";
  g.close();
  return render(
      w.dir, name,
      isN ? "Optimal model size against compute" : "Optimal token count against compute",
      isN ? "N_opt(C): the IsoFLOP minima with their power-law fit, the parametric law's "
            "allocation with its bootstrap interval, extrapolated to the target budget(s)."
          : "D_opt(C), as for N_opt: IsoFLOP minima, power-law fit, parametric law with its "
            "bootstrap interval, target budget(s).");
}

Figure contour_figure(const sweep::SweepAnalysis& a, Writer& w) {
  const auto& law = a.fit->law;
  double n_lo = INFINITY, n_hi = 0, d_lo = INFINITY, d_hi = 0;
  for (const auto& r : a.runs) {  // N as the law counts it (the analysis's convention)
    const double N = runs::size_under(r, a.convention);
    n_lo = std::min(n_lo, N);
    n_hi = std::max(n_hi, N);
    d_lo = std::min(d_lo, r.D);
    d_hi = std::max(d_hi, r.D);
  }
  for (const auto& r : a.recommendations) {
    n_hi = std::max(n_hi, r.law.N);
    d_hi = std::max(d_hi, r.law.D);
  }
  const double x0 = std::log10(n_lo) - 0.3, x1 = std::log10(n_hi) + 0.3;
  const double y0 = std::log10(d_lo) - 0.3, y1 = std::log10(d_hi) + 0.3;
  constexpr int kGrid = 80;
  {
    auto f = w.open("contour.dat");
    f << "# block 0: grid log10(N) log10(D) L(N, D)\n";
    for (int i = 0; i <= kGrid; ++i) {
      const double x = x0 + (x1 - x0) * i / kGrid;
      for (int j = 0; j <= kGrid; ++j) {
        const double y = y0 + (y1 - y0) * j / kGrid;
        f << x << " " << y << " " << law.predict_loss(std::pow(10, x), std::pow(10, y)) << "\n";
      }
      f << "\n";
    }
    f << "\n# block 1: efficient frontier log10(N_opt) log10(D_opt)\n";
    for (int k = 0; k <= 100; ++k) {
      // C along the frontier from where N_opt = 10^x0 to 10^x1 (6ND = C).
      const double C0 = 6.0 * std::pow(10, x0) * std::pow(10, y0) / 10;
      const double C1 = 6.0 * std::pow(10, x1) * std::pow(10, y1) * 10;
      const double C = std::exp(std::log(C0) + (std::log(C1) - std::log(C0)) * k / 100.0);
      const auto al = law.allocate(C);
      const double x = std::log10(al.N), y = std::log10(al.D);
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) f << x << " " << y << "\n";
    }
    f << "\n\n# block 2: runs log10(N) log10(D) loss\n";
    for (const auto& r : a.runs)
      f << std::log10(runs::size_under(r, a.convention)) << " " << std::log10(r.D) << " " << r.loss
        << "\n";
    f << "\n\n# block 3: recommendations log10(N) log10(D)\n";
    for (const auto& r : a.recommendations)
      f << std::log10(r.law.N) << " " << std::log10(r.law.D) << "\n";
  }
  auto g = w.open("contour.gp");
  g << kTerminal << "set output 'contour.svg'\nunset format\n"
    << "set xrange [" << x0 << ":" << x1 << "]\nset yrange [" << y0 << ":" << y1 << "]\n"
    << "set table 'contour_lines.dat'\nset contour base\nset cntrparam levels auto 14\n"
    << "unset surface\nset view map\nsplot 'contour.dat' index 0 using 1:2:3 with lines notitle\n"
    << "unset table\nunset contour\nset surface\n"
    << "set xlabel 'log_{10} " << n_label(a.convention) << "'\nset ylabel 'log_{10} D (tokens)'\n"
    << "set cblabel 'predicted loss'\nset palette defined (0 '#2c7bb6', 1 '#abd9e9', 2 '#ffffbf', "
       "3 '#fdae61', 4 '#d7191c')\n"
    << "set title 'Parametric loss L(N, D) with the efficient frontier'\n"
    << "plot 'contour.dat' index 0 using 1:2:3 with image notitle, \\\n"
    << "  'contour_lines.dat' using 1:2 with lines lc rgb '#555555' lw 0.7 title 'contours', \\\n"
    << "  'contour.dat' index 1 using 1:2 with lines lw 2.5 lc rgb '#000000' title 'efficient "
       "frontier', \\\n"
    << "  'contour.dat' index 2 using 1:2 with points pt 6 ps 0.9 lc rgb '#000000' title 'runs', "
       "\\\n"
    << "  'contour.dat' index 3 using 1:2 with points pt 5 ps 1.4 lc rgb '#000000' title "
       "'target'\n";
  g.close();
  return render(w.dir, "contour", "Parametric loss over (N, D)",
                "The fitted L(N, D) = E + A/N^α + B/D^β as a map with contour lines, the "
                "efficient frontier (the compute-optimal (N, D) for every C), the runs and the "
                "recommended point(s).");
}

// A curve's points without a last one that averages a shorter interval than the others (the run's
// final partial logging interval: plotted, it bends the curve's end into a hook).
std::vector<runs::CurvePoint> full_intervals(const std::vector<runs::CurvePoint>& c) {
  if (c.size() < 3) return c;
  const int64_t regular = c[c.size() - 2].step - c[c.size() - 3].step;
  const int64_t last = c.back().step - c[c.size() - 2].step;
  if (2 * last >= regular) return c;
  return {c.begin(), c.end() - 1};
}

Figure curves_figure(const sweep::SweepAnalysis& a, Writer& w) {
  // Colour by budget label (ascending C); within a budget, the dash pattern by model size (solid =
  // smallest), so that every run can be told apart. A WSD sweep's extra branch points (no budget of
  // the grid; only their cooldowns have curves) are left out: the branches table lists them.
  std::map<double, std::string> by_c;
  for (const auto& r : a.runs)
    if (runs::on_isoflop_grid(r)) by_c.emplace(r.extra.value("budget_C", r.C), r.budget);
  std::map<std::string, size_t> index;
  for (const auto& [c, label] : by_c) index.emplace(label, index.size());
  std::map<std::string, std::set<double>> sizes;  // budget → its models' N, ascending
  for (const auto& r : a.runs) sizes[r.budget].insert(r.N);
  auto dash = [&](const runs::Run& r) {
    const auto& n = sizes[r.budget];
    return 1 + static_cast<size_t>(std::distance(n.begin(), n.find(r.N))) % 5;
  };
  std::vector<const runs::Run*> with_curve;
  {
    auto f = w.open("curves.dat");
    f << "# one block per run: tokens train_loss\n";
    for (const auto& r : a.runs) {
      auto it = a.curves.find(r.id);
      if (it == a.curves.end() || it->second.empty() || !runs::on_isoflop_grid(r)) continue;
      f << "# run " << r.id << " budget " << r.budget << "\n";
      for (const auto& p : full_intervals(it->second)) f << p.tokens << " " << p.loss << "\n";
      f << "\n\n";
      with_curve.push_back(&r);
    }
  }
  auto g = w.open("curves.gp");
  g << kTerminal << "set output 'curves.svg'\nset logscale x\nset xlabel 'tokens seen'\n"
    << "set ylabel 'training loss'\nset title 'Training curves'\n";
  std::vector<std::string> parts;
  std::set<std::string> titled;
  for (size_t i = 0; i < with_curve.size(); ++i) {
    const auto& r = *with_curve[i];
    const bool first = titled.insert(r.budget).second;
    parts.push_back(fmt::format(
        "'curves.dat' index {} using 1:2 with lines lw 1.2 dt {} lc rgb '{}' {}", i, dash(r),
        colour(index[r.budget]), first ? fmt::format("title 'C = {}'", r.budget) : "notitle"));
  }
  g << "plot " << fmt::format("{}", fmt::join(parts, ", \\\n  ")) << "\n";
  g.close();
  return render(w.dir, "curves", "Training curves",
                "Training loss (mean over each logging interval) against tokens for every run, "
                "coloured by budget; within a budget the line goes from solid (smallest model) to "
                "dashed and dotted as the model grows. A run's last, shorter logging interval is "
                "left out.");
}

Figure residuals_figure(const sweep::SweepAnalysis& a, Writer& w) {
  {
    auto f = w.open("residuals.dat");
    f << "# block 0: all runs, parametric fit: C residual_percent (predicted − actual)/actual\n";
    for (const auto& r : a.runs)
      f << r.C << " "
        << 100.0 * (a.fit->law.predict_loss(runs::size_under(r, a.convention), r.D) - r.loss) /
               r.loss
        << "\n";
    f << "\n\n# block 1: held-out runs, fit without them: C residual_percent\n";
    if (a.holdout)
      for (const auto& r : a.holdout->rows) f << r.C << " " << 100.0 * r.rel_error << "\n";
  }
  auto g = w.open("residuals.gp");
  g << kTerminal << "set output 'residuals.svg'\nset logscale x\nset xlabel 'compute C (FLOPs)'\n"
    << "set ylabel '(predicted − actual) / actual  [%]'\nset title 'Fit residuals'\n"
    << "set arrow from graph 0, first 0 to graph 1, first 0 nohead lc rgb '#888888'\n"
    << "plot 'residuals.dat' index 0 using 1:2 with points pt 7 ps 0.8 lc rgb '#0072B2' title "
       "'all runs (full fit)'";
  if (a.holdout && !a.holdout->rows.empty())
    g << ", \\\n  'residuals.dat' index 1 using 1:2 with points pt 5 ps 1.1 lc rgb '#D55E00' "
         "title 'held out (fit without them)'";
  g << "\n";
  g.close();
  return render(w.dir, "residuals", "Fit residuals",
                "Relative error of the parametric law's predicted loss for every run, and for "
                "the held-out largest budget when predicted by a fit that never saw it.");
}

}  // namespace

std::string find_gnuplot() {
  const char* env = std::getenv("SCALELAB_GNUPLOT");
  const std::string name = env && *env ? env : "gnuplot";
  const std::string path = find_in_path(name);
  SCALELAB_CHECK(!path.empty(),
                 "gnuplot not found ({}); install gnuplot-nox (scripts/install-deps.sh) or set "
                 "SCALELAB_GNUPLOT",
                 name);
  return path;
}

std::vector<Figure> draw_figures(const sweep::SweepAnalysis& a, const fs::path& dir) {
  ensure_writable_directory(dir);
  Writer w{fs::absolute(dir)};
  std::vector<double> targets;
  for (const auto& r : a.recommendations) targets.push_back(r.C);
  std::vector<Figure> out;
  if (a.iso && !a.iso->budgets.empty()) out.push_back(isoflop_figure(a, w));
  if (a.fit || (a.iso && a.iso->n_opt.points >= 2)) {
    out.push_back(opt_figure(a, w, "N", targets));
    out.push_back(opt_figure(a, w, "D", targets));
  }
  if (a.fit) out.push_back(contour_figure(a, w));
  if (!a.curves.empty()) out.push_back(curves_figure(a, w));
  if (a.fit) out.push_back(residuals_figure(a, w));
  return out;
}

}  // namespace scalelab::report
