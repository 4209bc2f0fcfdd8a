// `scalelab sweep [plan] --config sweep.json [flags]`: plan an IsoFLOP sweep, train it (resumable,
// crash-safe, one worker per GPU), fit, recommend, report. SweepConfig is the single source of
// defaults: the JSON file fills it, flags override fields.
#include <memory>

#include "commands.h"
#include "common/json.h"
#include "config_flags.h"
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
  o.flags.field(sub, "--corpus", &SweepConfig::corpus,
                "Text files (tokenizer trained, then encoded)");
  o.flags.field(sub, "--train-tokens", &SweepConfig::train_tokens,
                "Or: an encoded training token file");
  o.flags.field(sub, "--val-tokens", &SweepConfig::val_tokens, "Its validation token file");
  o.flags.field(sub, "--tokenizer", &SweepConfig::tokenizer, "Reuse this tokenizer directory");
  o.flags.field(sub, "--vocab-size", &SweepConfig::vocab_size,
                "Vocabulary when training a tokenizer");
  o.flags.field(sub, "--val-fraction", &SweepConfig::val_fraction,
                "Validation share of the corpus");
  o.flags.field(sub, "--budgets", &SweepConfig::budgets, "FLOP budgets (list)");
  o.flags.field(sub, "--budget-min", &SweepConfig::budget_min,
                "Or: smallest budget of a log range");
  o.flags.field(sub, "--budget-max", &SweepConfig::budget_max, "Largest budget of the range");
  o.flags.field(sub, "--budget-count", &SweepConfig::budget_count, "Budgets in the range");
  o.flags.field(sub, "--models-per-budget", &SweepConfig::models_per_budget, "Models per budget");
  o.flags.field(sub, "--tokens-per-param", &SweepConfig::tokens_per_param,
                "Tokens per parameter the grid centres on");
  o.flags.field(sub, "--n-spread", &SweepConfig::n_spread,
                "Grid spans guess/n-spread .. guess·n-spread");
  o.flags.field(sub, "--flop-count", &SweepConfig::flop_count, "6nd | exact: how a budget sets D");
  o.flags.field(sub, "--context-length", &SweepConfig::architecture,
                &sweep::ArchitectureRule::context_length, "Context length of every model");
  o.flags.field(sub, "--head-dim", &SweepConfig::architecture, &sweep::ArchitectureRule::head_dim,
                "Head dimension");
  o.flags.field(sub, "--aspect-ratio", &SweepConfig::architecture,
                &sweep::ArchitectureRule::aspect_ratio, "Preferred d_model / n_layers");
  o.flags.field(sub, "--batch-tokens", &SweepConfig::batch_tokens, "Tokens per optimizer step");
  o.flags.field(sub, "--micro-batch-tokens", &SweepConfig::micro_batch_tokens,
                "Tokens per micro-batch (0 = batch-tokens)");
  o.flags.field(sub, "--lr-rule", &SweepConfig::lr_rule, "constant | kaplan");
  o.flags.field(sub, "--lr", &SweepConfig::lr, "Peak lr of the constant rule");
  o.flags.field(sub, "--warmup-fraction", &SweepConfig::warmup_fraction,
                "Warmup share of each run");
  o.flags.field(sub, "--seed", &SweepConfig::seed, "Seed of every run and of the bootstrap");
  o.flags.field(sub, "--targets", &SweepConfig::targets,
                "Target budgets to recommend for (default 100 × the largest)");
  o.flags.field(sub, "--loss", &SweepConfig::loss, "Parametric fit loss");
  o.flags.field(sub, "--bootstrap-samples", &SweepConfig::bootstrap_samples, "Bootstrap resamples");
  o.flags.flag(sub, "--verify", &SweepConfig::verify,
               "Train the recommended model at verify-budget; report predicted vs achieved loss");
  o.flags.field(sub, "--verify-budget", &SweepConfig::verify_budget,
                "Budget of the verification run (0 = 2 × the largest)");
  o.flags.field(sub, "--device", &SweepConfig::device, "auto | cpu | cuda");
  o.flags.field(sub, "--precision", &SweepConfig::precision, "auto | fp32 | bf16-mixed");
  o.flags.field(sub, "--gpus", &SweepConfig::gpus, "One worker process per GPU id (e.g. 0,1,2,3)")
      ->delimiter(',');
  o.flags.field(sub, "--workers", &SweepConfig::workers,
                "Without --gpus: worker processes sharing the CPU (threads split)");
  o.flags.field(sub, "--device-tflops", &SweepConfig::device_tflops,
                "Achieved TFLOP/s for time estimates (0 = measured or default)");
  o.flags.field(sub, "--warn-epochs", &SweepConfig::warn_epochs, "Warn above this many epochs");
  o.flags.field(sub, "--max-epochs", &SweepConfig::max_epochs, "Error above this many epochs");
  o.flags.flag(sub, "--retry-failed", &SweepConfig::retry_failed, "Run failed runs again");
  o.flags.field(sub, "--out", &SweepConfig::out_dir, "Output directory (runs.db, runs/, report/)");
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
  sub->add_flag("--dry-run", o->dry_run, "Print the plan and stop (same as `sweep plan`)");
  sub->add_flag("--worker", o->worker, "Internal: a GPU worker started by --gpus")->group("");
  auto* plan = sub->add_subcommand("plan", "Print the run table (prepares the data) and stop");
  auto po = std::make_shared<SweepCliOptions>();
  add_sweep_options(*plan, *po);
  return {sub, [sub, plan, o, po]() {
            if (plan->parsed()) {
              run_sweep_config(resolve(*po),
                               {.plan_only = true, .worker = false, .config_path = po->config});
              return;
            }
            (void)sub;
            run_sweep_config(
                resolve(*o),
                {.plan_only = o->dry_run, .worker = o->worker, .config_path = o->config});
          }};
}

}  // namespace scalelab::app
