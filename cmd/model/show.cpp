// aiot model|firmware show NAME [VERSION]   (the latest version when none is given)
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "aiot/artifact/artifact.hpp"
#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"

namespace aiot::cli::model {

namespace {

struct ShowOptions {
  std::string name, version;
};

// The table view: the record flattened, with the ONNX I/O as one line per tensor.
nlohmann::json table_view(const artifact::ArtifactRecord& r) {
  auto j = r.to_json();
  nlohmann::json v = {{"kind", j["kind"]},     {"name", j["name"]},         {"version", j["version"]},
                      {"sha256", j["sha256"]}, {"size", j["size"]},         {"uri", j["uri"]},
                      {"source", j["source"]}, {"addedAt", j["addedAt"]},   {"metadataSha256", j["metadataSha256"]},
                      {"format", r.metadata.value("format", "")}};
  v["signature"] = r.signature ? fmt::format("{} by {} at {}", artifact::to_string(r.signature->algorithm),
                                             r.signature->key_id, r.signature->signed_at)
                               : "unsigned";
  if (r.is_onnx()) {
    auto info = r.onnx();
    v["onnx.irVersion"] = info.ir_version;
    std::vector<std::string> ops;
    for (const auto& [domain, version] : info.opsets) ops.push_back(fmt::format("{}:{}", domain.empty() ? "ai.onnx" : domain, version));
    v["onnx.opsets"] = fmt::format("{}", fmt::join(ops, " "));
    v["onnx.producer"] = fmt::format("{} {}", info.producer_name, info.producer_version);
    for (const auto& t : info.inputs) v["onnx.inputs." + t.name] = describe_tensor(t);
    for (const auto& t : info.outputs) v["onnx.outputs." + t.name] = describe_tensor(t);
  }
  return v;
}

}  // namespace

void add_show(CLI::App& group, Dispatch& d, Kind kind) {
  auto o = std::make_shared<ShowOptions>();
  auto* c = group.add_subcommand("show", "Show a version: digest, URI, signature, ONNX metadata and I/O (-o json: all)");
  c->add_option("name", o->name, "Artifact name")->required();
  c->add_option("version", o->version, "Version (default: the latest added)");
  d.on(c, [o, kind](Context& ctx) {
    auto store = open_store(ctx);
    std::optional<artifact::ArtifactRecord> r;
    if (o->version.empty()) {
      r = store->latest(kind, o->name);
      if (!r) throw Error::not_found(fmt::format("no {} named '{}' is registered", kind_name(kind), o->name),
                                     fmt::format("List them with 'aiot {} list'.", kind_name(kind)));
    } else {
      r = store->need(kind, o->name, o->version);
    }
    auto opt = render_options(ctx);
    bool whole = opt.format == output::Format::json || opt.format == output::Format::yaml;
    output::print_object(ctx.io, whole ? r->to_json() : table_view(*r), opt);
    return 0;
  });
}

}  // namespace aiot::cli::model
