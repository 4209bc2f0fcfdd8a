// Field tables: each config struct states every field once — JSON name, member, doc, allowed values
// or range — and its JSON reader/writer, the CLI flags (apps/scalelab/config_flags.h), the
// per-field part of validate() and the tables in docs/ all come from that one statement (the idea
// of llama.cpp's common/arg.cpp table and sentencepiece's trainer spec). Choices are enum classes
// with one name table each (EnumNames<E> below). Cross-field rules stay in each struct's
// validate().
//
//   const fields::Table<Foo>& foo_fields() {
//     static const auto t = fields::Table<Foo>()
//         .add("lr", &Foo::lr, "Peak learning rate", fields::Range::positive())
//         .add("loss", &Foo::loss, "Fit loss");                        // an enum: its names
//     return t;
//   }
#pragma once

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/dtype.h"
#include "common/error.h"
#include "common/json.h"

namespace scalelab::fields {

// ---- enum names: specialise EnumNames<E> with
//   static constexpr std::array<std::pair<E, std::string_view>, N> kNames{{{E::kA, "a"}, …}};
template <typename E>
struct EnumNames;

template <typename E>
concept NamedEnum = std::is_enum_v<E> && requires {
  EnumNames<E>::kNames;
};

template <NamedEnum E>
std::vector<std::string> enum_choices() {
  std::vector<std::string> out;
  for (const auto& [v, n] : EnumNames<E>::kNames) out.emplace_back(n);
  return out;
}

// "a, b or c"
std::string join_choices(const std::vector<std::string>& choices);

template <NamedEnum E>
std::string_view enum_name(E e) {
  for (const auto& [v, n] : EnumNames<E>::kNames)
    if (v == e) return n;
  return "?";
}

// Throws "<field>: expected a, b or c, got 'x'".
template <NamedEnum E>
E parse_enum(std::string_view s, std::string_view field) {
  for (const auto& [v, n] : EnumNames<E>::kNames)
    if (n == s) return v;
  SCALELAB_FAIL("{}: expected {}, got '{}'", field, join_choices(enum_choices<E>()), s);
}

// ---- per-field ranges (numbers, and every element of a list of numbers)
struct Range {
  std::optional<double> lo, hi;
  bool lo_open = false, hi_open = false;
  bool finite = true;  // NaN and ±inf are always out of range

