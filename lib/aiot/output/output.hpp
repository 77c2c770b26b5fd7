#pragma once
// Rendering of command results (design.md §6): every command builds one JSON value and hands it
// here with a column spec. table: aligned with a header and colour on a TTY, tab-separated and
// plain when piped; json: pretty on a TTY, one compact line when piped; yaml; csv (RFC 4180).
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
  status,  // coloured on a TTY: enabled/succeeded/pass green, disabled/failed/fail red, others yellow
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
// flattened object (nested keys dotted: tags.site), in key order.
void print_object(IOStreams& io, const nlohmann::json& object, const RenderOptions& opt);

// YAML text for a JSON value (yaml-cpp), used by -o yaml and by config files.
std::string to_yaml(const nlohmann::json& value);

// Looks up a dotted path; nullptr when absent.
const nlohmann::json* find_path(const nlohmann::json& value, std::string_view dotted);

// A progress bar on stderr, drawn only when stderr is a TTY and -q is not set; otherwise silent.
// Redraws at most every 100 ms; done() clears the line.
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
