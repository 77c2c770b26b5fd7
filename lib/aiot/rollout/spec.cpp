// rollout.yaml -> RolloutSpec: every field checked where it is read, so each error names the
// field path and the line it came from ("rollout.yaml:31: spec.gates[0].sucessAtLeast: unknown
// field (did you mean successAtLeast?)"). docs/rollouts.md is the user's reference for all of it.
#include "aiot/rollout/spec.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "aiot/core/crypto.hpp"
#include "aiot/core/error.hpp"
#include "aiot/core/strings.hpp"
#include "aiot/core/time.hpp"
#include "aiot/hub/query.hpp"
#include "aiot/rollout/gates.hpp"

namespace aiot::rollout {

namespace {

constexpr const char* k_api_version = "aiot.dev/v1";
constexpr const char* k_docs = "See docs/rollouts.md for every field of a rollout spec.";

// Fields of the design (rollouts.md §4.2) that this version does not implement: a clear refusal
// beats silently ignoring a field the user relies on.
const std::map<std::string, std::string> k_not_yet = {
    {"spec.delivery", "delivery is always the twin's properties.desired.aiot.model for now"},
    {"spec.selection", "devices are always chosen in hash order"},
    {"spec.windows", "maintenance windows are not supported yet"},
    {"spec.retry", "automatic retries are not supported yet"},
    {"spec.notify", "notifications are not supported yet"},
    {"spec.artifact.minAgent", "agent version checks are not supported yet"},
    {"spec.approvals.approvers", "approver groups are not supported yet: anyone who can run `rollout approve` approves"},
    {"spec.rate.exponential", "exponential rates are not supported yet"},
    {"spec.timeouts.firstReport", "only timeouts.install is supported"},
    {"spec.timeouts.wave", "only timeouts.install is supported (bake.max bounds a wave)"},
};

// Which gate types take which parameter: turns "unknown field" into "belongs to another type".
const std::map<std::string, std::vector<std::string>> k_gate_keys = {
    {"outcome",
     {"successAtLeast", "failureAbove", "maxFailedCount", "minSamples", "timeoutCountsAsFailure", "mode", "confidence"}},
    {"threshold",
     {"metric", "aggregate", "successCondition", "failureCondition", "failureLimit", "inconclusiveLimit",
      "consecutiveSuccess", "minSamples"}},
    {"proportion-vs-baseline", {"event", "maxIncrease", "confidence", "minSamples"}},
    {"distribution-vs-baseline",
     {"metric", "perDevice", "minPerDevice", "direction", "tolerance", "confidence", "minSamples"}},
};

std::size_t line_of(const YAML::Node& node) { return static_cast<std::size_t>(node.Mark().line + 1); }

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

// Edit distance, case-insensitive, for "did you mean".
std::size_t distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) == std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

struct Doc {
  std::string source;
};

[[noreturn]] void fail(const Doc& doc, std::size_t line, const std::string& path, const std::string& what,
                       const std::string& hint = {}) {
  std::string where = path.empty() ? fmt::format("{}:{}", doc.source, line) : fmt::format("{}:{}: {}", doc.source, line, path);
  throw Error::usage(fmt::format("{}: {}", where, what), hint.empty() ? k_docs : hint);
}

// Lower-case DNS-label-like names: safe in tags, provider job ids and AWS thing group names.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 63) {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return s.front() != '-' && s.back() != '-';
}

std::optional<double> to_number(std::string_view s) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return v;
}

