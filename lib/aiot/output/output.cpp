#include "aiot/output/output.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <map>
#include <ostream>
#include <vector>

#include "aiot/core/error.hpp"
#include "aiot/core/iostreams.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::output {

namespace {

using nlohmann::json;

constexpr std::string_view k_reset = "\x1b[0m";
constexpr std::string_view k_ellipsis = "…";
constexpr std::string_view k_missing_tty = "-";
constexpr std::size_t k_column_gap = 2;
// A truncated column keeps at least this many characters ("ab…"), so every column stays recognisable.
constexpr std::size_t k_min_truncated_width = 3;

std::string sgr(std::string_view code, std::string_view s, bool on) {
  if (!on) {
    return std::string(s);
  }
  std::string result = "\x1b[";
  result += code;
  result += 'm';
  result += s;
  result += k_reset;
  return result;
}

// Invalid UTF-8 in device data must not abort a listing, so it is replaced instead of throwing.
std::string compact_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// ---- cells -----------------------------------------------------------------------------------

enum class Tint { none, bold, green, red, yellow };

struct Cell {
  std::string text;
  Tint tint = Tint::none;
};

using Row = std::vector<Cell>;

// Text of a scalar or container for table and csv cells; nullopt for a missing value or null.
std::optional<std::string> value_text(const json* value) {
  if (value == nullptr || value->is_null()) {
    return std::nullopt;
  }
  if (value->is_string()) {
    return value->get<std::string>();
  }
  if (value->is_boolean()) {
    return value->get<bool>() ? "true" : "false";
  }
  return compact_json(*value);
}

Tint status_tint(std::string_view status) {
  static constexpr std::array<std::string_view, 5> k_good = {"enabled", "succeeded", "pass", "ok", "true"};
  static constexpr std::array<std::string_view, 5> k_bad = {"disabled", "failed", "fail", "error", "rolled_back"};
  auto lower = str::to_lower(status);
  if (std::find(k_good.begin(), k_good.end(), lower) != k_good.end()) {
    return Tint::green;
  }
  if (std::find(k_bad.begin(), k_bad.end(), lower) != k_bad.end()) {
    return Tint::red;
  }
  return Tint::yellow;
}

std::string paint(const Cell& cell, bool color) {
  switch (cell.tint) {
    case Tint::bold:
      return bold(cell.text, color);
    case Tint::green:
      return green(cell.text, color);
    case Tint::red:
      return red(cell.text, color);
    case Tint::yellow:
      return yellow(cell.text, color);
    case Tint::none:
      break;
  }
  return cell.text;
}

// Control characters would break a row across lines or, on a terminal, inject escape sequences
// from device data; tables show them as spaces (json/yaml/csv keep them).
std::string one_line(std::string text) {
  for (char& c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      c = ' ';
    }
  }
  return text;
}

// Display width as a count of UTF-8 code points: good enough for the Latin and symbol text
// device data holds; East Asian wide characters are not measured as two.
std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

// The first `count` code points of `s`.
std::string_view take_code_points(std::string_view s, std::size_t count) {
  std::size_t seen = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == count) {
        return s.substr(0, i);
      }
      ++seen;
    }
  }
  return s;
}

std::string truncate_to(const std::string& s, std::size_t width) {
  if (display_width(s) <= width) {
    return s;
  }
  if (width == 0) {
    return {};
  }
  return std::string(take_code_points(s, width - 1)) + std::string(k_ellipsis);
}

// Shrinks the widest column one character at a time until the row fits `max_width`
// (gh's tableprinter): narrow columns such as IDs and states stay whole as long as possible.
void fit_widths(std::vector<std::size_t>& widths, int max_width) {
  if (max_width <= 0 || widths.empty()) {
    return;
  }
  std::size_t total = k_column_gap * (widths.size() - 1);
  for (auto w : widths) {
    total += w;
  }
  auto limit = static_cast<std::size_t>(max_width);
  while (total > limit) {
    // Among equally wide columns the rightmost goes first: identifiers usually lead.
    std::size_t widest = 0;
    for (std::size_t i = 1; i < widths.size(); ++i) {
      if (widths[i] >= widths[widest]) {
        widest = i;
      }
    }
    if (widths[widest] <= k_min_truncated_width) {
      return;  // nothing left to give: let the terminal wrap rather than hide every column
    }
    --widths[widest];
    --total;
  }
}

