#pragma once
// The device query language, close to IoT Hub's:
//   tags.site = 'berlin' AND properties.reported.aiot.ota.version != '2.0'
//   deviceId IN ['a', 'b'] OR NOT IS_DEFINED(tags.ring)
// Either a bare condition or `SELECT * FROM devices [WHERE cond]`. One parsed tree is evaluated
// over twin JSON (hub::to_twin_json) and compiled to SQLite for the local engine; both agree.
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::hub::query {

struct Node;     // opaque parse tree
struct PathBox;  // opaque parsed path

class Query {
 public:
  Query();
  ~Query();
  Query(Query&&) noexcept;
  Query& operator=(Query&&) noexcept;

  // Throws aiot::Error (usage, exit 2) naming the 1-based column: "query:1:17: expected a value after '='".
  static Query parse(std::string_view text);

  bool empty() const;  // matches everything
  bool matches(const nlohmann::json& twin) const;
  // A SQL boolean expression over the local engine's devices table with `?` placeholders whose
  // values (text, integer, real, boolean (bind as INTEGER 0/1) or null, as JSON) are appended to `params` in order.
  std::string to_sql(std::vector<nlohmann::json>& params) const;
  // The condition re-printed in canonical form (for messages and provider requests).
  std::string to_string() const;

 private:
  std::unique_ptr<Node> root_;
};

// A string literal of the language: 'it''s' (quotes doubled, backslashes escaped).
std::string quote_literal(std::string_view s);

// A grouped count, the one aggregation IoT Hub's twin queries and the local engine share:
//   SELECT properties.reported.aiot.ota.state AS state, COUNT() AS n FROM devices
//   WHERE tags.ring = 'canary' GROUP BY properties.reported.aiot.ota.state
// Every selected path must be grouped by; COUNT() appears once. An alias defaults to the path's
// last name (COUNT(): "count"). Paths and the condition are kept in canonical form.
struct Aggregation {
  std::string where;                  // canonical condition, "" for every device
  std::vector<std::string> group_by;  // canonical paths, in GROUP BY order
  std::vector<std::string> aliases;   // the output name of each group_by path
  std::string count_alias = "count";
  // The query text a hub takes (and parse_aggregation reads back to the same Aggregation).
  std::string to_string() const;
};

// nullopt for `SELECT * ...` and bare conditions (Query::parse reads those); Error::usage with the
// column for a malformed aggregation.
std::optional<Aggregation> parse_aggregation(std::string_view text);

// A property path as the language spells it ("properties.reported.aiot.ota.version"), read from
// twin JSON and from the local engine's devices table.
class PropertyPath {
 public:
  PropertyPath();
  ~PropertyPath();
  PropertyPath(PropertyPath&&) noexcept;
  PropertyPath& operator=(PropertyPath&&) noexcept;
  // Error::usage naming the column, as Query::parse.
  static PropertyPath parse(std::string_view text);
  // The value in a twin (hub::to_twin_json's shape); nullptr when undefined there.
  const nlohmann::json* find(const nlohmann::json& twin) const;
  // Two SQL expressions over the devices table: the value's json_type() name (NULL when undefined)
  // and its json_extract() value, with placeholders appended to `params` in the order of
  // the expressions (type first).
  std::pair<std::string, std::string> to_sql(std::vector<nlohmann::json>& params) const;
  std::string to_string() const;
  // Its last name ("version"; "odd key" of tags['odd key']), an aggregation's default alias.
  std::string last_name() const;

 private:
  std::unique_ptr<PathBox> path_;
};

}  // namespace aiot::hub::query
