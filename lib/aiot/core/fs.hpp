#pragma once
// Files written atomically (temp file in the same folder, fsync, rename): a crash or bad input
// never leaves a half-written output. Secrets are written 0600 from the first byte.
#include <filesystem>
#include <string>
#include <string_view>

namespace aiot::fs {

enum class Mode { normal = 0644, secret = 0600 };

void write_atomic(const std::filesystem::path& path, std::string_view content, Mode mode = Mode::normal);
std::string read_file(const std::filesystem::path& path);
void ensure_dir(const std::filesystem::path& dir, bool private_dir = false);

}  // namespace aiot::fs
