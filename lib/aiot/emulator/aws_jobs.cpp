#include "aiot/emulator/aws_jobs.hpp"

#include <algorithm>
#include <cmath>

#include "aiot/core/strings.hpp"
#include "aiot/core/time.hpp"

namespace aiot::emulator::aws {

namespace {

constexpr std::int64_t k_minute_ms = 60'000;
constexpr double k_default_per_minute = 1000;  // AWS: maximumPerMinute defaults to 1000

double number_or(const json& j, const char* key, double fallback) {
  return j.is_object() && j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

std::string text_of(const json& j) {
  if (j.is_string()) {
    return j.get<std::string>();
  }
  return j.is_null() ? std::string() : j.dump();
}

// The report's time in ms, when it has one.
std::optional<std::int64_t> report_time_ms(const json& ota) {
  if (!ota.contains("ts")) {
    return std::nullopt;
  }
  const json& ts = ota["ts"];
  if (ts.is_number()) {
    double v = ts.get<double>();
    return static_cast<std::int64_t>(v > 1e11 ? v : v * 1000);  // epoch ms or epoch s
  }
  if (ts.is_string()) {
    if (auto t = parse_rfc3339(ts.get<std::string>())) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
    }
  }
  return std::nullopt;
}

// Execution status for a device-reported OTA state; empty when the state says nothing.
std::string status_for(const std::string& state) {
  std::string s = str::to_lower(state);
  if (s == "downloading" || s == "installing" || s == "in_progress" || s == "in-progress" || s == "applying") {
    return "IN_PROGRESS";
  }
  if (s == "succeeded" || s == "success" || s == "done") {
    return "SUCCEEDED";
  }
  if (s == "failed" || s == "error") {
    return "FAILED";
  }
  if (s == "rejected") {
    return "REJECTED";
  }
  return {};
}

bool matches_failure_type(const std::string& type, const std::string& status) {
  if (type == "ALL") {
    return status == "FAILED" || status == "REJECTED" || status == "TIMED_OUT";
  }
  return type == status;
}

}  // namespace

bool is_terminal(const std::string& s) { return !s.empty() && s != "QUEUED" && s != "IN_PROGRESS"; }

std::optional<std::string> document_version(const std::string& document) {
  json doc;
  try {
    doc = json::parse(document);
  } catch (const json::exception&) {
    return std::nullopt;
  }
  if (!doc.is_object()) {
    return std::nullopt;
  }
  if (doc.contains("version") && !doc["version"].is_object()) {
    return text_of(doc["version"]);
  }
  for (const char* key : {"model", "firmware", "artifact"}) {
    if (doc.contains(key) && doc[key].is_object() && doc[key].contains("version")) {
      return text_of(doc[key]["version"]);
    }
  }
  if (doc.contains("aiot") && doc["aiot"].is_object() && doc["aiot"].contains("model") &&
      doc["aiot"]["model"].is_object() && doc["aiot"]["model"].contains("version")) {
    return text_of(doc["aiot"]["model"]["version"]);
  }
  return std::nullopt;
}

std::int64_t rollout_allowance(const json& rollout, std::int64_t elapsed_ms, std::int64_t succeeded) {
  const std::int64_t minutes = std::max<std::int64_t>(0, elapsed_ms) / k_minute_ms + 1;  // started minutes
  const double cap = number_or(rollout, "maximumPerMinute", k_default_per_minute);
  const json exponential = rollout.is_object() && rollout.contains("exponentialRate") ? rollout["exponentialRate"] : json();
  if (!exponential.is_object()) {
    return static_cast<std::int64_t>(std::floor(cap)) * minutes;
  }
  double rate = number_or(exponential, "baseRatePerMinute", cap);
  const double factor = number_or(exponential, "incrementFactor", 1.0);
  const json criteria = exponential.contains("rateIncreaseCriteria") ? exponential["rateIncreaseCriteria"] : json::object();
  const double notified_step = number_or(criteria, "numberOfNotifiedThings", 0);
  const double succeeded_step = number_or(criteria, "numberOfSucceededThings", 0);
  double total = 0;
  double next = notified_step > 0 ? notified_step : succeeded_step;
  for (std::int64_t m = 0; m < minutes; ++m) {
    total += std::floor(std::min(rate, cap));
    // Each time the criterion count crosses the next multiple of its step, the rate grows.
    const double count = notified_step > 0 ? total : static_cast<double>(succeeded);
    const double step = notified_step > 0 ? notified_step : succeeded_step;
    while (step > 0 && count >= next) {
      rate = std::min(rate * factor, k_default_per_minute);
      next += step;
    }
  }
  return static_cast<std::int64_t>(total);
}

namespace {

// Applies the device's report to one execution; `any_age` accepts a report older than the
// execution (the device had the document before it was rolled out). True when it changed.
bool apply_report(JobExecution& e, const Job& job, std::int64_t now_ms, const OtaLookup& ota,
                  const std::optional<std::string>& wanted_version, bool any_age) {
  if (e.status != "QUEUED" && e.status != "IN_PROGRESS") {
    return false;
  }
  auto report = ota ? ota(e.thing) : std::nullopt;
  if (!report || !report->is_object() || !report->contains("state")) {
    return false;
  }
  if (wanted_version && (!report->contains("version") || text_of((*report)["version"]) != *wanted_version)) {
    return false;  // a report about another version (e.g. the previous rollout)
  }
  const auto ts = report_time_ms(*report);
  if (!any_age && ts && *ts < e.queued_ms) {
    return false;  // older than this execution
  }
  std::string next = status_for(text_of((*report)["state"]));
  if (next.empty() || next == e.status) {
    return false;
  }
  // When it happened on the device, within what is possible for this execution.
  const std::int64_t at = std::clamp(ts.value_or(now_ms), std::min(e.queued_ms, now_ms), now_ms);
  if (e.started_ms == 0) {
    e.started_ms = at;
  }
  const double timeout_min = number_or(job.timeout, "inProgressTimeoutInMinutes", 0);
  const auto limit = static_cast<std::int64_t>(timeout_min * k_minute_ms);
  if (limit > 0 && is_terminal(next) && at - e.started_ms >= limit) {
    next = "TIMED_OUT";  // the timeout struck before the device finished
    e.updated_ms = e.started_ms + limit;
  } else {
    e.updated_ms = at;
  }
  e.status = next;
  e.status_details = json::object();
  for (const char* key : {"state", "version", "error"}) {
    if (report->contains(key) && !(*report)[key].is_null()) {
      e.status_details[key] = text_of((*report)[key]);
    }
  }
  return true;
}

}  // namespace

bool advance(Job& job, std::int64_t now_ms, const DeviceSide& device) {
  bool changed = false;
  if (job.status != "IN_PROGRESS") {
    return false;
  }
  const auto wanted_version = document_version(job.document);

  // 1. Progress from the devices' reports.
  for (auto& e : job.executions) {
    changed = apply_report(e, job, now_ms, device.ota, wanted_version, false) || changed;
  }

  // 2. Timeouts of executions in progress.
  const double timeout_min = number_or(job.timeout, "inProgressTimeoutInMinutes", 0);
  if (timeout_min > 0) {
    const auto limit = static_cast<std::int64_t>(timeout_min * k_minute_ms);
    for (auto& e : job.executions) {
      if (e.status == "IN_PROGRESS" && e.started_ms > 0 && now_ms - e.started_ms >= limit) {
        e.status = "TIMED_OUT";
        e.updated_ms = std::min(now_ms, e.started_ms + limit);
        changed = true;
      }
    }
  }

  // 3. Abort criteria over the executions rolled out so far.
  if (job.abort.is_object() && job.abort.contains("criteriaList") && job.abort["criteriaList"].is_array()) {
    std::int64_t notified = 0;
    for (const auto& e : job.executions) {
      notified += e.status.empty() ? 0 : 1;
    }
    for (const auto& c : job.abort["criteriaList"]) {
      const std::string type = c.value("failureType", "ALL");
      const double threshold = number_or(c, "thresholdPercentage", 100);
      const double minimum = number_or(c, "minNumberOfExecutedThings", 1);
      std::int64_t failures = 0;
      for (const auto& e : job.executions) {
        failures += matches_failure_type(type, e.status) ? 1 : 0;
      }
      if (notified > 0 && notified >= minimum && 100.0 * static_cast<double>(failures) / static_cast<double>(notified) >= threshold) {
        cancel(job, now_ms, "AUTO_ABORT",
               "Job aborted: " + type + " executions reached " + c.value("thresholdPercentage", json(threshold)).dump() +
                   "% of " + std::to_string(notified) + " notified things",
               false, device.withdraw);
        return true;
      }
    }
  }

  // 4. Roll out more executions as the rate allows (in thing order, as hash order is AWS's own).
  std::int64_t notified = 0, succeeded = 0;
  for (const auto& e : job.executions) {
    notified += e.status.empty() ? 0 : 1;
    succeeded += e.status == "SUCCEEDED" ? 1 : 0;
  }
  const std::int64_t allowed = rollout_allowance(job.rollout, now_ms - job.created_ms, succeeded);
  for (auto& e : job.executions) {
    if (notified >= allowed) {
      break;
    }
    if (e.status.empty()) {
      e.status = "QUEUED";
      e.queued_ms = now_ms;
      e.updated_ms = now_ms;
      ++notified;
      changed = true;
      const bool delivered_now = device.deliver ? device.deliver(e.thing) : true;
      if (!delivered_now) {
        apply_report(e, job, now_ms, device.ota, wanted_version, true);
      }
    }
  }

  // 5. A snapshot job completes when every execution is terminal.
  if (job.target_selection == "SNAPSHOT" && !job.executions.empty() &&
      std::all_of(job.executions.begin(), job.executions.end(), [](const JobExecution& e) { return is_terminal(e.status); })) {
    job.status = "COMPLETED";
    job.completed_ms = now_ms;
    changed = true;
  }
  if (changed) {
    job.updated_ms = now_ms;
  }
  return changed;
}

void cancel(Job& job, std::int64_t now_ms, const std::string& reason_code, const std::string& comment, bool force,
            const std::function<void(const std::string& thing)>& withdraw) {
  job.status = "CANCELED";
  job.reason_code = reason_code;
  job.comment = comment;
  job.force_canceled = job.force_canceled || force;
  job.updated_ms = now_ms;
  job.completed_ms = now_ms;
  for (auto& e : job.executions) {
    if (e.status.empty() || e.status == "QUEUED" || (force && e.status == "IN_PROGRESS")) {
      if (e.status == "QUEUED" && withdraw) {
        withdraw(e.thing);
      }
      e.status = "CANCELED";
      e.updated_ms = now_ms;
    }
  }
}

std::optional<json> document_model(const std::string& document) {
  json doc = json::parse(document, nullptr, false);
  if (doc.is_object() && doc.contains("aiot") && doc["aiot"].is_object() && doc["aiot"].contains("model") &&
      doc["aiot"]["model"].is_object() && doc["aiot"]["model"].contains("version")) {
    return doc["aiot"]["model"];
  }
  return std::nullopt;
}

bool desired_has_model(const json& desired, const json& model) {
  if (!desired.is_object() || !desired.contains("aiot") || !desired["aiot"].is_object() ||
      !desired["aiot"].contains("model") || !desired["aiot"]["model"].is_object()) {
    return false;
  }
  const json& have = desired["aiot"]["model"];
  return text_of(have.value("version", json())) == text_of(model.value("version", json())) &&
         text_of(have.value("name", json())) == text_of(model.value("name", json()));
}

json desired_model_patch(const json& model, const json& previous) {
  json exact = model;
  if (model.is_object() && previous.is_object()) {
    for (const auto& [k, v] : previous.items()) {
      if (!model.contains(k)) {
        exact[k] = nullptr;
      }
    }
  }
  return {{"aiot", {{"model", exact}}}};
}

json process_details(const Job& job) {
  std::int64_t canceled = 0, succeeded = 0, failed = 0, rejected = 0, queued = 0, in_progress = 0, removed = 0,
               timed_out = 0;
  for (const auto& e : job.executions) {
    const auto& s = e.status;
    canceled += s == "CANCELED";
    succeeded += s == "SUCCEEDED";
    failed += s == "FAILED";
    rejected += s == "REJECTED";
    queued += s == "QUEUED";
    in_progress += s == "IN_PROGRESS";
    removed += s == "REMOVED";
    timed_out += s == "TIMED_OUT";
  }
  json targets = json::array();
  if (job.status == "IN_PROGRESS") {
    targets = job.targets;
  }
  return {{"processingTargets", targets},        {"numberOfCanceledThings", canceled},
          {"numberOfSucceededThings", succeeded}, {"numberOfFailedThings", failed},
          {"numberOfRejectedThings", rejected},   {"numberOfQueuedThings", queued},
          {"numberOfInProgressThings", in_progress}, {"numberOfRemovedThings", removed},
          {"numberOfTimedOutThings", timed_out}};
}

}  // namespace aiot::emulator::aws