std::optional<std::int64_t> to_integer(std::string_view s) {
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

// "%g" without exponent noise, for messages: 95, 0.5, 2.
std::string plain(double v) { return fmt::format("{}", v); }

class Map;

// One node of the document with its field path.
class Value {
 public:
  Value(const Doc& doc, YAML::Node node, std::string path) : doc_(&doc), node_(std::move(node)), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  std::size_t line() const { return line_of(node_); }
  const YAML::Node& node() const { return node_; }
  [[noreturn]] void fail(const std::string& what, const std::string& hint = {}) const {
    rollout::fail(*doc_, line(), path_, what, hint);
  }

  bool is_map() const { return node_.IsMap(); }
  bool is_seq() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }

  std::string text(const char* expected = "a text value") const {
    if (!node_.IsScalar()) {
      fail(fmt::format("expected {}", expected));
    }
    return std::string(str::trim(node_.Scalar()));
  }

  std::string nonempty(const char* expected = "a text value") const {
    auto s = text(expected);
    if (s.empty()) {
      fail(fmt::format("expected {}, got an empty value", expected));
    }
    return s;
  }

  std::string name(const char* what) const {
    auto s = text(what);
    if (!valid_name(s)) {
      fail(fmt::format("'{}' is not a valid {}: use 1-63 lower-case letters, digits and '-', not starting or ending with '-'",
                       s, what));
    }
    return s;
  }

  bool boolean() const {
    auto s = text("true or false");
    if (s == "true" || s == "True" || s == "TRUE") {
      return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      return false;
    }
    fail(fmt::format("expected true or false, got '{}'", s));
  }

  std::int64_t integer(std::int64_t min, const char* expected = "a whole number") const {
    auto s = text(expected);
    auto v = to_integer(s);
    if (!v) {
      fail(fmt::format("expected {}, got '{}'", expected, s));
    }
    if (*v < min) {
      fail(fmt::format("must be at least {}, got {}", min, *v));
    }
    return *v;
  }

  double number() const {
    auto s = text("a number");
    auto v = to_number(s);
    if (!v) {
      fail(fmt::format("expected a number, got '{}'", s));
    }
    return *v;
  }

  // "95%", or a plain fraction 0.95. Always within [0, 1].
  double fraction() const {
    auto s = text("a percentage like '95%' or a fraction like 0.95");
    if (!s.empty() && s.back() == '%') {
      auto v = to_number(str::trim(std::string_view(s).substr(0, s.size() - 1)));
      if (!v || *v < 0 || *v > 100) {
        fail(fmt::format("expected a percentage between 0% and 100%, got '{}'", s));
      }
      return *v / 100.0;
    }
    auto v = to_number(s);
    if (!v) {
      fail(fmt::format("expected a percentage like '95%' or a fraction like 0.95, got '{}'", s));
    }
    if (*v < 0 || *v > 1) {
      fail(fmt::format("{} is not a fraction between 0 and 1 (write '{}%' for a percentage)", s, s));
    }
    return *v;
  }

  // An absolute difference of two rates: "0.5pp" (percentage points) or a plain fraction 0.005.
  double points() const {
    auto s = text("percentage points like '0.5pp' or a fraction like 0.005");
    if (s.size() > 2 && s.ends_with("pp")) {
      auto v = to_number(str::trim(std::string_view(s).substr(0, s.size() - 2)));
      if (!v || *v < 0 || *v > 100) {
        fail(fmt::format("expected percentage points between 0pp and 100pp, got '{}'", s));
      }
      return *v / 100.0;
    }
    if (!s.empty() && s.back() == '%') {
      fail(fmt::format("'{}' is ambiguous: this is an absolute difference of two rates, write it in percentage points "
                       "('{}pp') or as a fraction",
                       s, s.substr(0, s.size() - 1)));
    }
    auto v = to_number(s);
    if (!v || *v < 0 || *v > 1) {
      fail(fmt::format("expected percentage points like '0.5pp' or a fraction between 0 and 1, got '{}'", s));
    }
    return *v;
  }

  // A relative amount: "10%" or 0.1; may exceed 100%.
  double relative() const {
    auto s = text("a percentage like '10%' or a fraction like 0.1");
    bool percent = !s.empty() && s.back() == '%';
    auto v = to_number(percent ? str::trim(std::string_view(s).substr(0, s.size() - 1)) : std::string_view(s));
    if (!v || *v < 0) {
      fail(fmt::format("expected a non-negative percentage like '10%' or a fraction like 0.1, got '{}'", s));
    }
    return percent ? *v / 100.0 : *v;
  }

  double confidence() const {
    double c = fraction();
    if (c < 0.5 || c >= 1.0) {
      fail(fmt::format("confidence must be at least 0.5 and below 1 (e.g. 0.95), got {}", plain(c)));
    }
    return c;
  }

  milliseconds duration() const {
    auto s = text("a duration like 90s, 15m, 4h, 7d");
    if (s == "0") {
      return milliseconds(0);
    }
    auto d = parse_duration(s);
    if (!d) {
      fail(fmt::format("expected a duration like 90s, 15m, 4h or 7d, got '{}'", s));
    }
    return *d;
  }

  std::string choice(std::initializer_list<const char*> options) const {
    auto s = text("a value");
    for (const char* o : options) {
      if (s == o) {
        return s;
      }
    }
    std::vector<std::string> names(options.begin(), options.end());
    fail(fmt::format("expected one of {}, got '{}'", str::join(names, ", "), s));
  }

  // The hub query syntax (hub/query.hpp), printed canonically.
  std::string query() const {
    auto s = text("a query condition");
    try {
      return hub::query::Query::parse(s).to_string();
    } catch (const Error& e) {
      fail(e.message(), e.hint());
    }
  }

  std::vector<Value> items(const char* expected) const {
    if (!node_.IsSequence()) {
      fail(fmt::format("expected {}", expected));
    }
    std::vector<Value> out;
    std::size_t i = 0;
    for (const auto& item : node_) {
      out.emplace_back(*doc_, item, fmt::format("{}[{}]", path_, i++));
    }
    return out;
  }

  Map map(const char* expected = "a mapping of 'key: value' lines") const;

 private:
  const Doc* doc_;
  YAML::Node node_;
  std::string path_;
};

// A mapping whose keys are checked: every key must be asked for, or done() reports it.
class Map {
 public:
  Map(const Doc& doc, const Value& v, const char* expected) : doc_(&doc), self_(v) {
    if (!v.is_map()) {
      v.fail(fmt::format("expected {}", expected));
    }
    for (auto it = v.node().begin(); it != v.node().end(); ++it) {
      // Copies: `it->` is a proxy whose nodes die with the full expression.
      const YAML::Node key = it->first;
      if (!key.IsScalar()) {
        rollout::fail(doc, line_of(key), v.path(), "a field name must be plain text");
      }
      std::string name = key.Scalar();
      for (const auto& e : entries_) {
        if (e.key == name) {
          rollout::fail(doc, line_of(key), join_path(v.path(), name),
                        fmt::format("set twice (first on line {})", e.line));
        }
      }
      entries_.push_back({name, line_of(key), it->second, false});
    }
  }

  const std::string& path() const { return self_.path(); }
  std::size_t line() const { return self_.line(); }

  std::optional<Value> get(std::string_view key) {
    asked_.insert(std::string(key));
    for (auto& e : entries_) {
      if (e.key == key) {
        e.used = true;
        Value v(*doc_, e.value, join_path(self_.path(), key));
        if (e.value.IsNull()) {
          // `key:` with nothing after it: the line of the key, not of whatever follows.
          rollout::fail(*doc_, e.line, v.path(), "has no value");
        }
        return v;
      }
    }
    return std::nullopt;
  }

