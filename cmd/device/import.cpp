// aiot device import -f FILE [--format csv|yaml|jsonl] [--update] [--ca DIR] [--out-dir DIR] [--days N]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/fleet/device_file.hpp"
#include "aiot/fleet/enroll.hpp"
#include "aiot/hub/hub.hpp"
#include "cli/common.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct ImportOptions {
  std::string file;
  std::string format;
  bool update = false;
  std::string ca;
  std::string out_dir;
  int days = 365;
};

constexpr std::size_t k_batch = 500;  // rows per write transaction: progress moves, other writers get turns

struct Outcome {
  std::size_t line;
  std::string id;
  hub::RowOutcome outcome;
  std::string error;
};

// Hubs that hold certificates themselves (AWS IoT) get each new X.509 device's PEM: the one the
// row named, or the one issued here.
void attach_certificate(hub::Registry& registry, const hub::Device& device, const std::string& cert_path,
                        const std::vector<std::filesystem::path>& files) {
  if (device.auth.type != hub::AuthType::self_signed && device.auth.type != hub::AuthType::certificate_authority) return;
  std::filesystem::path pem = cert_path;
  for (const auto& f : files) {
    if (f.filename() == device.id + ".cert.pem") pem = f;
  }
  if (!pem.empty()) registry.attach_certificate(device, fs::read_file(pem));
}