  static Range positive() { return {0.0, std::nullopt, true, false}; }
  static Range at_least(double v) { return {v, std::nullopt, false, false}; }
  static Range in(double lo, double hi, bool lo_open = false, bool hi_open = false) {
    return {lo, hi, lo_open, hi_open};
  }
  bool any() const { return lo.has_value() || hi.has_value(); }
  bool contains(double v) const;
  std::string describe() const;  // "positive", ">= 0", "in [0, 1)"
};

// ---- fields
enum class Kind { kBool, kInt, kFloat, kString, kChoice, kList, kObject };

template <typename C>
struct Field {
  std::string name;  // JSON key (and, with '_' → '-', the CLI flag unless `flag` says otherwise)
  std::string doc;
  std::string flag;  // "--name"; empty = no CLI flag
  Kind kind = Kind::kString;
  Kind element = Kind::kString;      // kList: the elements' kind
  std::vector<std::string> choices;  // kChoice (and lists of choices)
  Range range;
  std::function<json::Json(const C&)> get;
  // Converts and checks the value (type, choice, range); `name` is used in errors.
  std::function<void(C&, const json::Json&, const std::string& name)> set;
  // The range check of the current value (numbers and lists of numbers; null otherwise).
  std::function<void(const C&, const std::string& name)> check;
  // kObject: the nested table's fields, reached through this one (for CLI flags and docs).
  std::function<std::vector<Field<C>>()> children;
};

namespace detail {

template <typename T>
struct IsVector : std::false_type {};
template <typename U>
struct IsVector<std::vector<U>> : std::true_type {};
template <typename T>
struct IsOptional : std::false_type {};
template <typename U>
struct IsOptional<std::optional<U>> : std::true_type {};

template <typename T>
constexpr Kind kind_of() {
  if constexpr (std::is_same_v<T, bool>)
    return Kind::kBool;
  else if constexpr (std::is_integral_v<T>)
    return Kind::kInt;
  else if constexpr (std::is_floating_point_v<T>)
    return Kind::kFloat;
  else if constexpr (std::is_same_v<T, std::string>)
    return Kind::kString;
  else if constexpr (std::is_enum_v<T> || IsOptional<T>::value)
    return Kind::kChoice;
  else if constexpr (IsVector<T>::value)
    return Kind::kList;
  else
    return Kind::kObject;
}

void check_range(const Range& r, double v, const std::string& name);

// Value <-> JSON for scalars, enums, optional enums ("auto" = none) and vectors of those.
template <typename T>
json::Json to_value(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return std::string(enum_name(v));
  } else if constexpr (IsOptional<T>::value) {
    return v.has_value() ? to_value(*v) : json::Json("auto");
  } else if constexpr (IsVector<T>::value) {
    json::Json a = json::Json::array();
    for (const auto& e : v) a.push_back(to_value(e));
    return a;
  } else {
    return json::Json(v);
  }
}

template <typename T>
T from_value(const json::Json& j, const std::string& name, const Range& range) {
  if constexpr (std::is_enum_v<T>) {
    SCALELAB_CHECK(j.is_string(), "{}: expected one of {}, got {}", name,
                   join_choices(enum_choices<T>()), json::describe(j));
    return parse_enum<T>(j.get<std::string>(), name);
  } else if constexpr (IsOptional<T>::value) {
    using E = typename T::value_type;
    if (j.is_string() && j.get<std::string>() == "auto") return std::nullopt;
    SCALELAB_CHECK(j.is_string(), "{}: expected auto, {}, got {}", name,
                   join_choices(enum_choices<E>()), json::describe(j));
    for (const auto& [v, n] : EnumNames<E>::kNames)
      if (n == j.get<std::string>()) return v;
    SCALELAB_FAIL("{}: expected auto, {}, got '{}'", name, join_choices(enum_choices<E>()),
                  j.get<std::string>());
  } else if constexpr (IsVector<T>::value) {
    using U = typename T::value_type;
    SCALELAB_CHECK(j.is_array(), "{}: expected an array, got {}", name, json::describe(j));
    T out;
    for (size_t i = 0; i < j.size(); ++i)
      out.push_back(from_value<U>(j[i], fmt::format("{}[{}]", name, i), range));
    return out;
  } else {
    T v = json::ObjectReader::convert<T>(j, name);
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
      check_range(range, static_cast<double>(v), name);
    return v;
  }
}

template <typename T>
std::vector<std::string> choices_of() {
  if constexpr (std::is_enum_v<T>) {
    return enum_choices<T>();
  } else if constexpr (IsOptional<T>::value) {
    std::vector<std::string> c{"auto"};
    for (auto& n : enum_choices<typename T::value_type>()) c.push_back(n);
    return c;
  } else if constexpr (IsVector<T>::value) {
    return choices_of<typename T::value_type>();
  } else {
    return {};
  }
}

std::string default_flag(std::string_view name);  // "lr_min" → "--lr-min"

}  // namespace detail

// Options of one entry: its CLI flag ("" = the default --name, "-" = none) and its range.
struct Opt {
  std::string flag;
  Range range;
  Opt() = default;
  Opt(Range r) : range(r) {}  // NOLINT: Range::positive() reads well as the last argument
  static Opt no_flag() {
    Opt o;
    o.flag = "-";
    return o;
  }
  static Opt named(std::string flag, Range r = {}) {
    Opt o;
    o.flag = std::move(flag);
    o.range = r;
    return o;
  }
};

