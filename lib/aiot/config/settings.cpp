// Settings: the key table, the YAML files, the environment and the flags, layered with origins.
//
// `config set` rewrites a file through yaml-cpp (load, edit, emit): the other keys survive, but
// comments and formatting do not, because yaml-cpp 0.7 does not keep them.
#include "aiot/config/settings.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/core/time.hpp"

namespace aiot::config {

namespace {

namespace stdfs = std::filesystem;

constexpr KeySpec k_key_table[] = {
    {"hub", "AIOT_HUB", Kind::hub, "local", "", "hub to use: local, local:PATH, azure or aws"},
    {"output", "AIOT_OUTPUT", Kind::choice, "table", "table|json|yaml|csv", "output format"},
    {"color", "AIOT_COLOR", Kind::choice, "auto", "auto|always|never", "when to colour the output"},
    {"ca_dir", "AIOT_CA_DIR", Kind::path, "", "",
     "fleet CA folder used by 'device register --auth x509-ca' when --ca is not given"},
    {"azure.connection_string_file", "AIOT_AZURE_CONNECTION_STRING_FILE", Kind::path, "", "",
     "file holding the Azure IoT Hub service connection string"},
    {"azure.endpoint", "AIOT_AZURE_ENDPOINT", Kind::text, "", "", "Azure IoT Hub endpoint (emulators, other clouds)"},
    {"aws.region", "AIOT_AWS_REGION", Kind::text, "", "", "AWS region of the IoT Core endpoint"},
    {"aws.endpoint", "AIOT_AWS_ENDPOINT", Kind::text, "", "", "AWS IoT endpoint (emulators)"},
    {"aws.profile", "AIOT_AWS_PROFILE", Kind::text, "", "", "AWS shared-credentials profile"},
    {"aws.data_endpoint", "AIOT_AWS_DATA_ENDPOINT", Kind::text, "", "",
     "AWS IoT data-plane (shadows) endpoint; default: found with DescribeEndpoint, or aws.endpoint"},
    {"aws.thing_type", "AIOT_AWS_THING_TYPE", Kind::text, "", "",
     "thing type for new things (50 searchable attributes instead of 3)"},
    {"aws.policy", "AIOT_AWS_POLICY", Kind::text, "aiot-device", "",
     "IoT policy attached to device certificates (created least-privilege when missing)"},
    {"azure.tier", "AIOT_AZURE_TIER", Kind::choice, "S1", "F1|S1|S2|S3",
     "IoT Hub tier: aiot paces bulk work at its throttles"},
    {"azure.units", "AIOT_AZURE_UNITS", Kind::text, "1", "", "IoT Hub units (throttles scale with them)"},
    {"cacert", "AIOT_CACERT", Kind::path, "", "", "an extra CA bundle for TLS to the clouds (verification stays on)"},
};

constexpr const char* k_default_profile = "default";
constexpr const char* k_profile_env = "AIOT_PROFILE";

std::string keys_hint() {
  std::vector<std::string> keys;
  for (const auto& spec : k_key_table) {
    keys.emplace_back(spec.key);
  }
  return "Settings: " + str::join(keys, ", ") + ".";
}

// Why `value` is not valid for `spec`, without the key name; nullopt when it is valid.
std::optional<std::string> problem(const KeySpec& spec, std::string_view value) {
  // An empty value means "none" for keys whose default is none.
  if (value.empty() && std::string_view(spec.default_value).empty()) {
    return std::nullopt;
  }
  switch (spec.kind) {
    case Kind::text:
    case Kind::path:
      return std::nullopt;
    case Kind::choice: {
      for (const auto& choice : str::split(spec.choices, '|')) {
        if (choice == value) {
          return std::nullopt;
        }
      }
      return fmt::format("'{}' is not one of {}", value, spec.choices);
    }
    case Kind::duration:
      if (parse_duration(value)) {
        return std::nullopt;
      }
      return fmt::format("'{}' is not a duration (e.g. 90s, 15m, 4h, 7d)", value);
    case Kind::hub:
      if (value == "local" || value == "azure" || value == "aws") {
        return std::nullopt;
      }
      if (value == "local:") {
        return std::string("'local:' needs a path: local:PATH");
      }
      if (value.starts_with("local:")) {
        return std::nullopt;
      }
      return fmt::format("'{}' is not a hub: use local, local:PATH, azure or aws", value);
  }
  return std::nullopt;
}

bool is_key_prefix(std::string_view prefix) {
  return std::any_of(std::begin(k_key_table), std::end(k_key_table), [&](const KeySpec& spec) {
    std::string_view key = spec.key;
    return key.size() > prefix.size() && key.starts_with(prefix) && key[prefix.size()] == '.';
  });
}

std::string anchor_path(std::string_view text, const stdfs::path& base, const Env& env) {
  if (text.empty()) {
    return {};
  }
  stdfs::path path(text);
  if (text == "~" || text.starts_with("~/")) {
    auto home = env.get_or("HOME", "");
    if (home.empty()) {
      return std::string(text);
    }
    path = text == "~" ? stdfs::path(home) : stdfs::path(home) / text.substr(2);
  }
  if (path.is_relative() && !base.empty()) {
    path = base / path;
  }
  return path.lexically_normal().string();
}

// ---- reading files ----

struct Entry {
  std::string value;
  int line = 0;
};
using Section = std::map<std::string, Entry>;

struct LoadedFile {
  stdfs::path path;
  Section top;
  std::map<std::string, Section> profiles;
  std::optional<Entry> profile;  // `profile: NAME`
};

int line_of(const YAML::Node& node) { return node.Mark().line + 1; }

std::string at(const stdfs::path& file, const YAML::Node& node) {
  return fmt::format("{}:{}: ", file.string(), line_of(node));
}

YAML::Node parse_document(const stdfs::path& file, const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", file.string(), e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

void read_entry(const YAML::Node& key_node, const YAML::Node& value_node, const std::string& prefix,
                const stdfs::path& file, Section& out);

void read_section(const YAML::Node& map, const std::string& prefix, const stdfs::path& file, Section& out) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    read_entry(it->first, it->second, prefix, file, out);
  }
}

// One `key: value`; a mapping under a dotted prefix (`azure: {endpoint: x}`) is read as `azure.endpoint`.
void read_entry(const YAML::Node& key_node, const YAML::Node& value_node, const std::string& prefix,
                const stdfs::path& file, Section& out) {
  if (!key_node.IsScalar()) {
    throw Error::usage(at(file, key_node) + "a setting name must be plain text");
  }
  const std::string key = prefix + key_node.Scalar();
  const KeySpec* spec = find_key(key);
  if (!spec) {
    if (value_node.IsMap() && is_key_prefix(key)) {
      read_section(value_node, key + ".", file, out);
      return;
    }
    throw Error::usage(at(file, key_node) + fmt::format("unknown setting '{}'", key), keys_hint());
  }
  if (!value_node.IsScalar() && !value_node.IsNull()) {
    throw Error::usage(at(file, key_node) + fmt::format("{}: expected a single value", key));
  }
  std::string value = value_node.IsNull() ? std::string() : value_node.Scalar();
  if (auto why = problem(*spec, value)) {
    throw Error::usage(at(file, key_node) + fmt::format("{}: {}", key, *why));
  }
  if (auto earlier = out.find(key); earlier != out.end()) {
    throw Error::usage(at(file, key_node) + fmt::format("'{}' is set twice (first on line {})", key, earlier->second.line));
  }
  out[key] = {std::move(value), line_of(key_node)};
}

// Checks the whole document, every profile section included, so a mistake is reported before it matters.
LoadedFile interpret(const stdfs::path& file, const YAML::Node& root) {
  LoadedFile loaded;
  loaded.path = file;
  if (root.IsNull()) {
    return loaded;
  }
  if (!root.IsMap()) {
    throw Error::usage(at(file, root) + "expected settings as 'key: value' lines");
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    const YAML::Node key = it->first;  // a copy: the iterator hands out a temporary
    const YAML::Node value = it->second;  // a copy: the iterator hands out a temporary
    const std::string name = key.IsScalar() ? key.Scalar() : std::string();
    if (name == "profile") {
      if (!value.IsScalar() || value.Scalar().empty()) {
        throw Error::usage(at(file, key) + "profile: expected a profile name");
      }
      loaded.profile = Entry{value.Scalar(), line_of(key)};
    } else if (name == "profiles") {
      if (value.IsNull()) {
        continue;
      }
      if (!value.IsMap()) {
        throw Error::usage(at(file, key) + "profiles: expected 'NAME:' sections of settings");
      }
      for (auto p = value.begin(); p != value.end(); ++p) {
        if (!p->first.IsScalar() || p->first.Scalar().empty()) {
          throw Error::usage(at(file, p->first) + "a profile name must be plain text");
        }
        const std::string profile = p->first.Scalar();
        if (loaded.profiles.contains(profile)) {
          throw Error::usage(at(file, p->first) + fmt::format("profile '{}' is defined twice", profile));
        }
        Section& section = loaded.profiles[profile];
        if (p->second.IsNull()) {
          continue;
        }
        if (!p->second.IsMap()) {
          throw Error::usage(at(file, p->first) + fmt::format("profiles.{}: expected settings", profile));
        }
        read_section(p->second, "", file, section);
      }
    } else {
      read_entry(key, value, "", file, loaded.top);
    }
  }
  return loaded;
}

std::optional<std::string> read_if_present(const stdfs::path& file) {
  std::error_code ec;
  if (file.empty() || !stdfs::exists(file, ec)) {
    return std::nullopt;  // a missing file is fine: every layer is optional
  }
  if (stdfs::is_directory(file, ec)) {
    throw Error::usage(fmt::format("{}: is a directory, not a settings file", file.string()));
  }
  return fs::read_file(file);
}

std::optional<LoadedFile> load_file(const stdfs::path& file) {
  auto text = read_if_present(file);
  if (!text) {
    return std::nullopt;
  }
  return interpret(file, parse_document(file, *text));
}

bool same_file(const stdfs::path& a, const stdfs::path& b) {
  std::error_code ec;
  return stdfs::equivalent(a, b, ec) && !ec;
}

std::string profile_list(const std::set<std::string>& names) {
  std::vector<std::string> all{k_default_profile};
  for (const auto& n : names) {
    if (n != k_default_profile) {
      all.push_back(n);
    }
  }
  return str::join(all, ", ");
}

// ---- writing files ----

// The document to edit: empty when the file is missing; a file we would reject on reading is
// refused here too rather than rewritten.
YAML::Node load_for_edit(const stdfs::path& file) {
  auto text = read_if_present(file);
  if (!text) {
    return YAML::Node(YAML::NodeType::Map);
  }
  YAML::Node root = parse_document(file, *text);
  interpret(file, root);
  if (root.IsNull()) {
    return YAML::Node(YAML::NodeType::Map);
  }
  return root;
}

// Sets `key` in a section, where it already is: flat (`azure.endpoint:`), or inside an existing
// nested map (`azure: {endpoint:}`); a new key is written flat.
void assign(YAML::Node section, const std::string& key, const std::string& value) {
  const YAML::Node& view = section;  // const lookups do not create entries
  if (!view[key]) {
    auto dot = key.find('.');
    if (dot != std::string::npos) {
      const std::string head = key.substr(0, dot);
      if (view[head] && view[head].IsMap()) {
        assign(section[head], key.substr(dot + 1), value);
        return;
      }
    }
  }
  section[key] = value;
}

void write_document(const stdfs::path& file, const YAML::Node& root) {
  YAML::Emitter out;
  out << root;
  if (!out.good()) {
    throw Error::failure(fmt::format("cannot write {}: {}", file.string(), out.GetLastError()));
  }
  // A file the user made private stays private.
  auto mode = fs::Mode::normal;
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) == 0) {
    mode = fs::Mode::secret;
  }
  fs::write_atomic(file, std::string(out.c_str()) + "\n", mode);
}

