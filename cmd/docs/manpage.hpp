#pragma once
// Man pages (roff, man(7) macros) generated from the command tree, the long help table, the exit
// code table and the settings key table: aiot(1) and one aiot-GROUP(1) per top-level command.
// The output depends on nothing but those tables and the version, so it can be checked in.
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace aiot::cli::docs {

struct CommandDoc;

// The date on every page: the release date, fixed so that regenerating changes nothing (mandoc
// wants a full YYYY-MM-DD).
inline constexpr const char* k_manual_date = "2026-11-23";

// Escapes text for a roff text line: \ -> \e, a leading . or ' -> \&., and '-' -> '\-' when
// `dashes` (option names, commands a reader may copy).
std::string roff_escape(std::string_view text, bool dashes = false);

// File name ("aiot.1", "aiot-device.1") -> page text.
std::map<std::string, std::string> man_pages(const CommandDoc& root);

// Every generated file by its path relative to the repository: "man/aiot.1", "completions/aiot.bash", ...
// This is what `aiot __docs` writes and what the staleness test compares with the checked-in files.
std::map<std::string, std::string> generated_files(CLI::App& root);

// Environment variables aiot reads besides the AIOT_* settings of the key table (help environment too).
struct EnvironmentVariable {
  const char* name;
  const char* meaning;
};
std::span<const EnvironmentVariable> fixed_environment();

}  // namespace aiot::cli::docs
