#pragma once
// Remote lineage inputs (issue 10): telemetry exports read in place from Azure Blob Storage and
// Amazon S3, streamed into the readers with no temp files. docs/storage-inputs.md has the details.
//
// Specs:
//   az://ACCOUNT/CONTAINER[/PREFIX]                      Azure, https://ACCOUNT.blob.core.windows.net
//   https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX][?SAS]
//   http(s)://HOST:PORT/ACCOUNT/CONTAINER[/PREFIX][?SAS] Azure custom endpoint, path-style
//                                                        (Azurite: http://127.0.0.1:10000/devstoreaccount1/c/p)
//   s3://BUCKET[/PREFIX]                                 S3 (virtual-hosted on AWS, path-style on a custom endpoint)
// A spec naming one object (no trailing '/', and an object of exactly that name exists) lists that object.
//
// Azure auth, first found: a SAS in the URL's query; AZURE_STORAGE_SAS_TOKEN; a connection string
// (AZURE_STORAGE_CONNECTION_STRING, or the file named by the storage.azure.connection_string_file
// setting when the key table has it): SharedAccessSignature=... or AccountKey=... (Shared Key
// signing), and its BlobEndpoint= replaces the default endpoint; AZURE_STORAGE_ACCOUNT +
// AZURE_STORAGE_KEY; else anonymous (public containers).
// S3 auth: the AWS credential chain (aiot/auth/cloud/aws_credentials.hpp); region from the chain,
// else us-east-1; endpoint AWS_ENDPOINT_URL_S3 > AWS_ENDPOINT_URL > https://BUCKET.s3.REGION.amazonaws.com
// (a custom endpoint is addressed path-style: ENDPOINT/BUCKET/KEY).
//
// Errors: 401/403 -> Error::auth (exit 4), from listing or from any object's read. Other failures
// of one object (after the HTTP layer's retries) -> Error::unavailable / Error::failure thrown by
// that object's ByteSource::read: the audit reports the object by name and continues, but it must
// stop on ExitCode::auth (see is_fatal below).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aiot/core/time.hpp"
#include "aiot/lineage/source.hpp"

namespace aiot {
class Context;
class Error;
}  // namespace aiot

namespace aiot::http {
class Transport;
class StreamTransport;
}  // namespace aiot::http

namespace aiot::storage {

// az://, s3://, https://*.blob.core.windows.net/..., http(s)://host/ACCOUNT/CONTAINER[/...] with a
// container path. False for local paths and globs.
bool is_remote(std::string_view spec);

struct ListOptions {
  // --window: only objects whose time-based path ({iothub}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm},
  // Firehose PREFIX/YYYY/MM/DD/HH/) can hold records in [from, to] are listed; folders outside the
  // window are never listed. 15 minutes of slack on both sides cover batching delays (IoT Hub
  // routing batches up to 720 s, Firehose up to 900 s). Objects outside a time layout are kept.
  std::optional<TimePoint> from, to;
  std::size_t page_size = 0;  // 0 = AIOT_STORAGE_PAGE_SIZE when set, else the service default (5,000 Azure, 1,000 S3)
};

// Lists the objects under a remote spec as lineage Inputs (sorted by name, as the services list
// them) whose open() streams the object: the transfer starts at open() in the background and
// fills a bounded buffer (k_stream_buffer_bytes) while the reader is elsewhere, and a broken
// transfer resumes with a Range request pinned to the listed etag. Objects ending in ".gz" are
// decompressed (lineage::open_maybe_gzip). Input fields: name = URL (az://..., s3://..., or the
// custom endpoint's http URL without any SAS), version = etag (quotes stripped; Azure VersionId when
// listed), size, ol_namespace = "wasbs://CONTAINER@ACCOUNT.dfs.core.windows.net" / "s3://BUCKET",
// ol_name = the blob name / key. Throws Error::usage for a malformed spec, Error::auth on 401/403,
// Error::not_found for a missing container/bucket, Error::unavailable when listing fails after retries.
std::vector<lineage::Input> list_inputs(Context& ctx, const std::string& spec, const ListOptions& opt);

inline constexpr std::size_t k_stream_buffer_bytes = 4u << 20;

// What list_inputs talks through; tests pass fakes (no sockets). Empty members take the defaults:
// ctx.transport() for listing, a libcurl streaming transport for bodies, real sleeps.
struct Backend {
  std::shared_ptr<http::Transport> transport;
  std::shared_ptr<http::StreamTransport> stream;
  std::function<void(std::chrono::milliseconds)> sleep;
  std::uint64_t seed = 0;  // retry jitter; 0 = random
  int max_attempts = 0;    // 0 = the HTTP layer's RetryPolicy default
};
std::vector<lineage::Input> list_inputs(Context& ctx, const std::string& spec, const ListOptions& opt,
                                        const Backend& backend);

// True for errors that must stop an audit instead of being reported per object (ExitCode::auth).
bool is_fatal(const Error& error);

// Reads inputs in order while the next `ahead` are already opened, so their transfers run while
// the current one is parsed. Memory stays bounded: at most (ahead + 1) open sources, each with its
// own bounded buffer. Works for local inputs too (opening a file is cheap). Not thread-safe: one
// consumer calls take() with increasing indexes.
//
//   storage::Prefetcher pf(inputs, 4);
//   for (std::size_t i = 0; i < inputs.size(); ++i) {
//     try { auto src = pf.take(i); read_source(*src, ...); }
//     catch (const Error& e) { if (storage::is_fatal(e)) throw; report inputs[i].name + e.what(); }
//   }
class Prefetcher {
 public:
  Prefetcher(std::span<const lineage::Input> inputs, std::size_t ahead);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;
  // The opened source of inputs[index] (rethrows what its open() threw); opens the following
  // `ahead` inputs; sources of indexes below `index` that were never taken are dropped.
  std::unique_ptr<lineage::ByteSource> take(std::size_t index);

 private:
  struct Slot;
  void fill(std::size_t from);
  std::span<const lineage::Input> inputs_;
  std::size_t ahead_;
  std::size_t low_ = 0;  // slots below are gone
  std::vector<std::unique_ptr<Slot>> slots_;  // indexed like inputs_; null = not opened
};

}  // namespace aiot::storage
