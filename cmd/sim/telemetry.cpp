// aiot sim telemetry --out DIR --hours H [--format F] [--seed S] [--interval 5m] [--defects RATE|FILE]
//   [--drift FIELD:SHIFT[@FROM]]... [--bias KEY=VALUE[:S]]... [--labels FILE] [--gzip] [--force]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/hub/local/local_hub.hpp"
#include "aiot/sim/telemetry.hpp"
#include "cli/common.hpp"
#include "sim/verbs.hpp"

namespace aiot::cli::sim {

namespace {

struct TelemetryOptions {
  std::string out;
  double hours = 24;
  std::string format = "ndjson";
  std::optional<std::uint64_t> seed;
  std::string interval = "5m";
  std::string batch = "5m";
  std::string defects;
  std::vector<std::string> drifts;
  std::vector<std::string> biases;
  std::string labels;
  double label_rate = 0.1;
  std::string iothub = "aiot-sim";
  bool gzip = false;
  bool force = false;
};

std::filesystem::path resolve(Context& ctx, const std::string& p) {
  std::filesystem::path path = p;
  return path.is_relative() ? ctx.cwd / path : path;
}

std::chrono::milliseconds duration_flag(const std::string& flag, const std::string& text) {
  auto d = parse_duration(text);
  if (!d || d->count() <= 0) throw Error::usage(fmt::format("{} takes a duration (90s, 5m, 1h), got '{}'", flag, text));
  return *d;
}

aiot::sim::DefectSpec defects_from(Context& ctx, const std::string& value) {
  // A number is a rate for every class; anything else names a file.
  char* end = nullptr;
  double rate = std::strtod(value.c_str(), &end);
  if (end && *end == '\0' && end != value.c_str()) return aiot::sim::defects_at_rate(rate);
  auto path = resolve(ctx, value);
  if (!std::filesystem::exists(path)) {
    throw Error::usage(fmt::format("--defects '{}' is neither a rate nor a file", value),
                       "For example: --defects 0.001, or --defects defects.yaml with 'duplicate: {count: 5}'.");
  }
  return aiot::sim::parse_defects(fs::read_file(path), value);
}

int run_telemetry(const TelemetryOptions& o, Context& ctx) {
  if (o.out.empty()) throw Error::usage("--out DIR is required", "For example: aiot sim telemetry --out exports --hours 24");
  if (!(o.hours > 0) || o.hours > 24 * 400) throw Error::usage(fmt::format("--hours must be in (0, 9600], got {}", o.hours));
  auto format = aiot::sim::parse_export_format(o.format);
  if (!format) {
    throw Error::usage(fmt::format("unknown --format '{}'", o.format),
                       "Use ndjson, csv, iothub-json, iothub-avro or aws-s3-json.");
  }
  aiot::sim::TelemetrySpec spec;
  spec.out = resolve(ctx, o.out);
  spec.format = *format;
  spec.window = std::chrono::milliseconds(std::llround(o.hours * 3'600'000.0));
  spec.interval = duration_flag("--interval", o.interval);
  spec.batch = duration_flag("--batch", o.batch);
  spec.seed = o.seed;
  spec.gzip = o.gzip;
  spec.force = o.force;
  spec.iothub = o.iothub;
  spec.label_rate = o.label_rate;
  if (!o.labels.empty()) spec.labels = resolve(ctx, o.labels);
  if (!o.defects.empty()) spec.defects = defects_from(ctx, o.defects);
  for (const auto& d : o.drifts) spec.drifts.push_back(aiot::sim::parse_drift(d));
  for (const auto& b : o.biases) spec.biases.push_back(aiot::sim::parse_bias(b));

  auto fleet = aiot::sim::load_fleet(local_hub(ctx));
  std::optional<output::Progress> progress;  // made once the generator knows the total
  std::uint64_t shown = 0;
  auto result = aiot::sim::write_telemetry(fleet, spec, [&](std::uint64_t done, std::uint64_t total) {
    if (!progress) progress.emplace(ctx.io, "Writing telemetry", static_cast<std::size_t>(total), ctx.now);
    if (done > shown) progress->advance(static_cast<std::size_t>(done - shown));
    shown = done;
  });
  if (progress) progress->done();
  for (const auto& w : result.warnings) warn(ctx, w);

  const auto& m = result.manifest;
  nlohmann::json planted = nlohmann::json::object();
  for (const auto& d : m["defects"]) planted[d["class"].get<std::string>()] = d["planted"];
  nlohmann::json summary = {
      {"out", spec.out.string()},
      {"format", o.format},
      {"windowStart", m["parameters"]["windowStart"]},
      {"windowEnd", m["parameters"]["windowEnd"]},
      {"devices", m["fleet"]["devices"]},
      {"records", result.records},
      {"malformedLines", m["totals"]["malformedLines"]},
      {"files", result.files},
      {"bytes", result.bytes},
      {"defects", planted},
      {"manifest", (spec.out / "manifest.json").string()},
  };
  output::print_object(ctx.io, summary, render_options(ctx));
  say(ctx, fmt::format("✓ Wrote {} records in {} {} file(s) ({:.1f} MB) to {}", result.records, result.files, o.format,
                       static_cast<double>(result.bytes) / 1e6, spec.out.string()));
  return 0;
}

}  // namespace

void add_telemetry(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<TelemetryOptions>();
  auto* c = group.add_subcommand(
      "telemetry", "Write the simulated fleet's telemetry in a cloud export layout, with planted defects and a manifest");
  c->add_option("--out", o->out, "Output directory (data/, truth/ and manifest.json go there)")->required();
  c->add_option("--hours", o->hours, "Window length in hours, ending at the sim clock")->capture_default_str();
  c->add_option("--format", o->format, "ndjson, csv, iothub-json, iothub-avro or aws-s3-json")->capture_default_str();
  c->add_option("--seed", o->seed, "Seed of the telemetry draws (default: the fleet's seed)");
  c->add_option("--interval", o->interval, "Time between a device's messages")->capture_default_str();
  c->add_option("--batch", o->batch, "Batch period of iothub and aws files")->capture_default_str();
  c->add_option("--defects", o->defects, "A rate for every defect class (0.001), or a YAML file of rates and counts");
  c->add_option("--drift", o->drifts, "FIELD:SHIFT[@FROM]: e.g. temperature:+3sd@2026-11-20T00:00:00Z or @version=2.2");
  c->add_option("--bias", o->biases, "KEY=VALUE[:STRENGTH]: predictions are worse in that site, region or hw");
  c->add_option("--labels", o->labels, "Write ground-truth labels (JSON lines) for a sample of records to FILE");
  c->add_option("--label-rate", o->label_rate, "Share of records labelled")->capture_default_str();
  c->add_option("--iothub", o->iothub, "IoT Hub name in iothub-* paths")->capture_default_str();
  c->add_flag("--gzip", o->gzip, "Compress every file (.gz)");
  c->add_flag("--force", o->force, "Replace an earlier export in --out");
  d.on(c, [o](Context& ctx) { return run_telemetry(*o, ctx); });
}

}  // namespace aiot::cli::sim