void require_file(const stdfs::path& file) {
  if (file.empty()) {
    throw Error::usage("there is no user settings file: neither XDG_CONFIG_HOME nor HOME is set",
                       "Pass --config FILE to choose one.");
  }
}

}  // namespace

std::span<const KeySpec> key_table() { return k_key_table; }

const KeySpec* find_key(std::string_view key) {
  for (const auto& spec : k_key_table) {
    if (key == spec.key) {
      return &spec;
    }
  }
  return nullptr;
}

void validate(const KeySpec& spec, std::string_view value) {
  if (auto why = problem(spec, value)) {
    throw Error::usage(fmt::format("{}: {}", spec.key, *why));
  }
}

void throw_unknown_key(std::string_view key) {
  throw Error::usage(fmt::format("unknown setting '{}'", key), keys_hint());
}

std::string anchor_value(const KeySpec& spec, std::string_view value, const stdfs::path& base, const Env& env) {
  if (spec.kind == Kind::path) {
    return anchor_path(value, base, env);
  }
  if (spec.kind == Kind::hub && value.starts_with("local:") && value.size() > 6) {
    return "local:" + anchor_path(value.substr(6), base, env);
  }
  return std::string(value);
}

Paths default_paths(const Env& env, const stdfs::path& cwd, const std::optional<std::string>& config_file) {
  // XDG base directories must be absolute; a relative one is ignored (XDG Base Directory spec).
  auto xdg = [&env](const char* name) -> std::optional<stdfs::path> {
    auto v = env.get_or(name, "");
    if (v.empty() || stdfs::path(v).is_relative()) {
      return std::nullopt;
    }
    return stdfs::path(v);
  };
  const std::string home = env.get_or("HOME", "");
  Paths paths;
  paths.system_file = "/etc/aiot/config.yaml";
  paths.project_file = cwd / ".aiot.yaml";
  if (config_file && !config_file->empty()) {
    paths.user_file = anchor_path(*config_file, cwd, env);
  } else if (auto dir = xdg("XDG_CONFIG_HOME")) {
    paths.user_file = *dir / "aiot" / "config.yaml";
  } else if (!home.empty()) {
    paths.user_file = stdfs::path(home) / ".config" / "aiot" / "config.yaml";
  }
  if (auto dir = xdg("XDG_DATA_HOME")) {
    paths.data_dir = *dir / "aiot";
  } else if (!home.empty()) {
    paths.data_dir = stdfs::path(home) / ".local" / "share" / "aiot";
  }
  return paths;
}

