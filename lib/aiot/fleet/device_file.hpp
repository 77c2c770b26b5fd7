#pragma once
// Device files: what `device import` reads and `device export` writes. CSV with a header row,
// a YAML list, or JSON Lines. A bad row is reported with its line number and the others stand;
// a file that cannot be read at all (bad header, YAML syntax) is one error for the whole file.
//
// Fields (CSV header names, YAML/JSON keys): id (or deviceId), auth (sas | x509-self-signed |
// x509-ca; default sas), status (enabled | disabled; default enabled), primary_key, secondary_key
// (base64), primary_thumbprint, secondary_thumbprint (SHA-1 or SHA-256 hex, colons allowed),
// primary_thumbprint_sha256, secondary_thumbprint_sha256, cert (a PEM file, relative to the
// device file), tags (YAML/JSON: an object; CSV: one column per tag named tags.NAME, values as text),
// desired (YAML/JSON only: an object of desired properties).
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/hub/hub.hpp"

namespace aiot::fleet {

enum class FileFormat { csv, yaml, jsonl };
std::optional<FileFormat> parse_file_format(std::string_view s);
// By extension (.csv, .yaml/.yml, .jsonl/.ndjson/.json), else by content.
FileFormat detect_format(const std::filesystem::path& path, std::string_view content);

struct DeviceRow {
  std::size_t line = 0;  // 1-based line where the row starts
  hub::Device spec;
  std::string cert_path;  // resolved against the file's folder
};

struct RowError {
  std::size_t line = 0;
  std::string message;
};

struct DeviceFile {
  std::vector<DeviceRow> rows;
  std::vector<RowError> errors;  // sorted by line
};

// `source` names the file in messages; `base_dir` resolves relative cert paths.
// Throws Error::usage ("devices.yaml:3:7: ...") when the file as a whole cannot be read.
DeviceFile parse_device_file(std::string_view content, FileFormat format, const std::string& source,
                             const std::filesystem::path& base_dir = {});

// Export in the same fields (never secrets), so an export can be imported elsewhere.
std::string to_csv(const std::vector<hub::Device>& devices);
std::string to_jsonl(const std::vector<hub::Device>& devices);

}  // namespace aiot::fleet
