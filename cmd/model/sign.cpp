// aiot model|firmware sign NAME VERSION --key KEY.pem [--signature-out FILE] [--statement-out FILE]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/artifact.hpp"
#include "aiot/context.hpp"
#include "aiot/core/crypto.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/time.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"

namespace aiot::cli::model {

namespace {

struct SignOptions {
  std::string name, version, key, signature_out, statement_out;
};

int run_sign(const SignOptions& o, Context& ctx, Kind kind) {
  auto key = artifact::SigningKey::load(from_cwd(ctx, o.key));
  auto store = open_store(ctx);
  auto record = store->need(kind, o.name, o.version);
  artifact::sign(record, key, format_rfc3339(ctx.now()));
  store->set_signature(kind, record.name, record.version, *record.signature);
  // The detached files are what `openssl pkeyutl -verify` (or a device) checks.
  if (!o.signature_out.empty()) {
    fs::write_atomic(from_cwd(ctx, o.signature_out), crypto::base64_decode(record.signature->value));
  }
  if (!o.statement_out.empty()) {
    fs::write_atomic(from_cwd(ctx, o.statement_out), artifact::statement(record));
  }
  nlohmann::json j = {{"kind", kind_name(kind)},
                      {"name", record.name},
                      {"version", record.version},
                      {"sha256", record.sha256},
                      {"signature", record.signature->to_json()}};
  output::print_object(ctx.io, j, render_options(ctx));
  say(ctx, fmt::format("✓ Signed {} {} {} with {} key {}", kind_name(kind), record.name, record.version,
                       artifact::to_string(key.algorithm()), record.signature->key_id));
  return 0;
}

}  // namespace

void add_sign(CLI::App& group, Dispatch& d, Kind kind) {
  auto o = std::make_shared<SignOptions>();
  auto* c = group.add_subcommand("sign", "Sign a registered version: a detached signature over its digest and metadata");
  c->add_option("name", o->name, "Artifact name")->required();
  c->add_option("version", o->version, "Version")->required();
  c->add_option("-k,--key", o->key, "Private key (PEM, mode 0600; Ed25519 or ECDSA P-256, e.g. an aiot ca key)")
      ->required();
  c->add_option("--signature-out", o->signature_out, "Also write the raw signature bytes to this file");
  c->add_option("--statement-out", o->statement_out, "Also write the signed statement (canonical JSON) to this file");
  d.on(c, [o, kind](Context& ctx) { return run_sign(*o, ctx, kind); });
}

}  // namespace aiot::cli::model
