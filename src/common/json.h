// JSON helpers over nlohmann::ordered_json (keys keep insertion order, so outputs read naturally):
// parse/read with errors that name the file and position, atomic writes, and ObjectReader, a strict
// field reader that type-checks every value, names the offending field ("model.d_model: expected an
// integer, got 12.5") and rejects unknown fields.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"

namespace scalelab::json {

using Json = nlohmann::ordered_json;

// Parses text; `source` names it in errors ("model.json: parse error at byte 17: …").
Json parse(std::string_view text, std::string_view source);
Json read_file(const std::filesystem::path& path);
// Writes pretty JSON atomically (temp file in the same directory, then rename).
void write_file(const std::filesystem::path& path, const Json& value, int indent = 2);
// "string \"abc\"", "number 12.5", "null", … for error messages.
std::string describe(const Json& value);

class ObjectReader {
 public:
  // context names the object in messages ("model", "model.json", "sweep.budgets[2]").
  ObjectReader(const Json& object, std::string context);

  bool has(std::string_view key) const;
  const Json& at(std::string_view key) const;
  std::string field_name(std::string_view key) const { return context_ + "." + std::string(key); }

  // Reads key into out if present (out keeps its default otherwise); returns whether it was
  // present.
  template <typename T>
  bool get(std::string_view key, T& out) {
    if (!has(key)) {
      seen_.insert(std::string(key));
      return false;
    }
    out = convert<T>(at(key), field_name(key));
    seen_.insert(std::string(key));
    return true;
  }
  template <typename T>
  void require(std::string_view key, T& out) {
    SCALELAB_CHECK(has(key), "{}: missing required field", field_name(key));
    get(key, out);
  }
  // Marks a key as handled by the caller (e.g. a nested object read separately).
  void accept(std::string_view key) { seen_.insert(std::string(key)); }
  // Throws on any key that no get/require/accept asked for.
  void finish() const;

  template <typename T>
  static T convert(const Json& v, const std::string& name);

 private:
  const Json& object_;
  std::string context_;
  std::set<std::string, std::less<>> seen_;
};

template <typename T>
T ObjectReader::convert(const Json& v, const std::string& name) {
  if constexpr (std::is_same_v<T, bool>) {
    SCALELAB_CHECK(v.is_boolean(), "{}: expected true or false, got {}", name, describe(v));
    return v.get<bool>();
  } else if constexpr (std::is_integral_v<T>) {
    if (v.is_number_integer()) {
      if (v.is_number_unsigned()) {
        auto u = v.get<uint64_t>();
        SCALELAB_CHECK(u <= static_cast<uint64_t>(std::numeric_limits<T>::max()),
                       "{}: {} is out of range", name, u);
        return static_cast<T>(u);
      }
      auto s = v.get<int64_t>();
      SCALELAB_CHECK(s >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                         (s < 0 || static_cast<uint64_t>(s) <=
                                       static_cast<uint64_t>(std::numeric_limits<T>::max())),
                     "{}: {} is out of range", name, s);
      return static_cast<T>(s);
    }
    if (v.is_number_float()) {
      double d = v.get<double>();
      // Accept 1e9-style integral floats (common in configs), reject fractions.
      SCALELAB_CHECK(std::isfinite(d) && d == std::floor(d) &&
                         d >= static_cast<double>(std::numeric_limits<T>::min()) &&
                         d <= static_cast<double>(std::numeric_limits<T>::max()),
                     "{}: expected an integer, got {}", name, describe(v));
      return static_cast<T>(d);
    }
    SCALELAB_FAIL("{}: expected an integer, got {}", name, describe(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    SCALELAB_CHECK(v.is_number(), "{}: expected a number, got {}", name, describe(v));
    return v.get<T>();
  } else if constexpr (std::is_same_v<T, std::string>) {
    SCALELAB_CHECK(v.is_string(), "{}: expected a string, got {}", name, describe(v));
    return v.get<std::string>();
  } else if constexpr (std::is_same_v<T, Json>) {
    return v;
  } else {
    // std::vector<U>
    using U = typename T::value_type;
    SCALELAB_CHECK(v.is_array(), "{}: expected an array, got {}", name, describe(v));
    T out;
    for (size_t i = 0; i < v.size(); ++i) {
      out.push_back(convert<U>(v[i], name + "[" + std::to_string(i) + "]"));
    }
    return out;
  }
}

}  // namespace scalelab::json