  Value need(std::string_view key, const char* what = "") {
    auto v = get(key);
    if (!v) {
      rollout::fail(*doc_, line(), join_path(self_.path(), key),
                    fmt::format("required{}{}", *what ? ": " : "", what));
    }
    return *v;
  }

  bool has(std::string_view key) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.key == key; });
  }

  // Every key not asked for is an error: a typo must not silently fall back to a default.
  // `elsewhere(key)` may explain where an unknown key belongs instead.
  void done(const std::function<std::string(const std::string&)>& elsewhere = {}) const {
    for (const auto& e : entries_) {
      if (e.used) {
        continue;
      }
      std::string path = join_path(self_.path(), e.key);
      if (auto it = k_not_yet.find(path); it != k_not_yet.end()) {
        rollout::fail(*doc_, e.line, path, "not supported by this version of aiot: " + it->second);
      }
      if (elsewhere) {
        if (auto why = elsewhere(e.key); !why.empty()) {
          rollout::fail(*doc_, e.line, path, why);
        }
      }
      std::string best;
      std::size_t best_distance = 3;
      for (const auto& known : asked_) {
        auto d = distance(e.key, known);
        if (d < best_distance && d <= std::max<std::size_t>(1, known.size() / 3)) {
          best = known;
          best_distance = d;
        }
      }
      std::vector<std::string> known(asked_.begin(), asked_.end());
      rollout::fail(*doc_, e.line, path,
                    best.empty() ? "unknown field" : fmt::format("unknown field (did you mean {}?)", best),
                    fmt::format("Fields here: {}. {}", str::join(known, ", "), k_docs));
    }
  }

 private:
  struct Entry {
    std::string key;
    std::size_t line;
    YAML::Node value;
    bool used;
  };
  const Doc* doc_;
  Value self_;
  std::vector<Entry> entries_;
  std::set<std::string> asked_;
};

Map Value::map(const char* expected) const { return Map(*doc_, *this, expected); }

// ---- sections -----------------------------------------------------------------------

void parse_metadata(Map m, RolloutSpec& spec) {
  spec.name = m.need("name", "the rollout's name").name("rollout name");
  if (auto labels = m.get("labels")) {
    Map lm = labels->map("labels as 'key: value' lines");
    // Labels are free-form: read every entry as it is.
    for (auto it = labels->node().begin(); it != labels->node().end(); ++it) {
      std::string key = it->first.Scalar();
      Value v = *lm.get(key);
      if (!v.is_scalar()) {
        v.fail("a label value must be plain text");
      }
      spec.labels[key] = v.text();
    }
    lm.done();
  }
  m.done();
}

void parse_artifact(Map m, Artifact& a) {
  if (m.has("model") || m.has("firmware")) {
    // The registry form: plan and apply resolve it from the artifact registry (docs/artifacts.md).
    a.kind = m.has("model") ? "model" : "firmware";
    a.registry_model = m.need(a.kind).nonempty("a name from the artifact registry");
    a.name = a.registry_model;
    a.version = m.need("version", "the version to roll out").nonempty("a version");
    if (auto req = m.get("requireSignature")) {
      a.require_signature = req->boolean();
    }
    if (auto by = m.get("signedBy")) {
      a.signed_by = str::to_lower(by->nonempty("a key id, sha256:<64 hex digits>"));
      if (a.signed_by.size() != 71 || a.signed_by.rfind("sha256:", 0) != 0 ||
          a.signed_by.find_first_not_of("0123456789abcdef", 7) != std::string::npos) {
        by->fail(fmt::format("expected sha256:<64 hex digits> (the keyId 'aiot model show' prints), got '{}'",
                             a.signed_by));
      }
      a.require_signature = true;  // naming the signer implies a signature
    }
    m.done([](const std::string& key) -> std::string {
      if (key == "kind" || key == "name" || key == "uri" || key == "sha256" || key == "signature") {
        return "not allowed with 'model'/'firmware': either {model, version} from the artifact registry, or "
               "{kind, name, version, uri, sha256}";
      }
      if (key == "model" || key == "firmware") {
        return "give either 'model' or 'firmware', not both";
      }
      return {};
    });
    return;
  }
  if (auto kind = m.get("kind")) {
    a.kind = kind->choice({"model", "firmware"});
  }
  a.name = m.need("name", "the artifact's name").nonempty("a name");
  a.version = m.need("version", "the version to roll out").nonempty("a version");
  auto uri = m.need("uri", "where devices download the artifact");
  a.uri = uri.nonempty("a URI");
  if (a.uri.find("://") == std::string::npos) {
    uri.fail(fmt::format("'{}' is not a URI (expected a scheme such as https://)", a.uri));
  }
  auto sha = m.need("sha256", "the artifact's SHA-256, 64 hex digits");
  a.sha256 = str::to_lower(sha.nonempty("64 hex digits"));
  if (a.sha256.size() != 64 || a.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    sha.fail(fmt::format("expected 64 hex digits, got '{}' ({} characters)", a.sha256, a.sha256.size()));
  }
  if (auto sig = m.get("signature")) {
    a.signature = sig->nonempty("a base64 signature");
    try {
      (void)crypto::base64_decode(a.signature);
    } catch (const Error&) {
      sig->fail("not valid base64");
    }
  }
  m.done();
}

