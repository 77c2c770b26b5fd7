#pragma once
// The Azure emulator's configurations (automatic device management): kept in a table of their own,
// azure_configurations, created by the emulator in the local hub's SQLite file (the LocalHub schema
// is not touched), so they survive a restart like the devices do. Private to the emulator.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiot/core/time.hpp"
#include "aiot/hub/azure/azure_client.hpp"
#include "aiot/hub/local/local_hub.hpp"

namespace aiot::emulator::azure {

using hub::azure::Configuration;

// A wire-level refusal: the HTTP status, the IoT Hub error code (0 = none known) and name.
struct ConfigError {
  int status;
  int code;
  std::string name;
  std::string message;
};

// The query of a custom metric ("SELECT deviceId FROM devices WHERE ...") as a device condition
// for hub::query; nullopt with `error` set when the language does not cover it.
std::optional<std::string> metric_condition(const std::string& metric_query, std::string& error);
// "" when `target` ("*", "" or a condition) parses, else the parser's message.
std::string target_condition_error(const std::string& target);

class ConfigurationStore {
 public:
  // Opens its own connection to the hub file and creates the table if it is missing.
  explicit ConfigurationStore(const std::filesystem::path& hub_file);
  ~ConfigurationStore();

  // PUT /configurations/{id}: create (if_match empty) or update. Throws ConfigError.
  Configuration put(const std::string& id, const nlohmann::json& body, const std::string& if_match, TimePoint now);
  std::optional<Configuration> get(const std::string& id);
  std::vector<Configuration> list(std::size_t top);
  // Throws ConfigError (404 / 412).
  void remove(const std::string& id, const std::string& if_match);

  // Writes each configuration's deviceContent into the desired properties of the devices it
  // targets (highest priority wins per property; on a tie the newest), as IoT Hub's evaluation
  // does; never removes values. Then fills in systemMetrics (targetedCount, appliedCount) and the
  // custom metrics' results of `configs`.
  void apply_and_measure(hub::local::LocalHub& hub, std::vector<Configuration>& configs);

 private:
  struct Db;
  std::unique_ptr<Db> db_;
};

}  // namespace aiot::emulator::azure
