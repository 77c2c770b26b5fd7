#include "docs/tree.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "aiot/config/settings.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::cli::docs {

namespace {

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }
bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// CLI11's own names for value types say nothing a reader can use ("--where TEXT"); we replace them.
bool generic_type_name(const std::string& t) {
  static const char* const k_generic[] = {"TEXT", "INT", "UINT", "FLOAT", "NUMBER", "BOOLEAN", "FLAG", "CHAR", ""};
  return std::any_of(std::begin(k_generic), std::end(k_generic), [&](const char* g) { return t == g; });
}

// The first long name without dashes ("out-dir"), else the first short one.
std::string main_name(const OptionDoc& o) {
  for (const auto& n : o.names) {
    if (starts_with(n, "--")) return n.substr(2);
  }
  return o.names.empty() ? o.positional : o.names.front().substr(1);
}

// What an option's value names: decided from the option's name and where it sits, because the
// CLI11 tree only knows "a string". The rules mirror how aiot names its options: path options are
// -f/--file, --cert, --config, --journal, --out*, *-file, *-out; folders say "folder" or end in -dir.
ValueKind classify(const std::vector<std::string>& path, const OptionDoc& o) {
  if (o.names.empty() && o.positional.empty()) return ValueKind::text;
  if (!o.choices.empty()) return ValueKind::choice;
  const std::string group = path.empty() ? "" : path.front();
  const std::string verb = path.empty() ? "" : path.back();
  const bool folder = str::to_lower(o.description).find("folder") != std::string::npos;
  if (!o.positional.empty()) {
    const std::string& p = o.positional;
    // `device register ID` names a new device: offering existing ids would be wrong.
    if ((p == "id" || p == "ids") && group == "device" && verb != "register") return ValueKind::device;
    if ((p == "name" || p == "names") && group == "rollout") return ValueKind::rollout;
    if (p == "profile") return ValueKind::profile;
    if (p == "dir" || folder) return ValueKind::directory;
    if (p == "file") return ValueKind::file;
    return ValueKind::text;
  }
  const std::string name = main_name(o);
  const std::string text = str::to_lower(o.description);
  // `sim fleet --profile FILE` names a simulator profile file, not a settings profile.
  if (name == "profile") {
    const bool names_file = text.find("yaml") != std::string::npos || text.find(" file") != std::string::npos;
    return names_file ? ValueKind::file : ValueKind::profile;
  }
  if (ends_with(name, "-dir") || (folder && name != "file")) return ValueKind::directory;
  if (name == "file" || name == "cert" || name == "config" || name == "journal" || starts_with(name, "out") ||
      ends_with(name, "-file") || ends_with(name, "-out")) {
    return ValueKind::file;
  }
  return ValueKind::text;
}

std::string metavar_for(const OptionDoc& o, const std::string& type_name) {
  if (!o.takes_value()) return "";
  if (!o.positional.empty()) return o.positional;
  if (!o.choices.empty()) return str::join(o.choices, "|");
  if (!generic_type_name(type_name)) return type_name;
  switch (o.kind) {
    case ValueKind::file:
      return "FILE";
    case ValueKind::directory:
      return "DIR";
    case ValueKind::profile:
      return "PROFILE";
    default:
      break;
  }
  std::string m = str::to_upper(main_name(o));
  std::replace(m.begin(), m.end(), '-', '_');
  return m;
}

OptionDoc describe_option(const std::vector<std::string>& path, CLI::App& app, CLI::Option& opt) {
  OptionDoc o;
  for (const auto& s : opt.get_snames()) o.names.push_back("-" + s);
  for (const auto& l : opt.get_lnames()) o.names.push_back("--" + l);
  if (!opt.nonpositional()) o.positional = opt.get_name(true);
  o.description = opt.get_description();
  o.default_value = opt.get_default_str();
  o.required = opt.get_required();
  o.help = &opt == app.get_help_ptr() || &opt == app.get_help_all_ptr();
  const bool flag = opt.get_expected_max() == 0 || opt.get_type_size_max() == 0;
  o.repeatable = !flag && opt.get_expected_max() > 1;
  const std::string full_type = opt.get_type_name();
  std::string base_type = full_type.substr(0, full_type.find(':'));
  if (auto dots = base_type.find(' '); dots != std::string::npos) base_type.resize(dots);
  if (!flag) {
    o.choices = parse_choices(full_type);
    o.kind = ValueKind::text;  // refined below; classify() needs takes_value() first
    o.kind = classify(path, o);
  }
  o.metavar = metavar_for(o, base_type);
  return o;
}

