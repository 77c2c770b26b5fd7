#pragma once
// What `aiot hub serve --api aws` keeps beyond the local hub's devices: thing types, certificates,
// principals, policies, thing groups, shadows other than "aiot", jobs and their executions. Tables
// aws_* in the same SQLite file (CREATE TABLE IF NOT EXISTS), through a connection of its own.
// Not thread-safe: the emulator serialises requests around it and the LocalHub.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiot/emulator/aws_jobs.hpp"

namespace aiot::sqlite {
class Database;
class WriteTransaction;
}

namespace aiot::emulator::aws {

struct CertificateRow {
  std::string id;
  std::string pem;
  std::string status;  // ACTIVE, INACTIVE, REVOKED, ...
  std::int64_t created_ms = 0;
};

struct GroupRow {
  std::string name;
  std::string id;
  std::string description;
  json attributes = json::object();
  std::string parent;
  std::int64_t created_ms = 0;
  std::int64_t version = 1;
};

struct ShadowRow {
  json state = json::object();     // {"desired": ..., "reported": ...}
  json metadata = json::object();  // same shape, leaves {"timestamp": s}
  std::int64_t version = 0;
  std::int64_t updated_ms = 0;
};

class Store {
 public:
  explicit Store(const std::filesystem::path& hub_path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // A write transaction (BEGIN IMMEDIATE ... COMMIT) around several calls; rolled back unless committed.
  class Txn {
   public:
    explicit Txn(Store& s);
    ~Txn();
    void commit();

   private:
    std::unique_ptr<sqlite::WriteTransaction> txn_;  // the shared wrapper's (core/sqlite.hpp)
  };

  // Things' extra columns.
  std::string thing_type_of(const std::string& thing);
  void set_thing_type(const std::string& thing, const std::string& type);
  void forget_thing(const std::string& thing);  // type, principals, group memberships
  std::map<std::string, std::string> thing_types_by_thing();

  // Thing types.
  std::optional<std::int64_t> thing_type_created(const std::string& name);
  void create_thing_type(const std::string& name, const std::string& description, std::int64_t created_ms);

  // Certificates and principals.
  std::optional<CertificateRow> certificate(const std::string& id);
  void put_certificate(const CertificateRow& row);
  void delete_certificate(const std::string& id);
  std::vector<CertificateRow> certificates();
  void attach_principal(const std::string& thing, const std::string& principal);
  void detach_principal(const std::string& thing, const std::string& principal);
  std::vector<std::string> principals_of(const std::string& thing);
  std::vector<std::string> things_of_principal(const std::string& principal);

  // Policies.
  std::optional<std::pair<std::string, std::int64_t>> policy(const std::string& name);  // document, created
  void put_policy(const std::string& name, const std::string& document, std::int64_t created_ms);
  void delete_policy(const std::string& name);
  void attach_policy(const std::string& name, const std::string& target);
  void detach_policy(const std::string& name, const std::string& target);
  std::vector<std::string> policy_targets(const std::string& name);

  // Thing groups.
  std::optional<GroupRow> group(const std::string& name);
  void put_group(const GroupRow& row);
  void delete_group(const std::string& name);
  std::vector<GroupRow> groups();
  void add_member(const std::string& group, const std::string& thing);
  void remove_member(const std::string& group, const std::string& thing);
  std::vector<std::string> members(const std::string& group);
  std::vector<std::string> groups_of(const std::string& thing);

  // Shadows other than "aiot" ("" = the classic shadow).
  std::optional<ShadowRow> shadow(const std::string& thing, const std::string& name);
  void put_shadow(const std::string& thing, const std::string& name, const ShadowRow& row);
  void delete_shadow(const std::string& thing, const std::string& name);
  std::vector<std::string> shadow_names(const std::string& thing);

  std::map<std::string, ShadowRow> shadows_of(const std::string& thing);  // every stored shadow, by name

  // Jobs.
  std::optional<Job> job(const std::string& id);
  void put_job(const Job& job);  // the job row and all its executions
  void delete_job(const std::string& id);  // with its executions and deliveries
  std::vector<std::string> job_ids();

  // Deliveries: which executions handed their document to the device, and the desired
  // aiot.model the device had before (JSON text, "null" when none), to give it back on cancel.
  std::optional<std::string> delivery(const std::string& job_id, const std::string& thing);
  void put_delivery(const std::string& job_id, const std::string& thing, const std::string& previous_model);

  // Read-only views of the local hub's devices table (same file), cheaper than loading whole
  // devices when a job looks at thousands of them.
  std::vector<std::string> device_ids();  // sorted
  // Up to `limit` names in order after `after` ("" = from the start): every device's, or the
  // distinct members of `groups` (a page of a search reads a chunk, not the whole group or hub).
  std::vector<std::string> device_ids_after(const std::string& after, std::size_t limit);
  std::vector<std::string> members_after(const std::vector<std::string>& groups, const std::string& after,
                                         std::size_t limit);
  // properties.reported.aiot.ota of each thing that has one.
  std::map<std::string, json> ota_reports(const std::vector<std::string>& things);
  // properties.desired of a thing; nullopt when there is no such device.
  std::optional<json> device_desired(const std::string& thing);

 private:
  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace aiot::emulator::aws
