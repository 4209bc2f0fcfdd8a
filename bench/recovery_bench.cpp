// Parameter recovery of the parametric fit over many simulated seeds (the issue's "with noise,
// report recovery over many seeds"). For each seed: simulate runs from the package's default law
// with the given noise, fit with the given loss, record the estimates; print mean, relative bias
// and relative spread. Usage: recovery_bench [--seeds 50] [--runs 100] [--c-range 1e15,1e16]
// [--ratio-range 10,100]
//                       [--noise exponential|gaussian|none] [--noise-scale 0.1] [--loss
//                       asymmetric-mae]
#include <fmt/format.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/error.h"
#include "scaling/fit.h"
#include "scaling/simulator.h"

using namespace scalelab;
using namespace scalelab::scaling;

int main(int argc, char** argv) try {
  SimulatorOptions sim;
  FitOptions fit;
  int seeds = 50;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    auto pair = [&](double& lo, double& hi) {
      auto c = v.find(',');
      SCALELAB_CHECK(c != std::string::npos, "{}: expected MIN,MAX", k);
      lo = std::stod(v.substr(0, c));
      hi = std::stod(v.substr(c + 1));
    };
    if (k == "--seeds")
      seeds = std::stoi(v);
    else if (k == "--runs")
      sim.n_runs = std::stoll(v);
    else if (k == "--c-range")
      pair(sim.ranges.c_min, sim.ranges.c_max);
    else if (k == "--ratio-range")
      pair(sim.ranges.ratio_min, sim.ranges.ratio_max);
    else if (k == "--noise")
      sim.noise = parse_noise_kind(v);
    else if (k == "--noise-scale")
      sim.noise_scale = std::stod(v);
    else if (k == "--loss")
      fit.loss = parse_loss_function(v);
    else
      SCALELAB_FAIL("unknown option {}", k);
  }
  const ScalingLaw t = sim.truth;
  const char* names[] = {"E", "A", "B", "alpha", "beta", "a", "N_opt(1e21)"};
  const double truth[] = {t.E, t.A, t.B, t.alpha, t.beta, t.a(), t.allocate(1e21).N};
  std::vector<std::vector<double>> est(7);
  for (int s = 0; s < seeds; ++s) {
    sim.seed = static_cast<uint64_t>(s);
    FitResult r = fit_scaling_law(to_fit_data(observations(simulate_runs(sim))), fit);
    const ScalingLaw& l = r.law;
    double v[] = {l.E,
                  l.A,
                  l.B,
                  l.alpha,
                  l.beta,
                  l.a(),
                  l.alpha > 0 && l.beta > 0 ? l.allocate(1e21).N : NAN};
    for (int k = 0; k < 7; ++k) est[static_cast<size_t>(k)].push_back(v[k]);
  }
  fmt::print("{} seeds x {} runs, C in [{:g}, {:g}], D/N in [{:g}, {:g}], noise {} {:g}, loss {}\n",
             seeds, sim.n_runs, sim.ranges.c_min, sim.ranges.c_max, sim.ranges.ratio_min,
             sim.ranges.ratio_max, to_string(sim.noise), sim.noise_scale, to_string(fit.loss));
  fmt::print("{:<12} {:>12} {:>12} {:>10} {:>10}\n", "parameter", "true", "mean est.", "bias",
             "rel. sd");
  for (int k = 0; k < 7; ++k) {
    const auto& e = est[static_cast<size_t>(k)];
    double m = 0, n = 0;
    for (double x : e)
      if (std::isfinite(x)) m += x, n += 1;
    m /= n;
    double var = 0;
    for (double x : e)
      if (std::isfinite(x)) var += (x - m) * (x - m);
    double sd = std::sqrt(var / std::max(1.0, n - 1));
    fmt::print("{:<12} {:>12.5g} {:>12.5g} {:>+9.1f}% {:>9.1f}%\n", names[k], truth[k], m,
               100 * (m / truth[k] - 1), 100 * sd / std::abs(truth[k]));
  }
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
