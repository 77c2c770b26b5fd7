#pragma once
// Reading the report's inputs from files into report::Inputs (report.hpp). Each loader records the
// file in the evidence list with its SHA-256; a malformed file is Error::usage naming file:line.
// The registry and the journals come from the hub the CLI opened (cmd/report/governance.cpp).
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "aiot/report/report.hpp"

namespace aiot::report {

// Adds a file to the evidence list (role, path, SHA-256, size) and returns its content.
std::string read_evidence(Inputs& in, const std::string& role, const std::filesystem::path& path);

// policy.yaml (Error::usage with file:line:column).
void load_policy(Inputs& in, const std::filesystem::path& path);

// Scans `dir` (recursively, sorted) for audit.json ("schema": "aiot.audit/v1") and profile.json
// ("schema": "aiot.profile/v1") files. Audits and profiles whose window overlaps the period are the
// period's (profiles merged); the drift reference is the policy's drift.reference when given, else
// the latest profile whose window ends at or before the period's start. Other JSON files are skipped.
void load_audits(Inputs& in, const std::filesystem::path& dir, const std::filesystem::path& cwd);

// Labels: NDJSON objects or CSV rows with deviceId, ts, and any of modelVersion, prediction, label,
// confidence, site, region, hw (aliases: device_id, timestamp, model_version, predicted, actual,
// outcome). A prediction or label is favourable when it equals the model's `favourable` value in
// the policy (default "1"; true/false accepted).
void load_labels(Inputs& in, const std::filesystem::path& path);
// Decisions from a telemetry export (the lineage readers: NDJSON, CSV, IoT Hub JSON/Avro, AWS S3
// JSON; files, folders, globs): every record with a `prediction` field becomes a decision of the
// record's model version, up to the period's end. Labels loaded before (load_labels) that carry a
// messageId and no prediction of their own are joined to these decisions by messageId.
void load_decisions(Inputs& in, const std::vector<std::string>& patterns);

void load_billing(Inputs& in, const std::filesystem::path& path);
void load_energy(Inputs& in, const std::filesystem::path& path);
void load_intensity(Inputs& in, const std::filesystem::path& path);

// Every <rollout>.jsonl in `dir`: read, verified (chain, and against the hub's head when
// `hub_head` knows the rollout). A journal that does not verify is kept with its problem: the
// report shows it and the journal-verified rule fails.
void load_journals(Inputs& in, const std::filesystem::path& dir,
                   const std::function<std::optional<rollout::JournalHead>(const std::string&)>& hub_head);

// The previous period's governance-<label>.json in the output folder, when there is one.
void load_previous(Inputs& in, const std::filesystem::path& out_dir);

}  // namespace aiot::report
