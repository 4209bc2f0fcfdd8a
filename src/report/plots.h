// The report's figures, drawn by gnuplot: for each figure a data file (.dat) and a script (.gp) are
// written to the plots directory — users can edit a script and run `gnuplot NAME.gp` there to
// restyle it — and gnuplot renders it to NAME.svg. Figures: IsoFLOP curves with fitted parabolas
// and minima; N_opt and D_opt against C with the power-law fits, the parametric law, bootstrap
// bands and the targets; the parametric loss contour over (N, D) with the efficient frontier and
// the runs; training curves; fit residuals. A figure the analysis cannot support is skipped.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "sweep/results.h"

namespace scalelab::report {

struct Figure {
  std::string name;     // file stem: isoflop, n_opt, d_opt, contour, curves, residuals
  std::string title;    // for the page
  std::string caption;  // what it shows
  std::string svg;      // the rendered SVG
};

// The gnuplot executable: $SCALELAB_GNUPLOT, else `gnuplot` on PATH. Throws when missing.
std::string find_gnuplot();

// Writes data and scripts under dir, runs gnuplot on each script, returns the figures.
std::vector<Figure> draw_figures(const sweep::SweepAnalysis& a, const std::filesystem::path& dir);

}  // namespace scalelab::report
