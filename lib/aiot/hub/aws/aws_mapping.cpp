#include "aiot/hub/aws/aws_mapping.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::hub::aws {

namespace {

using json = nlohmann::json;

bool alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::optional<char> first_outside(std::string_view s, std::string_view extra) {
  for (char c : s) {
    if (!alnum(c) && extra.find(c) == std::string_view::npos) {
      return c;
    }
  }
  return std::nullopt;
}

std::string describe_char(char c) {
  if (c == ' ') {
    return "a space";
  }
  if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
    return fmt::format("byte 0x{:02X}", static_cast<unsigned char>(c));
  }
  return fmt::format("'{}'", c);
}

void flatten(const json& value, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (value.is_object()) {
    if (value.empty() && !prefix.empty()) {
      throw Error::usage(fmt::format("tag '{}' is an empty object: AWS thing attributes cannot hold it", prefix));
    }
    for (const auto& [k, v] : value.items()) {
      flatten(v, prefix.empty() ? k : prefix + "." + k, out);
    }
    return;
  }
  std::string text;
  if (value.is_string()) {
    text = value.get<std::string>();
  } else if (value.is_number() || value.is_boolean()) {
    text = value.dump();
  } else {
    throw Error::usage(fmt::format("tag '{}' is {}: AWS thing attributes hold only strings, numbers and booleans",
                                   prefix, value.is_array() ? "an array" : "null"));
  }
  if (auto why = invalid_attribute_name(prefix)) {
    throw Error::usage(fmt::format("tag '{}': {}", prefix, *why));
  }
  if (text.empty()) {
    throw Error::usage(fmt::format("tag '{}' is empty: AWS removes attributes set to an empty value", prefix));
  }
  if (auto why = invalid_attribute_value(text)) {
    throw Error::usage(fmt::format("tag '{}' = '{}': {}", prefix, text, *why));
  }
  out[prefix] = text;
}

// The largest "timestamp" (epoch seconds) among a shadow's metadata leaves; 0 when none.
std::int64_t latest_timestamp(const json& metadata) {
  std::int64_t latest = 0;
  if (metadata.is_object()) {
    for (const auto& [k, v] : metadata.items()) {
      if (k == "timestamp" && v.is_number()) {
        latest = std::max(latest, v.get<std::int64_t>());
      } else {
        latest = std::max(latest, latest_timestamp(v));
      }
    }
  } else if (metadata.is_array()) {
    for (const auto& v : metadata) {
      latest = std::max(latest, latest_timestamp(v));
    }
  }
  return latest;
}

json state_section(const json& document, const char* section) {
  if (document.is_object() && document.contains("state") && document["state"].is_object() &&
      document["state"].contains(section) && document["state"][section].is_object()) {
    return document["state"][section];
  }
  return json::object();
}

}  // namespace

std::optional<std::string> invalid_thing_name(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return fmt::format("thing name '{}' must be 1 to 128 characters", name);
  }
  if (auto c = first_outside(name, ":_-")) {
    return fmt::format("thing name '{}' has {}: AWS IoT allows only letters, digits and : _ -", name,
                       describe_char(*c));
  }
  return std::nullopt;
}

std::optional<std::string> invalid_attribute_name(std::string_view name) {
  if (name.empty() || name.size() > 128) {
    return "an attribute name must be 1 to 128 characters";
  }
  if (auto c = first_outside(name, "_.,@/:#-")) {
    return fmt::format("an attribute name cannot have {} (AWS allows letters, digits and _ . , @ / : # -)",
                       describe_char(*c));
  }
  return std::nullopt;
}

std::optional<std::string> invalid_attribute_value(std::string_view value) {
  if (value.size() > 800) {
    return "an attribute value is at most 800 characters";
  }
  if (auto c = first_outside(value, "_.,@/:#=[]-")) {
    return fmt::format("an attribute value cannot have {} (AWS allows letters, digits and _ . , @ / : # = [ ] -)",
                       describe_char(*c));
  }
  return std::nullopt;
}