int run_import(const ImportOptions& o, Context& ctx) {
  std::filesystem::path path = o.file;
  if (path.is_relative() && o.file != "-") path = ctx.cwd / path;
  std::string content;
  std::string source = o.file;
  if (o.file == "-") {
    content.assign(std::istreambuf_iterator<char>(ctx.io.in()), std::istreambuf_iterator<char>());
    source = "stdin";
  } else {
    content = fs::read_file(path);
  }
  auto format = o.format.empty() ? fleet::detect_format(path, content) : *fleet::parse_file_format(o.format);
  auto file = fleet::parse_device_file(content, format, source, o.file == "-" ? ctx.cwd : path.parent_path());

  std::vector<Outcome> outcomes;
  for (const auto& e : file.errors) outcomes.push_back({e.line, "", hub::RowOutcome::failed, e.message});

  fleet::EnrollOptions eo;
  eo.now = ctx.now();
  eo.validity = std::chrono::hours(24 * o.days);
  bool needs_ca = false, needs_keys_dir = false;
  for (const auto& r : file.rows) {
    needs_ca |= r.spec.auth.type == hub::AuthType::certificate_authority && r.cert_path.empty();
    needs_keys_dir |= r.spec.auth.type != hub::AuthType::sas && r.cert_path.empty();
  }
  if (needs_ca) {
    std::string dir = o.ca.empty() ? ctx.settings().get("ca_dir") : o.ca;
    if (!dir.empty()) eo.ca = x509::load_ca(std::filesystem::path(dir).is_relative() ? ctx.cwd / dir : std::filesystem::path(dir));
  }
  if (!o.out_dir.empty())
    eo.out_dir = std::filesystem::path(o.out_dir).is_relative() ? ctx.cwd / o.out_dir : std::filesystem::path(o.out_dir);
  else if (needs_keys_dir)
    eo.out_dir = fleet::default_out_dir(ctx.cwd);

  auto& registry = ctx.hub().registry();
  output::Progress progress(ctx.io, "Importing", file.rows.size(), ctx.now);
  std::size_t counts[4] = {0, 0, 0, 0};
  for (std::size_t start = 0; start < file.rows.size(); start += k_batch) {
    std::size_t end = std::min(file.rows.size(), start + k_batch);
    std::vector<fleet::Prepared> prepared;
    std::vector<const fleet::DeviceRow*> rows;
    for (std::size_t i = start; i < end; ++i) {
      const auto& row = file.rows[i];
      try {
        auto spec = row.spec;
        // Credentials made here are made only for devices the hub does not have yet, so a re-run
        // compares content instead of minting new certificates.
        bool makes_credentials = spec.auth.type != hub::AuthType::sas && row.cert_path.empty();
        if (makes_credentials) {
          try {
            registry.get(spec.id);
            prepared.push_back({std::move(spec), std::nullopt});
            rows.push_back(&row);
            continue;
          } catch (const Error& e) {
            if (e.reason() != Reason::not_found) throw;
          }
        }
        prepared.push_back(fleet::prepare(std::move(spec), row.cert_path, eo));
        rows.push_back(&row);
      } catch (const Error& e) {
        if (e.code() == ExitCode::unavailable) throw;
        outcomes.push_back({row.line, row.spec.id, hub::RowOutcome::failed, e.message()});
      }
    }
    std::vector<hub::Device> specs;
    specs.reserve(prepared.size());
    for (const auto& p : prepared) specs.push_back(p.spec);
    auto results = registry.import(specs, o.update ? hub::ImportMode::upsert : hub::ImportMode::create);
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i];
      std::string error = r.error ? r.error->message() : "";
      auto outcome = r.outcome;
      if (outcome == hub::RowOutcome::created) {
        try {
          auto files = fleet::write_credentials(*r.device, prepared[i], eo);
          attach_certificate(registry, *r.device, rows[i]->cert_path, files);
        } catch (const Error& e) {
          if (e.code() == ExitCode::unavailable || e.code() == ExitCode::auth) throw;
          error = "registered, but its credentials failed: " + e.message();
          outcome = hub::RowOutcome::failed;
        }
      }
      outcomes.push_back({rows[i]->line, rows[i]->spec.id, outcome, error});
    }
    progress.advance(end - start);
  }
  progress.done();

  std::sort(outcomes.begin(), outcomes.end(), [](const Outcome& a, const Outcome& b) { return a.line < b.line; });
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& oc : outcomes) {
    ++counts[static_cast<int>(oc.outcome)];
    nlohmann::json row = {{"line", oc.line}, {"id", oc.id}, {"outcome", hub::to_string(oc.outcome)}};
    if (!oc.error.empty()) {
      row["error"] = oc.error;
      ctx.io.err() << fmt::format("{}:{}: {}{}\n", source, oc.line, oc.id.empty() ? "" : oc.id + ": ", oc.error);
    }
    rows.push_back(std::move(row));
  }
  nlohmann::json summary = {{"file", source},
                            {"created", counts[0]},
                            {"updated", counts[1]},
                            {"unchanged", counts[2]},
                            {"failed", counts[3]}};
  auto opt = render_options(ctx);
  if (opt.format == output::Format::json || opt.format == output::Format::yaml) summary["rows"] = rows;
  output::print_object(ctx.io, summary, opt);
  say(ctx, fmt::format("Imported {}: {} created, {} updated, {} unchanged, {} failed", source, counts[0], counts[1],
                       counts[2], counts[3]));
  return counts[3] > 0 ? to_int(ExitCode::usage) : 0;
}

}  // namespace

void add_import(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<ImportOptions>();
  auto* c = group.add_subcommand("import", "Register devices from a CSV, YAML or JSON Lines file (idempotent)");
  c->add_option("-f,--file", o->file, "The device file ('-' for stdin)")->required();
  c->add_option("--format", o->format, "csv, yaml or jsonl (default: from the extension or content)")
      ->check(CLI::IsMember({"csv", "yaml", "yml", "jsonl", "ndjson", "json"}));
  c->add_flag("--update", o->update, "Replace devices whose content differs (default: report them as conflicts)");
  c->add_option("--ca", o->ca, "Fleet CA folder for x509-ca rows (default: the ca_dir setting)");
  c->add_option("--out-dir", o->out_dir, "Write credentials here, 0600 (X.509 default: ./aiot-devices)");
  c->add_option("--days", o->days, "Validity of generated certificates in days")->check(CLI::Range(1, 36500))->capture_default_str();
  d.on(c, [o](Context& ctx) { return run_import(*o, ctx); });
}

}  // namespace aiot::cli::device
