// The simulation check of `scalelab design` (docs/benchmarks.md, "what to run next"): runs from a
// known law on an IsoFLOP grid (3 budgets a half-decade apart, 5 sizes each, log-normal noise);
// then either the design's proposals or the grid's next budget, at the same spend, simulated from
// the same law and noise; refit and bootstrap the interval on N_opt at the target. Prints the mean
// and median width (hi/lo) before, after the advice and after the grid step, over the seeds.
// Usage: design_bench [--seeds 50] [--noise 0.01] [--target 1e21] [--bootstrap 200]
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "scaling/design.h"

using namespace scalelab;
using namespace scalelab::scaling;

int main(int argc, char** argv) try {
  int seeds = 50, samples = 200;
  double noise = 0.01, target = 1e21;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--seeds")
      seeds = std::stoi(v);
    else if (k == "--noise")
      noise = std::stod(v);
    else if (k == "--target")
      target = std::stod(v);
    else if (k == "--bootstrap")
      samples = std::stoi(v);
    else
      SCALELAB_FAIL("unknown option {}", k);
  }
  const ScalingLaw truth{1.69, 406.4, 410.7, 0.34, 0.28};
  auto add = [&](FitData& d, double N, double D, std::mt19937_64& rng) {
    std::normal_distribution<double> z;
    d.N.push_back(N);
    d.D.push_back(D);
    d.loss.push_back(truth.predict_loss(N, D) * std::exp(noise * z(rng)));
  };
  auto width = [&](const FitData& d) {
    const FitResult f = fit_scaling_law(d, {});
    BootstrapOptions bo;
    bo.samples = samples;
    bo.budgets = {target};
    const BootstrapResult b = bootstrap_fit(d, {}, f.law, bo);
    return b.budgets[0].N_opt.hi / b.budgets[0].N_opt.lo;
  };
  std::vector<double> before, advised, grid, expected_advised, expected_grid;
  int advice_better = 0;
  double runs = 0, spent = 0;
  for (int s = 0; s < seeds; ++s) {
    std::mt19937_64 rng(1000 + static_cast<uint64_t>(s));
    FitData d;
    for (double C : {1e17, 3.16e17, 1e18}) {
      const double n_opt = truth.allocate(C).N;
      for (double f : {0.25, 0.5, 1.0, 2.0, 4.0}) add(d, n_opt * f, C / (6 * n_opt * f), rng);
    }
    const FitResult f = fit_scaling_law(d, {});
    DesignOptions o;
    o.target = target;
    const Design des = design_next_runs(d, f.law, o);
    FitData a = d, g = d;
    for (const DesignRun& r : des.runs) add(a, r.N, r.D, rng);
    for (double N : des.grid_step.N) add(g, N, des.grid_step.C / (6 * N), rng);
    before.push_back(width(d));
    advised.push_back(width(a));
    grid.push_back(width(g));
    advice_better += advised.back() < grid.back();
    expected_advised.push_back(des.runs.back().N_opt.hi / des.runs.back().N_opt.lo);
    expected_grid.push_back(des.grid_step.N_opt.hi / des.grid_step.N_opt.lo);
    runs += static_cast<double>(des.runs.size());
    spent += des.runs.back().spent / des.spend;
  }
  auto mean = [](const std::vector<double>& v) {
    double m = 0;
    for (double x : v) m += x;
    return m / static_cast<double>(v.size());
  };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  fmt::print(
      "{} seeds; truth {} / N^{} + ...; grid 3 budgets 1e17-1e18 x 5 sizes; noise {} in log loss; "
      "target {:g}; bootstrap {}\n",
      seeds, truth.A, truth.alpha, noise, target, samples);
  fmt::print("design: {:.1f} runs on average, {:.0f}% of the grid step's FLOPs\n", runs / seeds,
             100 * spent / seeds);
  fmt::print("{:<28} {:>12} {:>12} {:>16}\n", "N_opt interval hi/lo", "mean", "median",
             "expected (Fisher)");
  fmt::print("{:<28} {:>12.3f} {:>12.3f}\n", "before", mean(before), median(before));
  fmt::print("{:<28} {:>12.3f} {:>12.3f} {:>16.3f}\n", "after the design's runs", mean(advised),
             median(advised), mean(expected_advised));
  fmt::print("{:<28} {:>12.3f} {:>12.3f} {:>16.3f}\n", "after the grid's next budget", mean(grid),
             median(grid), mean(expected_grid));
  fmt::print("the design's runs gave the narrower interval on {} of {} seeds\n", advice_better,
             seeds);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
