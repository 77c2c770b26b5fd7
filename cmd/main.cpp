// The real Context: process streams, environment and clock. Everything else is in run().
#include <malloc.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aiot/context.hpp"
#include "aiot/core/error.hpp"
#include "root.hpp"

extern char** environ;

int main(int argc, char** argv) {
  // No glibc fastbins: a rollout step frees ~10^6 small JSON nodes and then makes large
  // allocations, and consolidating those fastbins was 10-12% of a step over a 5,500-device wave.
  // tcache still serves the small sizes. Measured in tests/bench/RESULTS-rollout.md.
  mallopt(M_MXFAST, 0);
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
