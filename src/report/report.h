// The sweep report: one self-contained index.html (inline SVG figures, inline CSS, no script, no
// network) with the figures of plots.h and the tables — fitted parameters with intervals, the
// recommendation(s), the held-out check, the IsoFLOP budgets, every run, warnings. Also writes
// analysis.json (the numbers behind the page) and plots/ (gnuplot data and scripts).
#pragma once

#include <filesystem>
#include <string>

#include "common/json.h"
#include "sweep/results.h"

namespace scalelab::report {

struct ReportInfo {
  std::string title = "scalelab sweep report";
  std::string db_path;                // shown on the page
  json::Json sweep_config = nullptr;  // the sweep's resolved config, when known
};

// Writes out/index.html, out/analysis.json and out/plots/*; returns the path of index.html.
std::filesystem::path write_report(const sweep::SweepAnalysis& a, const ReportInfo& info,
                                   const std::filesystem::path& out);

// Makes an SVG document fit inside HTML: drops the XML prolog and DOCTYPE and prefixes every id
// (and reference to one) with `prefix`, so several gnuplot figures on one page keep their own
// marker definitions.
std::string inline_svg(const std::string& svg, const std::string& prefix);

// HTML-escapes &, <, >, ", '.
std::string html_escape(const std::string& s);

}  // namespace scalelab::report
