#pragma once
// aiot demo: the whole mission on the embedded local hub, narrated step by step.
namespace CLI {
class App;
}

namespace aiot::cli {
class Dispatch;

void add_demo(CLI::App& root, Dispatch& d);

}  // namespace aiot::cli
