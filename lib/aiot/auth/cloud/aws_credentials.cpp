#include "aiot/auth/cloud/aws_credentials.hpp"

#include <fmt/format.h>

#include <filesystem>

#include "aiot/core/env.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::aws_auth {

namespace {

std::filesystem::path expand_home(const std::string& path, const Env& env) {
  if (path.rfind("~/", 0) == 0) {
    return std::filesystem::path(env.get_or("HOME", "")) / path.substr(2);
  }
  return path;
}

// AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, else ~/.aws/NAME; empty when neither is known.
std::filesystem::path file_path(const Env& env, const char* variable, const char* name) {
  if (auto p = env.get(variable); p && !p->empty()) {
    return expand_home(*p, env);
  }
  if (auto home = env.get("HOME"); home && !home->empty()) {
    return std::filesystem::path(*home) / ".aws" / name;
  }
  return {};
}

struct IniFile {
  std::filesystem::path path;
  bool exists = false;
  IniSections sections;
};

IniFile load(const std::filesystem::path& path) {
  IniFile f;
  f.path = path;
  std::error_code ec;
  if (path.empty() || !std::filesystem::is_regular_file(path, ec)) {
    return f;
  }
  f.exists = true;
  f.sections = parse_ini(fs::read_file(path));
  return f;
}

// The section of `profile` in the config file: "[profile NAME]", or "[default]" for default.
const std::map<std::string, std::string>* config_section(const IniFile& config, const std::string& profile,
                                                          std::string& section_name) {
  for (const auto& [name, keys] : config.sections) {
    auto words = str::split(name, ' ');
    std::erase_if(words, [](const std::string& w) { return w.empty(); });
    if (words.size() == 2 && words[0] == "profile" && words[1] == profile) {
      section_name = name;
      return &keys;
    }
  }
  if (profile == "default") {
    if (auto it = config.sections.find("default"); it != config.sections.end()) {
      section_name = "default";
      return &it->second;
    }
  }
  return nullptr;
}

std::string value_of(const std::map<std::string, std::string>& keys, const std::string& key) {
  auto it = keys.find(key);
  return it == keys.end() ? std::string() : it->second;
}

// Profiles that get credentials some other way: say so instead of "not found".
void reject_unsupported(const std::map<std::string, std::string>& keys, const std::string& where) {
  for (const char* key : {"role_arn", "credential_process", "sso_session", "sso_start_url", "web_identity_token_file"}) {
    if (keys.count(key) != 0) {
      throw Error::auth(fmt::format("{} sets {}, which aiot does not support: it needs static keys", where, key),
                        "Export temporary keys first, e.g. eval \"$(aws configure export-credentials --format env)\", "
                        "or use a profile with aws_access_key_id and aws_secret_access_key.");
    }
  }
}

// Credentials from one section, or nullopt when it has none. A key id without a secret is an error.
std::optional<sigv4::Credentials> from_section(const std::map<std::string, std::string>& keys,
                                               const std::string& where) {
  std::string id = value_of(keys, "aws_access_key_id");
  std::string secret = value_of(keys, "aws_secret_access_key");
  if (id.empty() && secret.empty()) {
    reject_unsupported(keys, where);
    return std::nullopt;
  }
  if (id.empty() || secret.empty()) {
    throw Error::auth(fmt::format("{} has {} but not {}", where, id.empty() ? "aws_secret_access_key" : "aws_access_key_id",
                                  id.empty() ? "aws_access_key_id" : "aws_secret_access_key"));
  }
  std::string token = value_of(keys, "aws_session_token");
  if (token.empty()) {
    token = value_of(keys, "aws_security_token");  // the legacy name botocore still reads
  }
  return sigv4::Credentials{id, secret, token};
}

}  // namespace

IniSections parse_ini(const std::string& text) {
  IniSections sections;
  std::map<std::string, std::string>* current = nullptr;
  for (const auto& raw : str::split(text, '\n')) {
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    bool indented = !line.empty() && (line[0] == ' ' || line[0] == '\t');
    std::string_view t = str::trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') {
      continue;
    }
    if (indented) {
      continue;  // a nested sub-section's line ("s3 =\n  max_concurrent_requests = 20")
    }
    if (t.front() == '[' && t.back() == ']') {
      current = &sections[std::string(str::trim(t.substr(1, t.size() - 2)))];
      continue;
    }
    auto eq = t.find('=');
    if (current == nullptr || eq == std::string_view::npos) {
      continue;
    }
    std::string key = str::to_lower(str::trim(t.substr(0, eq)));
    std::string value(str::trim(t.substr(eq + 1)));
    (*current)[key] = value;
  }
  return sections;
}

