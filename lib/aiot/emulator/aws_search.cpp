#include "aiot/emulator/aws_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>

namespace aiot::emulator::aws {

namespace {

constexpr std::size_t k_max_terms = 12;  // AWS: "The maximum number of terms in a query is 12"
constexpr std::string_view k_special = "`@#%';,/";  // unsupported outside quotes (query syntax guide)

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

std::optional<double> as_number(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::string unescape(std::string_view raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) {
      ++i;
    }
    out += raw[i];
  }
  return out;
}

bool has_wildcard(std::string_view raw) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\') {
      ++i;
    } else if (raw[i] == '*' || raw[i] == '?') {
      return true;
    }
  }
  return false;
}

enum class Tok { word, quoted, lparen, rparen, range, end };

struct Token {
  Tok kind = Tok::end;
  std::string text;  // word: raw (escapes kept); quoted: the phrase; range: low bound
  std::string high;  // range: high bound
  std::size_t pos = 0;
};

[[noreturn]] void syntax(std::size_t pos, const std::string& why) {
  throw InvalidQuery(fmt::format("Syntax error in the query at character {}: {}", pos + 1, why));
}

std::vector<Token> lex(std::string_view q) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < q.size()) {
    const char c = q[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    if (c == '(' || c == ')') {
      out.push_back({c == '(' ? Tok::lparen : Tok::rparen, {}, {}, start});
      ++i;
      continue;
    }
    if (c == '"') {
      std::string phrase;
      ++i;
      while (i < q.size() && q[i] != '"') {
        if (q[i] == '\\' && i + 1 < q.size()) {
          ++i;
        }
        phrase += q[i++];
      }
      if (i >= q.size()) {
        syntax(start, "the quoted phrase is not closed");
      }
      ++i;
      out.push_back({Tok::quoted, phrase, {}, start});
      continue;
    }
    if (c == '[') {
      auto close = q.find(']', i);
      if (close == std::string_view::npos) {
        syntax(start, "the range is not closed with ']'");
      }
      std::string inside(q.substr(i + 1, close - i - 1));
      auto to = inside.find(" TO ");
      if (to == std::string::npos) {
        syntax(start, "a range is [low TO high]");
      }
      auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(' '));
        s.erase(s.find_last_not_of(' ') + 1);
        return s;
      };
      out.push_back({Tok::range, trim(inside.substr(0, to)), trim(inside.substr(to + 4)), start});
      i = close + 1;
      continue;
    }
    std::string raw;
    while (i < q.size()) {
      const char d = q[i];
      if (d == '\\' && i + 1 < q.size()) {
        raw += d;
        raw += q[i + 1];
        i += 2;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(d)) || d == '(' || d == ')') {
        break;
      }
      // After "field:", a phrase or a range starts a token of its own.
      if ((d == '"' || d == '[') && !raw.empty() && raw.back() == ':') {
        break;
      }
      if (k_special.find(d) != std::string_view::npos) {
        syntax(i, fmt::format("the character '{}' is not supported (quote the value)", d));
      }
      raw += d;
      ++i;
    }
    out.push_back({Tok::word, raw, {}, start});
  }
  out.push_back({Tok::end, {}, {}, q.size()});
  return out;
}

}  // namespace

struct ThingQuery::Node {
  enum class Kind { all, all_of, any_of, negation, term };
  enum class Op { eq, phrase, exists, gt, ge, lt, le, range };
  Kind kind = Kind::term;
  std::vector<std::unique_ptr<Node>> kids;
  std::string field;  // "" = any field
  Op op = Op::eq;
  std::string value;  // eq: a glob (escapes removed, wildcards kept); others: the text
  std::string high;   // range
  bool wildcard = false;
};

namespace {

using Node = ThingQuery::Node;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  std::unique_ptr<Node> parse() {
    auto root = parse_or({});
    if (peek().kind != Tok::end) {
      syntax(peek().pos, peek().kind == Tok::rparen ? "')' without '('" : "unexpected text");
    }
    if (terms_ > k_max_terms) {
      throw InvalidQuery(fmt::format("The query has {} terms; at most {} are allowed", terms_, k_max_terms));
    }
    if (leading_wildcards_ > 1) {
      throw InvalidQuery("Leading wildcards are limited to 1 query term per query");
    }
    return root;
  }

 private:
  const Token& peek() const { return tokens_[at_]; }
  Token next() { return tokens_[at_++]; }
  bool is_word(const char* w) const { return peek().kind == Tok::word && peek().text == w; }