bool hidden(const CLI::App& app) { return app.get_group().empty() || app.get_disabled(); }

void add_options_of(const std::vector<std::string>& path, CLI::App& owner, CLI::App& app, CommandDoc& out) {
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_group().empty()) continue;  // hidden
    auto doc = describe_option(path, owner, *opt);
    (doc.positional.empty() ? out.options : out.positionals).push_back(std::move(doc));
  }
}

CommandDoc describe(CLI::App& app, std::vector<std::string> path) {
  CommandDoc c;
  c.name = path.empty() ? "aiot" : path.back();
  c.path = path;
  c.aliases = app.get_aliases();
  c.description = app.get_description();
  // CLI11 copies a parent's footer into every subcommand: keep only a command's own.
  const CLI::App* parent = app.get_parent();
  c.footer = parent && parent->get_footer() == app.get_footer() ? "" : app.get_footer();
  add_options_of(path, app, app, c);
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name().empty()) {
      // An option group: its options belong to this command (CLI11 pitfall 2).
      if (!hidden(*sub)) add_options_of(path, app, *sub, c);
      continue;
    }
    if (hidden(*sub)) continue;
    auto sub_path = path;
    sub_path.push_back(sub->get_name());
    c.subcommands.push_back(describe(*sub, std::move(sub_path)));
  }
  return c;
}

void collect_leaves(const CommandDoc& c, std::vector<const CommandDoc*>& out) {
  for (const auto& s : c.subcommands) {
    if (s.subcommands.empty()) {
      out.push_back(&s);
    } else {
      collect_leaves(s, out);
    }
  }
}

}  // namespace

const char* to_string(ValueKind kind) {
  switch (kind) {
    case ValueKind::none:
      return "flag";
    case ValueKind::text:
      return "text";
    case ValueKind::choice:
      return "choice";
    case ValueKind::file:
      return "file";
    case ValueKind::directory:
      return "directory";
    case ValueKind::profile:
      return "profiles";
    case ValueKind::device:
      return "devices";
    case ValueKind::rollout:
      return "rollouts";
  }
  return "text";
}

std::string OptionDoc::label() const { return names.empty() ? positional : str::join(names, ", "); }

std::string CommandDoc::path_string() const { return str::join(path, " "); }

std::vector<const CommandDoc*> CommandDoc::leaves() const {
  std::vector<const CommandDoc*> out;
  collect_leaves(*this, out);
  return out;
}

std::vector<std::string> parse_choices(const std::string& type_name) {
  const auto colon = type_name.find(':');
  if (colon == std::string::npos) return {};
  const auto open = type_name.find('{', colon);
  if (open == std::string::npos) return {};
  const auto close = type_name.find('}', open);
  if (close == std::string::npos) return {};
  std::vector<std::string> out;
  for (auto& item : str::split(std::string_view(type_name).substr(open + 1, close - open - 1), ',')) {
    std::string value = item.substr(0, item.find("->"));  // a Transformer's key
    value = std::string(str::trim(value));
    if (!value.empty()) out.push_back(value);
  }
  return out;
}

CommandDoc describe_tree(CLI::App& root) {
  CommandDoc doc = describe(root, {});
  // `config get|set KEY` completes the setting names from the key table (the one source of keys).
  for (auto& group : doc.subcommands) {
    if (group.name != "config") continue;
    for (auto& verb : group.subcommands) {
      for (auto& p : verb.positionals) {
        if (p.positional != "key") continue;
        for (const auto& k : config::key_table()) p.choices.emplace_back(k.key);
        if (verb.name == "get") p.choices.emplace_back("profile");
        p.kind = ValueKind::choice;
      }
    }
  }
  return doc;
}

}  // namespace aiot::cli::docs
