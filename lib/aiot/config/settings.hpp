#pragma once
// Settings: one key table (ccache's k_config_key_table) drives `config get/set/list`, the AIOT_*
// environment names, validation, docs and completion. Every resolved value keeps its origin.
//
// Precedence (design.md §6), highest first:
//   flags > AIOT_* environment > ./.aiot.yaml > user file ($XDG_CONFIG_HOME/aiot/config.yaml,
//   or --config FILE) > /etc/aiot/config.yaml > built-in defaults.
// Inside each file, the active profile's section (profiles: NAME: {...}) overrides the file's
// top-level keys. The active profile: --profile > AIOT_PROFILE > `profile:` in the files > "default".
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
  std::filesystem::path user_file;    // the file `config set` writes
  std::filesystem::path system_file;  // /etc/aiot/config.yaml
  std::filesystem::path project_file; // ./.aiot.yaml
  std::filesystem::path data_dir;     // $XDG_DATA_HOME/aiot or ~/.local/share/aiot
};

Paths default_paths(const Env& env, const std::filesystem::path& cwd, const std::optional<std::string>& config_file);

class Settings {
 public:
  // Reads the files (a malformed one is Error::usage with file:line:column), the environment and
  // the flags. Unknown keys in files are reported as errors with file:line.
  static Settings resolve(const Env& env, const std::filesystem::path& cwd, const FlagValues& flags);

  const std::string& get(std::string_view key) const;  // every key in the table has a value
  const Value& get_with_origin(std::string_view key) const;
  const std::string& profile() const { return profile_; }
  const std::string& profile_origin() const { return profile_origin_; }
  const Paths& paths() const { return paths_; }
  // Profile names found in all files, sorted, with the hub each one sets (if any).
  const std::map<std::string, std::string>& profiles() const { return profiles_; }

  // For tests and the hub factory.
  void set(std::string_view key, std::string value, std::string origin);

 private:
  std::map<std::string, Value, std::less<>> values_;
  std::string profile_ = "default";
  std::string profile_origin_ = "default";
  std::map<std::string, std::string> profiles_;
  Paths paths_;
};

// Writes key=value into `file` (top level, or under profiles.<profile> when profile is set),
// keeping the file's other content; atomic. Validates key and value first.
void set_in_file(const std::filesystem::path& file, std::string_view key, std::string_view value,
                 const std::optional<std::string>& profile);

}  // namespace aiot::config
