#include "aiot/core/env.hpp"

namespace aiot {

Env Env::from_process(char** envp) {
  std::map<std::string, std::string> vars;
  for (char** e = envp; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    vars.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return Env(std::move(vars));
}

std::optional<std::string> Env::get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

bool Env::has(const std::string& name) const {
  auto it = vars_.find(name);
  return it != vars_.end() && !it->second.empty();
}

std::string Env::get_or(const std::string& name, std::string fallback) const {
  auto it = vars_.find(name);
  return it == vars_.end() || it->second.empty() ? fallback : it->second;
}

}  // namespace aiot
