#pragma once
// The governance report (issue 7; lineage-governance.md §9.2): its inputs, the assembled document
// ("schema": "aiot.report/v1") with its 12 sections, the verdict, and the files written.
//
//   Inputs in = load_inputs(...)  (inputs.hpp; the CLI adds the registry and the journals)
//   json doc = build_report(in);
//   auto files = write_report(out_dir, doc, {Format::md, Format::html, Format::json});
//   int exit = exit_code(doc, FailOn::error);   // 3 when a policy fails at that level
//
// Determinism: every time in the document comes from the period or the inputs, never the clock;
// objects have sorted keys, numbers are rounded to fixed significant digits, lists are sorted, so
// the same inputs give byte-identical files. There is no generated_at in the files: a report's
// identity is its content hash ("content_sha256", over the document without that member).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiot/hub/hub.hpp"
#include "aiot/lineage/profile.hpp"
#include "aiot/report/metrics.hpp"
#include "aiot/report/period.hpp"
#include "aiot/report/policy.hpp"
#include "aiot/rollout/journal.hpp"

namespace aiot::report {

using json = nlohmann::json;

inline constexpr std::string_view k_report_schema = "aiot.report/v1";

// An input file, for the evidence section: what it was, where, and its SHA-256.
struct EvidenceFile {
  std::string role;  // "policy", "audit", "profile", "reference-profile", "labels", "billing", "energy", "journal", "intensity"
  std::string path;
  std::string sha256;
  std::uint64_t bytes = 0;
};

struct JournalInput {
  std::string rollout;
  std::string path;
  std::vector<json> events;
  rollout::VerifyResult verify;
  std::optional<rollout::JournalHead> hub_head;  // the head the hub records (absent: not checked)
};

struct AuditInput {
  std::string path;
  json audit;  // "schema": "aiot.audit/v1"
};

// One labelled (or only predicted) decision, from --labels.
struct LabelRow {
  std::string device_id;
  std::string message_id;     // joins a label to the decision (telemetry record) it judges
  TimePoint ts{};
  std::string model_version;  // "" = attribute from the registry's model at ts (best effort)
  std::optional<bool> predicted;
  std::optional<bool> actual;
  std::optional<double> confidence;
  std::map<std::string, std::string> segments;  // given in the file; the registry fills the rest
};

struct Inputs {
  Period period;
  Policy policy;
  std::string hub;                          // hub description; "" when no hub was read
  std::optional<std::vector<hub::Device>> devices;  // registry snapshot
  std::vector<JournalInput> journals;       // sorted by rollout
  std::vector<AuditInput> audits;           // the period's audits, sorted by path
  std::optional<lineage::Profile> profile;  // the period's profile (merged over its audits)
  std::optional<lineage::Profile> reference;  // drift reference
  std::string reference_origin;             // path or "previous period's audit"
  std::optional<std::vector<LabelRow>> labels;  // decisions (prediction per record), with labels joined when known
  std::optional<std::vector<BillingLine>> billing;
  std::optional<std::vector<EnergyRow>> energy;
  CarbonTable carbon = CarbonTable::builtin();
  std::vector<EvidenceFile> files;          // sorted by role, then path
  std::optional<json> previous;             // the previous period's report.json in the output folder
  std::string previous_path;
  std::vector<std::string> notes;           // input problems worth showing (skipped files, …)
  std::string aiot_version;
};

enum class Format { md, html, json, modelcard };
Format parse_format(std::string_view text);  // Error::usage on anything else
std::string_view to_string(Format f);

enum class FailOn { error, warn, never };
FailOn parse_fail_on(std::string_view text);

// The whole document. Pure: same Inputs, same JSON.
json build_report(const Inputs& in);

// Renderers (render_md.cpp, render_html.cpp, render_json.cpp). Each returns the file's bytes.
std::string render_markdown(const json& doc);
std::string render_html(const json& doc);
std::string render_json(const json& doc);
// Model Card Toolkit (schema v0.0.2) JSON, one per model version: (file name, bytes).
std::vector<std::pair<std::string, std::string>> render_model_cards(const json& doc);

// File names in the output folder: governance-<label>.md|html|json and
// modelcard-<label>-<model>-<version>.json.
std::string report_file_name(const std::string& label, Format f);

// Writes the formats atomically; a re-run of the same period replaces its files (and removes its
// model cards that are no longer produced). Returns the paths written, sorted.
std::vector<std::filesystem::path> write_report(const std::filesystem::path& dir, const json& doc,
                                                const std::vector<Format>& formats);

// 3 (ExitCode::verdict) when a policy rule or section fails at the level, else 0.
int exit_code(const json& doc, FailOn level);

}  // namespace aiot::report
