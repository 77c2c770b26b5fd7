// aiot lineage merge PROFILE... [--out FILE] [--openlineage file:PATH|http(s)://HOST:PORT[/PATH]]
//
// Combines the profile.json files of audits run on different shards or machines into the profile
// of the union: counts add up, KLL/HLL/frequent-item sketches merge, windows widen to cover both.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

#include "aiot/context.hpp"
#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/http/transport.hpp"
#include "aiot/lineage/openlineage.hpp"
#include "aiot/lineage/profile.hpp"
#include "cli/common.hpp"

namespace aiot::cli::lineage {

void add_merge(CLI::App& group, Dispatch& d);

namespace {

namespace ol = aiot::lineage::ol;
using aiot::lineage::Profile;

struct MergeOptions {
  std::vector<std::string> profiles;
  std::string out;
  std::string openlineage;
};

std::filesystem::path resolve(Context& ctx, const std::string& p) {
  std::filesystem::path path = p;
  return path.is_relative() ? ctx.cwd / path : path;
}

nlohmann::json window_json(const Profile& p) {
  auto at = [](const std::optional<std::int64_t>& ms) -> nlohmann::json {
    if (!ms) {
      return nullptr;
    }
    return format_rfc3339(TimePoint(std::chrono::milliseconds(*ms)));
  };
  return {{"from", at(p.window_from_ms)}, {"to", at(p.window_to_ms)}};
}

// What stdout shows when the profile itself is not printed: stable field names for -o json.
nlohmann::json summary(const Profile& merged, std::size_t profiles, const std::string& out) {
  nlohmann::json models = nlohmann::json::object();
  std::size_t fields = 0;
  for (const auto& [version, model] : merged.models) {
    models[version] = model.records;
    fields += model.fields.size();
  }
  return {{"out", out.empty() ? nlohmann::json(nullptr) : nlohmann::json(out)},
          {"profiles", profiles},
          {"records", merged.records},
          {"malformed", merged.malformed},
          {"inputs", merged.inputs},
          {"devices", static_cast<std::uint64_t>(std::llround(merged.devices.estimate()))},
          {"window", window_json(merged)},
          {"recordsByModelVersion", std::move(models)},
          {"fieldProfiles", fields}};
}

// START, then COMPLETE or FAIL, when a target is configured (flag, else OPENLINEAGE_URL).
class Lineage {
 public:
  Lineage(Context& ctx, const std::string& flag) : ctx_(ctx) {
    std::optional<std::string> target;
    if (!flag.empty()) {
      target = flag;
    } else {
      target = ol::target_from_env(ctx.env);
    }
    if (!target) {
      return;
    }
    std::shared_ptr<http::Transport> transport;
    if (!target->starts_with("file:")) {
      transport = ctx.transport();
    }
    emitter_ = ol::make_emitter(*target, transport.get(), ol::api_key_from_env(ctx.env));
    transport_ = std::move(transport);
    event_.run_id = ol::new_run_id(ctx.now());
    event_.job_namespace = ol::job_namespace_from_env(ctx.env);
    event_.job_name = "lineage.merge";
    event_.aiot_version = AIOT_VERSION;
  }

  bool on() const { return emitter_ != nullptr; }
  ol::RunEvent& event() { return event_; }

  void emit(ol::EventType type, const std::string& error = {}) {
    if (!emitter_) {
      return;
    }
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

int run_merge(Context& ctx, const MergeOptions& o) {
  if (o.profiles.empty()) {
    throw Error::usage("give at least one profile to merge", "For example: aiot lineage merge shard-*/profile.json --out week.json");
  }
  const auto render = render_options(ctx);
  const bool print_profile = o.out.empty() && render.format == output::Format::json;

  Lineage lineage(ctx, o.openlineage);
  lineage.emit(ol::EventType::start);

  Profile merged;
  try {
    for (const auto& name : o.profiles) {
      const auto path = resolve(ctx, name);
      const auto text = fs::read_file(path);
      const auto profile = Profile::from_json_text(text, name);
      try {
        merged.merge(profile);
      } catch (const Error& e) {
        throw e.with_prefix(name + ": ");
      }
      if (lineage.on()) {
        ol::InputDataset input;
        input.ns = "file";
        input.name = std::filesystem::absolute(path).lexically_normal().string();
        input.version = crypto::sha256_hex(text);
        input.metrics = ol::metrics_of(profile);
        input.metrics->bytes = text.size();  // of the profile file, which is the dataset read here
        input.metrics->file_count = 1;
        input.attribution = ol::attribution_of(profile);
        lineage.event().inputs.push_back(std::move(input));
      }
    }
    std::string written;
    if (!o.out.empty()) {
      const auto out_path = resolve(ctx, o.out);
      const auto text = merged.to_json_text();
      fs::write_atomic(out_path, text);
      written = o.out;
      if (lineage.on()) {
        ol::OutputDataset output;
        output.ns = "file";
        output.name = std::filesystem::absolute(out_path).lexically_normal().string();
        output.row_count = merged.records;
        output.size = text.size();
        output.file_count = 1;
        lineage.event().outputs.push_back(std::move(output));
      }
    }

    if (print_profile) {
      ctx.io.out() << merged.to_json_text();
    } else {
      output::print_object(ctx.io, summary(merged, o.profiles.size(), written), render);
      if (o.out.empty()) {
        warn(ctx, "the merged profile was not written: give --out FILE (or -o json to print it)");
      } else {
        say(ctx, fmt::format("✓ Merged {} profile{} ({} records) into {}", o.profiles.size(),
                             o.profiles.size() == 1 ? "" : "s", merged.records, o.out));
      }
    }
  } catch (const Error& e) {
    try {
      lineage.emit(ol::EventType::fail, e.message());
    } catch (const Error& emit_error) {
      warn(ctx, fmt::format("could not send the OpenLineage FAIL event: {}", emit_error.message()));
    }
    throw;
  }
  try {
    lineage.emit(ol::EventType::complete);
  } catch (const Error& e) {
    throw e.with_prefix(o.out.empty() ? std::string() : fmt::format("{} was written, but ", o.out));
  }
  return 0;
}

}  // namespace

void add_merge(CLI::App& group, Dispatch& d) {
  auto opts = std::make_shared<MergeOptions>();
  auto* c = group.add_subcommand("merge", "Combine profiles of audits run on shards or machines into one");
  c->add_option("profiles", opts->profiles, "profile.json files written by `aiot lineage audit --profile-out`")
      ->required()
      ->type_name("PROFILE");
  c->add_option("--out", opts->out, "Write the merged profile here (atomically)")->type_name("FILE");
  c->add_option("--openlineage", opts->openlineage,
                "Emit OpenLineage START/COMPLETE events: file:PATH (JSON lines) or http://127.0.0.1:5000 (Marquez); "
                "default from OPENLINEAGE_URL")
      ->type_name("TARGET");
  d.on(c, [opts](Context& ctx) { return run_merge(ctx, *opts); });
}

}  // namespace aiot::cli::lineage
