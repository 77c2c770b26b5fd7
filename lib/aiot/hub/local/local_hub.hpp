#pragma once
// The embedded local hub (design.md §4): a SQLite file in WAL mode with a busy timeout, so a cron
// job and a person can use it at once. It implements the same interfaces as the cloud providers.
#include <filesystem>
#include <memory>

#include "aiot/hub/hub.hpp"

namespace aiot::hub::local {

class LocalHub final : public Hub, public Registry {
 public:
  // Opens (creating it and its folder if needed) and migrates the store. Hub time comes from `clock`.
  LocalHub(const std::filesystem::path& path, Clock clock);
  ~LocalHub() override;

  Registry& registry() override { return *this; }
  std::string describe() const override;
  // The simulated clock when the hub has one (see set_sim_time), else the Context's clock.
  TimePoint now() override;

  Device create(const Device& d) override;
  std::vector<ImportResult> import(std::span<const Device> devices, ImportMode mode) override;
  Device get(std::string_view id) override;
  std::vector<Device> list(const ListOptions& options) override;
  std::vector<GroupCount> count_by(const std::string& where, const std::vector<std::string>& paths) override;
  Device update(const DeviceUpdate& update) override;
  void remove(std::string_view id, std::string_view if_match = {}) override;
  // One transaction for all updates.
  std::vector<ImportResult> update_many(std::span<const DeviceUpdate> updates) override;

  // The device side, played by the simulator: merge-patch properties.reported.
  Device patch_reported(std::string_view id, const json& patch);
  // Many devices' reports in one transaction (the simulator advancing a large fleet).
  void patch_reported_many(std::span<const std::pair<std::string, json>> patches);

  // A simulated hub keeps its own time in the file: every process using it sees the same clock.
  std::optional<TimePoint> sim_time();
  void set_sim_time(TimePoint t);

  int schema_version() const;
  static int latest_schema_version();
  const std::filesystem::path& path() const { return path_; }

  struct Db;  // the SQLite handle; defined in local_hub.cpp

 private:
  std::filesystem::path path_;
  Clock clock_;
  std::unique_ptr<Db> db_;
};

}  // namespace aiot::hub::local
