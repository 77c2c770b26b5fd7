#pragma once
// Entry points of the generated documentation, wired into the tree by cmd/root.cpp:
//   aiot completion bash|zsh|fish             print a completion script
//   aiot __docs --man DIR --completions DIR    (hidden) write every man page and completion script
//   aiot __complete KIND [PREFIX]              (hidden) profiles | devices | rollouts, one per line,
//                                              called by the completion scripts
namespace CLI {
class App;
}

namespace aiot::cli {

class Dispatch;

void add_completion_group(CLI::App& root, Dispatch& d);
// Adds both hidden commands, __docs and __complete.
void add_docs_group(CLI::App& root, Dispatch& d);

}  // namespace aiot::cli
