// aiot model and aiot firmware: the artifact registry; both groups share the verbs.
#include <CLI/CLI.hpp>

#include "aiot/context.hpp"
#include "aiot/core/time.hpp"
#include "cli/common.hpp"
#include "groups.hpp"
#include "model/verbs.hpp"

namespace aiot::cli {

namespace {

void add_group(CLI::App& root, Dispatch& d, model::Kind kind, const std::string& description) {
  auto* g = root.add_subcommand(model::kind_name(kind), description);
  g->require_subcommand(1);
  model::add_add(*g, d, kind);
  model::add_sign(*g, d, kind);
  model::add_verify(*g, d, kind);
  model::add_list(*g, d, kind);
  model::add_show(*g, d, kind);
  model::add_diff(*g, d, kind);
  model::add_card(*g, d, kind);
  model::add_keygen(*g, d, kind);
}

}  // namespace

void add_artifact_groups(CLI::App& root, Dispatch& d) {
  add_group(root, d, model::Kind::model, "ML model artifacts (ONNX): add, sign, verify, inspect, diff, model cards");
  add_group(root, d, model::Kind::firmware, "Firmware artifacts: add, sign, verify, inspect, diff");
}

namespace model {

std::unique_ptr<artifact::Store> open_store(Context& ctx) {
  return std::make_unique<artifact::Store>(artifact::store_path(ctx));
}

std::filesystem::path from_cwd(Context& ctx, const std::string& path) {
  std::filesystem::path p = path;
  return p.is_relative() ? ctx.cwd / p : p;
}

std::string kind_name(Kind kind) { return std::string(artifact::to_string(kind)); }

}  // namespace model

}  // namespace aiot::cli
