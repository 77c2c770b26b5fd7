// aiot model|firmware verify NAME VERSION --key PUBLIC.pem [--file FILE]
// Exit 0 verified; 3 when the check ran and said no (unsigned, another key, a bad signature, the
// file's bytes differ), like every other negative verdict in design.md's table.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/artifact.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"

namespace aiot::cli::model {

namespace {

struct VerifyOptions {
  std::string name, version, key, file;
};

std::string_view status_text(artifact::VerifyStatus s) {
  switch (s) {
    case artifact::VerifyStatus::ok: return "verified";
    case artifact::VerifyStatus::unsigned_artifact: return "unsigned";
    case artifact::VerifyStatus::wrong_key: return "wrong-key";
    case artifact::VerifyStatus::bad_signature: return "bad-signature";
    case artifact::VerifyStatus::content_mismatch: return "content-mismatch";
  }
  return "?";
}

int run_verify(const VerifyOptions& o, Context& ctx, Kind kind) {
  auto trusted = artifact::read_public_key(fs::read_file(from_cwd(ctx, o.key)), o.key);
  auto store = open_store(ctx);
  auto record = store->need(kind, o.name, o.version);
  std::optional<std::string> bytes;
  std::string checked_file;
  if (!o.file.empty()) {
    checked_file = from_cwd(ctx, o.file).string();
    bytes = fs::read_file(checked_file);
  } else if (std::filesystem::is_regular_file(record.source_path)) {
    checked_file = record.source_path;
    bytes = fs::read_file(checked_file);
  } else {
    warn(ctx, fmt::format("{} is gone: checking the signature only (pass --file to check the content too)",
                          record.source_path));
  }
  auto result = artifact::verify(record, trusted,
                                 bytes ? std::optional<std::string_view>(*bytes) : std::optional<std::string_view>());
  nlohmann::json j = {{"kind", kind_name(kind)},
                      {"name", record.name},
                      {"version", record.version},
                      {"status", std::string(status_text(result.status))},
                      {"verified", result.ok()},
                      {"keyId", trusted.key_id},
                      {"message", result.message}};
  j["file"] = checked_file.empty() ? nlohmann::json() : nlohmann::json(checked_file);
  output::print_object(ctx.io, j, render_options(ctx));
  if (!result.ok()) {
    throw Error::verdict(result.message, result.status == artifact::VerifyStatus::unsigned_artifact
                                             ? fmt::format("Sign it: aiot {} sign {} {} --key KEY.pem", kind_name(kind),
                                                           record.name, record.version)
                                             : "Do not ship it: re-add the artifact from a trusted source and sign it again.");
  }
  say(ctx, fmt::format("✓ {}", result.message));
  return 0;
}

}  // namespace

void add_verify(CLI::App& group, Dispatch& d, Kind kind) {
  auto o = std::make_shared<VerifyOptions>();
  auto* c = group.add_subcommand("verify", "Check a version's signature with a public key, and its file's SHA-256 (exit 3 if not)");
  c->add_option("name", o->name, "Artifact name")->required();
  c->add_option("version", o->version, "Version")->required();
  c->add_option("-k,--key", o->key, "The signer's public key (PEM), certificate, or key pair")->required();
  c->add_option("--file", o->file, "Check this file's content (default: the file that was added, when it still exists)");
  d.on(c, [o, kind](Context& ctx) { return run_verify(*o, ctx, kind); });
}

}  // namespace aiot::cli::model
