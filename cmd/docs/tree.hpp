#pragma once
// The visible command tree as plain data, read once from the CLI11 tree that build_tree() makes,
// so the completion and man page generators never touch CLI11 themselves (and never disagree).
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace aiot::cli::docs {

// What a value completes to. Static kinds are embedded in the scripts; profile, device and
// rollout are asked of `aiot __complete KIND PREFIX` at completion time.
enum class ValueKind {
  none,    // a flag: takes no value
  text,    // free text: nothing to offer
  choice,  // one of OptionDoc::choices
  file,
  directory,
  profile,
  device,
  rollout,
};

const char* to_string(ValueKind kind);

struct OptionDoc {
  std::vector<std::string> names;  // "-o", "--output" (short names first); empty for a positional
  std::string positional;          // "id" for a positional argument
  std::string metavar;             // "FILE", "table|json|yaml|csv"; empty for a flag
  std::vector<std::string> choices;
  std::string description;
  std::string default_value;
  ValueKind kind = ValueKind::none;
  bool required = false;
  bool repeatable = false;  // option: may be given several times; positional: takes several words
  bool help = false;        // -h/--help: on every command, documented once in aiot(1)

  bool takes_value() const { return kind != ValueKind::none; }
  // "-o, --output" or "id"
  std::string label() const;
};

struct CommandDoc {
  std::string name;               // "import"; "aiot" for the root
  std::vector<std::string> path;  // {"device", "import"}; empty for the root
  std::vector<std::string> aliases;
  std::string description;  // the one-line summary given to add_subcommand
  std::string footer;
  std::vector<OptionDoc> options;  // named options, option groups' ones included
  std::vector<OptionDoc> positionals;
  std::vector<CommandDoc> subcommands;

  // "device import"; "" for the root.
  std::string path_string() const;
  // The visible commands below this one with no subcommands of their own, depth first.
  std::vector<const CommandDoc*> leaves() const;
};

// Walks root with get_subcommands({}) (CLI11 pitfall 2): nameless option-group apps lend their
// options to their parent; hidden (empty group) and disabled commands and options are left out.
CommandDoc describe_tree(CLI::App& root);

// The CLI11 validator text `{a,b,c}` (or `{a->x,b->y}` of a Transformer) inside a type name such
// as `TEXT:{table,json,yaml,csv}`, as a list; empty when there is none.
std::vector<std::string> parse_choices(const std::string& type_name);

}  // namespace aiot::cli::docs
