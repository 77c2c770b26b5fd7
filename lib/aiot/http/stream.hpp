#pragma once
// Streaming downloads (issue 10). http::Transport buffers whole bodies, which is right for API
// calls and wrong for a terabyte of exports: a StreamTransport hands the body over piece by piece
// through a bounded buffer between libcurl's write callback and the reader, pausing the transfer
// while the buffer is full. Nothing is staged to disk. Like Transport, it never retries and never
// throws for HTTP statuses: storage::ObjectSource decides.
#include <cstddef>
#include <memory>
#include <string>

#include "aiot/http/transport.hpp"

namespace aiot::http {

// One response being received.
class BodyStream {
 public:
  virtual ~BodyStream() = default;  // cancels the transfer when it is still running
  // Blocks until the status and headers are in (or the request failed before them: status 0 and
  // transport_error set). The body member stays empty: read it with read().
  virtual const Response& head() = 0;
  // Up to n body bytes; blocks while none are buffered. 0 at the end of the body, or when the
  // transfer broke (then broken() says how).
  virtual std::size_t read(char* buf, std::size_t n) = 0;
  virtual TransportError broken() const = 0;
  virtual std::string broken_text() const = 0;
};

class StreamTransport {
 public:
  virtual ~StreamTransport() = default;
  // Starts the request and returns at once: the transfer runs (and fills its buffer) in the
  // background while the caller does other work, which is what prefetching relies on.
  virtual std::unique_ptr<BodyStream> start(const Request& request) = 0;
};

// libcurl multi driven by one background thread for all streams, connections reused; each stream
// buffers at most `buffer_bytes` (plus one curl chunk). Request::timeout bounds connecting and the
// time without progress (a reader that stops reading pauses the transfer and is not a stall).
// Plain http:// only to loopback, as for make_curl_transport.
std::shared_ptr<StreamTransport> make_curl_stream_transport(const TransportOptions& options,
                                                            std::size_t buffer_bytes);

// Streams over a buffering Transport: sends the whole request, then serves the body from memory
// (unit tests with fake transports; nothing asynchronous).
std::shared_ptr<StreamTransport> buffered_stream_transport(std::shared_ptr<Transport> inner);

}  // namespace aiot::http
