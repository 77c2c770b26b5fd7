#pragma once
// Settings: one key table (ccache's k_config_key_table) drives `config get/set/list`, the AIOT_*
// environment names, validation, docs and completion. Every resolved value keeps its origin.
//
// Precedence (design.md §6), highest first:
//   flags > AIOT_* environment > ./.aiot.yaml > user file ($XDG_CONFIG_HOME/aiot/config.yaml,
//   or --config FILE) > /etc/aiot/config.yaml > built-in defaults.
// Inside each file, the active profile's section (profiles: NAME: {...}) overrides the file's
// top-level keys. The active profile: --profile > AIOT_PROFILE > `profile:` in the files > "default".
//
// File format: top-level keys are settings; dotted keys may be nested (`azure: {endpoint: x}`) or
// flat (`azure.endpoint: x`). Besides settings, `profile: NAME` picks the active profile and
// `profiles: {NAME: {settings...}}` holds the profile sections. Path values (and the PATH of
// `local:PATH`) are anchored: `~/` is $HOME, a relative path in a file is relative to that file's
// folder, and one from the environment or a flag is relative to the working directory.
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aiot {
class Env;
}

namespace aiot::config {

enum class Kind { text, choice, duration, path, hub };

struct KeySpec {
  const char* key;          // "hub"
  const char* env;          // "AIOT_HUB"
  Kind kind;
  const char* default_value;
  const char* choices;      // "table|json|yaml|csv" for Kind::choice, else ""
  const char* description;
  bool secret = false;      // never printed by config list/get
};

std::span<const KeySpec> key_table();
const KeySpec* find_key(std::string_view key);

// Throws Error::usage when `value` is not valid for the key ("output: 'xml' is not one of table|json|yaml|csv").
void validate(const KeySpec& spec, std::string_view value);

// Error::usage "unknown setting 'foo'" with a hint listing the keys.
[[noreturn]] void throw_unknown_key(std::string_view key);

// Anchors a path value (Kind::path, and the PATH of a `local:PATH` hub): "~/x" -> $HOME/x, a
// relative path -> base/x. Other kinds and empty values come back unchanged.
std::string anchor_value(const KeySpec& spec, std::string_view value, const std::filesystem::path& base,
                         const Env& env);

struct Value {
  std::string value;
  std::string origin;  // "default", "env AIOT_HUB", "flag --hub", "/home/u/.config/aiot/config.yaml (profile prod)"
};

// What the global flags set; empty = not given.
struct FlagValues {
  std::optional<std::string> profile;
  std::optional<std::string> config_file;
  std::map<std::string, std::string> values;  // key -> value, e.g. {"hub": "local:/tmp/h.db"}
};

struct Paths {
  std::filesystem::path user_file;    // the file `config set` writes; empty when neither HOME nor XDG_CONFIG_HOME is set
  std::filesystem::path system_file;  // /etc/aiot/config.yaml
  std::filesystem::path project_file; // ./.aiot.yaml
  std::filesystem::path data_dir;     // $XDG_DATA_HOME/aiot or ~/.local/share/aiot
};

Paths default_paths(const Env& env, const std::filesystem::path& cwd, const std::optional<std::string>& config_file);

class Settings {
 public:
  // Every key at its built-in default.
  Settings();

  // Reads the files (a malformed one is Error::usage with file:line:column), the environment and
  // the flags. Unknown keys in files are reported as errors with file:line.
  static Settings resolve(const Env& env, const std::filesystem::path& cwd, const FlagValues& flags);
  // The same over explicit paths (tests; flags.config_file is then ignored). Relative paths in the
  // environment and flags are anchored at `cwd`.
  static Settings resolve_with(const Env& env, const std::filesystem::path& cwd, const Paths& paths,
                               const FlagValues& flags);

  const std::string& get(std::string_view key) const;  // every key in the table has a value
  const Value& get_with_origin(std::string_view key) const;
  const std::string& profile() const { return profile_; }
  const std::string& profile_origin() const { return profile_origin_; }
  const Paths& paths() const { return paths_; }
  // Profile names found in all files plus "default", sorted, each with the hub the files give it
  // (its own section's hub, else the top-level one, else "local"; environment and flags ignored).
  const std::map<std::string, std::string>& profiles() const { return profiles_; }
  // The flags these settings were resolved with: `config set` re-resolves to see what wins.
  const FlagValues& flags() const { return flags_; }

  // For tests and the hub factory.
  void set(std::string_view key, std::string value, std::string origin);

 private:
  std::map<std::string, Value, std::less<>> values_;
  std::string profile_ = "default";
  std::string profile_origin_ = "default";
  std::map<std::string, std::string> profiles_;
  Paths paths_;
  FlagValues flags_;
};

// Writes key=value into `file` (top level, or under profiles.<profile> when profile is set),
// keeping the file's other content; atomic. Validates key and value first.
// A malformed file is an error and is left untouched. Comments in the file are lost (yaml-cpp
// re-emits the document).
void set_in_file(const std::filesystem::path& file, std::string_view key, std::string_view value,
                 const std::optional<std::string>& profile);

// Writes the top-level `profile: NAME` into `file` (`config use`), the same way.
void set_profile_in_file(const std::filesystem::path& file, std::string_view profile);

}  // namespace aiot::config
