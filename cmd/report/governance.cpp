// aiot report governance --period 2026-W47|last-week|FROM/TO --out DIR [--format md,html,json[,modelcard]]
//   [--policy policy.yaml] [--audits DIR] [--labels FILE] [--decisions EXPORT...] [--billing FILE] [--energy FILE] [--intensity FILE]
//   [--fail-on error|warn|never]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/report/inputs.hpp"
#include "aiot/report/report.hpp"
#include "aiot/rollout/backend.hpp"
#include "aiot/rollout/controller.hpp"
#include "cli/common.hpp"
#include "report/verbs.hpp"
#include "rollout/common.hpp"

namespace aiot::cli::report {

namespace {

namespace rep = aiot::report;

struct GovernanceOptions {
  std::string period;
  std::string formats = "md,html,json";
  std::string out;
  std::string policy, audits, labels, billing, energy, intensity;
  std::vector<std::string> decisions;
  std::string fail_on = "error";
  bool no_hub = false;
};

std::filesystem::path resolve(Context& ctx, const std::string& p) {
  std::filesystem::path path = p;
  return path.is_relative() ? ctx.cwd / path : path;
}

int run_governance(const GovernanceOptions& o, Context& ctx) {
  if (o.out.empty()) throw Error::usage("--out DIR is required", "For example: aiot report governance --period last-week --out reports/");
  rep::FailOn fail_on = rep::parse_fail_on(o.fail_on);
  std::vector<rep::Format> formats;
  for (const auto& f : str::split(o.formats, ',')) {
    auto name = std::string(str::trim(f));
    if (name.empty()) continue;
    auto fmt_ = rep::parse_format(name);
    if (std::find(formats.begin(), formats.end(), fmt_) == formats.end()) formats.push_back(fmt_);
  }
  if (formats.empty()) throw Error::usage("--format names no format", "Formats: md, html, json, modelcard (comma-separated).");

  rep::Inputs in;
  in.period = rep::parse_period(o.period, ctx.now());
  in.aiot_version = AIOT_VERSION;
  // Input paths are shown as given, so the evidence does not depend on where the command ran.
  auto shown = [&](const std::string& p, const char* role) {
    if (p.empty()) return;
    auto path = resolve(ctx, p);
    if (std::string(role) == "policy") rep::load_policy(in, path);
    if (std::string(role) == "labels") rep::load_labels(in, path);
    if (std::string(role) == "billing") rep::load_billing(in, path);
    if (std::string(role) == "energy") rep::load_energy(in, path);
    if (std::string(role) == "intensity") rep::load_intensity(in, path);
    if (!in.files.empty() && in.files.back().path == path.string()) in.files.back().path = p;
  };
  shown(o.policy, "policy");
  if (!o.audits.empty()) {
    std::size_t before = in.files.size();
    rep::load_audits(in, resolve(ctx, o.audits), ctx.cwd);
    // Audit paths relative to the folder given.
    std::string root = resolve(ctx, o.audits).string();
    for (std::size_t i = before; i < in.files.size(); ++i) {
      if (in.files[i].path.rfind(root, 0) == 0) in.files[i].path = o.audits + in.files[i].path.substr(root.size());
    }
  }
  shown(o.labels, "labels");
  if (!o.decisions.empty()) {
    std::vector<std::string> patterns;
    for (const auto& d : o.decisions) patterns.push_back(resolve(ctx, d).string());
    std::size_t before = in.files.size();
    rep::load_decisions(in, patterns);
    std::string root = ctx.cwd.string() + "/";
    for (std::size_t i = before; i < in.files.size(); ++i) {
      if (in.files[i].path.rfind(root, 0) == 0) in.files[i].path = in.files[i].path.substr(root.size());
    }
  }
  shown(o.billing, "billing");
  shown(o.energy, "energy");
  shown(o.intensity, "intensity");

  // The hub: registry snapshot and the rollout journals with the heads the hub records.
  if (!o.no_hub) {
    try {
      auto& hub = ctx.hub();
      in.hub = hub.describe();
      in.devices = hub.registry().list({});
      // Rollout controller records (aiot-ctl-<rollout>) are twins, not devices.
      std::erase_if(*in.devices, [](const hub::Device& d) { return d.tags.is_object() && d.tags.contains("aiotController"); });
      std::sort(in.devices->begin(), in.devices->end(), [](const auto& a, const auto& b) { return a.id < b.id; });
      auto backend = aiot::rollout::make_backend(hub);
      aiot::rollout::ControllerDeps deps{*backend, [&ctx] { return ctx.hub().now(); }, rollout::journal_dir(ctx), "aiot report"};
      aiot::rollout::Controller controller(std::move(deps));
      rep::load_journals(in, rollout::journal_dir(ctx), [&](const std::string& name) { return controller.hub_head(name); });
    } catch (const Error& e) {
      if (e.code() == ExitCode::usage) throw;
      warn(ctx, fmt::format("the hub could not be read ({}); registry-based sections say so", e.message()));
      in.notes.push_back("hub not read: " + e.message());
      in.devices.reset();
    }
  }
  auto out_dir = resolve(ctx, o.out);
  rep::load_previous(in, out_dir);

  nlohmann::json doc = rep::build_report(in);
  auto written = rep::write_report(out_dir, doc, formats);
  int code = rep::exit_code(doc, fail_on);

  auto rows = nlohmann::json::array();
  for (const auto& s : doc["sections"])
    rows.push_back({{"number", s["number"]}, {"section", s["title"]}, {"status", s["status"]}, {"summary", s["summary"]}});
  auto opt = render_options(ctx);
  if (opt.format == output::Format::json || opt.format == output::Format::yaml) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& p : written) files.push_back(p.string());
    output::print_object(ctx.io, {{"period", doc["period"]}, {"verdict", doc["verdict"]}, {"files", files}, {"sections", rows},
                                  {"contentSha256", doc["content_sha256"]}, {"exitCode", code}},
                         opt);
  } else {
    static const output::Column k_columns[] = {{"#", "number", output::ColumnKind::text},
                                               {"SECTION", "section", output::ColumnKind::text},
                                               {"STATUS", "status", output::ColumnKind::status},
                                               {"SUMMARY", "summary", output::ColumnKind::text}};
    output::print_list(ctx.io, rows, k_columns, opt);
  }
  for (const auto& p : written) say(ctx, "✓ Wrote " + p.string());
  std::string level = doc["verdict"].value("level", "pass");
  if (code != 0) {
    for (const auto& r : doc["verdict"]["failedRules"])
      ctx.io.err() << fmt::format("policy {} ({}): {}\n", r.value("id", ""), r.value("level", ""), r.value("evidence", ""));
    ctx.io.err() << fmt::format("error: the report for {} fails its policy at --fail-on {}\n", in.period.label, o.fail_on);
  } else if (level != "pass") {
    say(ctx, fmt::format("Verdict {} (below --fail-on {})", level, o.fail_on));
  }
  return code;
}

}  // namespace

