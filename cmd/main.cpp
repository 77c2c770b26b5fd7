// The real Context: process streams, environment and clock. Everything else is in run().
#include <filesystem>
#include <string>
#include <vector>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "root.hpp"

extern char** environ;

int main(int argc, char** argv) {
  aiot::Env env = aiot::Env::from_process(environ);
  aiot::IOStreams io = aiot::IOStreams::system(env);
  std::error_code ec;
  auto cwd = std::filesystem::current_path(ec);
  aiot::Clock clock;
  try {
    clock = aiot::default_clock(env);
  } catch (const aiot::Error& e) {
    io.err() << "error: " << e.message() << '\n';
    return aiot::to_int(e.code());
  }
  aiot::Context ctx(io, env, cwd, clock);
  std::vector<std::string> args(argv + 1, argv + argc);
  int code = aiot::cli::run(args, ctx);
  io.out().flush();
  return code;
}
