// `scalelab step`: the chinchilla package's loop, one proposal at a time. While fewer than
// --num-seeding-steps done runs lie in the seed range, propose a seed run; then fit and propose the
// next scaled budget. --record adds the proposal to the database as a planned run.
#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <random>

#include "commands.h"
#include "common/error.h"
#include "common/format.h"
#include "config_flags.h"
#include "runs/run_db.h"
#include "scaling/seeding.h"

namespace scalelab::app {

namespace {

using namespace scaling;
using namespace runs;

struct StepCliOptions {
  std::string db = "runs.db";
  StepOptions step;
  std::vector<double> c_range{SeedRanges{}.c_min, SeedRanges{}.c_max};
  std::vector<double> ratio_range{SeedRanges{}.ratio_min, SeedRanges{}.ratio_max};
  uint64_t seed = 0;
  bool record = false;
  bool json = false;
};

void run_step(const StepCliOptions& o) {
  SCALELAB_CHECK(o.c_range.size() == 2, "--c-range: expected MIN,MAX");
  SCALELAB_CHECK(o.ratio_range.size() == 2, "--ratio-range: expected MIN,MAX");
  StepOptions s = o.step;
  s.ranges = {o.c_range[0], o.c_range[1], o.ratio_range[0], o.ratio_range[1]};
  RunDb db(o.db);
  std::vector<Run> runs = db.list();
  // A new draw for each call: the generator is seeded by the seed and how many runs exist.
  std::mt19937_64 rng(o.seed * 1000003ull + runs.size());
  std::optional<FitResult> fitted;
  Proposal p = step(s, observations(runs), rng, {}, &fitted);
  int64_t id = 0;
  if (o.record) {
    Run r;
    r.status = RunStatus::kPlanned;
    r.N = p.N;
    r.D = p.D;
    r.C = p.C;
    r.loss = std::numeric_limits<double>::quiet_NaN();
    r.extra["proposal"] = p.seeded ? "seed" : "scaled";
    id = db.add(r);
  }
  if (o.json) {
    json::Json j{{"N", p.N},
                 {"D", p.D},
                 {"C", p.C},
                 {"kind", p.seeded ? "seed" : "scaled"},
                 {"note", p.note}};
    if (fitted) j["law"] = to_json(fitted->law);
    if (id) j["recorded_id"] = id;
    std::cout << j.dump(2) << "\n";
    return;
  }
  std::cout << fmt::format("next run ({}): N = {}, D = {}, C = {:.3e}, D/N = {:.1f}\n",
                           p.seeded ? "seed" : "scaled", format_si(p.N), format_si(p.D), p.C,
                           p.D / p.N);
  if (fitted)
    std::cout << fmt::format(
        "  from the law fitted to {} runs: E {:.4g}, A {:.4g}, B {:.4g}, alpha {:.4g}, beta "
        "{:.4g}\n",
        fitted->n_runs, fitted->law.E, fitted->law.A, fitted->law.B, fitted->law.alpha,
        fitted->law.beta);
  if (!p.note.empty()) std::cout << "  note: " << p.note << "\n";
  if (id) std::cout << fmt::format("  recorded as planned run {} in {}\n", id, o.db);
}

}  // namespace

Command setup_step(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "step", "Propose the next run: seed, or fit and scale (chinchilla's step)");
  auto o = std::make_shared<StepCliOptions>();
  sub->add_option("--db", o->db, "Run database")->capture_default_str();
  sub->add_option("--c-range", o->c_range, "Seed compute range MIN,MAX")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--ratio-range", o->ratio_range, "Seed tokens-per-parameter range MIN,MAX")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("--num-seeding-steps", o->step.num_seeding_steps, "Seed runs before scaling")
      ->required();
  sub->add_option("--scaling-factor", o->step.scaling_factor, "Next budget = largest × this");
  sub->add_option("--target-C", o->step.target_C, "Or: a fixed budget for the scaled run");
  sub->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  add_bool_flag(*sub, "--record", o->record, "Add the proposal to the database as a planned run");
  add_bool_flag(*sub, "--json", o->json, "Print JSON");
  return {sub, [o] { run_step(*o); }};
}

}  // namespace scalelab::app