  std::unique_ptr<Node> parse_or(const std::string& field) {
    auto first = parse_and(field);
    if (!is_word("OR")) {
      return first;
    }
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::any_of;
    node->kids.push_back(std::move(first));
    while (is_word("OR")) {
      next();
      node->kids.push_back(parse_and(field));
    }
    return node;
  }

  std::unique_ptr<Node> parse_and(const std::string& field) {
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::all_of;
    node->kids.push_back(parse_unary(field));
    while (peek().kind != Tok::end && peek().kind != Tok::rparen && !is_word("OR")) {
      if (is_word("AND")) {
        next();
      }
      node->kids.push_back(parse_unary(field));
    }
    if (node->kids.size() == 1) {
      return std::move(node->kids.front());
    }
    return node;
  }

  std::unique_ptr<Node> parse_unary(const std::string& field) {
    if (is_word("NOT")) {
      next();
      return negate(parse_unary(field));
    }
    if (peek().kind == Tok::word && peek().text.size() > 1 && peek().text[0] == '-') {
      tokens_[at_].text.erase(0, 1);
      return negate(parse_unary(field));
    }
    return parse_primary(field);
  }

  static std::unique_ptr<Node> negate(std::unique_ptr<Node> inner) {
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::negation;
    node->kids.push_back(std::move(inner));
    return node;
  }

  std::unique_ptr<Node> parse_primary(const std::string& field) {
    const Token t = next();
    switch (t.kind) {
      case Tok::end:
        syntax(t.pos, "a term is missing");
      case Tok::rparen:
        syntax(t.pos, "')' without a term before it");
      case Tok::lparen: {
        auto inner = parse_or(field);
        if (next().kind != Tok::rparen) {
          syntax(t.pos, "'(' is not closed");
        }
        return inner;
      }
      case Tok::quoted:
        return phrase(field, t.text);
      case Tok::range:
        if (field.empty()) {
          syntax(t.pos, "a range needs a field (field:[low TO high])");
        }
        return range(field, t.text, t.high);
      case Tok::word:
        break;
    }
    if (t.text == "AND" || t.text == "OR") {
      syntax(t.pos, fmt::format("{} needs a term on each side", t.text));
    }
    // Split field and value at the first unescaped ':', '>' or '<'.
    std::size_t split = std::string::npos;
    for (std::size_t i = 0; i < t.text.size(); ++i) {
      if (t.text[i] == '\\') {
        ++i;
      } else if (t.text[i] == ':' || t.text[i] == '>' || t.text[i] == '<') {
        split = i;
        break;
      }
    }
    if (split == std::string::npos) {
      return value_term(field, t.text, t.pos);
    }
    if (split == 0) {
      syntax(t.pos, "a field name is missing before ':'");
    }
    if (!field.empty()) {
      syntax(t.pos, "a field inside a field group");
    }
    const std::string name = unescape(t.text.substr(0, split));
    char op = t.text[split];
    std::size_t value_at = split + 1;
    bool or_equal = false;
    if (op != ':' && value_at < t.text.size() && t.text[value_at] == '=') {
      or_equal = true;
      ++value_at;
    }
    const std::string rest = t.text.substr(value_at);
    if (op == ':') {
      if (!rest.empty()) {
        return value_term(name, rest, t.pos);
      }
      // field:"phrase", field:[a TO b], field:(group)
      const Token v = next();
      if (v.kind == Tok::quoted) {
        return phrase(name, v.text);
      }
      if (v.kind == Tok::range) {
        return range(name, v.text, v.high);
      }
      if (v.kind == Tok::lparen) {
        auto inner = parse_or(name);
        if (next().kind != Tok::rparen) {
          syntax(v.pos, "'(' is not closed");
        }
        return inner;
      }
      syntax(v.pos, fmt::format("a value is missing after '{}:'", name));
    }
    std::string value = rest;
    if (value.empty()) {
      const Token v = next();
      if (v.kind != Tok::quoted && v.kind != Tok::word) {
        syntax(v.pos, fmt::format("a value is missing after '{}{}'", op, or_equal ? "=" : ""));
      }
      value = v.kind == Tok::word ? unescape(v.text) : v.text;
    } else {
      value = unescape(value);
    }
    auto node = term(name);
    node->op = op == '>' ? (or_equal ? Node::Op::ge : Node::Op::gt) : (or_equal ? Node::Op::le : Node::Op::lt);
    node->value = value;
    return node;
  }

  std::unique_ptr<Node> term(const std::string& field) {
    ++terms_;
    auto node = std::make_unique<Node>();
    node->kind = Node::Kind::term;
    node->field = field;
    return node;
  }

