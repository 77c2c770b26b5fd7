#pragma once
// Internal to the report metrics: the small RFC 4180 reader the billing, energy and intensity
// CSVs share. Not part of the metric API (metrics.hpp).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::report::detail {

struct CsvRow {
  std::size_t line = 0;  // 1-based line where the row starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::vector<std::string> header;  // trimmed, lower-cased; a UTF-8 BOM is dropped
  std::vector<CsvRow> rows;         // blank lines skipped

  // Index of a column by (lower-case) name.
  std::optional<std::size_t> column(std::string_view name) const;
  // Error::usage "source: missing column NAME" when absent.
  std::size_t require(std::string_view name, std::string_view source) const;
};

// RFC 4180: quoted fields may hold commas, doubled quotes and line breaks; CRLF or LF.
// Error::usage "source:line: …" on an unterminated quote or an empty input.
CsvTable parse_csv(std::string_view text, std::string_view source);

// The field at `index`, or "" when the row is short (trailing empty fields are often dropped).
std::string_view field(const CsvRow& row, std::optional<std::size_t> index);

// Locale-independent decimal; Error::usage "source:line: COLUMN: not a number: TEXT".
double parse_number(std::string_view text, std::string_view source, std::size_t line,
                    std::string_view column);

}  // namespace aiot::report::detail
