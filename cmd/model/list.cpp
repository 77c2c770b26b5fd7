// aiot model|firmware list [NAME]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "aiot/artifact/artifact.hpp"
#include "aiot/context.hpp"
#include "cli/common.hpp"
#include "model/verbs.hpp"

namespace aiot::cli::model {

namespace {

std::string io_text(const std::vector<artifact::TensorSpec>& tensors) {
  std::string out;
  for (std::size_t i = 0; i < tensors.size(); ++i) out += (i ? " " : "") + tensors[i].name + ":" + describe_tensor(tensors[i]);
  return out;
}

}  // namespace

void add_list(CLI::App& group, Dispatch& d, Kind kind) {
  auto name = std::make_shared<std::string>();
  auto* c = group.add_subcommand("list", "List registered versions, oldest first")->alias("ls");
  c->add_option("name", *name, "Only this artifact's versions");
  d.on(c, [name, kind](Context& ctx) {
    auto store = open_store(ctx);
    auto rows = nlohmann::json::array();
    for (const auto& r : store->list(kind, *name)) {
      nlohmann::json row = {{"name", r.name},
                            {"version", r.version},
                            {"size", r.size},
                            {"sha256", r.sha256},
                            {"signed", r.signature.has_value()},
                            {"keyId", r.signature ? nlohmann::json(r.signature->key_id) : nlohmann::json()},
                            {"uri", r.uri},
                            {"addedAt", r.added_at}};
      if (r.is_onnx()) {
        auto info = r.onnx();
        row["inputs"] = io_text(info.inputs);
        row["outputs"] = io_text(info.outputs);
      }
      rows.push_back(std::move(row));
    }
    std::vector<output::Column> columns = {{"NAME", "name"}, {"VERSION", "version"}, {"SIZE", "size"},
                                           {"SHA256", "sha256"}, {"SIGNED", "signed", output::ColumnKind::status}};
    if (kind == Kind::model) columns.push_back({"INPUTS", "inputs"});
    columns.push_back({"ADDED", "addedAt", output::ColumnKind::time});
    output::print_list(ctx.io, rows, columns, render_options(ctx));
    return 0;
  });
}

}  // namespace aiot::cli::model