void add_governance(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<GovernanceOptions>();
  auto* c = group.add_subcommand("governance", "Write the governance report of a period (Markdown, HTML, JSON, model cards); exit 3 when a policy fails");
  c->add_option("--period", o->period, "2026-W47, last-week, or FROM/TO (dates or RFC 3339, TO exclusive)")->required();
  c->add_option("--out", o->out, "Folder for the report files (kept across periods: changes are shown against the previous one)")->required();
  c->add_option("--format", o->formats, "Comma-separated: md, html, json, modelcard")->capture_default_str();
  c->add_option("--policy", o->policy, "Policy file (YAML): approved versions, thresholds, use cases, budgets, rules");
  c->add_option("--audits", o->audits, "Folder of lineage audits (audit.json, profile.json) for the period and earlier ones");
  c->add_option("--labels", o->labels, "Decisions and later-confirmed labels (NDJSON or CSV) for performance and bias");
  c->add_option("--decisions", o->decisions, "Telemetry export(s) holding each record's prediction (files, folders, globs): the bias audit's decisions; --labels join by messageId");
  c->add_option("--billing", o->billing, "Billing CSV: date,service,category,site,model_version,cost,currency");
  c->add_option("--energy", o->energy, "Energy CSV: CodeCarbon emissions.csv, or date,site,model_version,energy_kwh");
  c->add_option("--intensity", o->intensity, "Grid intensity overrides CSV: key,g_per_kwh[,year,source]");
  c->add_option("--fail-on", o->fail_on, "Exit 3 when a policy fails at this level: error, warn or never")->capture_default_str();
  c->add_flag("--no-hub", o->no_hub, "Do not read the hub (registry and journals): those sections say so");
  d.on(c, [o](Context& ctx) { return run_governance(*o, ctx); });
}

}  // namespace aiot::cli::report
