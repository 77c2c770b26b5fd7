#pragma once
// The device query language, close to IoT Hub's:
//   tags.site = 'berlin' AND properties.reported.aiot.ota.version != '2.0'
//   deviceId IN ['a', 'b'] OR NOT IS_DEFINED(tags.ring)
// Either a bare condition or `SELECT * FROM devices [WHERE cond]`. One parsed tree is evaluated
// over twin JSON (hub::to_twin_json) and compiled to SQLite for the local engine; both agree.
#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::hub::query {

struct Node;  // opaque parse tree

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

}  // namespace aiot::hub::query