void parse_baseline(Map m, RolloutSpec::Baseline& b, const std::string& artifact_version) {
  if (auto v = m.get("version")) {
    b.version = v->nonempty("'auto' or a version");
    if (b.version == artifact_version) {
      v->fail(fmt::format("'{}' is the version being rolled out: the baseline is what devices run before", b.version));
    }
  }
  if (auto c = m.get("control")) {
    b.matched_control = c->choice({"matched", "none"}) == "matched";
  }
  if (auto s = m.get("stratifyBy")) {
    std::set<std::string> seen;
    for (const auto& item : s->items("a list of tag names, e.g. [hw, region]")) {
      std::string tag = item.nonempty("a tag name");
      if (tag.starts_with("tags.")) {
        tag = tag.substr(5);
      }
      bool ok = !tag.empty() && tag.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.") ==
                                    std::string::npos;
      if (!ok || tag.front() == '.' || tag.back() == '.' || tag.find("..") != std::string::npos) {
        item.fail(fmt::format("'{}' is not a tag name (letters, digits, '_', '-', dots between nested names)", tag));
      }
      if (!seen.insert(tag).second) {
        item.fail(fmt::format("tag '{}' is listed twice", tag));
      }
      b.stratify_by.push_back(tag);
    }
  }
  m.done();
}

// size: {count: N} | {percent: P} | "50" | "5%"
void parse_size(const Value& v, WaveSpec& w) {
  if (v.is_map()) {
    Map m = v.map();
    auto count = m.get("count");
    auto percent = m.get("percent");
    if (count && percent) {
      v.fail("give either count or percent, not both");
    }
    if (count) {
      w.size_kind = WaveSpec::Size::count;
      w.size = static_cast<double>(count->integer(1, "a device count"));
    } else if (percent) {
      // {percent: 5} and {percent: 5%} mean the same.
      auto text = percent->text("a percentage");
      auto number = to_number(str::trim(text.ends_with('%') ? std::string_view(text).substr(0, text.size() - 1)
                                                             : std::string_view(text)));
      if (!number) {
        percent->fail(fmt::format("expected a percentage like 5 or 5%, got '{}'", text));
      }
      double p = *number;
      if (p <= 0 || p > 100) {
        percent->fail(fmt::format("expected a percentage above 0 and at most 100, got {}", plain(p)));
      }
      w.size_kind = WaveSpec::Size::percent;
      w.size = p;
    } else {
      v.fail("expected {count: N} or {percent: P}");
    }
    m.done();
    return;
  }
  auto s = v.text("a device count like 50, a percentage like '5%', {count: N} or {percent: P}");
  if (!s.empty() && s.back() == '%') {
    auto p = to_number(str::trim(std::string_view(s).substr(0, s.size() - 1)));
    if (!p || *p <= 0 || *p > 100) {
      v.fail(fmt::format("expected a percentage above 0% and at most 100%, got '{}'", s));
    }
    w.size_kind = WaveSpec::Size::percent;
    w.size = *p;
    return;
  }
  auto n = to_integer(s);
  if (!n || *n < 1) {
    v.fail(fmt::format("expected a device count of at least 1 or a percentage like '5%', got '{}'", s));
  }
  w.size_kind = WaveSpec::Size::count;
  w.size = static_cast<double>(*n);
}

WaveSpec parse_wave(const Value& v) {
  Map m = v.map("a wave: {name, size, bake, approval}");
  WaveSpec w;
  w.line = v.line();
  w.name = m.need("name").name("wave name");
  if (w.name == "start") {
    v.fail("'start' is reserved (approvals.required uses it for the start of the rollout): pick another wave name");
  }
  parse_size(m.need("size", "{count: N}, {percent: P}, N or 'P%'"), w);
  if (auto bake = m.get("bake")) {
    Map bm = bake->map("{min: DURATION, max: DURATION}");
    if (auto min = bm.get("min")) {
      w.bake_min = min->duration();
    }
    if (auto max = bm.get("max")) {
      w.bake_max = max->duration();
      if (w.bake_max.count() > 0 && w.bake_max < w.bake_min) {
        max->fail(fmt::format("{} is shorter than bake.min ({})", format_duration(w.bake_max), format_duration(w.bake_min)));
      }
    }
    bm.done();
  }
  if (auto approval = m.get("approval")) {
    w.approval_before = approval->choice({"before", "none"}) == "before";
  }
  m.done();
  return w;
}

// Waves are cumulative: each must reach further than the one before.
void check_wave_order(const Doc& doc, const std::vector<WaveSpec>& waves) {
  const WaveSpec* last_count = nullptr;
  const WaveSpec* last_percent = nullptr;
  for (std::size_t i = 0; i < waves.size(); ++i) {
    const auto& w = waves[i];
    auto path = fmt::format("spec.waves[{}].size", i);
    const WaveSpec*& previous = w.size_kind == WaveSpec::Size::count ? last_count : last_percent;
    if (previous && w.size <= previous->size) {
      const char* unit = w.size_kind == WaveSpec::Size::count ? "" : "%";
      fail(doc, w.line, path,
           fmt::format("{}{} {} wave '{}' ({}{}): waves are cumulative, so each must reach more devices than the "
                       "one before",
                       plain(w.size), unit, w.size < previous->size ? "is smaller than" : "is the same as",
                       previous->name, plain(previous->size), unit));
    }
    previous = &w;
  }
}

