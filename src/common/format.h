// Number formatting for tables people read: thousands separators, SI prefixes, bytes in GiB/GB,
// durations. Machine-readable outputs (JSON, CSV) never use these: they carry exact numbers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace scalelab {

std::string format_int(int64_t v);                 // 190460160 -> "190,460,160"
std::string format_uint(uint64_t v);               // same for unsigned
std::string format_si(double v, int digits = 3);   // 1.9046e8 -> "190M"; 3.5e21 -> "3.50e21" past P
std::string format_sci(double v, int digits = 3);  // 1.234e+21
std::string format_gib(double bytes);              // "12.34 GiB"
std::string format_percent(double fraction, int decimals = 1);  // 0.1234 -> "12.3%"
std::string format_duration_s(double seconds);  // "3.2 s", "4.1 min", "2.3 h", "5.1 days"
// Text from an input file, fit to quote in a one-line error: control bytes, DEL and bytes that are
// not valid UTF-8 as \xNN, and cut after max_bytes (at a character) with "… (N bytes)" appended.
std::string printable_excerpt(std::string_view text, size_t max_bytes = 48);

// A plain text table: header row, right-aligned numeric-looking cells, two-space gutters.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row);
  void add_separator();
  std::string str() const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;  // empty row = separator
};

}  // namespace scalelab
