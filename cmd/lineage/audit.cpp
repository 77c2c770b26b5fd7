// aiot lineage audit --input PATH|GLOB|DIR|URL... [--format F] [--window FROM/TO] [--schemas DIR]
//   [--registry HUB|none] [--journal FILE|DIR] [--baseline profile.json] [--policy policy.yaml]
//   [--openlineage file:PATH|http://...] [--out audit.json] [--profile-out profile.json] [--fail-on error|warn|never]
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <thread>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/time.hpp"
#include "aiot/http/transport.hpp"
#include "aiot/hub/hub.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/lineage/audit.hpp"
#include "aiot/lineage/ledger.hpp"
#include "aiot/lineage/openlineage.hpp"
#include "aiot/lineage/policy.hpp"
#include "aiot/lineage/profile.hpp"
#include "aiot/lineage/readers.hpp"
#include "aiot/rollout/journal.hpp"
#include "aiot/sim/simulator.hpp"
#include "aiot/sim/store.hpp"
#include "aiot/storage/inputs.hpp"
#include "cli/common.hpp"
#include "lineage/verbs.hpp"
#include "rollout/common.hpp"

#ifndef AIOT_VERSION
#define AIOT_VERSION "0.0.0"
#endif

namespace aiot::cli::lineage {

namespace {

namespace al = aiot::lineage;
namespace ol = aiot::lineage::ol;
using nlohmann::json;

struct AuditOptions {
  std::vector<std::string> inputs;
  std::string format = "auto";
  std::string window;
  std::string schemas;
  std::string registry;
  std::string journal;
  std::string baseline;
  std::string policy;
  std::string openlineage;
  std::string out;
  std::string profile_out;
  std::string fail_on = "error";
  std::size_t examples = 5;
  std::size_t threads = 0;
};

std::filesystem::path resolve(const Context& ctx, const std::string& p) {
  std::filesystem::path path = p;
  return path.is_relative() ? ctx.cwd / path : path;
}

// The registry the ledger is built from, and the journal folder that goes with it.
struct Registry {
  std::unique_ptr<hub::Hub> owned;
  hub::Hub* hub = nullptr;
  std::filesystem::path journal_default;
};

Registry open_registry(Context& ctx, const std::string& spec) {
  Registry r;
  if (spec == "none") return r;
  const std::string& current = ctx.settings().get("hub");
  if (spec.empty() || spec == current) {
    r.hub = &ctx.hub();
    r.journal_default = rollout::journal_dir(ctx);
    return r;
  }
  if (spec == "azure" || spec == "aws" || spec == "local") {
    throw Error::usage(fmt::format("--registry {}: this profile's hub is {}", spec, current),
                       fmt::format("Use --hub {} to audit against that hub's registry.", spec));
  }
  std::filesystem::path path = resolve(ctx, spec.rfind("local:", 0) == 0 ? spec.substr(6) : spec);
  if (!std::filesystem::is_regular_file(path)) {
    throw Error::usage(fmt::format("--registry {}: no hub file there", spec),
                       "Give local:PATH (or PATH) of a local hub, 'none', or leave it out for the profile's hub.");
  }
  r.owned = std::make_unique<hub::local::LocalHub>(path, ctx.now);
  r.hub = r.owned.get();
  r.journal_default = path.string() + ".journal";
  return r;
}

std::vector<std::vector<json>> read_journals(Context& ctx, const std::filesystem::path& where, bool explicit_flag) {
  std::vector<std::vector<json>> out;
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  if (std::filesystem::is_directory(where, ec)) {
    for (const auto& e : std::filesystem::directory_iterator(where))
      if (e.is_regular_file() && e.path().extension() == ".jsonl") files.push_back(e.path());
    std::sort(files.begin(), files.end());
  } else if (std::filesystem::is_regular_file(where, ec)) {
    files.push_back(where);
  } else if (explicit_flag) {
    throw Error::usage(fmt::format("--journal {}: no such file or folder", where.string()),
                       "Give a rollout journal (NAME.jsonl) or the folder of them.");
  }
  for (const auto& f : files) {
    auto v = aiot::rollout::verify_journal(f, std::nullopt);
    if (!v.ok) warn(ctx, fmt::format("{}:{}: the journal fails verification ({}); its events are used as they are", f.string(), v.bad_line, v.problem));
    out.push_back(aiot::rollout::read_journal(f));
  }
  return out;
}

std::vector<al::Input> resolve_inputs(Context& ctx, const std::vector<std::string>& specs,
                                      const std::optional<std::pair<std::int64_t, std::int64_t>>& window) {
  std::vector<al::Input> inputs;
  for (const auto& spec : specs) {
    if (storage::is_remote(spec)) {
      storage::ListOptions lo;
      if (window) {
        lo.from = TimePoint(std::chrono::milliseconds(window->first));
        lo.to = TimePoint(std::chrono::milliseconds(window->second));
      }
      auto listed = storage::list_inputs(ctx, spec, lo);
      if (listed.empty()) warn(ctx, fmt::format("{}: no objects there", spec));
      for (auto& in : listed) inputs.push_back(std::move(in));
      continue;
    }
    std::filesystem::path p = spec;
    std::string local = p.is_relative() ? (ctx.cwd / p).string() : spec;
    for (auto& in : al::discover_files({local})) {
      // Refuse up front what cannot be read: no half-written outputs over bad input.
      if (::access(in.name.c_str(), R_OK) != 0)
        throw Error::usage(fmt::format("{}: cannot read this input", in.name), "Check its permissions.");
      inputs.push_back(std::move(in));
    }
  }
  if (inputs.empty()) throw Error::usage("no inputs to audit", "Give --input with files, folders, globs or URLs.");
  return inputs;
}

// OpenLineage START before reading, COMPLETE or FAIL after.
class Lineage {
 public:
  Lineage(Context& ctx, const std::string& flag) : ctx_(ctx) {
    std::optional<std::string> target;
    if (!flag.empty()) target = flag;
    else if (!ol::disabled_by_env(ctx.env)) target = ol::target_from_env(ctx.env);
    if (!target) return;
    if (!target->starts_with("file:")) transport_ = ctx.transport();
    emitter_ = ol::make_emitter(*target, transport_.get(), ol::api_key_from_env(ctx.env));
    event_.run_id = ol::new_run_id(ctx.now());
    event_.job_namespace = ol::job_namespace_from_env(ctx.env);
    event_.job_name = "lineage.audit";
    event_.aiot_version = AIOT_VERSION;
  }
  bool on() const { return emitter_ != nullptr; }
  ol::RunEvent& event() { return event_; }
  const std::string& run_id() const { return event_.run_id; }
  void emit(ol::EventType type, const std::string& error = {}) {
    if (!emitter_) return;
    event_.type = type;
    event_.event_time = ctx_.now();
    event_.error_message = error;
    emitter_->emit(event_);
  }