// "reported.aiot.x" is short for the twin path "properties.reported.aiot.x".
std::string metric_path(const Value& v) {
  std::string s = v.nonempty("a metric path like reported.aiot.health.latency_p95_ms");
  std::string full = s.starts_with("reported.") ? "properties." + s : s;
  if (!full.starts_with("properties.reported.") || full.size() <= std::string_view("properties.reported.").size()) {
    v.fail(fmt::format("'{}' is not a reported metric: write reported.PATH, e.g. reported.aiot.health.latency_p95_ms", s));
  }
  for (const auto& seg : str::split(full, '.')) {
    if (seg.empty() || seg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                           std::string::npos) {
      v.fail(fmt::format("'{}' is not a metric path (names of letters, digits, '_' and '-' joined by dots)", s));
    }
  }
  // The query parser is the judge of what the hub can evaluate.
  try {
    (void)hub::query::Query::parse(fmt::format("IS_NUMBER({})", full));
  } catch (const Error& e) {
    v.fail(e.message());
  }
  return full;
}

const char* op_text(CompareOp op) {
  switch (op) {
    case CompareOp::ge: return ">=";
    case CompareOp::gt: return ">";
    case CompareOp::le: return "<=";
    case CompareOp::lt: return "<";
    case CompareOp::eq: return "==";
    case CompareOp::ne: return "!=";
  }
  return "?";
}

// "reported.aiot.health.crashes_1h > 0": a reported number compared with a constant, per device.
// Kept to what every provider can evaluate on a device's report; normalised to
// "properties.reported.aiot.health.crashes_1h > 0" ('=' is written '==').
std::string event_text(const Value& v) {
  std::string s = v.nonempty("a condition like \"reported.aiot.health.crashes_1h > 0\"");
  auto op_at = s.find_first_of("<>=!");
  const char* shape = "expected '<metric> <op> <number>', e.g. \"reported.aiot.health.crashes_1h > 0\" (op: >=, >, <=, <, ==, !=)";
  if (op_at == std::string::npos || op_at == 0) {
    v.fail(fmt::format("'{}': {}", s, shape));
  }
  std::string path(str::trim(std::string_view(s).substr(0, op_at)));
  std::string condition(str::trim(std::string_view(s).substr(op_at)));
  if (condition[0] == '=' && (condition.size() == 1 || condition[1] != '=')) {
    condition = "=" + condition;  // '=' as in the hub query language means '=='
  }
  if (path.find(' ') != std::string::npos) {
    v.fail(fmt::format("'{}': {}", s, shape));
  }
  std::string full = path.starts_with("reported.") ? "properties." + path : path;
  if (!full.starts_with("properties.reported.")) {
    v.fail(fmt::format("'{}': the event must test a reported value (reported.PATH), e.g. \"reported.aiot.health.crashes_1h > 0\"",
                       s));
  }
  try {
    auto c = parse_condition(condition);
    (void)hub::query::Query::parse(fmt::format("IS_NUMBER({})", full));
    return fmt::format("{} {} {}", full, op_text(c.op), plain(c.threshold));
  } catch (const Error&) {
    v.fail(fmt::format("'{}': {}", s, shape));
  }
}

// Canonical ">= 0.8", so spacing does not change the digest.
std::string condition_text(const Value& v) {
  std::string s = v.nonempty("a condition like \">= 0.8\"");
  try {
    auto c = parse_condition(s);
    return fmt::format("{} {}", op_text(c.op), plain(c.threshold));
  } catch (const Error&) {
    v.fail(fmt::format("'{}' is not a condition: expected an operator (>=, >, <=, <, ==, !=) and a number, e.g. \">= 0.8\"",
                       s));
  }
}

void parse_min_samples_pair(const Value& v, json& params) {
  if (v.is_map()) {
    Map m = v.map("{canary: N, baseline: N}");
    params["minSamples"] = {{"canary", m.need("canary").integer(1)}, {"baseline", m.need("baseline").integer(1)}};
    m.done();
    return;
  }
  auto n = v.integer(1, "a device count or {canary: N, baseline: N}");
  params["minSamples"] = {{"canary", n}, {"baseline", n}};
}

