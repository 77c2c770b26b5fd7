// aiot model|firmware add FILE --name N --version V [--uri URI] [--sign-key KEY] [--card card.yaml]
//                                [--triton DIR [--triton-version N] [--triton-max-batch N]]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/artifact.hpp"
#include "aiot/artifact/onnx.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/time.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"

namespace aiot::cli::model {

namespace {

struct AddOptions {
  std::string file, name, version, uri, sign_key, card;
  std::string triton_dir;
  int triton_version = 1;
  int triton_max_batch = 8;
};

// file:///abs/path with everything outside RFC 3986's unreserved set and '/' percent-encoded.
std::string file_uri(const std::filesystem::path& p) {
  std::string out = "file://";
  for (unsigned char c : p.string()) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

int run_add(const AddOptions& o, Context& ctx, Kind kind) {
  auto path = std::filesystem::weakly_canonical(from_cwd(ctx, o.file));
  if (!std::filesystem::is_regular_file(path)) {
    throw Error::usage(fmt::format("{}: no such file", o.file));
  }
  if (!o.triton_dir.empty() && kind != Kind::model) {
    throw Error::usage("--triton writes a Triton model repository, which is for models", "Use 'aiot model add'.");
  }
  if (!o.uri.empty() && o.uri.find("://") == std::string::npos) {
    throw Error::usage(fmt::format("--uri: '{}' is not a URI (expected a scheme such as https://)", o.uri));
  }
  // Keys are loaded before anything is written: a refused key leaves the registry as it was.
  std::optional<artifact::SigningKey> key;
  if (!o.sign_key.empty()) key = artifact::SigningKey::load(from_cwd(ctx, o.sign_key));

  std::string bytes = fs::read_file(path);
  auto record = artifact::describe(kind, o.name, o.version, bytes, o.file);
  record.uri = o.uri.empty() ? file_uri(path) : o.uri;
  record.source_path = path.string();
  record.added_at = format_rfc3339(ctx.now());
  if (!o.card.empty()) {
    record.card = artifact::parse_card(fs::read_file(from_cwd(ctx, o.card)), o.card);
  }
  std::string triton_config;
  if (!o.triton_dir.empty()) {
    triton_config = artifact::triton_config(record.name, record.onnx(), o.triton_max_batch);
  }
  if (key) artifact::sign(record, *key, record.added_at);

  auto store = open_store(ctx);
  auto outcome = store->add(record);
  if (outcome == artifact::AddOutcome::unchanged) {
    // The same bytes under the same name and version: an idempotent re-run. A new key re-signs it.
    if (key) store->set_signature(kind, record.name, record.version, *record.signature);
    record = store->need(kind, record.name, record.version);
  }
  if (!o.triton_dir.empty()) {
    auto model_dir = from_cwd(ctx, o.triton_dir) / record.name;
    fs::ensure_dir(model_dir / std::to_string(o.triton_version));
    fs::write_atomic(model_dir / std::to_string(o.triton_version) / "model.onnx", bytes);
    fs::write_atomic(model_dir / "config.pbtxt", triton_config);
    say(ctx, fmt::format("Wrote the Triton model {} (version {}) to {}", record.name, o.triton_version,
                         (std::filesystem::path(o.triton_dir) / record.name).string()));
  }

  auto j = record.to_json();
  j["outcome"] = outcome == artifact::AddOutcome::created ? "created" : "unchanged";
  auto opt = render_options(ctx);
  if (opt.format == output::Format::json || opt.format == output::Format::yaml) {
    output::print_object(ctx.io, j, opt);
  } else {
    nlohmann::json row = {{"kind", j["kind"]},         {"name", j["name"]},     {"version", j["version"]},
                          {"sha256", j["sha256"]},     {"size", j["size"]},     {"uri", j["uri"]},
                          {"signed", j["signed"]},     {"outcome", j["outcome"]}};
    output::print_object(ctx.io, row, opt);
  }
  say(ctx, fmt::format("✓ {} {} {} {}{}", outcome == artifact::AddOutcome::created ? "Added" : "Already registered:",
                       kind_name(kind), record.name, record.version,
                       record.signature ? fmt::format(" (signed by {})", record.signature->key_id) : ""));
  return 0;
}

}  // namespace

void add_add(CLI::App& group, Dispatch& d, Kind kind) {
  auto o = std::make_shared<AddOptions>();
  auto* c = group.add_subcommand(
      "add", kind == Kind::model
                 ? "Register an ONNX model: SHA-256, size, IR version, opsets, producer, typed inputs and outputs"
                 : "Register a firmware image: SHA-256 and size");
  c->add_option("file", o->file, "The artifact file")->required();
  c->add_option("--name", o->name, "Artifact name (letters, digits, . _ + -)")->required();
  c->add_option("--version", o->version, "Version (immutable once added)")->required();
  c->add_option("--uri", o->uri, "Where devices download it (default: the file's file:// URI)");
  c->add_option("--sign-key", o->sign_key, "Sign it with this private key (PEM, mode 0600; Ed25519 or ECDSA P-256)");
  if (kind == Kind::model) {
    c->add_option("--card", o->card, "Model card fields (YAML or JSON, Model Card Toolkit layout)");
    c->add_option("--triton", o->triton_dir, "Also write DIR/NAME/config.pbtxt and DIR/NAME/N/model.onnx (Triton)");
    c->add_option("--triton-version", o->triton_version, "The Triton version folder (default 1)")->check(CLI::Range(1, 1 << 30));
    c->add_option("--triton-max-batch", o->triton_max_batch,
                  "max_batch_size when the batch dimension is dynamic (default 8)")
        ->check(CLI::Range(1, 1 << 20));
  }
  d.on(c, [o, kind](Context& ctx) { return run_add(*o, ctx, kind); });
}

}  // namespace aiot::cli::model
