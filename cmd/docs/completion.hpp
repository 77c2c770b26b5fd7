#pragma once
// Shell completion scripts generated from the command tree (docs/tree.hpp). Each script embeds
// the static tree (groups, verbs, aliases, options, choice values) and asks `aiot __complete KIND
// PREFIX` for what only the hub or the settings know: profiles, devices, rollouts.
#include <string>
#include <string_view>

namespace aiot::cli::docs {

struct CommandDoc;

std::string bash_script(const CommandDoc& root);  // completions/aiot.bash: `complete -F _aiot aiot`
std::string zsh_script(const CommandDoc& root);   // completions/_aiot: #compdef aiot
std::string fish_script(const CommandDoc& root);  // completions/aiot.fish

// "bash", "zsh" or "fish"; Error::usage for another shell.
std::string completion_script(const CommandDoc& root, std::string_view shell);

// How to regenerate every checked-in file, printed by the scripts' headers and the staleness test.
inline constexpr const char* k_regenerate_command = "build/cmd/aiot __docs --man man --completions completions";

}  // namespace aiot::cli::docs