GateSpec parse_gate(const Value& v) {
  Map m = v.map("a gate: {name, type, ...}");
  GateSpec g;
  g.line = v.line();
  g.name = m.need("name").name("gate name");
  auto type_value = m.need("type", "outcome, threshold, proportion-vs-baseline or distribution-vs-baseline");
  std::string type = type_value.choice({"outcome", "threshold", "proportion-vs-baseline", "distribution-vs-baseline"});
  if (auto c = m.get("critical")) {
    g.critical = c->boolean();
  }
  if (auto d = m.get("dryRun")) {
    g.dry_run = d->boolean();
  }
  json& p = g.params;
  auto confidence = [&] {
    auto c = m.get("confidence");
    p["confidence"] = c ? c->confidence() : 0.95;
  };
  if (type == "outcome") {
    g.type = GateType::outcome;
    OutcomeParams d;
    auto s = m.get("successAtLeast");
    p["successAtLeast"] = s ? s->fraction() : d.success_at_least;
    auto f = m.get("failureAbove");
    p["failureAbove"] = f ? f->fraction() : d.failure_above;
    if (auto mf = m.get("maxFailedCount")) {
      p["maxFailedCount"] = mf->integer(1);
    }
    auto ms = m.get("minSamples");
    p["minSamples"] = ms ? ms->integer(0) : d.min_samples;
    auto t = m.get("timeoutCountsAsFailure");
    p["timeoutCountsAsFailure"] = t ? t->boolean() : d.timeout_counts_as_failure;
    auto mode = m.get("mode");
    p["mode"] = mode ? mode->choice({"confidence", "point"}) : "confidence";
    confidence();
  } else if (type == "threshold") {
    g.type = GateType::threshold;
    ThresholdParams d;
    p["metric"] = metric_path(m.need("metric", "the reported value to judge, e.g. reported.aiot.health.mean_confidence"));
    if (auto a = m.get("aggregate")) {
      p["aggregate"] = a->choice({"median", "mean", "p95", "max", "min"});
    } else {
      p["aggregate"] = to_string(d.aggregate);
    }
    auto sc = m.get("successCondition");
    auto fc = m.get("failureCondition");
    if (!sc && !fc) {
      v.fail("a threshold gate needs successCondition, failureCondition or both");
    }
    if (sc) {
      p["successCondition"] = condition_text(*sc);
    }
    if (fc) {
      p["failureCondition"] = condition_text(*fc);
    }
    auto fl = m.get("failureLimit");
    p["failureLimit"] = fl ? fl->integer(0) : d.failure_limit;
    auto il = m.get("inconclusiveLimit");
    p["inconclusiveLimit"] = il ? il->integer(0) : d.inconclusive_limit;
    auto cs = m.get("consecutiveSuccess");
    p["consecutiveSuccess"] = cs ? cs->integer(1) : d.consecutive_success;
    auto ms = m.get("minSamples");
    p["minSamples"] = ms ? ms->integer(1) : d.min_samples;
  } else if (type == "proportion-vs-baseline") {
    g.type = GateType::proportion_vs_baseline;
    ProportionParams d;
    p["event"] = event_text(m.need("event", "the per-device event to count, e.g. \"reported.aiot.health.crashes_1h > 0\""));
    p["maxIncrease"] = m.need("maxIncrease", "the tolerated rise of the event rate, e.g. '0.5pp'").points();
    confidence();
    if (auto ms = m.get("minSamples")) {
      parse_min_samples_pair(*ms, p);
    } else {
      p["minSamples"] = {{"canary", d.min_samples_canary}, {"baseline", d.min_samples_baseline}};
    }
  } else {
    g.type = GateType::distribution_vs_baseline;
    DistributionParams d;
    p["metric"] = metric_path(m.need("metric", "the reported value to compare, e.g. reported.aiot.health.latency_p95_ms"));
    auto pd = m.get("perDevice");
    p["perDevice"] = pd ? pd->choice({"last", "median", "mean", "p95", "max", "min"}) : "median";
    auto mpd = m.get("minPerDevice");
    p["minPerDevice"] = mpd ? mpd->integer(1) : 1;
    auto dir = m.get("direction");
    p["direction"] = dir ? dir->choice({"increase", "decrease", "either"}) : to_string(d.direction);
    auto tol = m.get("tolerance");
    p["tolerance"] = tol ? tol->relative() : d.tolerance;
    confidence();
    auto ms = m.get("minSamples");
    p["minSamples"] = ms ? ms->integer(1) : d.min_samples;
  }
  m.done([&](const std::string& key) -> std::string {
    std::vector<std::string> owners;
    for (const auto& [t, keys] : k_gate_keys) {
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
        owners.push_back(t);
      }
    }
    if (owners.empty()) {
      return {};
    }
    return fmt::format("not a parameter of a {} gate (it belongs to {})", type, str::join(owners, ", "));
  });
  return g;
}


void parse_rate(Map m, RolloutSpec::Rate& r) {
  if (auto v = m.get("maxInFlight")) {
    r.max_in_flight = static_cast<std::size_t>(v->integer(0, "a device count (0 = no limit)"));
  }
  if (auto v = m.get("perMinute")) {
    r.per_minute = v->number();
    if (r.per_minute < 0) {
      v->fail("must not be negative (0 = no limit)");
    }
  }
  m.done();
}

void parse_analysis(Map m, RolloutSpec::Analysis& a) {
  if (auto v = m.get("interval")) {
    a.interval = v->duration();
    if (a.interval.count() <= 0) {
      v->fail("must be longer than 0s");
    }
  }
  if (auto v = m.get("warmup")) {
    a.warmup = v->duration();
  }
  if (auto v = m.get("looks")) {
    a.bonferroni = v->choice({"bonferroni", "none"}) == "bonferroni";
  }
  if (auto v = m.get("onInconclusive")) {
    auto s = v->choice({"pause", "fail", "promote"});
    a.on_inconclusive = s == "pause" ? InconclusiveAction::pause
                        : s == "fail" ? InconclusiveAction::fail
                                      : InconclusiveAction::promote;
  }
  m.done();
}

void parse_on_failure(Map m, RolloutSpec::OnFailure& f) {
  if (auto v = m.get("action")) {
    auto s = v->choice({"rollback", "pause", "abort-keep"});
    f.action = s == "rollback" ? FailureAction::rollback : s == "pause" ? FailureAction::pause : FailureAction::abort_keep;
  }
  if (auto v = m.get("scope")) {
    f.scope_all = v->choice({"wave", "all"}) == "all";
  }
  if (auto v = m.get("to")) {
    (void)v->choice({"baseline"});  // the design's only target; accepted so its examples parse
  }
  m.done();
}

const char* action_text(FailureAction a) {
  switch (a) {
    case FailureAction::rollback: return "rollback";
    case FailureAction::pause: return "pause";
    case FailureAction::abort_keep: return "abort-keep";
  }
  return "?";
}

const char* inconclusive_text(InconclusiveAction a) {
  switch (a) {
    case InconclusiveAction::pause: return "pause";
    case InconclusiveAction::fail: return "fail";
    case InconclusiveAction::promote: return "promote";
  }
  return "?";
}

