// Field tables: the parts that need no template (see fields.h).
#include "common/fields.h"

namespace scalelab::fields {

std::string join_choices(const std::vector<std::string>& choices) {
  std::string s;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) s += i + 1 == choices.size() ? " or " : ", ";
    s += choices[i];
  }
  return s;
}

bool Range::contains(double v) const {
  if (finite && !std::isfinite(v)) return false;
  if (lo && (lo_open ? !(v > *lo) : !(v >= *lo))) return false;
  if (hi && (hi_open ? !(v < *hi) : !(v <= *hi))) return false;
  return true;
}

std::string Range::describe() const {
  if (lo && !hi) {
    if (*lo == 0 && lo_open) return "positive";
    return fmt::format("{} {}", lo_open ? ">" : ">=", *lo);
  }
  if (hi && !lo) return fmt::format("{} {}", hi_open ? "<" : "<=", *hi);
  if (lo && hi)
    return fmt::format("in {}{}, {}{}", lo_open ? "(" : "[", *lo, *hi, hi_open ? ")" : "]");
  return "";
}

namespace detail {

void check_range(const Range& r, double v, const std::string& name) {
  if (!r.any() || r.contains(v)) return;
  const std::string d = r.describe();
  SCALELAB_FAIL("{}: must be {} (got {})", name, d, v);
}

std::string default_flag(std::string_view name) {
  std::string f = "--";
  for (char ch : name) f += ch == '_' ? '-' : ch;
  return f;
}

}  // namespace detail

std::string describe_kind(Kind k, Kind element) {
  switch (k) {
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "integer";
    case Kind::kFloat:
      return "number";
    case Kind::kString:
      return "string";
    case Kind::kChoice:
      return "choice";
    case Kind::kList:
      return "list of " + describe_kind(element, Kind::kString) + "s";
    case Kind::kObject:
      return "object";
  }
  return "?";
}

std::string markdown_row(const std::string& name, const std::string& flag, const std::string& type,
                         const json::Json& def, const std::string& allowed,
                         const std::string& doc) {
  std::string d = def.is_string() ? def.get<std::string>() : def.dump();
  if (d.empty()) d = "\"\"";
  return fmt::format("| `{}` | {} | {} | `{}` | {} | {} |\n", name,
                     flag.empty() ? "" : "`" + flag + "`", type, d, allowed, doc);
}

}  // namespace scalelab::fields
