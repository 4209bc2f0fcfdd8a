// Every subcommand registers itself here: setup_<name>(app) adds a CLI11 subcommand bound to its
// options struct and returns the function main runs when that subcommand was given.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace scalelab::app {

using RunFn = std::function<void()>;

struct Command {
  CLI::App* app = nullptr;
  RunFn run;
};

Command setup_account(CLI::App& app);
Command setup_runs(CLI::App& app);
Command setup_fit(CLI::App& app);
Command setup_design(CLI::App& app);
Command setup_allocate(CLI::App& app);
Command setup_predict(CLI::App& app);
Command setup_isoflop(CLI::App& app);
Command setup_simulate(CLI::App& app);
Command setup_step(CLI::App& app);
Command setup_tokenizer(CLI::App& app);
Command setup_sweep(CLI::App& app);
Command setup_report(CLI::App& app);
Command setup_config_reference(CLI::App& app);
Command setup_demo(CLI::App& app);
Command setup_train(CLI::App& app);
Command setup_generate(CLI::App& app);
Command setup_eval(CLI::App& app);
Command setup_export(CLI::App& app);
Command setup_import_hf(CLI::App& app);

}  // namespace scalelab::app
