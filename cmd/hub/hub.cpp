// aiot hub: the local engine served over the cloud REST dialects.
#include <CLI/CLI.hpp>

#include "groups.hpp"
#include "hub/verbs.hpp"

namespace aiot::cli {

void add_hub_group(CLI::App& root, Dispatch& d) {
  auto* g = root.add_subcommand("hub", "Serve the local hub over the Azure IoT Hub or AWS IoT REST dialects");
  g->require_subcommand(1);
  hub::add_serve(*g, d);
}

}  // namespace aiot::cli