Settings::Settings() {
  for (const auto& spec : k_key_table) {
    values_[spec.key] = {spec.default_value, "default"};
  }
  profiles_[k_default_profile] = values_.at("hub").value;
}

Settings Settings::resolve(const Env& env, const stdfs::path& cwd, const FlagValues& flags) {
  return resolve_with(env, cwd, default_paths(env, cwd, flags.config_file), flags);
}

Settings Settings::resolve_with(const Env& env, const stdfs::path& cwd, const Paths& paths, const FlagValues& flags) {
  Settings s;
  s.paths_ = paths;
  s.flags_ = flags;

  // Lowest precedence first; a file named twice (--config ./.aiot.yaml) is read once.
  std::vector<LoadedFile> files;
  for (const auto* file : {&paths.system_file, &paths.user_file, &paths.project_file}) {
    bool seen = std::any_of(files.begin(), files.end(), [&](const LoadedFile& f) { return same_file(f.path, *file); });
    if (seen) {
      continue;
    }
    if (auto loaded = load_file(*file)) {
      files.push_back(std::move(*loaded));
    }
  }

  std::set<std::string> defined;
  for (const auto& f : files) {
    for (const auto& [name, section] : f.profiles) {
      defined.insert(name);
    }
  }

  // The active profile: flag > environment > the highest file that names one > "default".
  std::string where;  // "file:line: " when a file named it
  if (flags.profile && !flags.profile->empty()) {
    s.profile_ = *flags.profile;
    s.profile_origin_ = "flag --profile";
  } else if (env.has(k_profile_env)) {
    s.profile_ = *env.get(k_profile_env);
    s.profile_origin_ = fmt::format("env {}", k_profile_env);
  } else {
    for (auto f = files.rbegin(); f != files.rend(); ++f) {
      if (f->profile) {
        s.profile_ = f->profile->value;
        s.profile_origin_ = f->path.string();
        where = fmt::format("{}:{}: ", f->path.string(), f->profile->line);
        break;
      }
    }
  }
  if (s.profile_ != k_default_profile && !defined.contains(s.profile_)) {
    std::string message = fmt::format("{}no profile '{}'; profiles: {}", where, s.profile_, profile_list(defined));
    std::string hint =
        where.empty()
            ? fmt::format("Define it under 'profiles:' in {}, or choose another.", paths.user_file.string())
            : "Define it under 'profiles:', or choose another with 'aiot --profile default config use NAME'.";
    throw Error::usage(message, hint);
  }

  for (const auto& f : files) {
    const auto base = f.path.parent_path();
    for (const auto& [key, entry] : f.top) {
      s.values_[key] = {anchor_value(*find_key(key), entry.value, base, env), f.path.string()};
    }
    if (auto section = f.profiles.find(s.profile_); section != f.profiles.end()) {
      const auto origin = fmt::format("{} (profile {})", f.path.string(), s.profile_);
      for (const auto& [key, entry] : section->second) {
        s.values_[key] = {anchor_value(*find_key(key), entry.value, base, env), origin};
      }
    }
  }

  for (const auto& spec : k_key_table) {
    auto value = env.get_or(spec.env, "");
    if (value.empty()) {
      continue;  // an empty variable counts as unset
    }
    if (auto why = problem(spec, value)) {
      throw Error::usage(fmt::format("{}: {}", spec.env, *why), fmt::format("Fix or unset {}.", spec.env));
    }
    s.values_[spec.key] = {anchor_value(spec, value, cwd, env), fmt::format("env {}", spec.env)};
  }

  for (const auto& [key, value] : flags.values) {
    const KeySpec* spec = find_key(key);
    if (!spec) {
      throw_unknown_key(key);
    }
    // --no-color is the one flag whose name is not the key's.
    const std::string flag = key == "color" ? "--no-color" : "--" + key;
    if (auto why = problem(*spec, value)) {
      throw Error::usage(fmt::format("{}: {}", flag, *why));
    }
    s.values_[key] = {anchor_value(*spec, value, cwd, env), "flag " + flag};
  }

  // What each profile gets from the files alone.
  defined.insert(k_default_profile);
  s.profiles_.clear();
  for (const auto& name : defined) {
    std::string hub = find_key("hub")->default_value;
    for (const auto& f : files) {
      const auto base = f.path.parent_path();
      if (auto e = f.top.find("hub"); e != f.top.end()) {
        hub = anchor_value(*find_key("hub"), e->second.value, base, env);
      }
      if (auto section = f.profiles.find(name); section != f.profiles.end()) {
        if (auto e = section->second.find("hub"); e != section->second.end()) {
          hub = anchor_value(*find_key("hub"), e->second.value, base, env);
        }
      }
    }
    s.profiles_[name] = hub;
  }
  return s;
}

