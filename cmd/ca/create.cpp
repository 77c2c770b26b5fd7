// aiot ca create --name NAME --out DIR [--days N]; aiot ca show DIR
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/auth/x509.hpp"
#include "aiot/context.hpp"
#include "ca/verbs.hpp"
#include "cli/common.hpp"

namespace aiot::cli::ca {

namespace {

struct CreateOptions {
  std::string name;
  std::string out;
  int days = 3650;
};

std::filesystem::path absolute(Context& ctx, const std::string& p) {
  std::filesystem::path path = p;
  return path.is_relative() ? ctx.cwd / path : path;
}

nlohmann::json describe(const x509::CertInfo& info, const std::filesystem::path& dir) {
  return {{"subject", info.subject},
          {"serial", info.serial_hex},
          {"notBefore", format_rfc3339(info.not_before)},
          {"notAfter", format_rfc3339(info.not_after)},
          {"thumbprintSha1", info.thumbprints.sha1},
          {"thumbprintSha256", info.thumbprints.sha256},
          {"certificate", (dir / "ca.cert.pem").string()},
          {"key", (dir / "ca.key.pem").string()}};
}

int run_create(const CreateOptions& o, Context& ctx) {
  auto dir = absolute(ctx, o.out);
  auto ca = x509::create_ca(o.name, ctx.now(), std::chrono::hours(24 * o.days));
  x509::save_ca(dir, ca);
  auto info = x509::inspect(ca.cert_pem, "ca.cert.pem");
  output::print_object(ctx.io, describe(info, dir), render_options(ctx));
  say(ctx, fmt::format("Created fleet CA '{}' in {} (key 0600). Register devices with: aiot device register ID "
                       "--auth x509-ca --ca {}",
                       o.name, dir.string(), o.out));
  return 0;
}

int run_show(const std::string& dir_arg, Context& ctx) {
  auto dir = absolute(ctx, dir_arg);
  auto ca = x509::load_ca(dir);
  auto info = x509::inspect(ca.cert_pem, (dir / "ca.cert.pem").string());
  output::print_object(ctx.io, describe(info, dir), render_options(ctx));
  return 0;
}

}  // namespace

void add_create(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<CreateOptions>();
  auto* c = group.add_subcommand("create", "Create a fleet CA: ECDSA P-256 key (0600) and self-signed certificate");
  c->add_option("--name", o->name, "Common name of the CA")->required();
  c->add_option("--out", o->out, "Folder for ca.key.pem and ca.cert.pem")->required();
  c->add_option("--days", o->days, "Validity in days")->check(CLI::Range(1, 36500))->capture_default_str();
  d.on(c, [o](Context& ctx) { return run_create(*o, ctx); });
}

void add_show(CLI::App& group, Dispatch& d) {
  auto dir = std::make_shared<std::string>();
  auto* c = group.add_subcommand("show", "Show a fleet CA's certificate");
  c->add_option("dir", *dir, "The CA folder")->required();
  d.on(c, [dir](Context& ctx) { return run_show(*dir, ctx); });
}

}  // namespace aiot::cli::ca
