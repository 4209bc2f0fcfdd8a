// scalelab entry point: builds the CLI11 app from every cmd_<name>.cpp, parses, runs the chosen
// subcommand. The only place that catches: errors print "error: <message>" to stderr and exit 1.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "common/error.h"
#include "common/log.h"
#include "scalelab_version.h"

int main(int argc, char** argv) {
  using namespace scalelab;
  CLI::App app{
      "scalelab: for this corpus and this FLOP budget, how big a language model and how many "
      "tokens?\n"
      "Trains a BPE tokenizer and small transformer LMs, records every run, fits Chinchilla "
      "scaling laws\n"
      "and recommends the compute-optimal model size and token count.",
      "scalelab"};
  app.set_version_flag("--version", std::string("scalelab ") + SCALELAB_VERSION);
  app.option_defaults()->always_capture_default();
  std::string log_level = "info";
  app.add_option("--log-level", log_level,
                 "trace|debug|info|warn|error|off (env SCALELAB_LOG_LEVEL)")
      ->capture_default_str();
  app.require_subcommand(1);
  app.fallthrough();  // global options (--log-level) may follow the subcommand

  std::vector<app::Command> commands;
  commands.push_back(app::setup_account(app));
  commands.push_back(app::setup_runs(app));
  commands.push_back(app::setup_fit(app));
  commands.push_back(app::setup_design(app));
  commands.push_back(app::setup_allocate(app));
  commands.push_back(app::setup_predict(app));
  commands.push_back(app::setup_isoflop(app));
  commands.push_back(app::setup_simulate(app));
  commands.push_back(app::setup_step(app));
  commands.push_back(app::setup_tokenizer(app));
  commands.push_back(app::setup_sweep(app));
  commands.push_back(app::setup_report(app));
  commands.push_back(app::setup_config_reference(app));
  commands.push_back(app::setup_demo(app));
  commands.push_back(app::setup_train(app));
  commands.push_back(app::setup_generate(app));
  commands.push_back(app::setup_eval(app));
  commands.push_back(app::setup_export(app));
  commands.push_back(app::setup_import_hf(app));

  try {
    log::init_from_env();
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
      return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
      return app.exit(e);
    } catch (const CLI::ParseError& e) {
      // "A subcommand is required" hides the real problem when the user typed an unknown command.
      std::vector<std::string> rest = app.remaining();
      if (!rest.empty() && !rest.front().starts_with("-")) {
        fmt::print(stderr, "error: unknown command '{}' (see 'scalelab --help')\n", rest.front());
      } else {
        fmt::print(stderr, "error: {} (see 'scalelab --help')\n", e.what());
      }
      return 1;
    }
    if (app.count("--log-level") > 0) log::set_level(log::parse_level(log_level));
    for (const auto& c : commands) {
      if (c.app->parsed()) c.run();
    }
    return 0;
  } catch (const Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    SCALELAB_LOG_DEBUG("thrown at {}", e.where());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
}
