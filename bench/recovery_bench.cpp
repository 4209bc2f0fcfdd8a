// Parameter recovery of the parametric fit over many simulated seeds (the issue's "with noise,
// report recovery over many seeds"). For each seed: simulate runs from the package's default law
// with the given noise, fit with the given loss, record the estimates; print mean, relative bias
// and relative spread. Usage: recovery_bench [--seeds 50] [--runs 100] [--c-range 1e15,1e16]
// [--ratio-range 10,100]
//                       [--noise exponential|gaussian|none] [--noise-scale 0.1] [--loss
//                       asymmetric-mae] [--delta D] [--method grid|varpro]
// Without --method both methods fit every seed: the error distribution of each (|relative error|
// percentiles) and how their objectives compare.
#include <fmt/format.h>

#include <algorithm>
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
  bool method_given = false;  // else both methods fit every seed
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
    else if (k == "--delta")
      fit.delta = std::stod(v);
    else if (k == "--method")
      fit.method = fields::parse_enum<FitMethod>(v, "--method"), method_given = true;
    else if (k == "--loss")
      fit.loss = parse_loss_function(v);
    else
      SCALELAB_FAIL("unknown option {}", k);
  }
  const ScalingLaw t = sim.truth;
  const char* names[] = {"E", "A", "B", "alpha", "beta", "a", "N_opt(1e21)"};
  const double truth[] = {t.E, t.A, t.B, t.alpha, t.beta, t.a(), t.allocate(1e21).N};
  const FitMethod methods[] = {FitMethod::kGrid, FitMethod::kVarPro};
  const bool both = !method_given;
  // est[m][k]: estimates of parameter k by method m over the seeds.
  std::vector<std::vector<std::vector<double>>> est(2, std::vector<std::vector<double>>(7));
  int lower = 0, same = 0, higher = 0;  // varpro's objective vs grid's, per seed (both methods)
  double max_param_diff = 0, seconds[2] = {0, 0};
  for (int s = 0; s < seeds; ++s) {
    sim.seed = static_cast<uint64_t>(s);
    const FitData data = to_fit_data(observations(simulate_runs(sim)));
    FitResult r[2];
    for (int m = 0; m < 2; ++m) {
      if (!both && methods[m] != fit.method) continue;
      FitOptions o = fit;
      o.method = methods[m];
      r[m] = fit_scaling_law(data, o);
      seconds[m] += r[m].seconds;
      const ScalingLaw& l = r[m].law;
      const double v[] = {l.E,
                          l.A,
                          l.B,
                          l.alpha,
                          l.beta,
                          l.a(),
                          l.alpha > 0 && l.beta > 0 ? l.allocate(1e21).N : NAN};
      for (int k = 0; k < 7; ++k)
        est[static_cast<size_t>(m)][static_cast<size_t>(k)].push_back(v[k]);
    }
    if (!both) continue;
    const double rel = (r[1].objective - r[0].objective) / r[0].objective;
    (rel < -1e-9 ? lower : rel > 1e-9 ? higher : same) += 1;
    if (rel > 1e-9)
      fmt::print("seed {}: varpro's objective {:.10g} is above the grid's {:.10g} ({:+.2e})\n", s,
                 r[1].objective, r[0].objective, rel);
    for (double d : {r[1].law.alpha / r[0].law.alpha - 1, r[1].law.beta / r[0].law.beta - 1})
      max_param_diff = std::max(max_param_diff, std::abs(d));
  }
  fmt::print("{} seeds x {} runs, C in [{:g}, {:g}], D/N in [{:g}, {:g}], noise {} {:g}, loss {}\n",
             seeds, sim.n_runs, sim.ranges.c_min, sim.ranges.c_max, sim.ranges.ratio_min,
             sim.ranges.ratio_max, to_string(sim.noise), sim.noise_scale, to_string(fit.loss));
  fmt::print("{:<7} {:<12} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "method", "parameter",
             "true", "mean est.", "bias", "rel. sd", "|err| p50", "p90", "max");
  for (int m = 0; m < 2; ++m) {
    if (est[static_cast<size_t>(m)][0].empty()) continue;
    for (int k = 0; k < 7; ++k) {
      const auto& e = est[static_cast<size_t>(m)][static_cast<size_t>(k)];
      double mean = 0, n = 0;
      std::vector<double> err;  // |relative error|
      for (double x : e)
        if (std::isfinite(x)) {
          mean += x;
          n += 1;
          err.push_back(std::abs(x / truth[k] - 1));
        }
      mean /= n;
      double var = 0;
      for (double x : e)
        if (std::isfinite(x)) var += (x - mean) * (x - mean);
      const double sd = std::sqrt(var / std::max(1.0, n - 1));
      std::sort(err.begin(), err.end());
      auto pct = [&](double q) {
        return err.empty() ? NAN
                           : err[static_cast<size_t>(q * static_cast<double>(err.size() - 1))];
      };
      fmt::print(
          "{:<7} {:<12} {:>10.5g} {:>10.5g} {:>+8.1f}% {:>8.1f}% {:>8.2f}% {:>8.2f}% {:>8.2f}%\n",
          to_string(methods[m]), names[k], truth[k], mean, 100 * (mean / truth[k] - 1),
          100 * sd / std::abs(truth[k]), 100 * pct(0.5), 100 * pct(0.9), 100 * err.back());
    }
    fmt::print("{:<7} fit time {:.2f} ms per seed\n", to_string(methods[m]),
               1e3 * seconds[m] / seeds);
  }
  if (both)
    fmt::print(
        "varpro vs grid objective: lower on {}, equal (1e-9 relative) on {}, higher on {} seeds; "
        "largest relative difference in alpha or beta {:.2e}\n",
        lower, same, higher, max_param_diff);
  return 0;
} catch (const std::exception& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return 1;
}