std::string credentials_section(const std::string& profile, const sigv4::Credentials& credentials,
                                const std::string& region) {
  std::string out = fmt::format("[{}]\naws_access_key_id = {}\naws_secret_access_key = {}\n", profile,
                                credentials.access_key_id, credentials.secret_access_key);
  if (!credentials.session_token.empty()) {
    out += fmt::format("aws_session_token = {}\n", credentials.session_token);
  }
  if (!region.empty()) {
    out += fmt::format("region = {}\n", region);
  }
  return out;
}

Resolved resolve(const Env& env, const ChainSettings& settings) {
  Resolved r;
  bool explicit_profile = !settings.profile.empty();
  if (explicit_profile) {
    r.profile = settings.profile;
  } else if (auto p = env.get("AWS_PROFILE"); p && !p->empty()) {
    r.profile = *p;
  } else if (auto p2 = env.get("AWS_DEFAULT_PROFILE"); p2 && !p2->empty()) {
    r.profile = *p2;
  } else {
    r.profile = "default";
  }

  IniFile credentials_file = load(file_path(env, "AWS_SHARED_CREDENTIALS_FILE", "credentials"));
  IniFile config_file = load(file_path(env, "AWS_CONFIG_FILE", "config"));

  // 1. The environment, unless a profile was named explicitly.
  if (explicit_profile) {
    r.looked_at.push_back("env AWS_ACCESS_KEY_ID (skipped: aws.profile names a profile)");
  } else {
    std::string id = env.get_or("AWS_ACCESS_KEY_ID", "");
    std::string secret = env.get_or("AWS_SECRET_ACCESS_KEY", "");
    r.looked_at.push_back("env AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY");
    if (!id.empty() || !secret.empty()) {
      if (id.empty() || secret.empty()) {
        throw Error::auth(fmt::format("the environment has {} but not {}",
                                      id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
                                      id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY"));
      }
      r.credentials = {id, secret, env.get_or("AWS_SESSION_TOKEN", "")};
      r.source = "env AWS_ACCESS_KEY_ID";
    }
  }

  // 2. The shared credentials file, then the config file.
  std::string config_section_name;
  const auto* config_keys = config_section(config_file, r.profile, config_section_name);
  const std::map<std::string, std::string>* credentials_keys = nullptr;
  if (auto it = credentials_file.sections.find(r.profile); it != credentials_file.sections.end()) {
    credentials_keys = &it->second;
  }
  if (r.source.empty()) {
    std::string where = fmt::format("{} [{}]", credentials_file.path.string(), r.profile);
    if (credentials_file.path.empty()) {
      r.looked_at.push_back("shared credentials file (neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set)");
    } else if (!credentials_file.exists) {
      r.looked_at.push_back(where + " (no such file)");
    } else if (credentials_keys == nullptr) {
      r.looked_at.push_back(where + " (no such section)");
    } else if (auto c = from_section(*credentials_keys, where)) {
      r.credentials = *c;
      r.source = where;
    } else {
      r.looked_at.push_back(where + " (no keys)");
    }
  }
  if (r.source.empty()) {
    std::string wanted = r.profile == "default" ? "default" : "profile " + r.profile;
    std::string where = fmt::format("{} [{}]", config_file.path.string(),
                                    config_section_name.empty() ? wanted : config_section_name);
    if (config_file.path.empty()) {
      r.looked_at.push_back("config file (neither AWS_CONFIG_FILE nor HOME is set)");
    } else if (!config_file.exists) {
      r.looked_at.push_back(where + " (no such file)");
    } else if (config_keys == nullptr) {
      r.looked_at.push_back(where + " (no such section)");
    } else if (auto c = from_section(*config_keys, where)) {
      r.credentials = *c;
      r.source = where;
    } else {
      r.looked_at.push_back(where + " (no keys)");
    }
  }
  if (r.source.empty()) {
    throw Error::auth(fmt::format("no AWS credentials found (profile '{}'); looked at: {}", r.profile,
                                  str::join(r.looked_at, "; ")),
                      "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run 'aws configure', or name a profile "
                      "with AWS_PROFILE or 'aiot config set aws.profile NAME'.");
  }

  // Region.
  if (!settings.region.empty()) {
    r.region = settings.region;
    r.region_source = "setting aws.region";
  } else if (auto v = env.get("AWS_REGION"); v && !v->empty()) {
    r.region = *v;
    r.region_source = "env AWS_REGION";
  } else if (auto v2 = env.get("AWS_DEFAULT_REGION"); v2 && !v2->empty()) {
    r.region = *v2;
    r.region_source = "env AWS_DEFAULT_REGION";
  } else if (config_keys != nullptr && !value_of(*config_keys, "region").empty()) {
    r.region = value_of(*config_keys, "region");
    r.region_source = fmt::format("{} [{}]", config_file.path.string(), config_section_name);
  } else if (credentials_keys != nullptr && !value_of(*credentials_keys, "region").empty()) {
    r.region = value_of(*credentials_keys, "region");
    r.region_source = fmt::format("{} [{}]", credentials_file.path.string(), r.profile);
  }
  return r;
}

}  // namespace aiot::aws_auth
