// The floor of any simdjson-based audit (lineage_bench.sh runs it beside the audit): read an NDJSON
// file, SHA-256 it (the datasetVersion, lineage-governance.md §9.1 step 1) and parse every value of
// every line with simdjson On-Demand, building nothing and checking nothing. The audit cannot take
// less CPU than this; its CPU over this one's is what building records and running the checks cost.
//
//   json_floor FILE   prints: records=N malformed=M read_parse_cpu_s=X sha256_cpu_s=Y
#include <fcntl.h>
#include <openssl/evp.h>
#include <simdjson.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

namespace od = simdjson::ondemand;

namespace {

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

struct Totals {
  std::size_t records = 0, malformed = 0, text_bytes = 0;
  double sum = 0;  // consumed so that the compiler cannot drop the parse
};

// Every value of one line's object: numbers parsed to double, strings unescaped, keys read.
bool parse_line(od::parser& parser, const char* at, std::size_t len, std::size_t capacity, Totals& t) {
  od::document doc;
  od::object obj;
  if (parser.iterate(at, len, capacity).get(doc) || doc.get_object().get(obj)) return false;
  for (auto item : obj) {
    od::field field;
    std::string_view key;
    if (std::move(item).get(field) || field.unescaped_key().get(key)) return false;
    t.text_bytes += key.size();
    od::value v = field.value();
    od::json_type type;
    if (v.type().get(type)) return false;
    if (type == od::json_type::number) {
      double d = 0;
      if (v.get_double().get(d)) return false;
      t.sum += d;
    } else if (type == od::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s)) return false;
      t.text_bytes += s.size();
    } else if (type == od::json_type::object) {
      od::object inner;
      std::string_view raw;
      if (v.get_object().get(inner) || inner.raw_json().get(raw)) return false;
      t.text_bytes += raw.size();
    } else if (type == od::json_type::array) {
      od::array inner;
      std::string_view raw;
      if (v.get_array().get(inner) || inner.raw_json().get(raw)) return false;
      t.text_bytes += raw.size();
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: json_floor FILE.ndjson\n");
    return 2;
  }
  const int fd = open(argv[1], O_RDONLY);
  if (fd < 0) {
    std::perror(argv[1]);
    return 2;
  }
  constexpr std::size_t k_chunk = 4u << 20;
  constexpr std::size_t k_padding = simdjson::SIMDJSON_PADDING;
  std::size_t capacity = 2 * k_chunk;
  auto buf = std::make_unique<char[]>(capacity + k_padding);
  EVP_MD_CTX* sha = EVP_MD_CTX_new();
  EVP_DigestInit_ex(sha, EVP_sha256(), nullptr);
  od::parser parser;
  Totals t;
  double sha_s = 0;
  std::size_t have = 0;
  const double start = thread_cpu_s();
  for (bool eof = false; !eof;) {
    if (capacity - have < k_chunk) {  // a line longer than a chunk: grow
      auto bigger = std::make_unique<char[]>(capacity * 2 + k_padding);
      std::memcpy(bigger.get(), buf.get(), have);
      buf = std::move(bigger);
      capacity *= 2;
    }
    const ssize_t got = read(fd, buf.get() + have, k_chunk);
    if (got < 0) {
      std::perror(argv[1]);
      return 2;
    }
    eof = got == 0;
    const double before_sha = thread_cpu_s();
    EVP_DigestUpdate(sha, buf.get() + have, static_cast<std::size_t>(got));
    sha_s += thread_cpu_s() - before_sha;
    have += static_cast<std::size_t>(got);
    char* const end = buf.get() + have;
    std::memset(end, 0, k_padding);
    const char* last = eof ? end : static_cast<const char*>(memrchr(buf.get(), '\n', have));
    if (last == nullptr) continue;
    const char* at = buf.get();
    while (at < last) {
      const char* nl = static_cast<const char*>(std::memchr(at, '\n', static_cast<std::size_t>(last - at)));
      if (nl == nullptr) nl = last;
      const auto len = static_cast<std::size_t>(nl - at);
      if (len > 0) {
        const auto readable = static_cast<std::size_t>(end + k_padding - at);
        if (parse_line(parser, at, len, readable, t)) ++t.records;
        else ++t.malformed;
      }
      at = nl + 1;
    }
    const std::size_t used = last == end ? have : static_cast<std::size_t>(last - buf.get()) + 1;
    std::memmove(buf.get(), buf.get() + used, have - used);
    have -= used;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(sha, digest, &digest_len);
  EVP_MD_CTX_free(sha);
  close(fd);
  const double total_s = thread_cpu_s() - start;
  std::printf("records=%zu malformed=%zu read_parse_cpu_s=%.3f sha256_cpu_s=%.3f checksum=%.6g/%zu/%02x\n", t.records,
              t.malformed, total_s - sha_s, sha_s, t.sum, t.text_bytes, digest[0]);
  return 0;
}
