#include "aiot/rollout/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"

namespace aiot::rollout {

using json = nlohmann::json;

JournalHead JournalHead::from_json(const json& j) {
  JournalHead h;
  if (j.is_object()) {
    h.seq = j.value("seq", std::int64_t{0});
    h.hash = j.value("hash", std::string());
  }
  return h;
}

std::string canonical(const json& value) {
  // nlohmann::json keeps object keys sorted (std::map) and dump() without indent adds no space.
  return value.dump(-1, ' ', false, json::error_handler_t::strict);
}

JournalHead chain(json& event, const JournalHead& head) {
  event.erase("hash");
  event["seq"] = head.seq + 1;
  event["prev"] = head.hash;
  std::string hash = crypto::sha256_hex(head.hash + canonical(event));
  event["hash"] = hash;
  return {head.seq + 1, hash};
}

std::vector<json> read_journal(const std::filesystem::path& path) {
  std::vector<json> events;
  std::ifstream in(path);
  if (!in) return events;
  std::string line;
  std::size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw Error::usage(fmt::format("{}:{}: not a journal event (malformed JSON)", path.string(), n));
    events.push_back(std::move(j));
  }
  return events;
}

VerifyResult verify_journal(const std::filesystem::path& path, const std::optional<JournalHead>& expected) {
  VerifyResult r;
  std::ifstream in(path);
  if (!in) {
    r.ok = !expected || expected->seq == 0;
    if (!r.ok) r.problem = fmt::format("journal {} is missing; the hub records {} events", path.string(), expected->seq);
    return r;
  }
  std::string line;
  std::size_t n = 0;
  JournalHead head;
  auto fail = [&](std::size_t at, std::string why) {
    r.ok = false;
    r.bad_line = at;
    r.problem = std::move(why);
    r.head = head;
    return r;
  };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) return fail(n, "empty line inside the journal");
    auto e = json::parse(line, nullptr, false);
    if (e.is_discarded() || !e.is_object()) return fail(n, "malformed JSON");
    if (!e.contains("hash") || !e.contains("prev") || !e.contains("seq")) return fail(n, "event without seq, prev or hash");
    if (!e["seq"].is_number_integer() || e["seq"].get<std::int64_t>() != head.seq + 1)
      return fail(n, fmt::format("sequence number {} where {} was expected (a line was removed or reordered)",
                                 e["seq"].dump(), head.seq + 1));
    if (e["prev"] != head.hash) return fail(n, "prev does not match the previous event's hash (a line was edited or removed)");
    std::string stated = e["hash"].is_string() ? e["hash"].get<std::string>() : "";
    json body = e;
    body.erase("hash");
    std::string actual = crypto::sha256_hex(head.hash + canonical(body));
    if (stated != actual) return fail(n, "hash does not match the event's content (the line was edited)");
    head = {head.seq + 1, actual};
    ++r.events;
  }
  r.head = head;
  if (expected && !(head == *expected)) {
    if (head.seq < expected->seq)
      return fail(n + 1, fmt::format("journal ends at event {} but the hub records {}: it was truncated", head.seq, expected->seq));
    return fail(n, fmt::format("journal head (event {}) differs from the hub's (event {})", head.seq, expected->seq));
  }
  return r;
}

void append_event(const std::filesystem::path& path, const json& event) {
  if (path.has_parent_path()) fs::ensure_dir(path.parent_path());
  std::string line = canonical(event) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw Error::failure(fmt::format("cannot open the journal {}: {}", path.string(), std::strerror(errno)));
  size_t off = 0;
  while (off < line.size()) {
    ssize_t w = ::write(fd, line.data() + off, line.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      std::string why = std::strerror(errno);
      ::close(fd);
      throw Error::failure(fmt::format("cannot write the journal {}: {}", path.string(), why));
    }
    off += static_cast<size_t>(w);
  }
  ::fsync(fd);
  ::close(fd);
}

JournalHead file_head(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  if (last.empty()) return {};
  auto e = json::parse(last, nullptr, false);
  if (e.is_discarded() || !e.is_object()) return {};
  return {e.value("seq", std::int64_t{0}), e.value("hash", std::string())};
}

}  // namespace aiot::rollout

namespace aiot::rollout {

JournalHead drop_incomplete_tail(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec || size == 0) return file_head(path);
  std::string text = fs::read_file(path);
  if (!text.empty() && text.back() != '\n') {
    auto keep = text.rfind('\n');
    std::filesystem::resize_file(path, keep == std::string::npos ? 0 : keep + 1, ec);
    if (ec) throw Error::failure(fmt::format("cannot repair the journal {}: {}", path.string(), ec.message()));
  }
  return file_head(path);
}

JournalHead drop_events_after(const std::filesystem::path& path, std::int64_t seq) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return file_head(path);
  std::string text = fs::read_file(path);
  std::size_t keep = 0, pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) break;
    auto event = nlohmann::json::parse(text.substr(pos, nl - pos), nullptr, false);
    if (event.is_discarded() || event.value("seq", std::int64_t{0}) > seq) break;
    keep = nl + 1;
    pos = nl + 1;
  }
  if (keep < text.size()) {
    std::filesystem::resize_file(path, keep, ec);
    if (ec) throw Error::failure(fmt::format("cannot repair the journal {}: {}", path.string(), ec.message()));
  }
  return file_head(path);
}

}  // namespace aiot::rollout