bool is_baseline_gate(GateType t) {
  return t == GateType::proportion_vs_baseline || t == GateType::distribution_vs_baseline;
}

void parse_spec_section(const Doc& doc, Map m, RolloutSpec& spec) {
  parse_artifact(m.need("artifact", "what to roll out").map("{kind, name, version, uri, sha256} or {model, version}"),
                 spec.artifact);
  if (auto t = m.get("targets")) {
    if (t->is_seq()) {
      t->fail("one target per rollout: the profile's hub. Write targets: {query: \"...\"}");
    }
    Map tm = t->map("{query: CONDITION}");
    if (auto q = tm.get("query")) {
      spec.target_query = q->query();
    }
    tm.done([](const std::string& key) -> std::string {
      if (key == "provider" || key == "hub" || key == "region" || key == "thingGroup" || key == "fleetIndexQuery") {
        return "not supported: a rollout targets the hub of the current profile (--hub / --profile)";
      }
      return {};
    });
  }
  if (auto e = m.get("exclude")) {
    if (e->is_map()) {
      Map em = e->map();
      spec.exclude_query = em.need("query").query();
      em.done();
    } else {
      spec.exclude_query = e->query();
    }
  }
  if (auto b = m.get("baseline")) {
    parse_baseline(b->map("{version, control, stratifyBy}"), spec.baseline, spec.artifact.version);
  }
  auto waves = m.need("waves", "a list of waves, e.g. - {name: canary, size: 50, bake: {min: 4h}}");
  for (const auto& item : waves.items("a list of waves")) {
    WaveSpec w = parse_wave(item);
    for (std::size_t j = 0; j < spec.waves.size(); ++j) {
      if (spec.waves[j].name == w.name) {
        fail(doc, w.line, item.path() + ".name",
             fmt::format("wave name '{}' is already used by spec.waves[{}] (line {})", w.name, j, spec.waves[j].line));
      }
    }
    spec.waves.push_back(std::move(w));
  }
  if (spec.waves.empty()) {
    waves.fail("at least one wave is needed");
  }
  check_wave_order(doc, spec.waves);
  if (auto r = m.get("rate")) {
    parse_rate(r->map("{maxInFlight, perMinute}"), spec.rate);
  }
  if (auto t = m.get("timeouts")) {
    Map tm = t->map("{install: DURATION}");
    if (auto i = tm.get("install")) {
      spec.install_timeout = i->duration();
      if (spec.install_timeout.count() <= 0) {
        i->fail("must be longer than 0s");
      }
    }
    tm.done();
  }
  std::optional<Value> gates_value;
  if (auto g = m.get("gates")) {
    gates_value = g;
    for (const auto& item : g->items("a list of gates")) {
      GateSpec gate = parse_gate(item);
      for (std::size_t j = 0; j < spec.gates.size(); ++j) {
        if (spec.gates[j].name == gate.name) {
          fail(doc, gate.line, item.path() + ".name",
               fmt::format("gate name '{}' is already used by spec.gates[{}] (line {})", gate.name, j,
                           spec.gates[j].line));
        }
      }
      spec.gates.push_back(std::move(gate));
    }
  }
  if (auto a = m.get("analysis")) {
    parse_analysis(a->map("{interval, warmup, looks, onInconclusive}"), spec.analysis);
    for (const auto& w : spec.waves) {
      if (w.bake_max.count() > 0 && spec.analysis.warmup > w.bake_max) {
        fail(doc, a->line(), "spec.analysis.warmup",
             fmt::format("{} is longer than wave '{}' bakes at most ({}): its gates would never be evaluated",
                         format_duration(spec.analysis.warmup), w.name, format_duration(w.bake_max)));
      }
    }
  }
  if (auto f = m.get("onFailure")) {
    parse_on_failure(f->map("{action, scope}"), spec.on_failure);
  }
  if (auto ap = m.get("approvals")) {
    Map am = ap->map("{required: [start, WAVE...]}");
    if (auto req = am.get("required")) {
      for (const auto& item : req->items("a list: start and/or wave names")) {
        auto name = item.nonempty("start or a wave name");
        if (name == "start") {
          spec.approval_start = true;
          continue;
        }
        auto it = std::find_if(spec.waves.begin(), spec.waves.end(), [&](const WaveSpec& w) { return w.name == name; });
        if (it == spec.waves.end()) {
          std::vector<std::string> names{"start"};
          for (const auto& w : spec.waves) {
            names.push_back(w.name);
          }
          item.fail(fmt::format("'{}' is neither 'start' nor a wave name ({})", name, str::join(names, ", ")));
        }
        it->approval_before = true;
      }
    }
    am.done();
  }
  m.done();

  // Checks across sections.
  for (std::size_t i = 0; i < spec.gates.size(); ++i) {
    const auto& g = spec.gates[i];
    if (is_baseline_gate(g.type) && !spec.baseline.matched_control) {
      fail(doc, g.line, fmt::format("spec.gates[{}].type", i),
           fmt::format("a {} gate compares the wave with control devices, but baseline.control is none",
                       to_string(g.type)),
           "Set baseline.control: matched, or remove the gate.");
    }
  }
}

