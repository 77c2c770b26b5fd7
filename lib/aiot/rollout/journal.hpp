#pragma once
// The rollout journal: JSON Lines, one event per transition, hash-chained
// (hash = SHA-256(prev ‖ canonical JSON of the event without its hash)), so an edited,
// reordered or truncated journal is detected. The head {seq, hash} is mirrored into the hub
// record of the rollout: a journal that is shorter than the hub says is truncated.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace aiot::rollout {

struct JournalHead {
  std::int64_t seq = 0;  // 0 = empty journal
  std::string hash;      // hex; "" for the empty journal
  nlohmann::json to_json() const { return {{"seq", seq}, {"hash", hash}}; }
  static JournalHead from_json(const nlohmann::json& j);
  bool operator==(const JournalHead&) const = default;
};

// Canonical JSON: sorted keys, no insignificant space, UTF-8 (what the hash covers).
std::string canonical(const nlohmann::json& value);

// Fills seq, prev and hash of `event` as the successor of `head`; returns the new head.
JournalHead chain(nlohmann::json& event, const JournalHead& head);

struct VerifyResult {
  bool ok = true;
  std::int64_t events = 0;
  JournalHead head;
  std::size_t bad_line = 0;  // 1-based line of the first problem
  std::string problem;
};

// Checks every line's chain; with `expected` (the hub's head) also that the journal reaches it exactly.
VerifyResult verify_journal(const std::filesystem::path& path, const std::optional<JournalHead>& expected);

// Reads all events (throws Error::usage with file:line on a malformed line).
std::vector<nlohmann::json> read_journal(const std::filesystem::path& path);

// Appends one event (already chained) with O_APPEND + fsync; creates the file (0644) and folder.
void append_event(const std::filesystem::path& path, const nlohmann::json& event);

// The last event's head in the file (seq 0 when the file is absent or empty).
JournalHead file_head(const std::filesystem::path& path);

// Cuts off a last line that a killed writer left incomplete (no newline at the end). The event is
// still in the hub's record (journalTail), from where the controller appends it again. Returns
// the head of what remains.
JournalHead drop_incomplete_tail(const std::filesystem::path& path);

// Removes the events after `seq` (a file-first append whose hub write never happened: the hub's
// head is the truth). Returns the head of what remains.
JournalHead drop_events_after(const std::filesystem::path& path, std::int64_t seq);

}  // namespace aiot::rollout
