// Per-field flags for a config struct: each flag parses into `values` (so --help shows the struct's
// own default member initialisers, the single source of defaults), and apply() copies only the
// flags the user gave onto a config that a file or a preset has already filled: defaults < file <
// flags. Used by `train`, `sweep` and every command that takes a model shape (model_options.h).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace scalelab::app {

template <typename Config>
class ConfigFlags {
 public:
  ConfigFlags() = default;
  // The setters refer to `values`: the object stays where it was bound.
  ConfigFlags(const ConfigFlags&) = delete;
  ConfigFlags& operator=(const ConfigFlags&) = delete;

  Config values;  // what the flags parse into

  // --name VALUE sets config.*member.
  template <typename T>
  CLI::Option* field(CLI::App& app, const std::string& name, T Config::*member,
                     const std::string& help) {
    return bind(app.add_option(name, values.*member, help)->capture_default_str(),
                [this, member](Config& c) { c.*member = values.*member; });
  }
  // --name VALUE sets config.*sub.*member (a field of a nested struct).
  template <typename Sub, typename T>
  CLI::Option* field(CLI::App& app, const std::string& name, Sub Config::*sub, T Sub::*member,
                     const std::string& help) {
    return bind(app.add_option(name, (values.*sub).*member, help)->capture_default_str(),
                [this, sub, member](Config& c) { (c.*sub).*member = (values.*sub).*member; });
  }
  // --name (no value) sets config.*member to true.
  CLI::Option* flag(CLI::App& app, const std::string& name, bool Config::*member,
                    const std::string& help) {
    return bind(app.add_flag(name, values.*member, help),
                [this, member](Config& c) { c.*member = values.*member; });
  }
  // Any other option: `set` runs when the option was given.
  CLI::Option* bind(CLI::Option* option, std::function<void(Config&)> set) {
    setters_.emplace_back(option, std::move(set));
    return option;
  }

  bool any_given() const {
    for (const auto& s : setters_)
      if (s.first->count() > 0) return true;
    return false;
  }
  // Applies the given flags to c; returns whether there were any.
  bool apply(Config& c) const {
    bool any = false;
    for (const auto& [option, set] : setters_) {
      if (option->count() > 0) {
        set(c);
        any = true;
      }
    }
    return any;
  }

 private:
  std::vector<std::pair<CLI::Option*, std::function<void(Config&)>>> setters_;
};

}  // namespace scalelab::app