json wave_to_json(const WaveSpec& w) {
  json size = w.size_kind == WaveSpec::Size::count ? json{{"count", static_cast<std::int64_t>(w.size)}}
                                                    : json{{"percent", w.size}};
  json bake = {{"min", format_duration(w.bake_min)}};
  if (w.bake_max.count() > 0) {
    bake["max"] = format_duration(w.bake_max);
  }
  return {{"name", w.name}, {"size", size}, {"bake", bake}, {"approval", w.approval_before ? "before" : "none"}};
}

}  // namespace

std::string_view to_string(GateType type) {
  switch (type) {
    case GateType::outcome: return "outcome";
    case GateType::threshold: return "threshold";
    case GateType::proportion_vs_baseline: return "proportion-vs-baseline";
    case GateType::distribution_vs_baseline: return "distribution-vs-baseline";
  }
  return "?";
}

json Artifact::to_desired() const {
  if (!resolved()) {
    throw Error::usage(fmt::format("artifact {{{}: {}, version: {}}} has not been resolved from the artifact registry",
                                   kind, registry_model, version),
                       "Plan or apply the rollout with 'aiot rollout plan|apply', which resolve it.");
  }
  json d = {{"name", name}, {"version", version}, {"uri", uri}, {"sha256", sha256}};
  if (!signature.empty()) {
    d["signature"] = signature;
  }
  for (const auto& [key, value] : registry_fields.items()) {
    d[key] = value;
  }
  return d;
}

json RolloutSpec::to_json() const {
  json artifact_json;
  if (artifact.from_registry()) {
    artifact_json = {{artifact.kind, artifact.registry_model}, {"version", artifact.version}};
    if (artifact.require_signature) {
      artifact_json["requireSignature"] = true;
    }
    if (!artifact.signed_by.empty()) {
      artifact_json["signedBy"] = artifact.signed_by;
    }
    if (artifact.resolved()) {
      // The digest covers what the registry resolved to: an apply against another registry whose
      // {model, version} holds other bytes is a different spec.
      artifact_json["sha256"] = artifact.sha256;
    }
  } else {
    artifact_json = {{"kind", artifact.kind},
                     {"name", artifact.name},
                     {"version", artifact.version},
                     {"uri", artifact.uri},
                     {"sha256", artifact.sha256}};
    if (!artifact.signature.empty()) {
      artifact_json["signature"] = artifact.signature;
    }
  }
  json waves_json = json::array();
  for (const auto& w : waves) {
    waves_json.push_back(wave_to_json(w));
  }
  json gates_json = json::array();
  for (const auto& g : gates) {
    json j = g.params;
    j["name"] = g.name;
    j["type"] = std::string(rollout::to_string(g.type));
    j["critical"] = g.critical;
    j["dryRun"] = g.dry_run;
    gates_json.push_back(std::move(j));
  }
  json required = json::array();
  if (approval_start) {
    required.push_back("start");
  }
  json s = {
      {"artifact", artifact_json},
      {"targets", {{"query", target_query}}},
      {"exclude", exclude_query},
      {"baseline",
       {{"version", baseline.version},
        {"control", baseline.matched_control ? "matched" : "none"},
        {"stratifyBy", baseline.stratify_by}}},
      {"waves", waves_json},
      {"rate", {{"maxInFlight", rate.max_in_flight}, {"perMinute", rate.per_minute}}},
      {"timeouts", {{"install", format_duration(install_timeout)}}},
      {"gates", gates_json},
      {"analysis",
       {{"interval", format_duration(analysis.interval)},
        {"warmup", format_duration(analysis.warmup)},
        {"looks", analysis.bonferroni ? "bonferroni" : "none"},
        {"onInconclusive", inconclusive_text(analysis.on_inconclusive)}}},
      {"onFailure", {{"action", action_text(on_failure.action)}, {"scope", on_failure.scope_all ? "all" : "wave"}}},
      {"approvals", {{"required", required}}},
  };
  if (exclude_query.empty()) {
    s.erase("exclude");
  }
  return {{"apiVersion", k_api_version},
          {"kind", "Rollout"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", s}};
}

RolloutSpec parse_spec(const std::string& yaml_text, const std::string& source) {
  Doc doc{source};
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw Error::usage(fmt::format("{}:{}:{}: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg), k_docs);
  }
  if (!root.IsDefined() || root.IsNull()) {
    throw Error::usage(fmt::format("{}:1: the spec is empty", source), k_docs);
  }
  RolloutSpec spec;
  spec.source = source;
  Value top(doc, root, "");
  Map m = top.map("a rollout spec: apiVersion, kind, metadata, spec");
  auto api = m.need("apiVersion", k_api_version);
  if (api.text() != k_api_version) {
    api.fail(fmt::format("expected {}, got '{}'", k_api_version, api.text()));
  }
  auto kind = m.need("kind", "Rollout");
  if (kind.text() != "Rollout") {
    kind.fail(fmt::format("expected Rollout, got '{}'", kind.text()));
  }
  parse_metadata(m.need("metadata", "{name: NAME}").map("{name, labels}"), spec);
  parse_spec_section(doc, m.need("spec").map("the rollout: artifact, targets, waves, gates, ..."), spec);
  m.done();
  spec.digest = crypto::sha256_hex(spec.to_json().dump());
  return spec;
}

std::int64_t planned_looks(const RolloutSpec& spec, const WaveSpec& wave) {
  if (!spec.analysis.bonferroni) {
    return 1;
  }
  auto interval = std::max<std::int64_t>(1, spec.analysis.interval.count());
  auto span = wave.bake_max.count() > 0 ? wave.bake_max : std::max(wave.bake_min, spec.analysis.interval);
  return std::max<std::int64_t>(1, span.count() / interval);
}

}  // namespace aiot::rollout