  std::unique_ptr<Node> value_term(const std::string& field, const std::string& raw, std::size_t pos) {
    if (raw == "*") {
      if (field.empty()) {
        ++terms_;
        auto all = std::make_unique<Node>();
        all->kind = Node::Kind::all;
        return all;
      }
      auto node = term(field);
      node->op = Node::Op::exists;
      return node;
    }
    if (raw.empty()) {
      syntax(pos, "an empty value");
    }
    auto node = term(field);
    node->op = Node::Op::eq;
    node->wildcard = has_wildcard(raw);
    if (node->wildcard && (raw[0] == '*' || raw[0] == '?')) {
      ++leading_wildcards_;
    }
    // Keep wildcards, drop the escapes of other characters ("\*" stays a literal star below).
    std::string glob;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) {
        ++i;
        if (raw[i] == '*' || raw[i] == '?') {
          node->wildcard = false;  // an escaped wildcard: compare literally
        }
      }
      glob += raw[i];
    }
    node->value = glob;
    return node;
  }

  std::unique_ptr<Node> phrase(const std::string& field, const std::string& text) {
    auto node = term(field);
    node->op = Node::Op::phrase;
    node->value = text;
    return node;
  }

  std::unique_ptr<Node> range(const std::string& field, const std::string& low, const std::string& high) {
    auto node = term(field);
    node->op = Node::Op::range;
    node->value = low;
    node->high = high;
    return node;
  }

  std::vector<Token> tokens_;
  std::size_t at_ = 0;
  std::size_t terms_ = 0;
  std::size_t leading_wildcards_ = 0;
};

// Scalar leaves under a field path (arrays fan out).
void collect(const json& node, std::vector<const json*>& out) {
  if (node.is_array() || node.is_object()) {
    for (const auto& v : node) {
      collect(v, out);
    }
    return;
  }
  if (!node.is_null()) {
    out.push_back(&node);
  }
}

std::vector<const json*> resolve(const json& thing, const std::string& field, bool& found_any) {
  std::vector<const json*> out;
  found_any = false;
  if (field.empty()) {
    collect(thing, out);
    found_any = !out.empty();
    return out;
  }
  if (field.rfind("attributes.", 0) == 0) {
    const std::string name = field.substr(11);
    if (thing.contains("attributes") && thing["attributes"].is_object() && thing["attributes"].contains(name)) {
      found_any = true;
      collect(thing["attributes"][name], out);
    }
    return out;
  }
  std::vector<const json*> level{&thing};
  std::size_t start = 0;
  while (start <= field.size()) {
    auto dot = field.find('.', start);
    const std::string part = field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    std::vector<const json*> next_level;
    for (const json* node : level) {
      std::vector<const json*> objects;
      if (node->is_array()) {
        for (const auto& v : *node) {
          objects.push_back(&v);
        }
      } else {
        objects.push_back(node);
      }
      for (const json* o : objects) {
        if (o->is_object() && o->contains(part)) {
          next_level.push_back(&(*o)[part]);
        }
      }
    }
    level = std::move(next_level);
    if (dot == std::string::npos) {
      break;
    }
    start = dot + 1;
  }
  found_any = !level.empty();
  for (const json* node : level) {
    collect(*node, out);
  }
  return out;
}

std::string text_of(const json& leaf) {
  if (leaf.is_string()) {
    return leaf.get<std::string>();
  }
  return leaf.dump();
}

int compare(const std::string& a, const std::string& b) {
  auto x = as_number(a);
  auto y = as_number(b);
  if (x && y) {
    return *x < *y ? -1 : (*x > *y ? 1 : 0);
  }
  std::string la = lower(a), lb = lower(b);
  return la < lb ? -1 : (la > lb ? 1 : 0);
}

bool leaf_matches(const Node& n, const std::string& text) {
  switch (n.op) {
    case Node::Op::eq:
      return n.wildcard ? glob_match(n.value, text) : iequals(n.value, text);
    case Node::Op::phrase:
      return iequals(n.value, text);
    case Node::Op::exists:
      return true;
    case Node::Op::gt:
      return compare(text, n.value) > 0;
    case Node::Op::ge:
      return compare(text, n.value) >= 0;
    case Node::Op::lt:
      return compare(text, n.value) < 0;
    case Node::Op::le:
      return compare(text, n.value) <= 0;
    case Node::Op::range:
      return (n.value == "*" || compare(text, n.value) >= 0) && (n.high == "*" || compare(text, n.high) <= 0);
  }
  return false;
}

