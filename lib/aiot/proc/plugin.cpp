#include "aiot/proc/plugin.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/env.hpp>
#include <boost/process/environment.hpp>
#include <boost/process/exe.hpp>
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

int run_plugin(const std::filesystem::path& exe, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env) {
  namespace bp = boost::process;
  bp::environment e;
  for (const auto& [k, v] : env) e[k] = v;
  try {
    bp::child child(bp::exe = exe.string(), bp::args = args, bp::env = e);
    child.wait();
    int native = child.native_exit_code();
    if (WIFSIGNALED(native)) return 128 + WTERMSIG(native);
    return child.exit_code();
  } catch (const bp::process_error& err) {
    throw Error::failure(fmt::format("cannot run plugin {}: {}", exe.string(), err.what()));
  }
}

}  // namespace aiot::proc
