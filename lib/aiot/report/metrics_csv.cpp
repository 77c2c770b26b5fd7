#include "aiot/report/metrics_csv.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::report::detail {

std::optional<std::size_t> CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) {
      return i;
    }
  }
  return std::nullopt;
}

std::size_t CsvTable::require(std::string_view name, std::string_view source) const {
  auto index = column(name);
  if (!index) {
    throw Error::usage(fmt::format("{}: missing column {}", source, name),
                       fmt::format("the header has: {}", str::join(header, ",")));
  }
  return *index;
}

CsvTable parse_csv(std::string_view text, std::string_view source) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  std::vector<CsvRow> records;
  CsvRow current;
  std::string field_text;
  std::size_t line = 1;
  current.line = 1;
  bool in_quotes = false;
  bool row_has_content = false;
  auto end_field = [&] {
    current.fields.push_back(std::move(field_text));
    field_text.clear();
  };
  auto end_row = [&](std::size_t next_line) {
    end_field();
    if (row_has_content) {
      records.push_back(std::move(current));
    }
    current = CsvRow{};
    current.line = next_line;
    row_has_content = false;
  };
  std::size_t quote_line = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field_text.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') {
          ++line;
        }
        field_text.push_back(c);
      }
      continue;
    }
    if (c == '"') {
      in_quotes = true;
      quote_line = line;
      row_has_content = true;
    } else if (c == ',') {
      end_field();
      row_has_content = true;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;  // the '\n' ends the row
    } else if (c == '\n') {
      ++line;
      end_row(line);
    } else {
      field_text.push_back(c);
      if (c != ' ' && c != '\t' && c != '\r') {
        row_has_content = true;
      }
    }
  }
  if (in_quotes) {
    throw Error::usage(fmt::format("{}:{}: unterminated quoted field", source, quote_line));
  }
  end_row(line);
  if (records.empty()) {
    throw Error::usage(fmt::format("{}: empty CSV (no header row)", source));
  }
  CsvTable table;
  for (auto& name : records.front().fields) {
    table.header.push_back(str::to_lower(str::trim(name)));
  }
  table.rows.assign(std::make_move_iterator(records.begin() + 1), std::make_move_iterator(records.end()));
  return table;
}

std::string_view field(const CsvRow& row, std::optional<std::size_t> index) {
  if (!index || *index >= row.fields.size()) {
    return {};
  }
  return str::trim(row.fields[*index]);
}

double parse_number(std::string_view text, std::string_view source, std::size_t line,
                    std::string_view column) {
  std::string_view t = str::trim(text);
  if (!t.empty() && t.front() == '+') {
    t.remove_prefix(1);
  }
  double value = 0.0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size() || !std::isfinite(value)) {
    throw Error::usage(fmt::format("{}:{}: {}: not a number: '{}'", source, line, column, text));
  }
  return value;
}

}  // namespace aiot::report::detail
