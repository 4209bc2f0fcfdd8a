// `scalelab simulate`: synthetic runs from a known law plus noise (the chinchilla package's
// Simulator), written to a CSV or the run database — to test fits and plan sweeps before spending
// compute.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "commands.h"
#include "common/csv.h"
#include "common/error.h"
#include "common/file_util.h"
#include "runs/run_db.h"
#include "scaling/simulator.h"

namespace scalelab::app {

namespace {

using namespace scaling;
using namespace runs;

struct SimulateCliOptions {
  SimulatorOptions sim;
  std::vector<double> c_range{SeedRanges{}.c_min, SeedRanges{}.c_max};
  std::vector<double> ratio_range{SeedRanges{}.ratio_min, SeedRanges{}.ratio_max};
  std::string noise{to_string(SimulatorOptions{}.noise)};
  std::string out;
  std::string db;
};

void run_simulate(const SimulateCliOptions& o) {
  SCALELAB_CHECK(o.out.empty() != o.db.empty(),
                 "simulate: give exactly one of --out FILE.csv and --db FILE");
  SCALELAB_CHECK(o.c_range.size() == 2, "--c-range: expected MIN,MAX");
  SCALELAB_CHECK(o.ratio_range.size() == 2, "--ratio-range: expected MIN,MAX");
  SimulatorOptions s = o.sim;
  s.ranges = {o.c_range[0], o.c_range[1], o.ratio_range[0], o.ratio_range[1]};
  s.noise = parse_noise_kind(o.noise);
  std::vector<Run> runs;
  for (const SimulatedRun& x : simulate_runs(s)) {
    Run r;
    r.N = x.run.N;
    r.D = x.run.D;
    r.C = x.run.C;
    r.c_source = FlopSource::kSixND;
    r.loss = x.run.loss;
    r.extra["simulated"] = x.seeded ? "seed" : "scaled";
    runs.push_back(std::move(r));
  }
  if (!o.out.empty()) {
    write_text_file_atomic(o.out, csv::format(runs_to_csv(runs)));
    std::cout << fmt::format("wrote {} simulated runs to {}\n", runs.size(), o.out);
  } else {
    RunDb db(o.db);
    db.add_all(runs);
    std::cout << fmt::format("added {} simulated runs to {}\n", runs.size(), o.db);
  }
}

}  // namespace

Command setup_simulate(CLI::App& app) {
  auto* sub = app.add_subcommand("simulate", "Synthetic runs from a known scaling law plus noise");
  auto o = std::make_shared<SimulateCliOptions>();
  sub->add_option("--out", o->out, "Write a chinchilla-format CSV");
  sub->add_option("--db", o->db, "Or add the runs to this run database");
  sub->add_option("--runs", o->sim.n_runs, "Seed runs")->capture_default_str();
  sub->add_option("--scaling-steps", o->sim.scaling_steps, "Fit-and-scale steps after seeding")
      ->capture_default_str();
  sub->add_option("--scaling-factor", o->sim.scaling_factor, "Budget multiplier per scaling step")
      ->capture_default_str();
  sub->add_option("--E", o->sim.truth.E, "True E")->capture_default_str();
  sub->add_option("--A", o->sim.truth.A, "True A")->capture_default_str();
  sub->add_option("--B", o->sim.truth.B, "True B")->capture_default_str();
  sub->add_option("--alpha", o->sim.truth.alpha, "True alpha")->capture_default_str();
  sub->add_option("--beta", o->sim.truth.beta, "True beta")->capture_default_str();
  sub->add_option("--c-range", o->c_range, "Seed compute range MIN,MAX")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--ratio-range", o->ratio_range, "Seed tokens-per-parameter range MIN,MAX")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--noise", o->noise,
                  "exponential (mean = scale) | gaussian (sigma = scale) | none")
      ->check(CLI::IsMember({"exponential", "gaussian", "none"}))
      ->capture_default_str();
  sub->add_option("--noise-scale", o->sim.noise_scale, "Noise mean or sigma")
      ->capture_default_str();
  sub->add_option("--seed", o->sim.seed, "Random seed")->capture_default_str();
  return {sub, [o] { run_simulate(*o); }};
}

}  // namespace scalelab::app
