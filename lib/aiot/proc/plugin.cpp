#include "aiot/proc/plugin.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"

namespace aiot::proc {

namespace {
bool is_executable_file(const std::filesystem::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

bool valid_plugin_name(const std::string& name) {
  if (name.empty() || name[0] == '-') return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}
}  // namespace

std::optional<std::filesystem::path> find_plugin(const std::string& name, const std::string& path_var) {
  if (!valid_plugin_name(name)) return std::nullopt;
  for (const auto& dir : str::split(path_var, ':')) {
    if (dir.empty()) continue;
    auto candidate = std::filesystem::path(dir) / ("aiot-" + name);
    if (is_executable_file(candidate)) return candidate;
  }
  return std::nullopt;
}

std::map<std::string, std::filesystem::path> list_plugins(const std::string& path_var) {
  std::map<std::string, std::filesystem::path> found;
  for (const auto& dir : str::split(path_var, ':')) {
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      auto file = entry.path().filename().string();
      if (file.rfind("aiot-", 0) != 0 || file.size() <= 5) continue;
      auto name = file.substr(5);
      if (valid_plugin_name(name) && is_executable_file(entry.path())) found.emplace(name, entry.path());
    }
  }
  return found;
}

// fork + execve rather than Boost.Process: Boost 1.74's environment lookup (basic_environment_impl::find)
// reads past the end of shorter entries, which AddressSanitizer reports as a heap-buffer-overflow.
int run_plugin(const std::filesystem::path& exe, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env) {
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string exe_str = exe.string();
  std::vector<std::string> argv_strings{exe_str};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw Error::failure(fmt::format("cannot run plugin {}: fork failed", exe_str));
  if (pid == 0) {
    ::execve(exe_str.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw Error::failure(fmt::format("cannot wait for plugin {}", exe_str));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace aiot::proc
