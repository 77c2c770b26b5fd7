// aiot model card NAME [VERSION] [--metrics FILE] [--out FILE]
// A model card in the Model Card Toolkit JSON layout, filled from the registry, the user's card
// fields (add --card), the rollouts that shipped this version, and metrics the user adds (an
// audit's or a report's numbers exported as {type, value, slice} rows).
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/artifact.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"
#include "rollout/common.hpp"

namespace aiot::cli::model {

namespace {

using nlohmann::json;

struct CardOptions {
  std::string name, version, metrics, out;
};

std::string text_of(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// What the fleet measured: one row per rollout of this version (its phase) and per wave (device
// outcomes and gate verdicts), sliced by rollout and wave.
json rollout_metrics(Context& ctx, const artifact::ArtifactRecord& r) {
  json rows = json::array();
  auto driver = rollout::make_driver(ctx);
  for (const auto& name : driver.controller->list()) {
    auto rec = driver.backend->read(name);
    if (!rec) continue;
    const json a = rec->state.value("artifact", json::object());
    if (a.value("name", "") != r.name || a.value("version", "") != r.version) continue;
    auto st = driver.controller->status(name);
    rows.push_back({{"type", "rollout phase"}, {"value", text_of(st["phase"])}, {"slice", "rollout " + name}});
    for (const auto& w : st["waves"]) {
      std::string slice = fmt::format("rollout {} wave {}", name, text_of(w["name"]));
      // Named copies: items() of the temporary value() returns would dangle.
      const json devices = w.value("devices", json::object());
      const json gates = w.value("gates", json::object());
      for (const auto& [outcome, n] : devices.items()) {
        rows.push_back({{"type", "devices " + outcome}, {"value", text_of(n)}, {"slice", slice}});
      }
      for (const auto& [gate, result] : gates.items()) {
        json verdict = result.is_object() && result.contains("verdict") ? result["verdict"] : result;
        rows.push_back({{"type", "gate " + gate}, {"value", text_of(verdict)}, {"slice", slice}});
      }
    }
  }
  return rows;
}

// --metrics: a JSON array of {type, value, slice} rows, or an object holding one under
// "performance_metrics" (a model card of its own).
json user_metrics(Context& ctx, const std::string& file) {
  json j;
  try {
    j = json::parse(fs::read_file(from_cwd(ctx, file)));
  } catch (const json::parse_error& e) {
    throw Error::usage(fmt::format("{}: not JSON: {}", file, e.what()));
  }
  if (j.is_object() && j.contains("quantitative_analysis")) j = j["quantitative_analysis"];
  if (j.is_object() && j.contains("performance_metrics")) j = j["performance_metrics"];
  if (!j.is_array()) {
    throw Error::usage(fmt::format("{}: expected an array of {{type, value, slice}} rows", file));
  }
  json rows = json::array();
  for (const auto& row : j) {
    if (!row.is_object() || !row.contains("type") || !row.contains("value")) {
      throw Error::usage(fmt::format("{}: every row needs 'type' and 'value', got {}", file, row.dump()));
    }
    json out = {{"type", text_of(row["type"])}, {"value", text_of(row["value"])}};
    if (row.contains("slice")) out["slice"] = text_of(row["slice"]);
    rows.push_back(std::move(out));
  }
  return rows;
}

int run_card(const CardOptions& o, Context& ctx, Kind kind) {
  auto store = open_store(ctx);
  std::optional<artifact::ArtifactRecord> r;
  if (o.version.empty()) {
    r = store->latest(kind, o.name);
    if (!r) throw Error::not_found(fmt::format("no {} named '{}' is registered", kind_name(kind), o.name));
  } else {
    r = store->need(kind, o.name, o.version);
  }
  auto previous = store->previous(kind, r->name, r->version);
  json metrics = rollout_metrics(ctx, *r);
  if (!o.metrics.empty()) {
    for (const auto& row : user_metrics(ctx, o.metrics)) metrics.push_back(row);
  }
  auto card = artifact::model_card(*r, previous ? &*previous : nullptr, metrics);
  std::string text = card.dump(2) + "\n";
  if (o.out.empty()) {
    ctx.io.out() << text;
  } else {
    fs::write_atomic(from_cwd(ctx, o.out), text);
    say(ctx, fmt::format("✓ Wrote the model card of {} {} to {}", r->name, r->version, o.out));
  }
  return 0;
}

}  // namespace

void add_card(CLI::App& group, Dispatch& d, Kind kind) {
  auto o = std::make_shared<CardOptions>();
  auto* c = group.add_subcommand("card", "A model card (Model Card Toolkit JSON) from the registry, rollouts and metrics");
  c->add_option("name", o->name, "Artifact name")->required();
  c->add_option("version", o->version, "Version (default: the latest added)");
  c->add_option("--metrics", o->metrics, "Add performance metrics: a JSON array of {type, value, slice}");
  c->add_option("--out", o->out, "Write the card to this file (atomically) instead of stdout");
  d.on(c, [o, kind](Context& ctx) { return run_card(*o, ctx, kind); });
}

}  // namespace aiot::cli::model
