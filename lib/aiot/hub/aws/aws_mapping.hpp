#pragma once
// How aiot's device model maps onto AWS IoT things (docs/aws.md has the user-facing version).
// Shared by the provider and by `aiot hub serve --api aws`, so both agree.
//
//   device id        <-> thing name ([a-zA-Z0-9:_-]{1,128}: stricter than IoT Hub ids)
//   tags             <-> thing attributes: nested objects flatten with '.', strings as they are,
//                        numbers and booleans as their JSON text (they read back as strings);
//                        names [a-zA-Z0-9_.,@/:#-]{1,128}, values [a-zA-Z0-9_.,@/:#=\[\]-]{1,800}
//                        (no spaces); 3 attributes on a thing without a thing type, 50 with one
//   enabled = false  <-> the reserved attribute "aiot:disabled" = "true" (and, in the provider,
//                        the thing's certificates set INACTIVE)
//   desired/reported <-> state.desired / state.reported of the named shadow "aiot" (the device
//                        contract's health lives in the separate named shadow "aiot-health")
//   twin etag        <-> "<thing version>.<shadow version>"
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "aiot/hub/hub.hpp"

namespace aiot::hub::aws {

inline constexpr std::string_view k_shadow_name = "aiot";
inline constexpr std::string_view k_health_shadow_name = "aiot-health";
inline constexpr std::string_view k_disabled_attribute = "aiot:disabled";
inline constexpr std::size_t k_max_attributes_untyped = 3;
inline constexpr std::size_t k_max_attributes_typed = 50;

std::optional<std::string> invalid_thing_name(std::string_view name);
std::optional<std::string> invalid_attribute_name(std::string_view name);
std::optional<std::string> invalid_attribute_value(std::string_view value);

// Tags -> attributes. Throws Error::usage naming the tag when it cannot be an attribute (arrays,
// null, empty strings, characters outside the patterns) or when there are more than `max_attributes`.
std::map<std::string, std::string> tags_to_attributes(const nlohmann::json& tags,
                                                      std::size_t max_attributes = k_max_attributes_typed);
// Attributes -> tags: reserved "aiot:" names skipped, dotted names nested (when a name is both a
// value and a prefix of others, the value wins and the others stay flat).
nlohmann::json attributes_to_tags(const std::map<std::string, std::string>& attributes);
// The attributes for a device: its tags plus the reserved ones.
std::map<std::string, std::string> device_attributes(const Device& device, std::size_t max_attributes);
// What the tags become after a round trip through attributes (what an import compares).
nlohmann::json canonical_tags(const nlohmann::json& tags);
bool is_disabled(const std::map<std::string, std::string>& attributes);

// A device from a thing and its "aiot" shadow: the one conversion behind get, list (shadow read per
// thing or taken from Fleet Indexing) and the rollout backend's members. `shadow_document` has
// GetThingShadow's shape ({"state": {"desired", "reported"}, "metadata", "version"}); null = the
// thing has no such shadow. `thing_version` is nullopt where the source has none (a Fleet Indexing
// answer): the device then has no etags. Auth is left `none` (certificates are a separate read).
Device device_from_thing(const std::string& name, const std::map<std::string, std::string>& attributes,
                         const nlohmann::json& shadow_document, const std::string& thing_id = {},
                         std::optional<std::int64_t> thing_version = std::nullopt);

std::string twin_etag(std::int64_t thing_version, std::int64_t shadow_version);
// Parses "<thing>.<shadow>"; nullopt when malformed.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_twin_etag(std::string_view etag);

}  // namespace aiot::hub::aws
