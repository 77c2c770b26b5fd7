// aiot model|firmware keygen --out KEY.pem [--public-out PUB.pem] [--algorithm ed25519|ecdsa-p256]
// The private key is written 0600 and never printed; the key id is.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/signing.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"

namespace aiot::cli::model {

namespace {

struct KeygenOptions {
  std::string out, public_out, algorithm = "ed25519";
  bool force = false;
};

int run_keygen(const KeygenOptions& o, Context& ctx) {
  auto algorithm = artifact::parse_key_algorithm(o.algorithm);
  auto key_path = from_cwd(ctx, o.out);
  std::filesystem::path pub_path;
  if (!o.public_out.empty()) {
    pub_path = from_cwd(ctx, o.public_out);
  } else {
    // key.pem -> key.pub.pem
    pub_path = key_path.parent_path() / (key_path.stem().string() + ".pub" + key_path.extension().string());
  }
  for (const auto& p : {key_path, pub_path}) {
    if (std::filesystem::exists(p) && !o.force) {
      throw Error::conflict(fmt::format("{} exists", p.string()), "Pick another --out, or replace it with --force.");
    }
  }
  auto pair = artifact::generate_key(algorithm);
  if (key_path.has_parent_path()) fs::ensure_dir(key_path.parent_path());
  fs::write_atomic(key_path, pair.private_pem, fs::Mode::secret);
  fs::write_atomic(pub_path, pair.public_pem);
  std::string key_id = artifact::public_key_id(pair.public_pem);
  output::print_object(ctx.io,
                       {{"algorithm", std::string(artifact::to_string(algorithm))},
                        {"keyId", key_id},
                        {"privateKey", key_path.string()},
                        {"publicKey", pub_path.string()}},
                       render_options(ctx));
  say(ctx, fmt::format("✓ Wrote {} key {} (0600) and its public key {}", artifact::to_string(algorithm), o.out,
                       pub_path.filename().string()));
  return 0;
}

}  // namespace

void add_keygen(CLI::App& group, Dispatch& d, Kind) {
  auto o = std::make_shared<KeygenOptions>();
  auto* c = group.add_subcommand("keygen", "Create a signing key pair (private key 0600, never printed)");
  c->add_option("--out", o->out, "The private key file (PEM)")->required();
  c->add_option("--public-out", o->public_out, "The public key file (default: KEY.pub.pem beside it)");
  c->add_option("--algorithm", o->algorithm, "ed25519 (default) or ecdsa-p256")->check(CLI::IsMember({"ed25519", "ecdsa-p256"}));
  c->add_flag("--force", o->force, "Replace existing files");
  d.on(c, [o](Context& ctx) { return run_keygen(*o, ctx); });
}

}  // namespace aiot::cli::model