bool eval(const Node& n, const json& thing) {
  switch (n.kind) {
    case Node::Kind::all:
      return true;
    case Node::Kind::all_of:
      return std::all_of(n.kids.begin(), n.kids.end(), [&](const auto& k) { return eval(*k, thing); });
    case Node::Kind::any_of:
      return std::any_of(n.kids.begin(), n.kids.end(), [&](const auto& k) { return eval(*k, thing); });
    case Node::Kind::negation:
      return !eval(*n.kids.front(), thing);
    case Node::Kind::term:
      break;
  }
  bool found = false;
  auto leaves = resolve(thing, n.field, found);
  if (n.op == Node::Op::exists) {
    return found;
  }
  return std::any_of(leaves.begin(), leaves.end(), [&](const json* leaf) { return leaf_matches(n, text_of(*leaf)); });
}

// The exact group names a node confines matches to (see candidate_groups); nullopt = no confinement.
std::optional<std::set<std::string>> confinement(const Node& n) {
  if (n.kind == Node::Kind::term) {
    if (n.field == "thingGroupNames" && (n.op == Node::Op::phrase || (n.op == Node::Op::eq && !n.wildcard))) {
      return std::set<std::string>{lower(n.value)};
    }
    return std::nullopt;
  }
  if (n.kind == Node::Kind::all_of) {
    for (const auto& k : n.kids) {
      if (auto c = confinement(*k)) {
        return c;
      }
    }
    return std::nullopt;
  }
  if (n.kind == Node::Kind::any_of) {
    std::set<std::string> all;
    for (const auto& k : n.kids) {
      auto c = confinement(*k);
      if (!c) {
        return std::nullopt;
      }
      all.insert(c->begin(), c->end());
    }
    return all;
  }
  return std::nullopt;
}

}  // namespace

ThingQuery::ThingQuery(std::unique_ptr<Node> root) : root_(std::move(root)) {}
ThingQuery::ThingQuery(ThingQuery&&) noexcept = default;
ThingQuery& ThingQuery::operator=(ThingQuery&&) noexcept = default;
ThingQuery::~ThingQuery() = default;

ThingQuery ThingQuery::parse(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    throw InvalidQuery("The query string is empty");
  }
  return ThingQuery(Parser(lex(text)).parse());
}

bool ThingQuery::matches(const json& thing) const { return eval(*root_, thing); }

std::vector<std::string> ThingQuery::candidate_groups() const {
  auto c = confinement(*root_);
  return c ? std::vector<std::string>(c->begin(), c->end()) : std::vector<std::string>{};
}

std::vector<std::string> field_values(const json& thing, const std::string& field) {
  bool found_any = false;
  std::vector<std::string> out;
  for (const json* leaf : resolve(thing, field, found_any)) {
    std::string text = text_of(*leaf);
    if (std::find(out.begin(), out.end(), text) == out.end()) {
      out.push_back(std::move(text));
    }
  }
  return out;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matcher with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && same(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

namespace {

bool differs(const json& desired, const json& reported) {
  if (!desired.is_object()) {
    return false;
  }
  for (const auto& [k, v] : desired.items()) {
    if (!reported.is_object() || !reported.contains(k)) {
      return true;
    }
    const json& r = reported[k];
    if (v.is_object() && r.is_object()) {
      if (differs(v, r)) {
        return true;
      }
    } else if (v != r) {
      return true;
    }
  }
  return false;
}

}  // namespace

json index_shadow_entry(const json& desired, const json& reported, std::int64_t version) {
  json entry = json::object();
  if (desired.is_object() && !desired.empty()) {
    entry["desired"] = desired;
  }
  if (reported.is_object() && !reported.empty()) {
    entry["reported"] = reported;
  }
  entry["hasDelta"] = differs(desired, reported);
  entry["version"] = version;
  return entry;
}

json index_shadow(const std::map<std::string, json>& named) {
  json shadow = json::object();
  for (const auto& [name, entry] : named) {
    if (name.empty()) {
      for (const auto& [k, v] : entry.items()) {
        shadow[k] = v;
      }
    } else {
      shadow["name"][name] = entry;
    }
  }
  return shadow.empty() ? json(nullptr) : shadow;
}

json health_shadow_state(const json& device_reported) {
  if (device_reported.is_object() && device_reported.contains("aiot") && device_reported["aiot"].is_object() &&
      device_reported["aiot"].contains("health") && device_reported["aiot"]["health"].is_object()) {
    return {{"reported", device_reported["aiot"]["health"]}};
  }
  return nullptr;
}

json health_reported_patch(const json& shadow_reported) {
  return {{"aiot", {{"health", shadow_reported}}}};
}

}  // namespace aiot::emulator::aws