const std::string& Settings::get(std::string_view key) const { return get_with_origin(key).value; }

const Value& Settings::get_with_origin(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) {
    throw_unknown_key(key);
  }
  return it->second;
}

void Settings::set(std::string_view key, std::string value, std::string origin) {
  const KeySpec* spec = find_key(key);
  if (!spec) {
    throw_unknown_key(key);
  }
  validate(*spec, value);
  values_[std::string(key)] = {std::move(value), std::move(origin)};
}

void set_in_file(const stdfs::path& file, std::string_view key, std::string_view value,
                 const std::optional<std::string>& profile) {
  require_file(file);
  const KeySpec* spec = find_key(key);
  if (!spec) {
    throw_unknown_key(key);
  }
  validate(*spec, value);
  if (profile && profile->empty()) {
    throw Error::usage("a profile name must not be empty");
  }
  YAML::Node root = load_for_edit(file);
  if (profile) {
    YAML::Node section = root["profiles"][*profile];
    assign(section, std::string(key), std::string(value));
  } else {
    assign(root, std::string(key), std::string(value));
  }
  // What we wrote must read back: never leave a file the next command would reject.
  interpret(file, root);
  write_document(file, root);
}

void set_profile_in_file(const stdfs::path& file, std::string_view profile) {
  require_file(file);
  if (profile.empty()) {
    throw Error::usage("a profile name must not be empty");
  }
  YAML::Node root = load_for_edit(file);
  root["profile"] = std::string(profile);
  write_document(file, root);
}

}  // namespace aiot::config
