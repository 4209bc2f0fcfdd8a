// Times scalelab's parametric fit on a chinchilla-format CSV, for docs/benchmarks.md.
// Usage: fit_bench FILE.csv [--method varpro|grid] [--loss log-huber] [--delta D]
//                           [--grid paper|simulated]
//                           [--threads N] [--prune R] [--repeat K] [--precision double|long-double]
// "simulated" is the 3,125-start grid (5 values per axis) used for the package's simulated-runs
// figure.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

#include "common/csv.h"
#include "common/error.h"
#include "runs/run.h"
#include "scaling/fit.h"

using namespace scalelab;

int main(int argc, char** argv) try {
  SCALELAB_CHECK(argc >= 2,
                 "usage: fit_bench FILE.csv [--loss L] [--grid paper|simulated] [--threads N] "
                 "[--prune R] [--repeat K]");
  std::string path = argv[1];
  scaling::FitOptions opt;
  int repeat = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--loss")
      opt.loss = scaling::parse_loss_function(v);
    else if (k == "--threads")
      opt.threads = std::stoul(v);
    else if (k == "--prune")
      opt.prune_radius = std::stod(v);
    else if (k == "--repeat")
      repeat = std::stoi(v);
    else if (k == "--delta")
      opt.delta = std::stod(v);
    else if (k == "--method")
      opt.method = fields::parse_enum<scaling::FitMethod>(v, "--method");
    else if (k == "--precision")
      opt.precision = scaling::parse_precision(v);
    else if (k == "--grid" && v == "simulated") {
      opt.grid.e = {-1, -0.5, 0, 0.5, 1};
      opt.grid.a = {0, 6.25, 12.5, 18.75, 25};
      opt.grid.b = {0, 6.25, 12.5, 18.75, 25};
    } else if (k == "--grid" && v == "paper") {
    } else
      SCALELAB_FAIL("unknown option {}", k);
  }
  auto runs = runs::runs_from_csv(csv::read_file(path), path);
  scaling::FitData data = scaling::to_fit_data(runs::observations(runs));
  double best = 1e300;
  scaling::FitResult r;
  for (int k = 0; k < repeat; ++k) {
    r = scaling::fit_scaling_law(data, opt);
    best = std::min(best, r.seconds);
  }
  fmt::print("runs {} method {} starts {} loss {} threads {} prune {}\n", r.n_runs,
             scaling::to_string(r.method), r.starts, scaling::to_string(r.loss), opt.threads,
             opt.prune_radius);
  fmt::print("E {:.6g} A {:.6g} B {:.6g} alpha {:.6g} beta {:.6g}  objective {:.12g}\n", r.law.E,
             r.law.A, r.law.B, r.law.alpha, r.law.beta, r.objective);
  fmt::print(
      "converged {} pruned {} failed {} near_best {} best_iter {} best_evals {} evals {} "
      "({:.1f}/start)\n",
      r.starts_converged, r.starts_pruned, r.starts_failed, r.starts_near_best, r.best_iterations,
      r.best_evaluations, r.evaluations,
      static_cast<double>(r.evaluations) / static_cast<double>(r.starts));
  fmt::print("best of {}: {:.2f} ms\n", repeat, best * 1e3);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