// Aligned columns for a terminal; padding is written lazily so lines carry no trailing blanks.
void write_aligned(std::ostream& out, const std::vector<std::string>* headers, const std::vector<Row>& rows,
                   std::size_t column_count, int max_width, bool color) {
  std::vector<std::size_t> widths(column_count, 0);
  if (headers != nullptr) {
    for (std::size_t i = 0; i < column_count; ++i) {
      widths[i] = display_width((*headers)[i]);
    }
  }
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < column_count; ++i) {
      widths[i] = std::max(widths[i], display_width(row[i].text));
    }
  }
  fit_widths(widths, max_width);

  auto write_line = [&](const std::vector<Cell>& cells) {
    std::size_t pending_pad = 0;
    std::string line;
    for (std::size_t i = 0; i < column_count; ++i) {
      Cell shown{truncate_to(cells[i].text, widths[i]), cells[i].tint};
      if (!shown.text.empty()) {
        line.append(pending_pad, ' ');
        pending_pad = 0;
        line += paint(shown, color);
      }
      pending_pad += widths[i] - display_width(shown.text) + k_column_gap;
    }
    line += '\n';
    out << line;
  };

  if (headers != nullptr) {
    std::vector<Cell> header_cells;
    for (const auto& h : *headers) {
      header_cells.push_back({h, Tint::bold});
    }
    write_line(header_cells);
  }
  for (const auto& row : rows) {
    write_line(row);
  }
}

void write_tab_separated(std::ostream& out, const std::vector<std::string>* headers, const std::vector<Row>& rows) {
  auto write_fields = [&out](const auto& fields, auto text_of) {
    std::string line;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (i > 0) {
        line += '\t';
      }
      line += text_of(fields[i]);
    }
    line += '\n';
    out << line;
  };
  if (headers != nullptr) {
    write_fields(*headers, [](const std::string& h) { return h; });
  }
  for (const auto& row : rows) {
    write_fields(row, [](const Cell& c) { return c.text; });
  }
}

// RFC 4180 field: quoted when it holds a comma, quote, CR or LF; inner quotes doubled.
std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(s);
  }
  std::string quoted = "\"";
  for (char c : s) {
    if (c == '"') {
      quoted += '"';
    }
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

void write_csv_line(std::ostream& out, const std::vector<std::string>& fields) {
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      line += ',';
    }
    line += csv_field(fields[i]);
  }
  line += '\n';
  out << line;
}

void write_json(IOStreams& io, const json& value) {
  // Pretty for people, one line for pipes (jq, grep, line-oriented logs).
  int indent = io.out_tty() ? 2 : -1;
  io.out() << value.dump(indent, ' ', false, json::error_handler_t::replace) << '\n';
}

// A table cell on a terminal: relative times, coloured states, "-" for missing values.
Cell tty_cell(const json* value, const Column& column, const RenderOptions& opt) {
  auto text = value_text(value);
  if (!text) {
    return {std::string(k_missing_tty), Tint::none};
  }
  switch (column.kind) {
    case ColumnKind::time:
      if (auto t = parse_rfc3339(*text)) {
        return {format_relative(*t, opt.now), Tint::none};
      }
      break;
    case ColumnKind::status:
      return {one_line(*text), status_tint(*text)};
    case ColumnKind::text:
    case ColumnKind::json:
      break;
  }
  return {one_line(*text), Tint::none};
}

// A table cell for a pipe: the data as it is (RFC 3339 times), empty for missing values.
Cell piped_cell(const json* value) {
  return {one_line(value_text(value).value_or("")), Tint::none};
}

std::string csv_cell(const json* value, const Column& column) {
  if (value == nullptr || value->is_null()) {
    return {};
  }
  if (column.kind == ColumnKind::json) {
    return compact_json(*value);  // strings keep their quotes so the field re-parses as JSON
  }
  return value_text(value).value_or("");
}