template <typename C>
class Table {
 public:
  // A scalar, string, enum, optional enum ("auto" = unset) or vector of those.
  template <typename T>
  Table&& add(std::string name, T C::*member, std::string doc, Opt opt = {}) && {
    Field<C> f;
    f.name = std::move(name);
    f.doc = std::move(doc);
    f.flag = opt.flag == "-" ? "" : opt.flag.empty() ? detail::default_flag(f.name) : opt.flag;
    f.kind = detail::kind_of<T>();
    if constexpr (detail::IsVector<T>::value) f.element = detail::kind_of<typename T::value_type>();
    f.choices = detail::choices_of<T>();
    f.range = opt.range;
    f.get = [member](const C& c) { return detail::to_value(c.*member); };
    const Range range = opt.range;
    f.set = [member, range](C& c, const json::Json& j, const std::string& n) {
      c.*member = detail::from_value<T>(j, n, range);
    };
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      if (range.any())
        f.check = [member, range](const C& c, const std::string& n) {
          detail::check_range(range, static_cast<double>(c.*member), n);
        };
    } else if constexpr (detail::IsVector<T>::value) {
      using U = typename T::value_type;
      if constexpr (std::is_arithmetic_v<U> && !std::is_same_v<U, bool>)
        if (range.any())
          f.check = [member, range](const C& c, const std::string& n) {
            for (size_t i = 0; i < (c.*member).size(); ++i)
              detail::check_range(range, static_cast<double>((c.*member)[i]),
                                  fmt::format("{}[{}]", n, i));
          };
    }
    fields_.push_back(std::move(f));
    return std::move(*this);
  }

  // A nested config with its own table; its CLI flags join this table's (those it names).
  template <typename S>
  Table&& nest(std::string name, S C::*member, const Table<S>& sub, std::string doc,
               std::vector<std::string> cli_fields = {}) && {
    Field<C> f;
    f.name = std::move(name);
    f.doc = std::move(doc);
    f.kind = Kind::kObject;
    const Table<S>* t = &sub;
    f.get = [member, t](const C& c) { return t->to_json(c.*member); };
    f.set = [member, t](C& c, const json::Json& j, const std::string& n) {
      c.*member = t->from_json(j, n, c.*member);
    };
    f.children = [member, t, cli_fields, prefix = f.name]() {
      std::vector<Field<C>> out;
      for (const Field<S>& s : t->fields()) {
        Field<C> g;
        g.name = prefix + "." + s.name;
        g.doc = s.doc;
        g.flag = "";
        for (const auto& n : cli_fields)
          if (n == s.name) g.flag = s.flag;
        g.kind = s.kind;
        g.element = s.element;
        g.choices = s.choices;
        g.range = s.range;
        g.get = [member, get = s.get](const C& c) { return get(c.*member); };
        g.set = [member, set = s.set](C& c, const json::Json& j, const std::string& n) {
          set(c.*member, j, n);
        };
        if (s.check)
          g.check = [member, check = s.check](const C& c, const std::string& n) {
            check(c.*member, n);
          };
        out.push_back(std::move(g));
      }
      return out;
    };
    fields_.push_back(std::move(f));
    return std::move(*this);
  }

  const std::vector<Field<C>>& fields() const { return fields_; }
  const Field<C>* find(std::string_view name) const {
    for (const auto& f : fields_)
      if (f.name == name) return &f;
    return nullptr;
  }

  // Every field, in table order (nested objects as objects).
  json::Json to_json(const C& c) const {
    json::Json j = json::Json::object();
    for (const auto& f : fields_) j[f.name] = f.get(c);
    return j;
  }
  // Strict: unknown fields are errors naming them and the known ones; wrong types, unknown
  // choices and out-of-range values name `context.field`. Fields not present keep `base`'s values.
  C from_json(const json::Json& j, std::string_view context, C base = C{}) const {
    SCALELAB_CHECK(j.is_object(), "{}: expected an object, got {}", context, json::describe(j));
    for (auto it = j.begin(); it != j.end(); ++it) {
      const Field<C>* f = find(it.key());
      SCALELAB_CHECK(f != nullptr, "{}.{}: unknown field (known fields: {})", context, it.key(),
                     known_names());
      f->set(base, it.value(), fmt::format("{}.{}", context, it.key()));
    }
    return base;
  }
  // The per-field checks (ranges; choices hold by construction): the start of validate().
  void check(const C& c, std::string_view context = "") const {
    for (const auto& f : fields_) {
      const std::string n = context.empty() ? f.name : fmt::format("{}.{}", context, f.name);
      if (f.check) f.check(c, n);  // nested structs: their own validate() checks them
    }
  }
  std::string known_names() const {
    std::string s;
    for (const auto& f : fields_) s += (s.empty() ? "" : ", ") + f.name;
    return s;
  }

 private:
  std::vector<Field<C>> fields_;
};

// A Markdown table of a config's fields: name, type, default, allowed values, doc.
template <typename C>
std::string markdown(const Table<C>& t, const C& defaults = C{});

std::string describe_kind(Kind k, Kind element);
std::string markdown_row(const std::string& name, const std::string& flag, const std::string& type,
                         const json::Json& def, const std::string& allowed, const std::string& doc);

template <typename C>
std::string markdown(const Table<C>& t, const C& defaults) {
  std::string out = "| field | flag | type | default | allowed | description |\n";
  out += "|---|---|---|---|---|---|\n";
  auto row = [&](const Field<C>& f) {
    std::string allowed = !f.choices.empty() ? join_choices(f.choices)
                          : f.range.any()    ? f.range.describe()
                                             : "";
    out += markdown_row(f.name, f.flag, describe_kind(f.kind, f.element), f.get(defaults), allowed,
                        f.doc);
  };
  for (const auto& f : t.fields()) {
    if (f.kind == Kind::kObject) {
      for (const auto& g : f.children()) row(g);
    } else {
      row(f);
    }
  }
  return out;
}

}  // namespace scalelab::fields

// The one dtype vocabulary (common/dtype.h) as a field choice.
template <>
struct scalelab::fields::EnumNames<scalelab::Dtype> {
  using E = scalelab::Dtype;
  static constexpr std::array<std::pair<E, std::string_view>, 6> kNames{{{E::kFp64, "fp64"},
                                                                         {E::kFp32, "fp32"},
                                                                         {E::kTf32, "tf32"},
                                                                         {E::kBf16, "bf16"},
                                                                         {E::kFp16, "fp16"},
                                                                         {E::kFp8, "fp8"}}};
};
