#include "aiot/rollout/aws_backend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/hub/aws/aws_mapping.hpp"

namespace aiot::rollout::aws {

namespace {
json object_or_empty(const json& j, const char* key) {
  if (j.is_object() && j.contains(key) && j[key].is_object()) return j[key];
  return json::object();
}
}  // namespace

std::string wave_group(const std::string& rollout, const std::string& wave) { return "aiot-" + rollout + "_w_" + wave; }

std::string control_group(const std::string& rollout, std::size_t wave_index) {
  return fmt::format("aiot-{}_c_{}", rollout, wave_index);
}

std::string selector_group(const std::string& rollout, const MemberSelector& selector) {
  switch (selector.kind) {
    case MemberSelector::Kind::wave: return wave_group(rollout, selector.wave);
    case MemberSelector::Kind::control: return control_group(rollout, selector.wave_index);
    case MemberSelector::Kind::all: break;
  }
  return {};
}

std::string job_id(const std::string& rollout, const std::string& tag, const std::string& version,
                   const std::string& salt) {
  std::string digest = crypto::sha256_hex(rollout + "/" + tag + "/" + version + "/" + salt);
  return fmt::format("aiot-{}-{}-{}", rollout.substr(0, 32), tag.substr(0, 8), digest.substr(0, 10));
}

json job_document(const json& model) {
  return {{"operation", std::string(k_install_operation)}, {"aiot", {{"model", model}}}};
}

json abort_config(const AbortBackstop& backstop) {
  // thresholdPercentage takes two decimal places; AWS compares FAILED executions / executed ones.
  double percent = std::round(std::clamp(backstop.failure_above, 0.0, 1.0) * 10000.0) / 100.0;
  return {{"criteriaList", json::array({{{"failureType", "FAILED"},
                                         {"action", "CANCEL"},
                                         {"thresholdPercentage", percent},
                                         {"minNumberOfExecutedThings", std::max<std::int64_t>(1, backstop.min_samples)}}})}};
}

hub::aws::JobSpec wave_job(const std::string& id, const std::vector<std::string>& group_arns, const json& model,
                           double per_minute, std::chrono::milliseconds install_timeout,
                           const std::optional<AbortBackstop>& abort, const std::string& description) {
  hub::aws::JobSpec spec;
  spec.job_id = id;
  spec.targets = group_arns;
  spec.document = job_document(model);
  spec.description = description;
  spec.target_selection = "SNAPSHOT";
  if (per_minute > 0) {
    // AWS takes 1..1000 a minute; a slower rate cannot be said, a faster one is AWS's default anyway.
    spec.rollout_config = {{"maximumPerMinute", max_per_minute(per_minute)}};
  }
  if (install_timeout.count() > 0) {
    auto minutes = (install_timeout.count() + 59'999) / 60'000;
    spec.timeout_config = {{"inProgressTimeoutInMinutes", std::clamp<std::int64_t>(minutes, 1, 10080)}};
  }
  if (abort) spec.abort_config = abort_config(*abort);
  return spec;
}

std::int64_t max_per_minute(double per_minute) {
  if (per_minute <= 0) return 1000;  // AWS's default
  return static_cast<std::int64_t>(std::clamp(std::floor(per_minute), 1.0, 1000.0));
}

std::chrono::milliseconds notify_span(std::size_t devices, double per_minute) {
  if (devices == 0) return std::chrono::milliseconds(0);
  auto rate = static_cast<std::size_t>(max_per_minute(per_minute));
  return std::chrono::minutes((devices + rate - 1) / rate - 1);
}

json record_shadow_state(const json& record) { return {{"reported", {{"record", record.dump()}}}}; }

std::optional<json> record_from_shadow(const json& shadow_document) {
  auto reported = object_or_empty(object_or_empty(shadow_document, "state"), "reported");
  if (!reported.contains("record") || !reported["record"].is_string()) return std::nullopt;
  auto parsed = json::parse(reported["record"].get<std::string>(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object())
    throw Error::failure("the rollout record in the aiot-rollout shadow is not a JSON object",
                         "Someone wrote the shadow by hand; restore it or start the rollout under a new name.");
  return parsed;
}

json JobEntry::to_json() const {
  json j = {{"id", id}, {"kind", kind}, {"groups", groups}, {"model", model}};
  if (wave >= 0) j["wave"] = wave;
  return j;
}

JobEntry JobEntry::from_json(const json& j) {
  JobEntry e;
  e.id = j.value("id", std::string());
  e.kind = j.value("kind", std::string("wave"));
  e.wave = j.value("wave", std::int64_t{-1});
  if (j.contains("groups") && j["groups"].is_array())
    for (const auto& g : j["groups"])
      if (g.is_string()) e.groups.push_back(g.get<std::string>());
  e.model = j.value("model", json());
  return e;
}

std::vector<JobEntry> jobs_from_shadow(const json& shadow_document) {
  std::vector<JobEntry> out;
  auto reported = object_or_empty(object_or_empty(shadow_document, "state"), "reported");
  if (!reported.contains("jobs") || !reported["jobs"].is_array()) return out;
  for (const auto& j : reported["jobs"])
    if (j.is_object() && j.contains("id")) out.push_back(JobEntry::from_json(j));
  return out;
}

json jobs_shadow_state(const std::vector<JobEntry>& jobs) {
  json list = json::array();
  for (const auto& j : jobs) list.push_back(j.to_json());
  return {{"reported", {{"jobs", list}}}};
}

ExecutionEffect execution_effect(std::string_view status) {
  if (status == "QUEUED" || status == "IN_PROGRESS") return ExecutionEffect::installing;
  if (status == "SUCCEEDED") return ExecutionEffect::succeeded;
  if (status == "FAILED" || status == "REJECTED") return ExecutionEffect::failed;
  if (status == "TIMED_OUT") return ExecutionEffect::timed_out;
  return ExecutionEffect::none;  // CANCELED, REMOVED: the device was never asked to install
}

void apply_execution(hub::Device& device, ExecutionEffect effect, const json& model, std::optional<TimePoint> at) {
  if (effect == ExecutionEffect::none || !model.is_object()) return;
  const std::string version = model.value("version", std::string());
  if (!device.desired.is_object()) device.desired = json::object();
  if (!device.desired["aiot"].is_object()) device.desired["aiot"] = json::object();
  device.desired["aiot"]["model"] = model;

  if (!device.reported.is_object()) device.reported = json::object();
  if (!device.reported["aiot"].is_object()) device.reported["aiot"] = json::object();
  auto& aiot = device.reported["aiot"];
  const json ota = aiot.contains("ota") && aiot["ota"].is_object() ? aiot["ota"] : json::object();
  const std::string reported_state = ota.value("state", std::string());
  const bool same_version = ota.value("version", std::string()) == version;
  const char* state = effect == ExecutionEffect::installing ? "installing"
                      : effect == ExecutionEffect::succeeded ? "succeeded"
                      : effect == ExecutionEffect::timed_out ? "timed_out"
                                                              : "failed";
  // The device's own report of this version is newer than a queued execution (it reports the end
  // of the install before the job engine records it) and as new as a finished one: keep it.
  bool keep = same_version && (effect == ExecutionEffect::installing || reported_state == state);
  if (keep) return;
  json updated = {{"state", state}, {"version", version}};
  if (at) updated["ts"] = format_rfc3339(*at);
  aiot["ota"] = std::move(updated);
}

hub::Device device_from_index(const std::string& name, const std::map<std::string, std::string>& attributes,
                              const json& aiot_state, const json& health_state) {
  // The provider's conversion (aws_mapping), so members and `device list` read a thing alike.
  hub::Device d = hub::aws::device_from_thing(name, attributes,
                                              aiot_state.is_object() ? json{{"state", aiot_state}} : json(nullptr));
  if (health_state.is_object() && health_state.contains("reported") && health_state["reported"].is_object() &&
      !health_state["reported"].empty()) {
    if (!d.reported["aiot"].is_object()) d.reported["aiot"] = json::object();
    d.reported["aiot"]["health"] = health_state["reported"];
  }
  return d;
}

std::string thing_of_arn(std::string_view arn) {
  auto at = arn.rfind("thing/");
  if (at == std::string_view::npos) return std::string(arn);
  return std::string(arn.substr(at + 6));
}

std::optional<TimePoint> aws_time(const json& value) {
  if (!value.is_number()) return std::nullopt;
  auto ms = static_cast<std::int64_t>(std::llround(value.get<double>() * 1000.0));
  return TimePoint(std::chrono::milliseconds(ms));
}

}  // namespace aiot::rollout::aws

namespace aiot::rollout {

namespace {

namespace ra = aiot::rollout::aws;
using hub::aws::AwsClient;
const std::string k_controller_prefix = controller_device_id("");

bool is_reason(const Error& e, Reason r) { return e.reason() == r; }

class AwsRolloutBackend final : public Backend {
 public:
  explicit AwsRolloutBackend(AwsClient& client) : client_(client) {}

  std::optional<Record> read(const std::string& rollout) override {
    auto shadow = client_.get_shadow(controller_device_id(rollout), std::string(ra::k_record_shadow));
    if (!shadow) return std::nullopt;
    auto record = ra::record_from_shadow(shadow->document);
    if (!record) return std::nullopt;
    return Record{std::move(*record), std::to_string(shadow->version)};
  }

  std::string write(const std::string& rollout, const json& state, const std::string& if_etag) override {
    const std::string thing = controller_device_id(rollout);
    std::optional<std::int64_t> expected;
    if (if_etag.empty()) {
      ensure_controller_thing(thing);
      if (auto existing = client_.get_shadow(thing, std::string(ra::k_record_shadow))) {
        if (ra::record_from_shadow(existing->document))
          throw Error::conflict(fmt::format("rollout {} already exists in this hub", rollout),
                                "See it with 'aiot rollout status'.");
        expected = existing->version;
      }
      // A shadow that does not exist yet has no version to check: AWS would refuse one.
    } else {
      try {
        expected = std::stoll(if_etag);
      } catch (const std::exception&) {
        throw Error::precondition(fmt::format("'{}' is not a shadow version", if_etag));
      }
    }
    try {
      auto written = client_.update_shadow(thing, std::string(ra::k_record_shadow), ra::record_shadow_state(state), expected);
      return std::to_string(written.version);
    } catch (const Error& e) {
      if (!is_reason(e, Reason::precondition_failed)) throw;
      throw Error::precondition(fmt::format("rollout {} was changed by another driver", rollout),
                                "Another aiot is driving it; see 'aiot rollout status'.");
    }
  }

  std::vector<std::string> rollouts() override {
    std::vector<std::string> names;
    std::string token;
    do {
      auto page = client_.list_things_with_attribute(std::string(ra::k_controller_attribute), "true", token);
      for (const auto& t : page.things)
        if (t.name.rfind(k_controller_prefix, 0) == 0) names.push_back(t.name.substr(k_controller_prefix.size()));
      token = page.next_token;
    } while (!token.empty());
    std::sort(names.begin(), names.end());
    return names;
  }

  void assign(const std::string& rollout, const std::vector<Assignment>& assignments) override {
    // Groups first (CreateThingGroup with the same description is idempotent), then every
    // membership concurrently (adding a thing twice changes nothing).
    std::map<std::string, std::vector<std::string>> members;  // group -> things
    for (const auto& a : assignments) {
      if (!a.wave.empty()) members[ra::wave_group(rollout, a.wave)].push_back(a.device);
      for (auto k : a.control_for) members[ra::control_group(rollout, k)].push_back(a.device);
    }
    std::vector<http::Request> adds;
    for (const auto& [group, things] : members) {
      client_.create_thing_group(group, "aiot rollout " + rollout);
      for (const auto& t : things) adds.push_back(client_.add_thing_to_thing_group_request(group, t));
    }
    check_all(client_.call_all(std::move(adds), "AddThingToThingGroup"), "AddThingToThingGroup");
  }

  std::vector<hub::Device> members(const std::string& rollout, const MemberSelector& selector) override {
    std::vector<std::string> groups;
    if (selector.kind == MemberSelector::Kind::all) {
      groups = all_groups(rollout);
    } else {
      groups.push_back(ra::selector_group(rollout, selector));
    }
    // Fleet Indexing: one query a group, pages of things with attributes, groups and shadows.
    std::map<std::string, hub::Device> devices;
    std::set<std::string> seen_groups(groups.begin(), groups.end());
    for (const auto& group : groups) {
      for (const auto& t : client_.search_all("thingGroupNames:" + group)) {
        if (devices.count(t.name)) continue;
        devices.emplace(t.name, ra::device_from_index(t.name, t.attributes,
                                                      AwsClient::named_shadow_state(t, std::string(hub::aws::k_shadow_name)),
                                                      AwsClient::named_shadow_state(t, std::string(hub::aws::k_health_shadow_name))));
        seen_groups.insert(t.groups.begin(), t.groups.end());
      }
    }
    if (!devices.empty()) overlay_executions(rollout, seen_groups, devices);
    std::vector<hub::Device> out;
    out.reserve(devices.size());
    for (auto& [name, d] : devices) out.push_back(std::move(d));
    return out;
  }

  // Fleet Indexing aggregations and the wave job's own counters: per arm one GetBucketsAggregation
  // of the group by aiot-health's version (members, and those reporting health for the version),
  // for the canary's installs DescribeJob's jobProcessDetails, and per metric one
  // GetBucketsAggregation of the reporting members by the metric's value. The health fields must be
  // indexed custom fields (docs/aws.md); otherwise AWS refuses the aggregation and the look reads
  // members().
  std::optional<ArmCounts> count_arm(const std::string& rollout, const ArmQuery& q) override {
    const std::string group = ra::selector_group(rollout, q.arm);
    if (group.empty()) return std::nullopt;
    const std::string health = fmt::format("shadow.name.{}.reported", hub::aws::k_health_shadow_name);
    const std::string in_group = "thingGroupNames:" + group;
    constexpr int k_max_buckets = 10000;
    auto census = client_.try_buckets(in_group, health + ".version", k_max_buckets);
    if (!census || census->buckets.size() >= static_cast<std::size_t>(k_max_buckets)) return std::nullopt;
    ArmCounts out;
    out.members = census->total;
    std::int64_t named = 0;
    for (const auto& [key, n] : census->buckets) {
      named += n;
      if (key == q.version) out.reporting = n;
    }
    if (named < out.members) {
      // Members without a health version: no health yet, or an agent that does not name it (then
      // only the timestamps of its twin tell).
      auto legacy = client_.search_index(fmt::format("{} AND {}.ts:* AND NOT {}.version:*", in_group, health, health), {}, 1);
      if (!legacy.things.empty()) return std::nullopt;
    }
    if (q.installs) {
      auto installs = job_installs(rollout, q, out.members);
      if (!installs) return std::nullopt;
      out.installs = std::move(*installs);
    }
    const std::string reporting = fmt::format("{} AND {}.version:\"{}\"", in_group, health, q.version);
    for (const auto& metric : q.metrics) {
      // Only the health report is an indexed shadow of its own; other paths are read from members.
      const std::string prefix = "properties.reported.aiot.health.";
      if (metric.rfind(prefix, 0) != 0) return std::nullopt;
      std::vector<hub::GroupCount> values;
      if (out.reporting > 0) {
        auto counted = client_.try_buckets(reporting, health + "." + metric.substr(prefix.size()), k_max_buckets);
        if (!counted || counted->buckets.size() >= static_cast<std::size_t>(k_max_buckets)) return std::nullopt;
        std::int64_t sum = 0;
        for (const auto& [key, n] : counted->buckets) {
          sum += n;
          values.push_back({{bucket_value(key)}, n});
        }
        // An array of samples counts a device once per distinct sample: not one value per device.
        if (sum > counted->total) return std::nullopt;
      }
      out.values.push_back(std::move(values));
    }
    return out;
  }

  void release(const std::string& rollout) override {
    for (const auto& group : all_groups(rollout)) {
      try {
        client_.delete_thing_group(group);
      } catch (const Error& e) {
        if (!is_reason(e, Reason::not_found)) throw;
      }
    }
  }

  bool paces_natively() const override { return true; }
  bool times_out_natively() const override { return true; }

  DispatchResult dispatch_wave(const WaveDispatch& d) override {
    const std::string version = d.model.value("version", std::string());
    ra::JobEntry entry;
    entry.id = ra::job_id(d.rollout, fmt::format("w{}", d.wave_index), version, d.salt);
    entry.kind = "wave";
    entry.wave = static_cast<std::int64_t>(d.wave_index);
    entry.groups = {ra::wave_group(d.rollout, d.wave)};
    entry.model = d.model;
    auto spec = ra::wave_job(entry.id, group_arns(entry.groups), d.model, d.per_minute, d.install_timeout, d.abort,
                             fmt::format("aiot rollout {}: wave {} -> {}", d.rollout, d.wave, version));
    bool created = create_job(d.rollout, entry, spec);
    return {created ? d.wave_size : 0, {entry.id}, ra::notify_span(d.wave_size, d.per_minute)};
  }

  RevertResult revert(const RevertRequest& r) override {
    if (!r.baseline_model.is_object())
      throw Error::failure(fmt::format("rollout {}: the baseline has no desired.aiot.model to roll back to", r.rollout),
                           "Set the devices' model by hand ('aiot device update'), then 'aiot rollout abort'.");
    RevertResult out;
    // Stop handing out the new version first: queued executions are canceled (in-progress ones
    // finish and are then reverted by the rollback job).
    for (const auto& job : read_jobs(r.rollout).first) {
      if (job.kind != "wave") continue;
      try {
        if (client_.describe_job(job.id).value("status", std::string()) != "IN_PROGRESS") continue;
        client_.cancel_job(job.id, "AIOT_ROLLBACK", fmt::format("aiot rollout {}: rolling back", r.rollout));
        out.canceled.push_back(job.id);
      } catch (const Error& e) {
        if (!is_reason(e, Reason::not_found) && !is_reason(e, Reason::conflict)) throw;
      }
    }
    ra::JobEntry entry;
    entry.id = ra::job_id(r.rollout, "rb", r.baseline_version, r.salt);
    entry.kind = "rollback";
    for (const auto& [index, name] : r.waves) entry.groups.push_back(ra::wave_group(r.rollout, name));
    entry.model = r.baseline_model;
    out.devices = r.wave_devices;
    if (entry.groups.empty()) return out;
    // No abort backstop and no rate: a rollback must reach every device, fast.
    auto spec = ra::wave_job(entry.id, group_arns(entry.groups), r.baseline_model, 0, std::chrono::milliseconds(0),
                             std::nullopt, fmt::format("aiot rollout {}: rollback to {}", r.rollout, r.baseline_version));
    bool created = create_job(r.rollout, entry, spec);
    out.changed = created ? r.wave_devices : 0;
    out.provider_ids.push_back(entry.id);
    return out;
  }

 private:
  void ensure_controller_thing(const std::string& thing) {
    try {
      client_.create_thing(thing, {{std::string(ra::k_controller_attribute), "true"}});
    } catch (const Error& e) {
      // CreateThing is idempotent for the same attributes; other attributes: the thing exists, use it.
      if (!is_reason(e, Reason::conflict)) throw;
    }
  }

  // The record's waves give the groups of "everyone".
  std::vector<std::string> all_groups(const std::string& rollout) {
    std::vector<std::string> groups;
    auto rec = read(rollout);
    if (!rec) return groups;
    const auto& waves = rec->state.value("waves", json::array());
    for (std::size_t k = 0; k < waves.size(); ++k) {
      groups.push_back(ra::wave_group(rollout, waves[k].value("name", std::string())));
      if (waves[k].value("control", 0) > 0) groups.push_back(ra::control_group(rollout, k));
    }
    return groups;
  }

  std::vector<std::string> group_arns(const std::vector<std::string>& groups) {
    std::vector<std::string> arns;
    for (const auto& g : groups) {
      auto described = client_.describe_thing_group(g);
      if (!described || !described->contains("thingGroupArn"))
        throw Error::failure(fmt::format("thing group {} is missing", g),
                             "The rollout's groups are made when it starts; was the group deleted by hand?");
      arns.push_back((*described)["thingGroupArn"].get<std::string>());
    }
    return arns;
  }

  // The rollout's jobs and the version of the shadow that lists them (nullopt: no shadow yet).
  std::pair<std::vector<ra::JobEntry>, std::optional<std::int64_t>> read_jobs(const std::string& rollout) {
    auto shadow = client_.get_shadow(controller_device_id(rollout), std::string(ra::k_jobs_shadow));
    if (!shadow) return {{}, std::nullopt};
    return {ra::jobs_from_shadow(shadow->document), shadow->version};
  }

  // Lists the job before creating it (write-ahead: a job that exists is always found), then
  // CreateJob; ResourceAlreadyExists for this id means a driver before us created it. Returns
  // whether this call created it.
  bool create_job(const std::string& rollout, const ra::JobEntry& entry, const hub::aws::JobSpec& spec) {
    auto [jobs, version] = read_jobs(rollout);
    bool listed = std::any_of(jobs.begin(), jobs.end(), [&](const ra::JobEntry& j) { return j.id == entry.id; });
    if (!listed) {
      jobs.push_back(entry);
      client_.update_shadow(controller_device_id(rollout), std::string(ra::k_jobs_shadow), ra::jobs_shadow_state(jobs),
                            version);
    }
    try {
      client_.create_job(spec);
      return true;
    } catch (const Error& e) {
      if (is_reason(e, Reason::conflict)) return false;
      throw;
    }
  }

  // The canary's installs from its wave job's counters (DescribeJob jobProcessDetails), in the
  // device contract's terms; members without a finished execution are in progress. nullopt when
  // the wave has more than one job for the version (then executions decide per device).
  std::optional<std::vector<InstallCount>> job_installs(const std::string& rollout, const ArmQuery& q,
                                                       std::int64_t members) {
    std::vector<const ra::JobEntry*> wave_jobs;
    auto jobs = read_jobs(rollout).first;
    for (const auto& j : jobs)
      if (j.kind == "wave" && j.wave == static_cast<std::int64_t>(q.arm.wave_index) &&
          j.model.value("version", std::string()) == q.version)
        wave_jobs.push_back(&j);
    if (wave_jobs.size() > 1) return std::nullopt;
    std::int64_t succeeded = 0, failed = 0, timed_out = 0;
    if (!wave_jobs.empty()) {
      json details;
      try {
        details = client_.describe_job(wave_jobs[0]->id).value("jobProcessDetails", json::object());
      } catch (const Error& e) {
        if (!is_reason(e, Reason::not_found)) throw;  // listed ahead, never created
      }
      auto count = [&](const char* key) { return details.value(key, std::int64_t{0}); };
      succeeded = count("numberOfSucceededThings");
      failed = count("numberOfFailedThings") + count("numberOfRejectedThings");
      timed_out = count("numberOfTimedOutThings");
    }
    std::vector<InstallCount> out;
    if (succeeded > 0) out.push_back({q.version, "succeeded", succeeded});
    if (failed > 0) out.push_back({q.version, "failed", failed});
    if (timed_out > 0) out.push_back({q.version, "timed_out", timed_out});
    if (const auto rest = members - succeeded - failed - timed_out; rest > 0) out.push_back({{}, {}, rest});
    return out;
  }

  // A bucket's keyValue as JSON: a number when it reads as one, text otherwise.
  static json bucket_value(const std::string& key) {
    char* end = nullptr;
    const double x = std::strtod(key.c_str(), &end);
    if (!key.empty() && end == key.c_str() + key.size() && std::isfinite(x)) return x;
    return key;
  }

  // Each device takes the effect of its newest job execution that asked it to do something.
  void overlay_executions(const std::string& rollout, const std::set<std::string>& groups,
                          std::map<std::string, hub::Device>& devices) {
    struct Latest {
      ra::ExecutionEffect effect = ra::ExecutionEffect::none;
      const ra::JobEntry* job = nullptr;
      std::optional<TimePoint> at;
    };
    auto jobs = read_jobs(rollout).first;
    std::map<std::string, Latest> latest;
    for (const auto& job : jobs) {
      bool relevant = std::any_of(job.groups.begin(), job.groups.end(), [&](const std::string& g) { return groups.count(g) > 0; });
      if (!relevant) continue;
      std::vector<json> executions;
      try {
        executions = client_.list_job_executions(job.id);
      } catch (const Error& e) {
        if (!is_reason(e, Reason::not_found)) throw;  // listed ahead, never created
        continue;
      }
      for (const auto& e : executions) {
        std::string thing = ra::thing_of_arn(e.value("thingArn", std::string()));
        if (!devices.count(thing)) continue;
        const json summary = e.value("jobExecutionSummary", json::object());
        auto effect = ra::execution_effect(summary.value("status", std::string()));
        if (effect == ra::ExecutionEffect::none) continue;
        json when = summary.value("lastUpdatedAt", json());
        if (!when.is_number()) when = summary.value("startedAt", summary.value("queuedAt", json()));
        latest[thing] = {effect, &job, ra::aws_time(when)};
      }
    }
    for (auto& [thing, l] : latest) ra::apply_execution(devices.at(thing), l.effect, l.job->model, l.at);
  }

  static void check_all(const std::vector<http::Response>& responses, const std::string& operation) {
    for (const auto& r : responses)
      if (r.status < 200 || r.status >= 300) throw hub::aws::to_error(r, operation);
  }

  AwsClient& client_;
};

}  // namespace

std::unique_ptr<Backend> make_aws_backend(hub::aws::AwsClient& client) {
  return std::make_unique<AwsRolloutBackend>(client);
}

}  // namespace aiot::rollout
