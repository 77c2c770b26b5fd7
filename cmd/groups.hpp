#pragma once
// One function per command group; each group file wires its verbs (one line per verb).
namespace CLI {
class App;
}

namespace aiot::cli {
class Dispatch;

void add_device_group(CLI::App& root, Dispatch& d);
void add_ca_group(CLI::App& root, Dispatch& d);
void add_config_group(CLI::App& root, Dispatch& d);
void add_help_group(CLI::App& root, Dispatch& d);
void add_hub_group(CLI::App& root, Dispatch& d);
void add_rollout_group(CLI::App& root, Dispatch& d);
void add_sim_group(CLI::App& root, Dispatch& d);
void add_lineage_group(CLI::App& root, Dispatch& d);
void add_report_group(CLI::App& root, Dispatch& d);
void add_artifact_groups(CLI::App& root, Dispatch& d);  // model and firmware

}  // namespace aiot::cli
