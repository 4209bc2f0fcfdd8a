// Implementation of the human-readable number formats and TextTable layout.
#include "common/format.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace scalelab {

std::string format_uint(uint64_t v) {
  std::string digits = std::to_string(v), out;
  int n = static_cast<int>(digits.size());
  for (int i = 0; i < n; ++i) {
    out.push_back(digits[static_cast<size_t>(i)]);
    if ((n - i - 1) % 3 == 0 && i != n - 1) out.push_back(',');
  }
  return out;
}

std::string format_int(int64_t v) {
  if (v < 0) return "-" + format_uint(static_cast<uint64_t>(-(v + 1)) + 1);
  return format_uint(static_cast<uint64_t>(v));
}

std::string format_sci(double v, int digits) {
  return fmt::format("{:.{}e}", v, std::max(0, digits - 1));
}

std::string format_si(double v, int digits) {
  static constexpr const char* kPrefix[] = {"", "k", "M", "G", "T", "P"};
  if (!std::isfinite(v)) return fmt::format("{}", v);
  double a = std::abs(v);
  if (a < 1.0 && a != 0.0) return format_sci(v, digits);
  int i = 0;
  while (a >= 1000.0 && i < 5) {
    a /= 1000.0;
    v /= 1000.0;
    ++i;
  }
  if (a >= 1000.0) return format_sci(v * std::pow(1000.0, i), digits);
  int int_digits = a < 10 ? 1 : (a < 100 ? 2 : 3);
  int decimals = std::max(0, digits - int_digits);
  return fmt::format("{:.{}f}{}", v, decimals, kPrefix[i]);
}

std::string format_gib(double bytes) {
  return fmt::format("{:.2f} GiB", bytes / (1024.0 * 1024.0 * 1024.0));
}

std::string format_percent(double fraction, int decimals) {
  return fmt::format("{:.{}f}%", 100.0 * fraction, decimals);
}

std::string format_duration_s(double s) {
  if (!std::isfinite(s)) return "inf";
  if (s < 60) return fmt::format("{:.1f} s", s);
  if (s < 3600) return fmt::format("{:.1f} min", s / 60);
  if (s < 86400 * 2) return fmt::format("{:.1f} h", s / 3600);
  return fmt::format("{:.1f} days", s / 86400);
}

void TextTable::add_row(std::vector<std::string> row) {
  row.resize(header_.size());
  rows_.push_back(std::move(row));
}

void TextTable::add_separator() { rows_.emplace_back(); }

namespace {
// Display width in terminal columns: counts UTF-8 code points, not bytes.
size_t display_width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}
bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  char c = s[0];
  return (c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && s.size() > 1);
}
}  // namespace

std::string TextTable::str() const {
  std::vector<size_t> width(header_.size(), 0);
  for (size_t j = 0; j < header_.size(); ++j) width[j] = display_width(header_[j]);
  for (const auto& r : rows_)
    for (size_t j = 0; j < r.size(); ++j) width[j] = std::max(width[j], display_width(r[j]));
  auto line = [&](const std::vector<std::string>& r, bool header) {
    std::string out;
    for (size_t j = 0; j < r.size(); ++j) {
      size_t pad = width[j] - display_width(r[j]);
      bool right = !header && j > 0 && looks_numeric(r[j]);
      if (j > 0) out += "  ";
      if (right) out.append(pad, ' ');
      out += r[j];
      if (!right && j + 1 < r.size()) out.append(pad, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  size_t total = 0;
  for (size_t j = 0; j < width.size(); ++j) total += width[j] + (j ? 2 : 0);
  std::string rule(total, '-');
  std::string out = line(header_, true) + rule + "\n";
  for (const auto& r : rows_) out += r.empty() ? rule + "\n" : line(r, false);
  return out;
}

std::string printable_excerpt(std::string_view text, size_t max_bytes) {
  std::string out;
  size_t i = 0;
  while (i < text.size() && i < max_bytes) {
    const auto b = static_cast<unsigned char>(text[i]);
    // The length of a valid UTF-8 sequence starting here (RFC 3629: no overlongs, no surrogates,
    // nothing past U+10FFFF), or 0.
    size_t n = b < 0x80                 ? 1
               : b >= 0xC2 && b <= 0xDF ? 2
               : b >= 0xE0 && b <= 0xEF ? 3
               : b >= 0xF0 && b <= 0xF4 ? 4
                                        : 0;
    for (size_t k = 1; k < n; ++k)
      if (i + k >= text.size() || (static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) n = 0;
    if (n >= 3) {
      const auto b1 = static_cast<unsigned char>(text[i + 1]);
      if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F) || (b == 0xF0 && b1 < 0x90) ||
          (b == 0xF4 && b1 > 0x8F))
        n = 0;
    }
    if (n == 1 && (b < 0x20 || b == 0x7F)) n = 0;
    if (n == 0) {
      out += fmt::format("\\x{:02x}", b);
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  if (i < text.size()) out += fmt::format("… ({} bytes)", text.size());
  return out;
}

}  // namespace scalelab
