// RFC 4180 CSV: comma-separated, fields optionally double-quoted ("" escapes a quote), CRLF or LF.
// Errors name the source and 1-based line. Writing quotes only fields that need it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scalelab::csv {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // each row has header.size() cells
  std::vector<size_t> line_of_row;             // 1-based source line of each row (for messages)
  // Index of a column, or -1.
  int column(std::string_view name) const;
};

// Parses text with a header row. Throws "<source>:<line>: …" on a ragged row or unterminated quote.
Table parse(std::string_view text, std::string_view source);
Table read_file(const std::string& path);

std::string escape(std::string_view field);
std::string format_row(const std::vector<std::string>& fields);
std::string format(const Table& t);

}  // namespace scalelab::csv
