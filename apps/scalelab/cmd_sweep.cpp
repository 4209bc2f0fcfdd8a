// `scalelab sweep [plan] --config sweep.json [flags]`: plan an IsoFLOP sweep, train it (resumable,
// crash-safe, one worker per GPU), fit, recommend, report. SweepConfig is the single source of
// defaults: the JSON file fills it, flags override fields.
#include <memory>

#include "commands.h"
#include "common/json.h"
#include "sweep/sweep_config.h"
#include "sweep_runner.h"

namespace scalelab::app {

namespace {

using sweep::SweepConfig;

struct SweepCliOptions {
  std::string config;
  SweepConfig flags;
  bool dry_run = false, worker = false;
  std::vector<std::pair<CLI::Option*, std::function<void(SweepConfig&)>>> setters;
};

template <typename T>
CLI::Option* field(CLI::App& app, SweepCliOptions& o, const char* name, T SweepConfig::*member,
                   const char* help) {
  CLI::Option* opt = app.add_option(name, o.flags.*member, help)->capture_default_str();
  o.setters.emplace_back(opt, [&o, member](SweepConfig& c) { c.*member = o.flags.*member; });
  return opt;
}

void flag(CLI::App& app, SweepCliOptions& o, const char* name, bool SweepConfig::*member,
          const char* help) {
  CLI::Option* opt = app.add_flag(name, o.flags.*member, help);
  o.setters.emplace_back(opt, [&o, member](SweepConfig& c) { c.*member = o.flags.*member; });
}

template <typename T>
void arch_field(CLI::App& app, SweepCliOptions& o, const char* name,
                T sweep::ArchitectureRule::*member, const char* help) {
  CLI::Option* opt =
      app.add_option(name, o.flags.architecture.*member, help)->capture_default_str();
  o.setters.emplace_back(
      opt, [&o, member](SweepConfig& c) { c.architecture.*member = o.flags.architecture.*member; });
}

void add_sweep_options(CLI::App& sub, SweepCliOptions& o) {
  sub.add_option("--config", o.config,
                 "Sweep config JSON (fields of SweepConfig; see docs/sweep.md)");
  field(sub, o, "--corpus", &SweepConfig::corpus, "Text files (tokenizer trained, then encoded)");
  field(sub, o, "--train-tokens", &SweepConfig::train_tokens, "Or: an encoded training token file");
  field(sub, o, "--val-tokens", &SweepConfig::val_tokens, "Its validation token file");
  field(sub, o, "--tokenizer", &SweepConfig::tokenizer, "Reuse this tokenizer directory");
  field(sub, o, "--vocab-size", &SweepConfig::vocab_size, "Vocabulary when training a tokenizer");
  field(sub, o, "--val-fraction", &SweepConfig::val_fraction, "Validation share of the corpus");
  field(sub, o, "--budgets", &SweepConfig::budgets, "FLOP budgets (list)");
  field(sub, o, "--budget-min", &SweepConfig::budget_min, "Or: smallest budget of a log range");
  field(sub, o, "--budget-max", &SweepConfig::budget_max, "Largest budget of the range");
  field(sub, o, "--budget-count", &SweepConfig::budget_count, "Budgets in the range");
  field(sub, o, "--models-per-budget", &SweepConfig::models_per_budget, "Models per budget");
  field(sub, o, "--tokens-per-param", &SweepConfig::tokens_per_param,
        "Tokens per parameter the grid centres on");
  field(sub, o, "--n-spread", &SweepConfig::n_spread,
        "Grid spans guess/n-spread .. guess·n-spread");
  field(sub, o, "--flop-count", &SweepConfig::flop_count, "6nd | exact: how a budget sets D");
  arch_field(sub, o, "--context-length", &sweep::ArchitectureRule::context_length,
             "Context length of every model");
  arch_field(sub, o, "--head-dim", &sweep::ArchitectureRule::head_dim, "Head dimension");
  arch_field(sub, o, "--aspect-ratio", &sweep::ArchitectureRule::aspect_ratio,
             "Preferred d_model / n_layers");
  field(sub, o, "--batch-tokens", &SweepConfig::batch_tokens, "Tokens per optimizer step");
  field(sub, o, "--micro-batch-tokens", &SweepConfig::micro_batch_tokens,
        "Tokens per micro-batch (0 = batch-tokens)");
  field(sub, o, "--lr-rule", &SweepConfig::lr_rule, "constant | kaplan");
  field(sub, o, "--lr", &SweepConfig::lr, "Peak lr of the constant rule");
  field(sub, o, "--warmup-fraction", &SweepConfig::warmup_fraction, "Warmup share of each run");
  field(sub, o, "--seed", &SweepConfig::seed, "Seed of every run and of the bootstrap");
  field(sub, o, "--targets", &SweepConfig::targets,
        "Target budgets to recommend for (default 100 × the largest)");
  field(sub, o, "--loss", &SweepConfig::loss, "Parametric fit loss");
  field(sub, o, "--bootstrap-samples", &SweepConfig::bootstrap_samples, "Bootstrap resamples");
  flag(sub, o, "--verify", &SweepConfig::verify,
       "Train the recommended model at verify-budget; report predicted vs achieved loss");
  field(sub, o, "--verify-budget", &SweepConfig::verify_budget,
        "Budget of the verification run (0 = 2 × the largest)");
  field(sub, o, "--device", &SweepConfig::device, "auto | cpu | cuda");
  field(sub, o, "--precision", &SweepConfig::precision, "auto | fp32 | bf16-mixed");
  field(sub, o, "--gpus", &SweepConfig::gpus, "One worker process per GPU id (e.g. 0,1,2,3)")
      ->delimiter(',');
  field(sub, o, "--workers", &SweepConfig::workers,
        "Without --gpus: worker processes sharing the CPU (threads split)");
  field(sub, o, "--device-tflops", &SweepConfig::device_tflops,
        "Achieved TFLOP/s for time estimates (0 = measured or default)");
  field(sub, o, "--warn-epochs", &SweepConfig::warn_epochs, "Warn above this many epochs");
  field(sub, o, "--max-epochs", &SweepConfig::max_epochs, "Error above this many epochs");
  flag(sub, o, "--retry-failed", &SweepConfig::retry_failed, "Run failed runs again");
  field(sub, o, "--out", &SweepConfig::out_dir, "Output directory (runs.db, runs/, report/)");
}

SweepConfig resolve(const SweepCliOptions& o) {
  SweepConfig c;
  if (!o.config.empty()) c = sweep::sweep_config_from_json(json::read_file(o.config), o.config);
  for (const auto& [opt, set] : o.setters)
    if (opt->count() > 0) set(c);
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
