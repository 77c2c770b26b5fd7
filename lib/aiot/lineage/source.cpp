#include "aiot/lineage/source.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "aiot/core/error.hpp"
#include "aiot/lineage/read_internal.hpp"
#include "aiot/lineage/readers.hpp"

namespace aiot::lineage {

namespace {

class FileSource : public ByteSource {
 public:
  FileSource(std::string path) : path_(std::move(path)) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      const int err = errno;
      if (err == ENOENT) {
        throw Error::not_found("cannot open " + path_ + ": " + std::strerror(err));
      }
      throw Error::failure("cannot open " + path_ + ": " + std::strerror(err));
    }
    // Readers go front to back once: let the kernel read ahead generously.
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  std::size_t read(char* buf, std::size_t n) override {
    for (;;) {
      const ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) {
        return static_cast<std::size_t>(got);
      }
      if (errno != EINTR) {
        throw Error::failure("cannot read " + path_ + ": " + std::strerror(errno));
      }
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string bytes) : bytes_(std::move(bytes)) {}
  std::size_t read(char* buf, std::size_t n) override {
    const std::size_t take = std::min(n, bytes_.size() - at_);
    std::memcpy(buf, bytes_.data() + at_, take);
    at_ += take;
    return take;
  }

 private:
  std::string bytes_;
  std::size_t at_ = 0;
};

}  // namespace

namespace detail {

PeekedSource::PeekedSource(ByteSource& inner, std::size_t peek_bytes) : inner_(inner) {
  head_.resize(peek_bytes);
  std::size_t have = 0;
  while (have < peek_bytes) {
    const std::size_t got = inner_.read(head_.data() + have, peek_bytes - have);
    if (got == 0) {
      break;
    }
    have += got;
  }
  head_.resize(have);
}

std::size_t PeekedSource::read(char* buf, std::size_t n) {
  if (at_ < head_.size()) {
    const std::size_t take = std::min(n, head_.size() - at_);
    std::memcpy(buf, head_.data() + at_, take);
    at_ += take;
    return take < n ? take + inner_.read(buf + take, n - take) : take;
  }
  return inner_.read(buf, n);
}

GzipSource::GzipSource(ByteSource& inner, bool throw_on_corrupt)
    : inner_(inner), throw_on_corrupt_(throw_on_corrupt), in_(new unsigned char[k_in_bytes]) {
  auto* strm = new z_stream{};
  stream_ = strm;
  // 15 + 16: gzip wrapper only (the caller checked the magic).
  if (inflateInit2(strm, 15 + 16) != Z_OK) {
    delete strm;
    stream_ = nullptr;
    throw Error::failure("zlib: cannot initialise inflate");
  }
}

GzipSource::~GzipSource() {
  if (stream_ != nullptr) {
    auto* strm = static_cast<z_stream*>(stream_);
    inflateEnd(strm);
    delete strm;
  }
}

bool GzipSource::refill() {
  auto* strm = static_cast<z_stream*>(stream_);
  const std::size_t got = inner_.read(reinterpret_cast<char*>(in_.get()), k_in_bytes);
  strm->next_in = in_.get();
  strm->avail_in = static_cast<uInt>(got);
  return got > 0;
}

std::size_t GzipSource::fail(std::string reason) {
  done_ = true;
  if (throw_on_corrupt_) {
    throw Error::failure(reason);
  }
  corrupt_ = std::move(reason);
  return 0;
}

std::size_t GzipSource::read(char* buf, std::size_t n) {
  auto* strm = static_cast<z_stream*>(stream_);
  if (!pending_failure_.empty()) {
    return fail(std::exchange(pending_failure_, {}));
  }
  if (done_ || n == 0) {
    return 0;
  }
  strm->next_out = reinterpret_cast<unsigned char*>(buf);
  strm->avail_out = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
  const uInt want = strm->avail_out;
  while (strm->avail_out == want) {
    if (strm->avail_in == 0 && !refill()) {
      if (member_done_) {
        done_ = true;  // clean end after a complete member
        return 0;
      }
      return fail("gzip stream truncated after " + std::to_string(produced_) + " decompressed bytes");
    }
    if (member_done_) {
      // Concatenated members (gzip -c a b, or appended chunks) are one stream.
      if (strm->next_in[0] != 0x1f) {
        return fail("trailing bytes that are not gzip after " + std::to_string(produced_) + " decompressed bytes");
      }
      inflateReset(strm);
      member_done_ = false;
    }
    const int rc = inflate(strm, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      member_done_ = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const std::string what = strm->msg != nullptr ? strm->msg : "error " + std::to_string(rc);
      const std::size_t got = want - strm->avail_out;
      produced_ += got;
      if (got > 0) {
        // Hand out what inflated cleanly first; report on the next call.
        pending_failure_ = "corrupt gzip data after " + std::to_string(produced_) + " decompressed bytes: " + what;
        return got;
      }
      return fail("corrupt gzip data after " + std::to_string(produced_) + " decompressed bytes: " + what);
    }
  }
  const std::size_t got = want - strm->avail_out;
  produced_ += got;
  return got;
}

bool has_gzip_magic(std::string_view head) {
  return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
         static_cast<unsigned char>(head[1]) == 0x8b;
}

}  // namespace detail

std::unique_ptr<ByteSource> open_file(const std::string& path) { return std::make_unique<FileSource>(path); }

std::unique_ptr<ByteSource> open_memory(std::string bytes) { return std::make_unique<MemorySource>(std::move(bytes)); }

namespace {

// Owns the inner source and the peek/gzip layers above it.
class MaybeGzipSource : public ByteSource {
 public:
  explicit MaybeGzipSource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)), peeked_(*inner_, 2) {
    if (detail::has_gzip_magic(peeked_.head())) {
      gzip_ = std::make_unique<detail::GzipSource>(peeked_, /*throw_on_corrupt=*/true);
    }
  }
  std::size_t read(char* buf, std::size_t n) override {
    return gzip_ ? gzip_->read(buf, n) : peeked_.read(buf, n);
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  detail::PeekedSource peeked_;
  std::unique_ptr<detail::GzipSource> gzip_;
};

}  // namespace

std::unique_ptr<ByteSource> open_maybe_gzip(std::unique_ptr<ByteSource> inner) {
  return std::make_unique<MaybeGzipSource>(std::move(inner));
}

}  // namespace aiot::lineage
