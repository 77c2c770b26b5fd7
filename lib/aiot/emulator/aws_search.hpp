#pragma once
// Fleet Indexing as `aiot hub serve --api aws` answers it (SearchIndex on AWS_Things): the query
// language of the AWS IoT developer guide ("Query syntax") over one JSON document per thing, and
// the `shadow` document the index returns for a local device. Pure functions, unit-tested without
// a server.
//
// The query subset: terms `field:value` (value case-insensitive, `*` and `?` wildcards anywhere,
// "quoted phrases", `\` escapes), `field:[lo TO hi]`, `field>v` / `>=` / `<` / `<=` (numbers
// compare as numbers), `field:*` (the field exists), a bare `*` (every thing), a bare value (any
// field), AND (also the default between terms), OR, NOT and a leading `-`, parentheses and field
// grouping `field:(a OR b)`. At most 12 terms and one leading wildcard, as AWS. Fields are the
// document's paths: thingName, thingId, thingTypeName, thingGroupNames, attributes.<name> (the
// rest of the path is the attribute's whole name, dots included), shadow.reported.x,
// shadow.name.<shadow>.reported.x ...
#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::emulator::aws {

using json = nlohmann::json;

// InvalidQueryException (HTTP 400) with this message.
class InvalidQuery : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ThingQuery {
 public:
  // Throws InvalidQuery.
  static ThingQuery parse(std::string_view text);

  ThingQuery(ThingQuery&&) noexcept;
  ThingQuery& operator=(ThingQuery&&) noexcept;
  ~ThingQuery();

  // `thing` is {thingName, thingId, thingTypeName, thingGroupNames: [...], attributes: {...}, shadow: {...}}.
  bool matches(const json& thing) const;

  // Group names (lower case) one of which every match belongs to directly, when the query says so
  // (a thingGroupNames term without wildcards at the top level of the AND, or an OR of such
  // terms): then only these groups' members need to be looked at. Empty: look at every thing.
  std::vector<std::string> candidate_groups() const;

  struct Node;

 private:
  explicit ThingQuery(std::unique_ptr<Node> root);
  std::unique_ptr<Node> root_;
};

// The distinct scalar values at a field of a thing's document (arrays fan out), as text: strings as
// they are, numbers and booleans as JSON ("12.5", "true"). What a terms aggregation counts.
std::vector<std::string> field_values(const json& thing, const std::string& field);

// Case-insensitive glob (`*` any run, `?` one character).
bool glob_match(std::string_view pattern, std::string_view text);

// A device-backed named shadow as the index shows it: {desired?, reported?, hasDelta, version}.
json index_shadow_entry(const json& desired, const json& reported, std::int64_t version);

// The `shadow` document of one thing in the index: the classic shadow's sections at the top (when
// there is one) and the named shadows under "name", as AWS returns it, e.g.
// {"name": {"aiot": {"desired": ..., "reported": ..., "hasDelta": true, "version": 7},
//           "aiot-health": {"reported": {...}, "hasDelta": false, "version": 7}}}.
// `named` maps shadow names ("" = classic) to entries made by index_shadow_entry. Null when empty.
json index_shadow(const std::map<std::string, json>& named);

// The named shadow "aiot-health" is the device's properties.reported.aiot.health: its state
// ({"reported": health}) or null when the device reports none.
json health_shadow_state(const json& device_reported);
// The reported patch of the device for an UpdateThingShadow of "aiot-health" whose
// state.reported is `shadow_reported` (a merge patch; null removes the health report).
json health_reported_patch(const json& shadow_reported);

}  // namespace aiot::emulator::aws