std::map<std::string, std::string> tags_to_attributes(const json& tags, std::size_t max_attributes) {
  std::map<std::string, std::string> out;
  if (tags.is_null()) {
    return out;
  }
  if (!tags.is_object()) {
    throw Error::usage("tags must be an object");
  }
  flatten(tags, "", out);
  for (const auto& [name, value] : out) {
    if (name.rfind("aiot:", 0) == 0) {
      throw Error::usage(fmt::format("tag '{}': names starting with 'aiot:' are reserved on AWS", name));
    }
  }
  if (out.size() > max_attributes) {
    throw Error::usage(
        fmt::format("{} tags make {} thing attributes; AWS IoT allows {} on this thing", tags.size(), out.size(),
                    max_attributes),
        max_attributes == k_max_attributes_untyped
            ? "Things without a thing type take 3 attributes; set AIOT_AWS_THING_TYPE to create things with a type (50)."
            : "Keep the other tags elsewhere (e.g. in the desired properties).");
  }
  return out;
}

json attributes_to_tags(const std::map<std::string, std::string>& attributes) {
  json tags = json::object();
  // Shorter names first, so "a" is placed before "a.b" asks for "a" to be an object.
  for (const auto& [name, value] : attributes) {
    if (name.rfind("aiot:", 0) == 0) {
      continue;
    }
    auto parts = str::split(name, '.');
    bool any_empty = false;
    for (const auto& p : parts) {
      any_empty |= p.empty();
    }
    json* node = &tags;
    bool placed = false;
    if (!any_empty) {
      for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        json& child = (*node)[parts[i]];
        if (child.is_null()) {
          child = json::object();
        }
        if (!child.is_object()) {
          node = nullptr;
          break;
        }
        node = &child;
      }
      if (node != nullptr && !node->contains(parts.back())) {
        (*node)[parts.back()] = value;
        placed = true;
      }
    }
    if (!placed) {
      tags[name] = value;  // a clash with a value of the same prefix: keep the flat name
    }
  }
  return tags;
}

std::map<std::string, std::string> device_attributes(const Device& device, std::size_t max_attributes) {
  std::size_t reserved = device.enabled ? 0 : 1;
  if (max_attributes <= reserved) {
    max_attributes = reserved + 1;
  }
  auto out = tags_to_attributes(device.tags, max_attributes - reserved);
  if (!device.enabled) {
    out[std::string(k_disabled_attribute)] = "true";
  }
  return out;
}

json canonical_tags(const json& tags) { return attributes_to_tags(tags_to_attributes(tags, SIZE_MAX)); }

bool is_disabled(const std::map<std::string, std::string>& attributes) {
  auto it = attributes.find(std::string(k_disabled_attribute));
  return it != attributes.end() && it->second == "true";
}

Device device_from_thing(const std::string& name, const std::map<std::string, std::string>& attributes,
                         const json& shadow_document, const std::string& thing_id,
                         std::optional<std::int64_t> thing_version) {
  Device d;
  d.id = name;
  d.enabled = !is_disabled(attributes);
  d.auth.type = AuthType::none;
  d.tags = attributes_to_tags(attributes);
  std::int64_t shadow_version = 0;
  if (shadow_document.is_object()) {
    d.desired = state_section(shadow_document, "desired");
    d.reported = state_section(shadow_document, "reported");
    if (shadow_document.contains("version") && shadow_document["version"].is_number_integer()) {
      shadow_version = shadow_document["version"].get<std::int64_t>();
    }
    // AWS keeps no times for things; the shadow's metadata says when its state last changed.
    if (auto latest = latest_timestamp(shadow_document.value("metadata", json::object())); latest > 0) {
      d.updated = TimePoint(std::chrono::seconds(latest));
    }
  }
  d.desired_version = shadow_version;
  d.reported_version = shadow_version;
  d.generation_id = thing_id;
  if (thing_version) {
    d.version = *thing_version + shadow_version;
    d.etag = std::to_string(*thing_version);
    d.twin_etag = twin_etag(*thing_version, shadow_version);
  }
  return d;
}

std::string twin_etag(std::int64_t thing_version, std::int64_t shadow_version) {
  return fmt::format("{}.{}", thing_version, shadow_version);
}

std::optional<std::pair<std::int64_t, std::int64_t>> parse_twin_etag(std::string_view etag) {
  auto dot = etag.find('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  std::int64_t a = 0, b = 0;
  auto ra = std::from_chars(etag.data(), etag.data() + dot, a);
  auto rb = std::from_chars(etag.data() + dot + 1, etag.data() + etag.size(), b);
  if (ra.ec != std::errc() || ra.ptr != etag.data() + dot || rb.ec != std::errc() ||
      rb.ptr != etag.data() + etag.size()) {
    return std::nullopt;
  }
  return std::pair{a, b};
}

}  // namespace aiot::hub::aws
