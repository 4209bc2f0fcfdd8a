// `scalelab sweep [plan] --config sweep.json [flags]`: plan an IsoFLOP sweep, train it (resumable,
// crash-safe, one worker per GPU), fit, recommend, report. SweepConfig is the single source of
// defaults: the JSON file fills it, flags override fields.
#include <memory>

#include "commands.h"
#include "common/error.h"
#include "common/json.h"
#include "config_flags.h"
#include "sweep/slurm.h"
#include "sweep/sweep_config.h"
#include "sweep_runner.h"

namespace scalelab::app {

namespace {

using sweep::SweepConfig;

struct SweepCliOptions {
  std::string config;
  ConfigFlags<SweepConfig> flags;
  bool dry_run = false, worker = false;
};

void add_sweep_options(CLI::App& sub, SweepCliOptions& o) {
  sub.add_option("--config", o.config,
                 "Sweep config JSON (fields of SweepConfig; see docs/sweep.md)");
  // Every field of the sweep's table (sweep_config.cpp), with its doc, allowed values and default.
  o.flags.add_table(sub, sweep::sweep_config_fields());
}

SweepConfig resolve(const SweepCliOptions& o) {
  SweepConfig c;
  if (!o.config.empty()) c = sweep::sweep_config_from_json(json::read_file(o.config), o.config);
  o.flags.apply(c);
  return c;
}

}  // namespace

Command setup_sweep(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "sweep", "Plan and run an IsoFLOP sweep, fit the scaling laws, recommend N and D, report");
  auto o = std::make_shared<SweepCliOptions>();
  add_sweep_options(*sub, *o);
  add_bool_flag(*sub, "--dry-run", o->dry_run, "Print the plan and stop (same as `sweep plan`)");
  sub->add_flag("--worker", o->worker, "Internal: a GPU worker started by --gpus")->group("");
  auto* plan = sub->add_subcommand("plan", "Print the run table (prepares the data) and stop");
  auto po = std::make_shared<SweepCliOptions>();
  add_sweep_options(*plan, *po);
  // Slurm (sweep/slurm.h, docs/distributed.md): submit the runs not done as a job array; follow
  // them.
  auto* submit = sub->add_subcommand(
      "submit", "Submit the sweep's runs that are not done to a scheduler (--slurm: a job array)");
  auto so = std::make_shared<SweepCliOptions>();
  add_sweep_options(*submit, *so);
  auto slurm = std::make_shared<ConfigFlags<sweep::SlurmOptions>>();
  auto use_slurm = std::make_shared<bool>(false);
  add_bool_flag(*submit, "--slurm", *use_slurm,
                "Submit to Slurm with sbatch (the script stays in OUT/slurm/)");
  slurm->add_table(*submit, sweep::slurm_options_fields());
  auto* status = sub->add_subcommand(
      "status", "Each run's state: done, running or pending on Slurm, failed, planned");
  auto sto = std::make_shared<SweepCliOptions>();
  add_sweep_options(*status, *sto);
  return {sub, [sub, plan, o, po, submit, so, slurm, use_slurm, status, sto]() {
            if (plan->parsed()) {
              run_sweep_config(resolve(*po),
                               {.plan_only = true, .worker = false, .plan_for_absent_gpu = true});
              return;
            }
            if (submit->parsed()) {
              SCALELAB_CHECK(*use_slurm,
                             "sweep submit: give --slurm (Slurm is the scheduler it submits to)");
              sweep::SlurmOptions opts;
              slurm->apply(opts);
              run_sweep_config(resolve(*so), {.slurm = opts});
              return;
            }
            if (status->parsed()) {
              run_sweep_config(resolve(*sto), {.status = true});
              return;
            }
            (void)sub;
            run_sweep_config(
                resolve(*o),
                {.plan_only = o->dry_run, .worker = o->worker, .plan_for_absent_gpu = o->dry_run});
          }};
}

}  // namespace scalelab::app