 private:
  Context& ctx_;
  std::shared_ptr<http::Transport> transport_;
  std::unique_ptr<ol::Emitter> emitter_;
  ol::RunEvent event_;
};

std::string percent(double rate) {
  if (rate == 0) return "0%";
  if (rate < 0.0001) return "<0.01%";
  return fmt::format("{:.2f}%", rate * 100);
}

int run_audit(Context& ctx, const AuditOptions& o) {
  // Everything that can be wrong with the flags and files is found before anything is read or written.
  auto fail_on = al::parse_fail_on(o.fail_on);
  if (!fail_on) throw Error::usage(fmt::format("--fail-on {}: expected error, warn or never", o.fail_on));
  al::ReadOptions read;
  read.format = al::parse_format(o.format);
  read.parse_threads = o.threads != 0 ? o.threads : al::audit_parse_threads(std::thread::hardware_concurrency());
  std::optional<std::pair<std::int64_t, std::int64_t>> window;
  if (!o.window.empty()) window = al::parse_window(o.window);
  al::Policy policy = o.policy.empty() ? al::Policy{} : al::Policy::load(resolve(ctx, o.policy));
  al::SchemaRegistry schemas;
  if (!o.schemas.empty()) schemas = al::SchemaRegistry::load_dir(resolve(ctx, o.schemas));
  std::optional<al::Profile> baseline;
  if (!o.baseline.empty()) {
    auto path = resolve(ctx, o.baseline);
    if (!std::filesystem::is_regular_file(path)) throw Error::usage(fmt::format("--baseline {}: no such file", o.baseline));
    baseline = al::Profile::load(path);
  }
  for (const auto* out : {&o.out, &o.profile_out}) {
    if (out->empty()) continue;
    auto dir = resolve(ctx, *out).parent_path();
    if (!std::filesystem::is_directory(dir))
      throw Error::usage(fmt::format("{}: the folder {} does not exist", *out, dir.string()));
  }

  Registry registry = open_registry(ctx, o.registry);
  std::optional<al::Ledger> ledger;
  if (registry.hub) {
    auto journals = read_journals(ctx, o.journal.empty() ? registry.journal_default : resolve(ctx, o.journal), !o.journal.empty());
    auto devices = registry.hub->registry().list({});
    al::LedgerOptions lo;
    lo.install_window_ms = policy.defaults.install_window_ms;
    lo.class_tags = policy.class_tags;
    // A simulated local hub keeps every device's install reports: they settle each transition.
    std::vector<al::ReportedInstall> installs;
    if (auto* local = dynamic_cast<hub::local::LocalHub*>(registry.hub); local && sim::is_simulated(*local)) {
      auto ms = [](TimePoint t) { return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count(); };
      sim::Store store(local->path(), false);
      for (const auto& e : store.installs())
        installs.push_back({e.device_id, ms(e.started), ms(e.done), e.from_version, e.to_version, e.succeeded});
    }
    ledger = al::Ledger::build(devices, journals, lo, installs);
  } else if (!o.journal.empty()) {
    warn(ctx, "--journal is ignored with --registry none: attribution needs the registry");
  }

  auto inputs = resolve_inputs(ctx, o.inputs, window);
  Lineage lineage(ctx, o.openlineage);
  const bool want_profile = !o.profile_out.empty() || baseline || lineage.on();
  al::Profile profile;
  if (window) {
    profile.window_from_ms = window->first;
    profile.window_to_ms = window->second;
  }
  if (lineage.on()) {
    if (window) {
      lineage.event().nominal_start = TimePoint(std::chrono::milliseconds(window->first));
      lineage.event().nominal_end = TimePoint(std::chrono::milliseconds(window->second));
    }
    for (const auto& in : inputs) {
      ol::InputDataset d;
      d.ns = in.ol_namespace;
      d.name = in.ol_name;
      lineage.event().inputs.push_back(std::move(d));
    }
  }
  lineage.emit(ol::EventType::start);

  al::AuditOptions ao;
  ao.inputs = inputs;
  ao.read = read;
  ao.checks.policy = &policy;
  ao.checks.schemas = &schemas;
  ao.checks.ledger = ledger ? &*ledger : nullptr;
  if (window) {
    ao.checks.window_from_ms = window->first;
    ao.checks.window_to_ms = window->second;
  }
  ao.checks.profile = want_profile ? &profile : nullptr;
  ao.checks.baseline = baseline ? &*baseline : nullptr;
  ao.checks.max_examples = o.examples;
  ao.fatal = [](const Error& e) { return storage::is_fatal(e); };
  const bool any_remote = std::any_of(o.inputs.begin(), o.inputs.end(), [](const auto& s) { return storage::is_remote(s); });
  std::unique_ptr<storage::Prefetcher> prefetch;
  if (any_remote) {
    // Remote objects stream while the one before is parsed.
    prefetch = std::make_unique<storage::Prefetcher>(std::span<const al::Input>(inputs), 2);
    ao.reader = [&](std::size_t i, const al::BatchSink& sink) {
      auto source = prefetch->take(i);
      return al::read_source(*source, static_cast<std::uint32_t>(i), read, sink);
    };
  }
  std::uint64_t total = 0;
  for (const auto& in : inputs) total += in.size.value_or(0);
  output::Progress progress(ctx.io, "Auditing (MB)", static_cast<std::size_t>(total >> 20), ctx.now);
  std::uint64_t shown = 0;
  ao.progress = [&](std::uint64_t bytes) {
    auto mb = bytes >> 20;
    if (mb > shown) {
      progress.advance(static_cast<std::size_t>(mb - shown));
      shown = mb;
    }
  };

  al::AuditResult result;
  try {
    result = al::run_audit(std::move(ao));
  } catch (const Error& e) {
    progress.done();
    lineage.emit(ol::EventType::fail, e.message());
    throw;
  } catch (const std::exception& e) {
    progress.done();
    lineage.emit(ol::EventType::fail, e.what());
    throw;
  }
  progress.done();

  al::AuditJsonOptions jo;
  jo.aiot_version = AIOT_VERSION;
  jo.run_id = lineage.on() ? lineage.run_id() : std::string();
  jo.fail_on = *fail_on;
  json audit = al::to_json(result, jo);

  std::uint64_t bytes = 0;
  for (const auto& in : result.inputs) bytes += in.bytes;
  if (want_profile) {
    profile.malformed = result.stats.malformed;
    profile.bytes = bytes;
    profile.inputs = result.inputs.size();
  }
  if (!o.out.empty()) fs::write_atomic(resolve(ctx, o.out), audit.dump(2) + "\n");
  if (!o.profile_out.empty()) profile.save(resolve(ctx, o.profile_out));

  if (lineage.on()) {
    auto& ev = lineage.event();
    auto metrics = ol::metrics_of(profile);
    auto attribution = ol::attribution_of(profile);
    std::vector<ol::Assertion> assertions;
    for (const auto& c : result.checks) {
      if (!c.evaluated) continue;
      const auto& ci = al::info(c.check);
      auto outcome = c.outcome();
      ol::Assertion a;
      a.assertion = std::string(ci.code) + " " + std::string(ci.title);
      a.name = std::string(ci.code);
      a.success = outcome == al::Outcome::pass || outcome == al::Outcome::info;
      auto sev = c.severity.value_or(ci.severity);
      a.severity = sev == al::Severity::error ? "error" : "warn";
      a.expected = c.expected.dump();
      a.actual = fmt::format("{} {} ({})", c.count, c.unit, percent(c.rate()));
      assertions.push_back(std::move(a));
    }
    ev.inputs.clear();
    for (const auto& in : result.inputs) {
      ol::InputDataset d;
      d.ns = in.ol_namespace;
      d.name = in.ol_name;
      d.version = !in.version.empty() ? in.version : in.sha256;
      d.data_source = ol::DataSource{in.ol_namespace, in.ol_namespace == "file" ? "file://" + in.ol_name : in.ol_namespace};
      // The checks, columns and attribution describe the audited union of the inputs: every input carries them.
      ol::DataQualityMetrics m = metrics;
      m.row_count = in.records;
      m.bytes = in.bytes;
      m.file_count = 1;
      d.metrics = std::move(m);
      d.assertions = assertions;
      d.attribution = attribution;
      ev.inputs.push_back(std::move(d));
    }
    for (const auto* out : {&o.out, &o.profile_out}) {
      if (out->empty()) continue;
      auto path = std::filesystem::absolute(resolve(ctx, *out)).lexically_normal();
      ol::OutputDataset d;
      d.ns = "file";
      d.name = path.string();
      d.size = std::filesystem::file_size(path);
      d.file_count = 1;
      ev.outputs.push_back(std::move(d));
    }
    lineage.emit(ol::EventType::complete);
  }

  // stdout: the checks (table) or the whole audit (json/yaml).
  auto render = render_options(ctx);
  if (render.format == output::Format::json || render.format == output::Format::yaml) {
    output::print_object(ctx.io, audit, render);
  } else {
    json rows = json::array();
    for (const auto& c : audit["checks"]) {
      std::string example;
      if (!c["examples"].empty()) {
        const auto& e = c["examples"][0];
        example = e.contains("at") ? e["at"].get<std::string>() + " " + e["detail"].get<std::string>() : e["detail"].get<std::string>();
      } else if (c.contains("skipped_reason")) {
        example = c["skipped_reason"].get<std::string>();
      }
      rows.push_back({{"code", c["code"]},
                      {"outcome", c["outcome"]},
                      {"count", c["count"]},
                      {"unit", c["unit"]},
                      {"rate", percent(c["rate"].get<double>())},
                      {"title", c["title"]},
                      {"example", example}});
    }
    static const output::Column k_columns[] = {{"CHECK", "code"},   {"OUTCOME", "outcome", output::ColumnKind::status},
                                               {"COUNT", "count"},  {"UNIT", "unit"},
                                               {"RATE", "rate"},    {"WHAT", "title"},
                                               {"FIRST EXAMPLE", "example"}};
    output::print_list(ctx.io, rows, k_columns, render);
  }

  const auto& st = audit["statistics"];
  say(ctx, fmt::format("{} Audited {} records from {} input{} ({:.1f} MB in {:.2f} s, {:.0f} MB/s; {} devices, {} malformed): "
                       "verdict {}{}",
                       result.fails(*fail_on) ? "✗" : "✓", result.stats.records_read, result.inputs.size(),
                       result.inputs.size() == 1 ? "" : "s", static_cast<double>(bytes) / 1e6, result.seconds,
                       st["mb_per_s"].get<double>(), result.devices.size(), result.stats.malformed,
                       audit["verdict"].get<std::string>(), o.out.empty() ? "" : "; wrote " + o.out));

  // Inputs that could not be read: the audit is incomplete, which outranks its verdict.
  for (const auto& in : result.inputs) {
    if (in.error.empty()) continue;
    std::size_t failed = std::count_if(result.inputs.begin(), result.inputs.end(), [](const auto& i) { return !i.error.empty(); });
    auto code = in.error_code == to_int(ExitCode::auth) || in.error_code == to_int(ExitCode::unavailable)
                    ? static_cast<ExitCode>(in.error_code)
                    : ExitCode::failure;
    throw Error(code, fmt::format("{} of {} inputs could not be read; first: {}: {}", failed, result.inputs.size(), in.name, in.error),
                "The report covers the inputs that were read (see \"inputs\" in the audit JSON).");
  }
  return result.fails(*fail_on) ? to_int(ExitCode::verdict) : 0;
}

}  // namespace

void add_audit(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<AuditOptions>();
  auto* c = group.add_subcommand("audit", "Check telemetry exports for health and attribute every record to a model version");
  c->add_option("-i,--input", o->inputs, "Files, folders, globs (**) or URLs (az://, s3://, https://) of telemetry exports")
      ->required()
      ->type_name("PATH|GLOB|DIR|URL");
  c->add_option("--format", o->format, "auto, ndjson, csv, iothub-json, iothub-avro, aws-s3-json (gzip is detected)")
      ->capture_default_str();
  c->add_option("--window", o->window, "Only records whose hub time is in FROM/TO or FROM/DURATION (RFC 3339; 7d, PT6H)");
  c->add_option("--schemas", o->schemas, "Folder of telemetry schemas (types, units, ranges, intervals per device class)");
  c->add_option("--registry", o->registry, "Hub whose registry attributes senders: local:PATH, or none (default: the profile's hub)");
  c->add_option("--journal", o->journal, "Rollout journal file or folder (default: the registry hub's journal folder)");
  c->add_option("--baseline", o->baseline, "profile.json of a reference window: DRF001 compares against it");
  c->add_option("--policy", o->policy, "Policy YAML: thresholds and severities per check and device class");
  c->add_option("--openlineage", o->openlineage, "Emit OpenLineage RunEvents to file:PATH or http(s)://HOST:PORT[/PATH]");
  c->add_option("--out", o->out, "Write audit.json (aiot.audit/v1) here, atomically");
  c->add_option("--profile-out", o->profile_out, "Write the mergeable profile.json (aiot.profile/v1) here");
  c->add_option("--fail-on", o->fail_on, "Exit 3 when a check fails at this level: error, warn or never")->capture_default_str();
  c->add_option("--examples", o->examples, "Examples kept per check")->capture_default_str()->check(CLI::Range(0, 1000));
  c->add_option("--threads", o->threads,
                "Threads parsing JSON-lines input: 1 = on the reader thread; 0 = automatic: the cores beyond the two the checks use, at least 1")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  d.on(c, [o](Context& ctx) { return run_audit(ctx, *o); });
}

}  // namespace aiot::cli::lineage
