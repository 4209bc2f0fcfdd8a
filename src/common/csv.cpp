// Small state-machine CSV reader/writer.
#include "common/csv.h"

#include "common/error.h"
#include "common/file_util.h"

namespace scalelab::csv {

int Table::column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

Table parse(std::string_view text, std::string_view source) {
  Table t;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, field_started = false, row_has_content = false;
  size_t line = 1, row_line = 1;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_row = [&] {
    if (!row_has_content && row.size() == 1 && row[0].empty()) {
      row.clear();  // blank line
      return;
    }
    if (t.header.empty()) {
      SCALELAB_CHECK(!row.empty(), "{}: empty header", source);
      t.header = std::move(row);
    } else {
      SCALELAB_CHECK(row.size() == t.header.size(), "{}:{}: expected {} fields, found {}", source,
                     row_line, t.header.size(), row.size());
      t.rows.push_back(std::move(row));
      t.line_of_row.push_back(row_line);
    }
    row.clear();
    row_has_content = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    switch (c) {
      case '"':
        SCALELAB_CHECK(!field_started || field.empty(), "{}:{}: stray quote inside a field", source,
                       line);
        in_quotes = true;
        field_started = true;
        row_has_content = true;
        break;
      case ',':
        end_field();
        row_has_content = true;
        break;
      case '\r':
        break;
      case '\n':
        end_field();
        end_row();
        ++line;
        row_line = line;
        break;
      default:
        field.push_back(c);
        field_started = true;
        row_has_content = true;
    }
  }
  SCALELAB_CHECK(!in_quotes, "{}:{}: unterminated quoted field", source, row_line);
  if (field_started || !row.empty()) {
    end_field();
    end_row();
  }
  SCALELAB_CHECK(!t.header.empty(), "{}: empty file, expected a header row", source);
  return t;
}

Table read_file(const std::string& path) { return parse(read_text_file(path), path); }

std::string escape(std::string_view f) {
  if (f.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(f);
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

std::string format_row(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    out += escape(fields[i]);
  }
  return out + "\n";
}

std::string format(const Table& t) {
  std::string out = format_row(t.header);
  for (const auto& r : t.rows) out += format_row(r);
  return out;
}

}  // namespace scalelab::csv
