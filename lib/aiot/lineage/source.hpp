#pragma once
// Where telemetry comes from: a list of Inputs, each opened as a ByteSource that is read from
// front to back once. Local files, gzip'd files, and remote objects (Azure Blob, S3: issue 10)
// are all ByteSources, so readers never know where bytes come from and nothing is staged to disk.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace aiot::lineage {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to n bytes into buf; returns 0 only at the end. Throws aiot::Error on a read
  // failure (a remote source after its retries).
  virtual std::size_t read(char* buf, std::size_t n) = 0;
};

// One input of an audit: a file or an object.
struct Input {
  std::string name;     // what reports show: a path, or a URL (az://..., s3://..., https://...)
  std::string version;  // the object's etag/versionId; for files, empty until the reader hashes it
  std::optional<std::uint64_t> size;
  std::string ol_namespace;  // OpenLineage dataset namespace ("file", "wasbs://container@account", "s3://bucket")
  std::string ol_name;       // OpenLineage dataset name (path / key)
  // Opens the bytes (already decompressed when the name ends in .gz: see open_maybe_gzip).
  std::function<std::unique_ptr<ByteSource>()> open;
};

// A local file as a ByteSource (large buffered reads).
std::unique_ptr<ByteSource> open_file(const std::string& path);
// Wraps a source in gzip decompression when its first bytes are the gzip magic; otherwise passes
// the bytes through unchanged.
std::unique_ptr<ByteSource> open_maybe_gzip(std::unique_ptr<ByteSource> inner);

}  // namespace aiot::lineage
