#pragma once
// The process environment, captured once in main() and passed down through the Context:
// nothing below cmd/main.cpp calls getenv, so tests set variables without touching the process.
#include <map>
#include <optional>
#include <string>

namespace aiot {

class Env {
 public:
  Env() = default;
  explicit Env(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  static Env from_process(char** envp);

  std::optional<std::string> get(const std::string& name) const;
  // Set and non-empty.
  bool has(const std::string& name) const;
  std::string get_or(const std::string& name, std::string fallback) const;
  void set(const std::string& name, std::string value) { vars_[name] = std::move(value); }
  void unset(const std::string& name) { vars_.erase(name); }
  const std::map<std::string, std::string>& all() const { return vars_; }

 private:
  std::map<std::string, std::string> vars_;
};

}  // namespace aiot
