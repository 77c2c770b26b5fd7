// aiot rollout plan -f rollout.yaml [--allow-underpowered] [--allow-breaking] [--require-signature] [--out plan.json]
// Resolves the cohort through the hub (and a registry artifact through the artifact registry),
// fixes wave membership, and prints waves, strata, controls, power and ETA (a table; -o json the
// whole plan). Nothing is dispatched.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <vector>

#include "aiot/artifact/rollout_link.hpp"
#include "aiot/context.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/time.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/output/output.hpp"
#include "aiot/rollout/planner.hpp"
#include "cli/common.hpp"
#include "rollout/verbs.hpp"

namespace aiot::cli::rollout {

namespace ro = aiot::rollout;
using nlohmann::json;

namespace {

struct PlanOptions {
  std::string file;
  std::string out;
  bool allow_underpowered = false;
  bool allow_breaking = false;
  bool require_signature = false;
};

std::string pct(double fraction) { return fmt::format("{:.3g}%", fraction * 100.0); }

std::string strata_text(const json& strata) {
  std::vector<std::string> parts;
  for (const auto& [key, n] : strata.items()) {
    parts.push_back(fmt::format("{}:{}", key, n.get<std::size_t>()));
  }
  return parts.empty() ? "-" : fmt::format("{}", fmt::join(parts, " "));
}

std::string bake_text(const ro::WaveSpec& w) {
  return fmt::format("{}..{}", format_duration(w.bake_min), w.bake_max.count() > 0 ? format_duration(w.bake_max) : "");
}

json wave_rows(const ro::RolloutSpec& spec, const ro::Plan& plan) {
  json rows = json::array();
  for (std::size_t k = 0; k < plan.waves.size(); ++k) {
    const auto& w = plan.waves[k];
    const auto& ws = spec.waves[k];
    rows.push_back({{"wave", w.name},
                    {"new", w.devices.size()},
                    {"total", w.cumulative},
                    {"control", w.control.size()},
                    {"strata", strata_text(w.strata)},
                    {"bake", bake_text(ws)},
                    {"approval", ws.approval_before ? "before" : "-"},
                    {"looks", w.looks}});
  }
  return rows;
}

// One row per wave and gate: what the wave has, what the gate needs, what it can detect.
json power_rows(const ro::RolloutSpec& spec, const ro::Plan& plan) {
  json rows = json::array();
  for (const auto& w : plan.waves) {
    for (const auto& g : spec.gates) {
      const json& p = w.power.at(g.name);
      std::string n, needs = "-", detects = "-", status;
      switch (g.type) {
        case ro::GateType::outcome:
          n = std::to_string(p.value("n", 0));
          if (p.contains("devicesNeeded")) {
            needs = std::to_string(p["devicesNeeded"].get<std::int64_t>());
          }
          detects = fmt::format("≥{} (limit {})", pct(p.value("detectableRate", 0.0)), pct(p.value("failureAbove", 0.0)));
          break;
        case ro::GateType::threshold:
          n = std::to_string(p.value("n", 0));
          needs = std::to_string(p.value("minSamples", 0));
          break;
        case ro::GateType::proportion_vs_baseline:
          n = fmt::format("{}/{}", p.value("canary", 0), p.value("control", 0));
          if (p.contains("devicesPerArmNeeded")) {
            needs = fmt::format("{}/arm", p["devicesPerArmNeeded"].get<std::int64_t>());
          }
          detects = fmt::format("+{:.3g}pp from {}", p.value("maxIncrease", 0.0) * 100, pct(p.value("baselineRate", 0.0)));
          break;
        case ro::GateType::distribution_vs_baseline:
          n = fmt::format("{}/{}", p.value("canary", 0), p.value("control", 0));
          if (p.contains("devicesPerArmNeeded")) {
            needs = fmt::format("{}/arm", p["devicesPerArmNeeded"].get<std::int64_t>());
            detects = fmt::format("{} shift ({:.2f} SD)", pct(p.value("tolerance", 0.0)), p.value("shiftSd", 0.0));
          } else {
            detects = "unknown (no spread reported)";
          }
          break;
      }
      if (p.value("applicable", true) == false) {
        needs = "-";
        detects = "-";
        status = "n/a: no control";
      } else if (p.value("underpowered", false)) {
        status = g.critical && !g.dry_run ? "underpowered" : "underpowered (not critical)";
      } else {
        status = "ok";
      }
      rows.push_back({{"wave", w.name},
                      {"gate", g.name},
                      {"type", std::string(ro::to_string(g.type))},
                      {"n", n},
                      {"needs", needs},
                      {"detects", detects},
                      {"status", status}});
    }
  }
  return rows;
}

void print_tables(Context& ctx, const ro::RolloutSpec& spec, const ro::Plan& plan, const output::RenderOptions& opt) {
  auto& out = ctx.io.out();
  bool color = ctx.io.color_out();
  std::vector<std::string> left_out;
  if (plan.excluded > 0) left_out.push_back(fmt::format("{} excluded", plan.excluded));
  if (plan.off_baseline > 0) left_out.push_back(fmt::format("{} off baseline", plan.off_baseline));
  if (plan.disabled > 0) left_out.push_back(fmt::format("{} disabled", plan.disabled));
  out << fmt::format("Rollout {}: {} -> {} on {} devices{}\n", output::bold(plan.rollout, color), plan.baseline_version,
                     plan.artifact_version, plan.cohort_size,
                     left_out.empty() ? "" : fmt::format(" ({})", fmt::join(left_out, ", ")));
  if (!spec.baseline.stratify_by.empty()) {
    out << fmt::format("Strata: {}\n", strata_text(plan.strata));
  }
  out << '\n';
  static const std::vector<output::Column> wave_columns = {
      {"WAVE", "wave"},   {"NEW", "new"},   {"TOTAL", "total"},       {"CONTROL", "control"},
      {"STRATA", "strata"}, {"BAKE", "bake"}, {"APPROVAL", "approval"}, {"LOOKS", "looks"},
  };
  output::print_list(ctx.io, wave_rows(spec, plan), wave_columns, opt);
  if (!spec.gates.empty()) {
    out << '\n';
    static const std::vector<output::Column> power_columns = {
        {"WAVE", "wave"},   {"GATE", "gate"},       {"TYPE", "type"},
        {"N", "n"},         {"NEEDS", "needs"},     {"DETECTS", "detects"},
        {"STATUS", "status", output::ColumnKind::status},
    };
    output::print_list(ctx.io, power_rows(spec, plan), power_columns, opt);
  }
  out << '\n'
      << fmt::format("ETA: {} .. {} (bakes and dispatch; waiting for approvals not included)\n",
                     format_duration(plan.eta_min), plan.eta_max_unbounded ? "no limit" : format_duration(plan.eta_max))
      << fmt::format("Plan digest: {}\n", plan.digest);
}

// One line on stderr naming what a registry artifact resolved to.
void say_resolved(Context& ctx, const ro::RolloutSpec& spec) {
  const auto& a = spec.artifact;
  std::string signer = a.registry_fields.value("keyId", std::string());
  say(ctx, fmt::format("Artifact {} {} {} from the registry: sha256 {}, {}", a.kind, a.name, a.version, a.sha256,
                       a.signature.empty() ? std::string("unsigned") : "signed by " + signer));
}

int run_plan(const PlanOptions& o, Context& ctx) {
  std::filesystem::path path = o.file;
  if (path.is_relative()) {
    path = ctx.cwd / path;
  }
  auto spec = ro::parse_spec(fs::read_file(path), o.file);
  auto artifacts = artifact::open_and_resolve(ctx, spec, {o.require_signature});
  if (artifacts) {
    say_resolved(ctx, spec);
  }
  auto& registry = ctx.hub().registry();
  auto cohort = registry.list({.where = ro::cohort_condition(spec)});
  ro::PlanOptions popt;
  if (auto excluded = ro::excluded_condition(spec); !excluded.empty()) {
    popt.excluded = registry.list({.where = excluded}).size();
  }
  auto plan = ro::make_plan(spec, cohort, popt);
  std::vector<std::string> artifact_warnings;
  if (artifacts) {
    artifact_warnings = artifact::check_compatibility(spec, *artifacts, plan.baseline_version, o.allow_breaking);
  }

  auto opt = render_options(ctx);
  if (opt.format == output::Format::json || opt.format == output::Format::yaml) {
    output::print_object(ctx.io, plan.to_json(), opt);
  } else {
    print_tables(ctx, spec, plan, opt);
  }
  for (const auto& w : plan.warnings) {
    warn(ctx, w);
  }
  for (const auto& w : artifact_warnings) {
    warn(ctx, w);
  }
  if (!plan.underpowered.empty() && !o.allow_underpowered) {
    throw Error::usage(fmt::format("{} critical gate check{} cannot detect what {} set to catch (see the warnings)",
                                   plan.underpowered.size(), plan.underpowered.size() == 1 ? "" : "s",
                                   plan.underpowered.size() == 1 ? "it is" : "they are"),
                       "Make the waves larger, widen the thresholds, mark the gate dryRun: true, or accept it with "
                       "--allow-underpowered.");
  }
  if (!o.out.empty()) {
    std::filesystem::path out = o.out;
    if (out.is_relative()) {
      out = ctx.cwd / out;
    }
    fs::write_atomic(out, plan.to_json().dump(2) + "\n");
    say(ctx, fmt::format("Wrote plan {} to {}", plan.digest.substr(0, 12), o.out));
  }
  return 0;
}

}  // namespace

void add_plan(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<PlanOptions>();
  auto* c = group.add_subcommand("plan", "Resolve the cohort and show waves, controls, power and ETA (dispatches nothing)");
  c->add_option("-f,--file", o->file, "The rollout spec (rollout.yaml)")->required();
  c->add_option("--out", o->out, "Also write the plan as JSON to this file (atomically)");
  c->add_flag("--allow-underpowered", o->allow_underpowered,
              "Exit 0 even when a critical gate cannot detect its threshold in some wave (exit 2 otherwise)");
  c->add_flag("--allow-breaking", o->allow_breaking,
              "Accept a registry artifact whose I/O signature breaks the baseline version's (exit 2 otherwise)");
  c->add_flag("--require-signature", o->require_signature,
              "Refuse an unsigned artifact whatever the spec says (requireSignature in the spec does the same)");
  d.on(c, [o](Context& ctx) { return run_plan(*o, ctx); });
}

}  // namespace aiot::cli::rollout
