#include "aiot/core/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "aiot/core/error.hpp"

namespace aiot::fs {

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

void write_atomic(const std::filesystem::path& path, std::string_view content, Mode mode) {
  auto dir = path.parent_path();
  if (!dir.empty()) ensure_dir(dir);
  std::random_device rd;
  auto tmp = path;
  tmp += fmt::format(".tmp-{}-{:x}", ::getpid(), rd());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) throw Error::failure(fmt::format("cannot write {}: {}", tmp.string(), errno_text()));
  // The umask may have narrowed the mode; secrets stay 0600 whatever it says, others get 0644.
  ::fchmod(fd, static_cast<mode_t>(mode));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      auto msg = errno_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      throw Error::failure(fmt::format("cannot write {}: {}", path.string(), msg));
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    auto msg = errno_text();
    ::unlink(tmp.c_str());
    throw Error::failure(fmt::format("cannot write {}: {}", path.string(), msg));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto msg = errno_text();
    ::unlink(tmp.c_str());
    throw Error::failure(fmt::format("cannot write {}: {}", path.string(), msg));
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::usage(fmt::format("cannot read {}: {}", path.string(), errno_text()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ensure_dir(const std::filesystem::path& dir, bool private_dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error::failure(fmt::format("cannot create directory {}: {}", dir.string(), ec.message()));
  if (private_dir) ::chmod(dir.c_str(), 0700);
}

}  // namespace aiot::fs
