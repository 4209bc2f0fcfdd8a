// CLI flags from a config's field table (common/fields.h): every field with a flag becomes one
// option whose help states the field's doc, allowed values and default (from the struct's default
// member initialisers, the single source of defaults). apply() copies only the flags the user gave
// onto a config that a file or a preset has already filled: defaults < file < flags. A value is
// converted and checked by the same code as the JSON field (so `--loss log-hubr` and
// `"loss": "log-hubr"` fail alike, naming the flag or field and the allowed values). Lists take
// commas or spaces (`--budgets 1e12,2e12` or `--budgets 1e12 2e12`); a bool flag alone means true.
#pragma once

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fields.h"
#include "common/json.h"

namespace scalelab::app {

namespace detail {

// One command-line word as the JSON value of a field of this kind; errors name the flag.
inline json::Json cli_value(const std::string& s, fields::Kind kind, const std::string& flag) {
  switch (kind) {
    case fields::Kind::kBool:
      if (s.empty() || s == "true" || s == "1" || s == "yes" || s == "on") return true;
      if (s == "false" || s == "0" || s == "no" || s == "off") return false;
      SCALELAB_FAIL("{}: expected true or false, got '{}'", flag, s);
    case fields::Kind::kInt:
    case fields::Kind::kFloat: {
      errno = 0;
      char* end = nullptr;
      if (kind == fields::Kind::kInt && s.find_first_of(".eE") == std::string::npos) {
        const long long v = std::strtoll(s.c_str(), &end, 10);
        SCALELAB_CHECK(!s.empty() && *end == '\0' && errno == 0,
                       "{}: expected an integer, got '{}'", flag, s);
        return static_cast<int64_t>(v);
      }
      const double v = std::strtod(s.c_str(), &end);
      SCALELAB_CHECK(!s.empty() && *end == '\0' && errno == 0, "{}: expected {}, got '{}'", flag,
                     kind == fields::Kind::kInt ? "an integer" : "a number", s);
      return v;
    }
    default:
      return s;
  }
}

inline std::string cli_type_name(fields::Kind kind) {
  switch (kind) {
    case fields::Kind::kBool:
      return "BOOL";
    case fields::Kind::kInt:
      return "INT";
    case fields::Kind::kFloat:
      return "FLOAT";
    default:
      return "TEXT";
  }
}

}  // namespace detail

template <typename Config>
class ConfigFlags {
 public:
  ConfigFlags() = default;
  // The options refer to storage inside this object: it stays where it was bound.
  ConfigFlags(const ConfigFlags&) = delete;
  ConfigFlags& operator=(const ConfigFlags&) = delete;

  // One option per field of `table` that has a flag (a nested table's: those it names), except the
  // fields named in `skip`. `defaults` gives the values --help shows.
  void add_table(CLI::App& app, const fields::Table<Config>& table, const Config& defaults = {},
                 const std::set<std::string>& skip = {}) {
    for (const auto& f : table.fields()) {
      if (f.kind == fields::Kind::kObject) {
        for (const auto& g : f.children())
          if (!g.flag.empty() && !skip.contains(g.name)) add_field(app, g, defaults);
      } else if (!f.flag.empty() && !skip.contains(f.name)) {
        add_field(app, f, defaults);
      }
    }
  }

  // Any other option: `set` runs when the option was given.
  CLI::Option* bind(CLI::Option* option, std::function<void(Config&)> set) {
    setters_.emplace_back(option, std::move(set));
    return option;
  }

  // Whether the option named `flag` ("--vocab-size") was given.
  bool given(const std::string& flag) const {
    for (const auto& s : setters_)
      if (s.first->check_name(flag)) return s.first->count() > 0;
    return false;
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
  void add_field(CLI::App& app, const fields::Field<Config>& f, const Config& defaults) {
    std::vector<std::string>& words = storage_.emplace_back();
    std::string help = f.doc;
    if (!f.choices.empty()) {
      std::string c;
      for (const auto& n : f.choices) c += (c.empty() ? "" : " | ") + n;
      help += " (" + c + ")";
    } else if (f.range.any()) {
      help += " (" + f.range.describe() + ")";
    }
    const json::Json def = f.get(defaults);
    const std::string def_str = def.is_string() ? def.get<std::string>() : def.dump();
    const bool list = f.kind == fields::Kind::kList;
    const fields::Kind kind = list ? f.element : f.kind;
    // A bool option given without a value would read its default string (CLI11 2.1): bools show
    // their default in the type name instead.
    CLI::Option* o = app.add_option(f.flag, words, help);
    if (kind == fields::Kind::kBool && !list)
      o->default_str("")->type_name("[BOOL=" + def_str + "]");
    else
      o->default_str(def_str)->type_name(detail::cli_type_name(kind));
    if (list) {
      o->expected(1, CLI::detail::expected_max_vector_size)->delimiter(',');
    } else if (kind == fields::Kind::kBool) {
      o->expected(0, 1);
    } else {
      o->expected(1);
      o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
    bind(o, [&words, f, list, kind](Config& c) {
      json::Json v;
      if (list) {
        v = json::Json::array();
        for (const auto& w : words) v.push_back(detail::cli_value(w, kind, f.flag));
      } else {
        v = detail::cli_value(words.empty() ? std::string() : words.back(), kind, f.flag);
      }
      f.set(c, v, f.flag);
    });
  }

  std::deque<std::vector<std::string>> storage_;
  std::vector<std::pair<CLI::Option*, std::function<void(Config&)>>> setters_;
};

// A boolean switch of a command, spelled as the config tables' bools are (one spelling everywhere):
// alone it means true, and it also takes a value (`--json`, `--json true`, `--quiet=false`).
inline CLI::Option* add_bool_flag(CLI::App& app, const std::string& name, bool& target,
                                  const std::string& help) {
  CLI::Option* o = app.add_option_function<std::string>(
      name,
      [&target, name](const std::string& v) {
        target = detail::cli_value(v, fields::Kind::kBool, name).get<bool>();
      },
      help);
  o->expected(0, 1)->default_str("")->type_name(target ? "[BOOL=true]" : "[BOOL=false]");
  return o;
}

}  // namespace scalelab::app