// Rows of a list: an array as is, a lone object as one row, null as none.
std::vector<const json*> list_items(const json& rows) {
  std::vector<const json*> items;
  if (rows.is_array()) {
    for (const auto& row : rows) {
      items.push_back(&row);
    }
  } else if (!rows.is_null()) {
    items.push_back(&rows);
  }
  return items;
}

void flatten_into(const json& value, const std::string& prefix, std::map<std::string, const json*>& fields) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) {
      flatten_into(child, prefix.empty() ? key : prefix + "." + key, fields);
    }
    return;
  }
  fields[prefix.empty() ? std::string("value") : prefix] = &value;
}

// ---- YAML ------------------------------------------------------------------------------------

bool starts_like_number(std::string_view s) {
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    s.remove_prefix(1);
  }
  if (s.empty()) {
    return false;
  }
  if (s.front() >= '0' && s.front() <= '9') {
    return true;
  }
  return s.size() >= 2 && s[0] == '.' && s[1] >= '0' && s[1] <= '9';
}

// Plain scalars that a YAML 1.1 or 1.2 reader (PyYAML, Go yaml, yaml-cpp's as<bool>) would take
// for a null, boolean, number or date. yaml-cpp 0.7 leaves "2.0", "true" and "01" plain, so those
// are double-quoted here to come back as strings. Anything starting with a digit is quoted:
// covers ints, floats, octal, sexagesimal and timestamps at the cost of quoting "3rd floor".
bool needs_quotes(std::string_view s) {
  static constexpr std::array<std::string_view, 36> k_reserved = {
      "~",     "null",  "Null",  "NULL",  "y",     "Y",    "yes",  "Yes",  "YES",   "n",     "N",    "no",
      "No",    "NO",    "true",  "True",  "TRUE",  "false", "False", "FALSE", "on",   "On",    "ON",   "off",
      "Off",   "OFF",   ".inf",  ".Inf",  ".INF",  "-.inf", "+.inf", ".nan", ".NaN", ".NAN", "=",    "<<"};
  if (s.empty() || starts_like_number(s)) {
    return true;
  }
  return std::find(k_reserved.begin(), k_reserved.end(), s) != k_reserved.end();
}

void emit_string(YAML::Emitter& e, const std::string& s) {
  if (needs_quotes(s)) {
    e << YAML::DoubleQuoted << s;
  } else {
    e << s;
  }
}

void emit_yaml(YAML::Emitter& e, const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      if (value.empty()) {
        e << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      e << YAML::BeginMap;
      for (const auto& [key, child] : value.items()) {
        e << YAML::Key;
        emit_string(e, key);
        e << YAML::Value;
        emit_yaml(e, child);
      }
      e << YAML::EndMap;
      return;
    case json::value_t::array:
      if (value.empty()) {
        e << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      e << YAML::BeginSeq;
      for (const auto& child : value) {
        emit_yaml(e, child);
      }
      e << YAML::EndSeq;
      return;
    case json::value_t::string:
      emit_string(e, value.get<std::string>());
      return;
    case json::value_t::boolean:
      e << value.get<bool>();
      return;
    case json::value_t::null:
    case json::value_t::discarded:
      e << YAML::Null;
      return;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
    case json::value_t::binary:
      // nlohmann's number text is shortest round-trip and always valid YAML.
      e << compact_json(value);
      return;
  }
}

}  // namespace

// ---- public API ------------------------------------------------------------------------------

std::optional<Format> parse_format(std::string_view s) {
  auto lower = str::to_lower(str::trim(s));
  if (lower == "table") {
    return Format::table;
  }
  if (lower == "json") {
    return Format::json;
  }
  if (lower == "yaml" || lower == "yml") {
    return Format::yaml;
  }
  if (lower == "csv") {
    return Format::csv;
  }
  return std::nullopt;
}

std::string_view to_string(Format f) {
  switch (f) {
    case Format::table:
      return "table";
    case Format::json:
      return "json";
    case Format::yaml:
      return "yaml";
    case Format::csv:
      return "csv";
  }
  return "table";
}

