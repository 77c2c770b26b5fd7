#pragma once
// Rendering of command results (design.md §6): every command builds one JSON value and hands it
// here with a column spec. table: aligned with a header and colour on a TTY, tab-separated and
// plain when piped; json: pretty on a TTY, one compact line when piped; yaml; csv (RFC 4180).
//
// table, TTY: upper-case headers (bold with colour), two spaces between columns, the widest
//   column truncated with '…' first when a row exceeds io.width() (> 0), "-" for missing/null.
// table, piped: tab-separated with an upper-case header line, no colour or truncation, data as is
//   (RFC 3339 times), missing/null empty. Both table forms show control characters (tab, newline,
//   ESC...) as spaces, so one row is one line and device data cannot drive the terminal.
// csv: RFC 4180 quoting (fields with comma, quote, CR or LF are quoted, quotes doubled) but LF line
//   endings; the header row holds each column's `path`, not its display header, so an export can
//   be read back by path. ColumnKind::json fields are compact JSON text. No formula-injection
//   escaping: cells are the data, byte for byte.
// Cell values: strings as is, numbers as JSON, true/false, objects and arrays as compact JSON.
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "aiot/core/time.hpp"

namespace aiot {
class IOStreams;
}

namespace aiot::output {

enum class Format { table, json, yaml, csv };
std::optional<Format> parse_format(std::string_view s);
std::string_view to_string(Format f);

enum class ColumnKind {
  text,
  time,    // RFC 3339 in the data; relative ("3 hours ago") in a TTY table
  status,  // coloured on a TTY: enabled/succeeded/pass/ok/true green, disabled/failed/fail/error/rolled_back red, others yellow
  json,    // objects and arrays compactly ("{"site":"berlin"}"); in csv as JSON text
};

struct Column {
  std::string header;  // "ID"
  std::string path;    // dotted path into each row: "deviceId", "tags.site", "properties.reported.aiot.ota.version"
  ColumnKind kind = ColumnKind::text;
};

struct RenderOptions {
  Format format = Format::table;
  bool no_headers = false;
  TimePoint now{};  // for relative times
};

// `rows` is a JSON array of objects. table and csv use `columns`; json and yaml print `rows` whole.
void print_list(IOStreams& io, const nlohmann::json& rows, std::span<const Column> columns, const RenderOptions& opt);

// One object (device show): json/yaml whole; table and csv as FIELD/VALUE rows of the
// flattened object (nested keys dotted: tags.site; arrays as compact JSON), sorted by key; csv
// rows are `field,value` under that header.
void print_object(IOStreams& io, const nlohmann::json& object, const RenderOptions& opt);

// YAML text for a JSON value (yaml-cpp, block style), used by -o yaml and by config files. Ends
// with a newline. Strings (and keys) that a YAML reader would take for a null, boolean, number or
// date ("", "true", "yes", "2.0", "01", "2026-11-23") are double-quoted so they stay strings.
std::string to_yaml(const nlohmann::json& value);

// Looks up a dotted path of object keys ("tags.site"); nullptr when absent or when a step meets a
// non-object (arrays are not indexed). An empty path is the value itself.
const nlohmann::json* find_path(const nlohmann::json& value, std::string_view dotted);

// A progress bar on stderr, drawn only when stderr is a TTY and -q is not set; otherwise silent.
// `label [####................] 120/1000 12%`, drawn from construction and rewritten in place
// with '\r'. Redraws at most every 100 ms of `clock` (a monotonic clock when none is given);
// done() draws the final state, then clears the line; the destructor calls done().
class Progress {
 public:
  Progress(IOStreams& io, std::string label, std::size_t total, Clock clock = {});
  ~Progress();
  void advance(std::size_t n = 1);
  void done();

 private:
  void draw(bool force);
  IOStreams& io_;
  std::string label_;
  std::size_t total_;
  std::size_t current_ = 0;
  bool active_;
  bool finished_ = false;
  Clock clock_;
  TimePoint last_draw_{};
};

// ANSI colour helpers; no-ops when `on` is false.
std::string bold(std::string_view s, bool on);
std::string green(std::string_view s, bool on);
std::string red(std::string_view s, bool on);
std::string yellow(std::string_view s, bool on);
std::string dim(std::string_view s, bool on);

}  // namespace aiot::output
