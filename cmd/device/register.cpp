// aiot device register ID [--auth sas|x509-self-signed|x509-ca|aws-generated] [--cert FILE] [--ca DIR] [--tag k=v]...
//                         [--out-dir DIR] [--days N] [--disabled] [--show-secrets]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/context.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/fleet/enroll.hpp"
#include "aiot/hub/aws/aws_provider.hpp"
#include "aiot/hub/hub.hpp"
#include "cli/common.hpp"
#include "device/verbs.hpp"

namespace aiot::cli::device {

namespace {

struct RegisterOptions {
  std::string id;
  std::string auth = "sas";
  std::string cert;
  std::string ca;
  std::vector<std::string> tags;
  std::string out_dir;
  int days = 365;
  bool disabled = false;
  bool show_secrets = false;
};

// The CA for x509-ca: --ca, else the ca_dir setting.
std::optional<x509::KeyAndCert> load_fleet_ca(Context& ctx, const std::string& flag) {
  std::string dir = flag.empty() ? ctx.settings().get("ca_dir") : flag;
  if (dir.empty()) return std::nullopt;
  std::filesystem::path p = dir;
  if (p.is_relative()) p = ctx.cwd / p;
  return x509::load_ca(p);
}

std::filesystem::path out_dir_or_default(Context& ctx, const std::string& flag) {
  if (flag.empty()) return fleet::default_out_dir(ctx.cwd);
  return std::filesystem::path(flag).is_relative() ? ctx.cwd / flag : std::filesystem::path(flag);
}

void print_registered(Context& ctx, const hub::Device& stored, const std::vector<std::filesystem::path>& files,
                      const std::optional<std::string>& certificate, bool show_secrets) {
  auto result = hub::to_twin_json(stored, show_secrets);
  result["credentialFiles"] = nlohmann::json::array();
  for (const auto& f : files) result["credentialFiles"].push_back(f.string());
  if (certificate) result["certificate"] = *certificate;
  output::print_object(ctx.io, result, render_options(ctx));
  say(ctx, fmt::format("Registered {} ({}) on {}", stored.id, hub::to_string(stored.auth.type), ctx.hub().describe()));
  if (certificate) say(ctx, fmt::format("  attached certificate {}", *certificate));
  for (const auto& f : files) say(ctx, fmt::format("  wrote {}", f.string()));
}

// --auth aws-generated: AWS IoT makes the key pair (CreateKeysAndCertificate); the private key is
// returned once, so it is written 0600 before anything is printed.
int run_register_aws_generated(const RegisterOptions& o, Context& ctx) {
  auto* aws = hub::aws::aws_hub_of(ctx.hub());
  if (!aws) {
    throw Error::usage(fmt::format("--auth aws-generated needs an AWS hub, and this hub is {}", ctx.hub().describe()),
                       "Use --hub aws (or a profile with hub: aws), or --auth x509-ca with a fleet CA.");
  }
  if (!o.cert.empty()) throw Error::usage("--cert and --auth aws-generated exclude each other: AWS makes the certificate");
  hub::Device spec;
  spec.id = o.id;
  spec.auth.type = hub::AuthType::none;
  spec.enabled = !o.disabled;
  spec.tags = parse_tags(o.tags, "--tag");
  auto stored = aws->create(spec);
  auto generated = aws->create_generated_certificate(stored);
  auto files = hub::aws::write_generated_credentials(out_dir_or_default(ctx, o.out_dir), stored.id, generated);
  print_registered(ctx, stored, files, generated.certificate.arn, o.show_secrets);
  return 0;
}

int run_register(const RegisterOptions& o, Context& ctx) {
  if (auto why = hub::invalid_device_id(o.id)) throw Error::usage(*why);
  if (o.auth == "aws-generated") return run_register_aws_generated(o, ctx);
  hub::Device spec;
  spec.id = o.id;
  spec.auth.type = *hub::parse_auth_type(o.auth);
  spec.enabled = !o.disabled;
  spec.tags = parse_tags(o.tags, "--tag");

  fleet::EnrollOptions eo;
  eo.now = ctx.now();
  eo.validity = std::chrono::hours(24 * o.days);
  if (spec.auth.type == hub::AuthType::certificate_authority && o.cert.empty()) eo.ca = load_fleet_ca(ctx, o.ca);
  if (!o.out_dir.empty()) {
    eo.out_dir = std::filesystem::path(o.out_dir).is_relative() ? ctx.cwd / o.out_dir : std::filesystem::path(o.out_dir);
  } else if (spec.auth.type != hub::AuthType::sas && o.cert.empty()) {
    eo.out_dir = fleet::default_out_dir(ctx.cwd);
  }
  std::string cert = o.cert;
  if (!cert.empty() && std::filesystem::path(cert).is_relative()) cert = (ctx.cwd / cert).string();

  auto prepared = fleet::prepare(std::move(spec), cert, eo);
  auto stored = ctx.hub().registry().create(prepared.spec);
  auto files = fleet::write_credentials(stored, prepared, eo);

  // Hubs that hold certificates themselves (AWS IoT) get the PEM now that it exists.
  std::optional<std::string> certificate;
  if (stored.auth.type == hub::AuthType::self_signed || stored.auth.type == hub::AuthType::certificate_authority) {
    std::filesystem::path pem = cert;
    for (const auto& f : files) {
      if (f.filename() == stored.id + ".cert.pem") pem = f;
    }
    if (!pem.empty()) certificate = ctx.hub().registry().attach_certificate(stored, fs::read_file(pem));
  }
  print_registered(ctx, stored, files, certificate, o.show_secrets);
  return 0;
}

}  // namespace

void add_register(CLI::App& group, Dispatch& d) {
  auto o = std::make_shared<RegisterOptions>();
  auto* c = group.add_subcommand("register", "Register one device (SAS keys, self-signed or CA-signed X.509)");
  c->add_option("id", o->id, "Device id (IoT Hub rules: up to 128 ASCII letters, digits and -:.+%_#*?!(),=@;$')")
      ->required();
  c->add_option("--auth", o->auth, "Authentication: sas, x509-self-signed, x509-ca or aws-generated (AWS makes the key)")
      ->check(CLI::IsMember({"sas", "x509-self-signed", "x509-ca", "aws-generated"}))
      ->capture_default_str();
  c->add_option("--cert", o->cert, "Use this PEM certificate (CN must be the device id) instead of generating one");
  c->add_option("--ca", o->ca, "Fleet CA folder for x509-ca (made by 'aiot ca create'; default: the ca_dir setting)");
  c->add_option("--tag", o->tags, "Tag KEY=VALUE (repeatable)");
  c->add_option("--out-dir", o->out_dir,
                "Write credentials here, 0600 (X.509 default: ./aiot-devices; SAS: only when given)");
  c->add_option("--days", o->days, "Validity of generated certificates in days")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  c->add_flag("--disabled", o->disabled, "Register the device disabled");
  c->add_flag("--show-secrets", o->show_secrets, "Also print the SAS keys on stdout");
  d.on(c, [o](Context& ctx) { return run_register(*o, ctx); });
}

}  // namespace aiot::cli::device