const json* find_path(const json& value, std::string_view dotted) {
  const json* current = &value;
  if (dotted.empty()) {
    return current;
  }
  std::size_t start = 0;
  while (true) {
    auto dot = dotted.find('.', start);
    auto segment = dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!current->is_object()) {
      return nullptr;
    }
    auto it = current->find(segment);
    if (it == current->end()) {
      return nullptr;
    }
    current = &*it;
    if (dot == std::string_view::npos) {
      return current;
    }
    start = dot + 1;
  }
}

void print_list(IOStreams& io, const json& rows, std::span<const Column> columns, const RenderOptions& opt) {
  auto items = list_items(rows);
  std::ostream& out = io.out();
  switch (opt.format) {
    case Format::json:
      write_json(io, rows);
      return;
    case Format::yaml:
      out << to_yaml(rows);
      return;
    case Format::csv: {
      if (!opt.no_headers) {
        // The dotted paths, not the display headers, so a spreadsheet export can be read back.
        std::vector<std::string> header;
        for (const auto& c : columns) {
          header.push_back(c.path);
        }
        write_csv_line(out, header);
      }
      for (const json* item : items) {
        std::vector<std::string> fields;
        for (const auto& c : columns) {
          fields.push_back(csv_cell(find_path(*item, c.path), c));
        }
        write_csv_line(out, fields);
      }
      return;
    }
    case Format::table:
      break;
  }

  std::vector<std::string> headers;
  for (const auto& c : columns) {
    headers.push_back(one_line(str::to_upper(c.header)));
  }
  const auto* header_line = opt.no_headers ? nullptr : &headers;
  std::vector<Row> table;
  bool tty = io.out_tty();
  for (const json* item : items) {
    Row row;
    for (const auto& c : columns) {
      const json* value = find_path(*item, c.path);
      row.push_back(tty ? tty_cell(value, c, opt) : piped_cell(value));
    }
    table.push_back(std::move(row));
  }
  if (tty) {
    write_aligned(out, header_line, table, columns.size(), io.width(), io.color_out());
  } else {
    write_tab_separated(out, header_line, table);
  }
}

void print_object(IOStreams& io, const json& object, const RenderOptions& opt) {
  if (opt.format == Format::json) {
    write_json(io, object);
    return;
  }
  if (opt.format == Format::yaml) {
    io.out() << to_yaml(object);
    return;
  }
  std::map<std::string, const json*> fields;  // std::map: sorted by the dotted key
  flatten_into(object, "", fields);

  if (opt.format == Format::csv) {
    if (!opt.no_headers) {
      write_csv_line(io.out(), {"field", "value"});
    }
    for (const auto& [key, value] : fields) {
      write_csv_line(io.out(), {key, value_text(value).value_or("")});
    }
    return;
  }

  bool tty = io.out_tty();
  std::vector<std::string> headers = {"FIELD", "VALUE"};
  std::vector<Row> table;
  for (const auto& [key, value] : fields) {
    auto text = value_text(value);
    std::string shown = text ? one_line(*text) : (tty ? std::string(k_missing_tty) : std::string());
    table.push_back({{one_line(key), Tint::none}, {std::move(shown), Tint::none}});
  }
  const auto* header_line = opt.no_headers ? nullptr : &headers;
  if (tty) {
    write_aligned(io.out(), header_line, table, 2, io.width(), io.color_out());
  } else {
    write_tab_separated(io.out(), header_line, table);
  }
}

std::string to_yaml(const json& value) {
  YAML::Emitter emitter;
  emitter.SetNullFormat(YAML::LowerNull);
  emitter.SetIndent(2);
  emit_yaml(emitter, value);
  if (!emitter.good()) {
    // Half a document would be worse than none (config files are written from this text).
    throw Error::failure("cannot render YAML: " + emitter.GetLastError());
  }
  std::string text = emitter.c_str();
  text += '\n';
  return text;
}

std::string bold(std::string_view s, bool on) {
  return sgr("1", s, on);
}
std::string green(std::string_view s, bool on) {
  return sgr("32", s, on);
}
std::string red(std::string_view s, bool on) {
  return sgr("31", s, on);
}
std::string yellow(std::string_view s, bool on) {
  return sgr("33", s, on);
}
std::string dim(std::string_view s, bool on) {
  return sgr("2", s, on);
}

}  // namespace aiot::output
