#include "aiot/hub/query.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "aiot/core/error.hpp"

namespace aiot::hub::query {

using json = nlohmann::json;

namespace {

enum class Root { device_id, status, authentication_type, tags, desired, reported };

// Where a path lives in the local engine's devices table. Decided once at parse time so that
// to_sql does not re-derive it and matches() never allocates.
enum class SqlSource {
  text_column,     // id, status, auth_type: always a string
  integer_column,  // desired_version, reported_version: always an integer
  json_column,     // json_type/json_extract(column, path)
  missing,         // a path that cannot exist (deviceId.x, properties.desired.$version.x)
};

struct Path {
  Root root = Root::tags;
  std::vector<std::string> segments;
  SqlSource sql_source = SqlSource::missing;
  const char* sql_column = "";
  std::string sql_json_path;  // "$.\"a\".\"b\"" for json_column
};

enum class Op { eq, ne, lt, le, gt, ge };
enum class Function { is_defined, is_null, is_string, is_number, is_bool, is_object, starts_with, ends_with };
enum class Kind { or_, and_, not_, compare, in, not_in, function };

struct FunctionInfo {
  const char* name;
  Function function;
  bool takes_string;
};
constexpr std::array<FunctionInfo, 8> k_functions{{
    {"IS_DEFINED", Function::is_defined, false},
    {"IS_NULL", Function::is_null, false},
    {"IS_STRING", Function::is_string, false},
    {"IS_NUMBER", Function::is_number, false},
    {"IS_BOOL", Function::is_bool, false},
    {"IS_OBJECT", Function::is_object, false},
    {"STARTSWITH", Function::starts_with, true},
    {"ENDSWITH", Function::ends_with, true},
}};

constexpr const char* k_roots_help =
    "use deviceId, status, authenticationType, tags.*, properties.desired.*, properties.reported.*";
constexpr const char* k_hint = "example: tags.site = 'berlin' AND NOT IS_DEFINED(tags.ring)";
constexpr int k_max_depth = 100;  // nesting of parentheses and NOT: bounds the recursion

}  // namespace

struct Node {
  Kind kind = Kind::compare;
  std::vector<std::unique_ptr<Node>> children;  // or_, and_ (two or more), not_ (one)
  Path path;
  Op op = Op::eq;
  json literal;            // compare; the string argument of STARTSWITH/ENDSWITH
  std::vector<json> list;  // in, not_in
  Function function = Function::is_defined;
};

namespace {

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok { end, ident, string, number, dot, lbracket, rbracket, lparen, rparen, comma, star, op };

struct Token {
  Tok kind = Tok::end;
  std::size_t offset = 0;
  std::string_view text;  // the raw source text
  std::string value;      // decoded contents of a string literal
  Op op = Op::eq;
};

bool is_ident_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == '$';
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) {
    return false;
  }
  return std::all_of(s.begin() + 1, s.end(), is_ident_char);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') {
      x = static_cast<char>(x - 'a' + 'A');
    }
    if (y >= 'a' && y <= 'z') {
      y = static_cast<char>(y - 'a' + 'A');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

[[noreturn]] void fail(std::string_view text, std::size_t offset, const std::string& what) {
  std::size_t line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  throw Error::usage(fmt::format("query:{}:{}: {}", line, offset - line_start + 1, what), k_hint);
}

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Token next() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r')) {
      ++pos_;
    }
    Token t;
    t.offset = pos_;
    if (pos_ >= text_.size()) {
      t.kind = Tok::end;
      return t;
    }
    const char c = text_[pos_];
    if (is_ident_start(c)) {
      std::size_t end = pos_ + 1;
      while (end < text_.size() && is_ident_char(text_[end])) {
        ++end;
      }
      return finish(t, Tok::ident, end);
    }
    if (is_digit(c) || (c == '-' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
      return lex_number(t);
    }
    if (c == '\'' || c == '"') {
      return lex_string(t, c);
    }
    const char n = pos_ + 1 < text_.size() ? text_[pos_ + 1] : '\0';
    switch (c) {
      case '.': return finish(t, Tok::dot, pos_ + 1);
      case '[': return finish(t, Tok::lbracket, pos_ + 1);
      case ']': return finish(t, Tok::rbracket, pos_ + 1);
      case '(': return finish(t, Tok::lparen, pos_ + 1);
      case ')': return finish(t, Tok::rparen, pos_ + 1);
      case ',': return finish(t, Tok::comma, pos_ + 1);
      case '*': return finish(t, Tok::star, pos_ + 1);
      case '=': return finish_op(t, Op::eq, pos_ + 1);
      case '!':
        if (n == '=') {
          return finish_op(t, Op::ne, pos_ + 2);
        }
        break;
      case '<':
        if (n == '=') {
          return finish_op(t, Op::le, pos_ + 2);
        }
        if (n == '>') {
          return finish_op(t, Op::ne, pos_ + 2);
        }
        return finish_op(t, Op::lt, pos_ + 1);
      case '>':
        if (n == '=') {
          return finish_op(t, Op::ge, pos_ + 2);
        }
        return finish_op(t, Op::gt, pos_ + 1);
      default: break;
    }
    const auto byte = static_cast<unsigned char>(c);
    fail(text_, pos_,
         byte >= 0x20 && byte < 0x7f ? fmt::format("unexpected character '{}'", c)
                                     : fmt::format("unexpected byte 0x{:02x}", static_cast<unsigned>(byte)));
  }

 private:
  Token finish(Token& t, Tok kind, std::size_t end) {
    t.kind = kind;
    t.text = text_.substr(pos_, end - pos_);
    pos_ = end;
    return std::move(t);
  }
  Token finish_op(Token& t, Op op, std::size_t end) {
    t.op = op;
    return finish(t, Tok::op, end);
  }

  Token lex_number(Token& t) {
    std::size_t end = pos_;
    if (text_[end] == '-') {
      ++end;
    }
    while (end < text_.size() && is_digit(text_[end])) {
      ++end;
    }
    if (end < text_.size() && text_[end] == '.') {
      ++end;
      if (end >= text_.size() || !is_digit(text_[end])) {
        fail(text_, end, "expected a digit after the decimal point");
      }
      while (end < text_.size() && is_digit(text_[end])) {
        ++end;
      }
    }
    if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      ++end;
      if (end < text_.size() && (text_[end] == '+' || text_[end] == '-')) {
        ++end;
      }
      if (end >= text_.size() || !is_digit(text_[end])) {
        fail(text_, end, "expected a digit in the exponent");
      }
      while (end < text_.size() && is_digit(text_[end])) {
        ++end;
      }
    }
    if (end < text_.size() && is_ident_start(text_[end])) {
      fail(text_, pos_, fmt::format("invalid number '{}'", text_.substr(pos_, end + 1 - pos_)));
    }
    return finish(t, Tok::number, end);
  }

  // 'it''s', 'it\'s' and "say \"hi\"" all work; a backslash before anything but a quote or a
  // backslash is kept as is, so Windows paths and regex-like text need no doubling.
  Token lex_string(Token& t, char quote) {
    std::size_t i = pos_ + 1;
    std::string value;
    while (true) {
      if (i >= text_.size()) {
        fail(text_, pos_, "unterminated string (missing closing " + std::string(1, quote) + ")");
      }
      const char c = text_[i];
      if (c == quote) {
        if (i + 1 < text_.size() && text_[i + 1] == quote) {
          value += quote;
          i += 2;
          continue;
        }
        ++i;
        break;
      }
      if (c == '\\' && i + 1 < text_.size() &&
          (text_[i + 1] == '\'' || text_[i + 1] == '"' || text_[i + 1] == '\\')) {
        value += text_[i + 1];
        i += 2;
        continue;
      }
      value += c;
      ++i;
    }
    t.value = std::move(value);
    return finish(t, Tok::string, i);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Parser

const char* op_text(Op op) {
  switch (op) {
    case Op::eq: return "=";
    case Op::ne: return "!=";
    case Op::lt: return "<";
    case Op::le: return "<=";
    case Op::gt: return ">";
    case Op::ge: return ">=";
  }
  return "=";
}

std::string json_path_of(const std::vector<std::string>& segments, std::size_t first) {
  std::string path = "$";
  for (std::size_t i = first; i < segments.size(); ++i) {
    path += ".\"";
    path += segments[i];
    path += '"';
  }
  return path;
}

void assign_sql_source(Path& p) {
  switch (p.root) {
    case Root::device_id:
    case Root::status:
    case Root::authentication_type:
      p.sql_column = p.root == Root::device_id ? "id" : p.root == Root::status ? "status" : "auth_type";
      p.sql_source = p.segments.empty() ? SqlSource::text_column : SqlSource::missing;
      return;
    case Root::tags:
      p.sql_column = "tags";
      p.sql_source = SqlSource::json_column;
      p.sql_json_path = json_path_of(p.segments, 0);
      return;
    case Root::desired:
    case Root::reported: {
      const bool desired = p.root == Root::desired;
      // The twin carries $version inside desired/reported; the table keeps it in its own column.
      if (!p.segments.empty() && p.segments[0] == "$version") {
        p.sql_column = desired ? "desired_version" : "reported_version";
        p.sql_source = p.segments.size() == 1 ? SqlSource::integer_column : SqlSource::missing;
        return;
      }
      p.sql_column = desired ? "desired" : "reported";
      p.sql_source = SqlSource::json_column;
      p.sql_json_path = json_path_of(p.segments, 0);
      return;
    }
  }
}

std::string path_text(const Path& p);

// The path's last name ("version" of properties.reported.aiot.ota.version): an aggregation's
// default alias.
std::string last_name(const Path& p) { return p.segments.empty() ? path_text(p) : p.segments.back(); }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), lexer_(text) { advance(); }

  // `aggregation` null: a bare condition or SELECT * (Query::parse). Otherwise the SELECT list and
  // GROUP BY of an aggregation are read into it (a SELECT * leaves it empty).
  std::unique_ptr<Node> parse_query(Aggregation* aggregation = nullptr) {
    if (tok_.kind == Tok::end) {
      return nullptr;
    }
    std::unique_ptr<Node> root;
    if (is_keyword("SELECT")) {
      advance();
      if (tok_.kind == Tok::star) {
        advance();
        expect_keyword("FROM", "expected FROM after 'SELECT *'");
      } else if (aggregation == nullptr) {
        error("expected '*' after SELECT (COUNT() and GROUP BY are for aggregations, not listings)");
      } else {
        parse_select_list(*aggregation);
        expect_keyword("FROM", "expected FROM after the SELECT list");
      }
      expect_keyword("DEVICES", "expected 'devices' after FROM");
      if (tok_.kind != Tok::end && !(select_list_ && is_keyword("GROUP"))) {
        expect_keyword("WHERE", select_list_ ? "expected WHERE, GROUP BY or the end of the query after 'FROM devices'"
                                             : "expected WHERE or the end of the query after 'FROM devices'");
        if (tok_.kind == Tok::end) {
          error("expected a condition after WHERE");
        }
        root = parse_or();
      }
    } else {
      root = parse_or();
    }
    if (tok_.kind == Tok::rparen) {
      error("unmatched ')'");
    }
    if (select_list_ && is_keyword("GROUP")) {
      parse_group_by(*aggregation);
    }
    if (tok_.kind != Tok::end) {
      error(fmt::format("unexpected {} after the end of a condition (join conditions with AND or OR)",
                        describe(tok_)));
    }
    if (select_list_) {
      check_grouping(*aggregation);
    }
    return root;
  }

  Path parse_lone_path() {
    if (tok_.kind != Tok::ident) {
      error(fmt::format("expected a property path, found {}", describe(tok_)));
    }
    Path p = parse_path();
    if (tok_.kind != Tok::end) {
      error(fmt::format("unexpected {} after the property path", describe(tok_)));
    }
    return p;
  }

 private:
  // item (',' item)*, item = COUNT() [AS name] | path [AS name]. Sets count_alias (empty when no COUNT()).
  void parse_select_list(Aggregation& a) {
    select_list_ = true;
    a.count_alias.clear();
    for (;;) {
      const std::size_t at = tok_.offset;
      if (is_keyword("COUNT")) {
        advance();
        if (tok_.kind != Tok::lparen) {
          error("expected '()' after COUNT");
        }
        advance();
        if (tok_.kind != Tok::rparen) {
          error("COUNT() takes no argument");
        }
        advance();
        if (!a.count_alias.empty()) {
          fail(text_, at, "COUNT() appears twice");
        }
        a.count_alias = parse_alias("count");
      } else if (tok_.kind == Tok::ident) {
        Path p = parse_path();
        selected_.emplace_back(path_text(p), at);
        a.aliases.push_back(parse_alias(last_name(p)));
      } else {
        error(fmt::format("expected COUNT() or a property path in the SELECT list, found {}", describe(tok_)));
      }
      if (tok_.kind != Tok::comma) {
        break;
      }
      advance();
    }
    if (a.count_alias.empty()) {
      fail(text_, 0, "an aggregation selects COUNT() (only SELECT * lists devices)");
    }
  }

  std::string parse_alias(const std::string& fallback) {
    if (!is_keyword("AS")) {
      return fallback;
    }
    advance();
    if (tok_.kind != Tok::ident || is_keyword("FROM") || is_keyword("WHERE") || is_keyword("GROUP")) {
      error(fmt::format("expected a name after AS, found {}", describe(tok_)));
    }
    std::string name(tok_.text);
    advance();
    return name;
  }

  void parse_group_by(Aggregation& a) {
    advance();
    expect_keyword("BY", "expected BY after GROUP");
    for (;;) {
      if (tok_.kind != Tok::ident) {
        error(fmt::format("expected a property path after GROUP BY, found {}", describe(tok_)));
      }
      const std::size_t at = tok_.offset;
      std::string text = path_text(parse_path());
      if (std::find(a.group_by.begin(), a.group_by.end(), text) != a.group_by.end()) {
        fail(text_, at, fmt::format("{} is grouped by twice", text));
      }
      a.group_by.push_back(std::move(text));
      if (tok_.kind != Tok::comma) {
        break;
      }
      advance();
    }
  }

  // Selected paths are exactly the grouped ones; aliases follow GROUP BY order.
  void check_grouping(Aggregation& a) {
    std::vector<std::string> aliases(a.group_by.size());
    for (std::size_t i = 0; i < selected_.size(); ++i) {
      auto it = std::find(a.group_by.begin(), a.group_by.end(), selected_[i].first);
      if (it == a.group_by.end()) {
        fail(text_, selected_[i].second,
             fmt::format("{} is selected but not grouped by (add it to GROUP BY)", selected_[i].first));
      }
      aliases[static_cast<std::size_t>(it - a.group_by.begin())] = a.aliases[i];
    }
    for (std::size_t i = 0; i < a.group_by.size(); ++i) {
      if (aliases[i].empty()) {
        // Grouped but not selected: IoT Hub returns only what is selected, so name it anyway.
        aliases[i] = fmt::format("k{}", i);
      }
    }
    a.aliases = std::move(aliases);
  }

  std::vector<std::pair<std::string, std::size_t>> selected_;  // canonical path, offset

 public:
  bool select_list_ = false;  // SELECT with a list (an aggregation), not SELECT *

  void advance() { tok_ = lexer_.next(); }

  [[noreturn]] void error(const std::string& what) const { fail(text_, tok_.offset, what); }

  bool is_keyword(std::string_view word) const { return tok_.kind == Tok::ident && iequals(tok_.text, word); }

  void expect_keyword(std::string_view word, const char* message) {
    if (!is_keyword(word)) {
      error(message);
    }
    advance();
  }

  static std::string describe(const Token& t) {
    if (t.kind == Tok::end) {
      return "the end of the query";
    }
    if (t.kind == Tok::string) {
      return fmt::format("string {}", t.text);
    }
    return fmt::format("'{}'", t.text);
  }

  void enter(std::size_t offset) {
    if (++depth_ > k_max_depth) {
      fail(text_, offset, fmt::format("query nested too deeply (more than {} levels)", k_max_depth));
    }
  }

  // Flattens nested ANDs in ANDs (ORs in ORs): same meaning, shallower tree.
  static void add_child(Node& parent, std::unique_ptr<Node> child) {
    if (child->kind == parent.kind) {
      for (auto& grandchild : child->children) {
        parent.children.push_back(std::move(grandchild));
      }
      return;
    }
    parent.children.push_back(std::move(child));
  }

  std::unique_ptr<Node> parse_binary(Kind kind, std::string_view keyword) {
    auto first = kind == Kind::or_ ? parse_binary(Kind::and_, "AND") : parse_not();
    if (!is_keyword(keyword)) {
      return first;
    }
    auto node = std::make_unique<Node>();
    node->kind = kind;
    add_child(*node, std::move(first));
    while (is_keyword(keyword)) {
      advance();
      add_child(*node, kind == Kind::or_ ? parse_binary(Kind::and_, "AND") : parse_not());
    }
    return node;
  }

  std::unique_ptr<Node> parse_or() { return parse_binary(Kind::or_, "OR"); }

  std::unique_ptr<Node> parse_not() {
    if (!is_keyword("NOT")) {
      return parse_primary();
    }
    enter(tok_.offset);
    advance();
    auto node = std::make_unique<Node>();
    node->kind = Kind::not_;
    node->children.push_back(parse_not());
    --depth_;
    return node;
  }

  std::unique_ptr<Node> parse_primary() {
    if (tok_.kind == Tok::lparen) {
      const std::size_t open = tok_.offset;
      enter(open);
      advance();
      auto node = parse_or();
      if (tok_.kind != Tok::rparen) {
        error(fmt::format("expected ')' to close the '(' at column {}, found {}", column_of(open), describe(tok_)));
      }
      advance();
      --depth_;
      return node;
    }
    if (tok_.kind != Tok::ident || is_keyword("AND") || is_keyword("OR") || is_keyword("IN") ||
        is_keyword("NOT")) {
      error(fmt::format("expected a condition, found {}", describe(tok_)));
    }
    for (const auto& f : k_functions) {
      if (iequals(tok_.text, f.name)) {
        return parse_function(f);
      }
    }
    const std::size_t start = tok_.offset;
    auto node = std::make_unique<Node>();
    node->path = parse_path();
    const std::string_view path_text = text_.substr(start, previous_end_ - start);
    if (tok_.kind == Tok::op) {
      const Op op = tok_.op;
      const std::string op_source(tok_.text);
      advance();
      node->kind = Kind::compare;
      node->op = op;
      node->literal = parse_literal(fmt::format("expected a value after '{}'", op_source));
      return node;
    }
    if (is_keyword("IN")) {
      advance();
      node->kind = Kind::in;
      node->list = parse_list();
      return node;
    }
    if (is_keyword("NOT")) {
      advance();
      if (!is_keyword("IN")) {
        error("expected IN after NOT");
      }
      advance();
      node->kind = Kind::not_in;
      node->list = parse_list();
      return node;
    }
    error(fmt::format("expected an operator (=, !=, <>, <, <=, >, >=, IN or NOT IN) after '{}', found {}", path_text,
                      describe(tok_)));
  }

  std::unique_ptr<Node> parse_function(const FunctionInfo& f) {
    advance();
    if (tok_.kind != Tok::lparen) {
      error(fmt::format("expected '(' after {}", f.name));
    }
    advance();
    if (tok_.kind != Tok::ident) {
      error(fmt::format("expected a property path as the argument of {}, found {}", f.name, describe(tok_)));
    }
    auto node = std::make_unique<Node>();
    node->kind = Kind::function;
    node->function = f.function;
    node->path = parse_path();
    if (f.takes_string) {
      if (tok_.kind != Tok::comma) {
        error(fmt::format("expected ',' and a string after the path in {}", f.name));
      }
      advance();
      if (tok_.kind != Tok::string) {
        error(fmt::format("expected a string as the second argument of {}, found {}", f.name, describe(tok_)));
      }
      node->literal = tok_.value;
      advance();
    }
    if (tok_.kind != Tok::rparen) {
      error(fmt::format("expected ')' to close {}(, found {}", f.name, describe(tok_)));
    }
    advance();
    return node;
  }

  // root ('.' ident | '[' 'string' ']')*
  Path parse_path() {
    const Token root = tok_;
    advance();
    Path p;
    bool properties = false;
    if (root.text == "deviceId") {
      p.root = Root::device_id;
    } else if (root.text == "status") {
      p.root = Root::status;
    } else if (root.text == "authenticationType") {
      p.root = Root::authentication_type;
    } else if (root.text == "tags") {
      p.root = Root::tags;
    } else if (root.text == "properties") {
      properties = true;
    } else if (tok_.kind == Tok::lparen) {
      fail(text_, root.offset,
           fmt::format("unknown function '{}' (use IS_DEFINED, IS_NULL, IS_STRING, IS_NUMBER, IS_BOOL, IS_OBJECT, "
                       "STARTSWITH or ENDSWITH)",
                       root.text));
    } else {
      fail(text_, root.offset, fmt::format("unknown property root '{}' ({})", root.text, k_roots_help));
    }
    previous_end_ = root.offset + root.text.size();
    std::vector<std::size_t> offsets;
    while (tok_.kind == Tok::dot || tok_.kind == Tok::lbracket) {
      if (tok_.kind == Tok::dot) {
        advance();
        if (tok_.kind != Tok::ident) {
          error(fmt::format("expected a property name after '.', found {}", describe(tok_)));
        }
        offsets.push_back(tok_.offset);
        p.segments.emplace_back(tok_.text);
        previous_end_ = tok_.offset + tok_.text.size();
        advance();
        continue;
      }
      advance();
      if (tok_.kind != Tok::string) {
        error(fmt::format("expected a quoted property name after '[', found {}", describe(tok_)));
      }
      // The same key must be addressable by SQLite's JSON path ("$.\"key\"") which has no escapes.
      const bool addressable = !tok_.value.empty() && std::none_of(tok_.value.begin(), tok_.value.end(), [](char c) {
        return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
      });
      if (!addressable) {
        error("a property name must be non-empty and cannot contain '\"', '\\' or control characters");
      }
      offsets.push_back(tok_.offset);
      p.segments.push_back(tok_.value);
      advance();
      if (tok_.kind != Tok::rbracket) {
        error(fmt::format("expected ']' after the property name, found {}", describe(tok_)));
      }
      previous_end_ = tok_.offset + 1;
      advance();
    }
    if (properties) {
      if (p.segments.empty() || (p.segments[0] != "desired" && p.segments[0] != "reported")) {
        fail(text_, p.segments.empty() ? tok_.offset : offsets[0],
             "expected 'desired' or 'reported' after 'properties.'");
      }
      p.root = p.segments[0] == "desired" ? Root::desired : Root::reported;
      p.segments.erase(p.segments.begin());
    }
    assign_sql_source(p);
    return p;
  }

  json parse_literal(const std::string& expected) {
    json value;
    if (tok_.kind == Tok::string) {
      value = tok_.value;
    } else if (tok_.kind == Tok::number) {
      value = parse_number(tok_);
    } else if (is_keyword("true")) {
      value = true;
    } else if (is_keyword("false")) {
      value = false;
    } else if (is_keyword("null")) {
      value = nullptr;
    } else {
      error(expected);
    }
    advance();
    return value;
  }

  json parse_number(const Token& t) const {
    const char* first = t.text.data();
    const char* last = first + t.text.size();
    if (t.text.find_first_of(".eE") == std::string_view::npos) {
      std::int64_t i = 0;
      auto [ptr, ec] = std::from_chars(first, last, i);
      if (ec == std::errc() && ptr == last) {
        return i;
      }
      // Too large for 64 bits: keep it as a double, as SQLite's JSON does.
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(first, last, d);
    if (ec != std::errc() || ptr != last || !std::isfinite(d)) {
      error(fmt::format("number '{}' is out of range", t.text));
    }
    return d;
  }

  std::vector<json> parse_list() {
    Tok close = Tok::rbracket;
    if (tok_.kind == Tok::lparen) {
      close = Tok::rparen;
    } else if (tok_.kind != Tok::lbracket) {
      error(fmt::format("expected '[' to start the IN list, found {}", describe(tok_)));
    }
    advance();
    if (tok_.kind == close) {
      error("empty IN list: give at least one value");
    }
    std::vector<json> list;
    while (true) {
      list.push_back(parse_literal(fmt::format("expected a value in the IN list, found {}", describe(tok_))));
      if (tok_.kind == Tok::comma) {
        advance();
        continue;
      }
      if (tok_.kind == close) {
        advance();
        return list;
      }
      error(fmt::format("expected ',' or '{}' in the IN list, found {}", close == Tok::rbracket ? ']' : ')',
                        describe(tok_)));
    }
  }

  std::size_t column_of(std::size_t offset) const {
    const auto nl = text_.rfind('\n', offset == 0 ? 0 : offset - 1);
    return nl == std::string_view::npos || offset == 0 ? offset + 1 : offset - nl;
  }

  std::string_view text_;
  Lexer lexer_;
  Token tok_;
  std::size_t previous_end_ = 0;  // end offset of the last path token, for messages
  int depth_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Evaluation over twin JSON

const std::string k_device_id = "deviceId";
const std::string k_status = "status";
const std::string k_authentication_type = "authenticationType";
const std::string k_tags = "tags";
const std::string k_properties = "properties";
const std::string k_desired = "desired";
const std::string k_reported = "reported";

const json* member(const json* object, const std::string& key) {
  if (object == nullptr || !object->is_object()) {
    return nullptr;
  }
  auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

const json* resolve(const Path& p, const json& twin) {
  const json* value = nullptr;
  switch (p.root) {
    case Root::device_id: value = member(&twin, k_device_id); break;
    case Root::status: value = member(&twin, k_status); break;
    case Root::authentication_type: value = member(&twin, k_authentication_type); break;
    case Root::tags: value = member(&twin, k_tags); break;
    case Root::desired: value = member(member(&twin, k_properties), k_desired); break;
    case Root::reported: value = member(member(&twin, k_properties), k_reported); break;
  }
  for (const auto& segment : p.segments) {
    value = member(value, segment);
    if (value == nullptr) {
      return nullptr;
    }
  }
  return value;
}

// -1/0/+1, exact for every int64/double pair (as SQLite's sqlite3IntFloatCompare).
int compare_int_double(std::int64_t i, double d) {
  if (d < -9223372036854775808.0) {
    return 1;
  }
  if (d >= 9223372036854775808.0) {
    return -1;
  }
  const double whole = std::trunc(d);
  const auto whole_int = static_cast<std::int64_t>(whole);
  if (i != whole_int) {
    return i < whole_int ? -1 : 1;
  }
  if (d > whole) {
    return -1;
  }
  if (d < whole) {
    return 1;
  }
  return 0;
}

struct Number {
  bool is_int;
  std::int64_t i;
  double d;
};

Number to_number(const json& v) {
  if (v.is_number_integer() && !v.is_number_unsigned()) {
    return {true, v.get<std::int64_t>(), 0};
  }
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return {true, static_cast<std::int64_t>(u), 0};
    }
    return {false, 0, static_cast<double>(u)};  // SQLite reads such integers as REAL
  }
  return {false, 0, v.get<double>()};
}

int compare_numbers(const json& a, const json& b) {
  const Number x = to_number(a);
  const Number y = to_number(b);
  if (x.is_int && y.is_int) {
    return x.i < y.i ? -1 : x.i > y.i ? 1 : 0;
  }
  if (!x.is_int && !y.is_int) {
    return x.d < y.d ? -1 : x.d > y.d ? 1 : 0;
  }
  if (x.is_int) {
    return compare_int_double(x.i, y.d);
  }
  return -compare_int_double(y.i, x.d);
}

bool apply(Op op, int cmp) {
  switch (op) {
    case Op::eq: return cmp == 0;
    case Op::ne: return cmp != 0;
    case Op::lt: return cmp < 0;
    case Op::le: return cmp <= 0;
    case Op::gt: return cmp > 0;
    case Op::ge: return cmp >= 0;
  }
  return false;
}

// Typed comparison: values of different JSON types never compare (false for every operator);
// numbers and strings are ordered; booleans and null support only = and !=.
bool compare(const json& value, Op op, const json& literal) {
  if (literal.is_string()) {
    if (!value.is_string()) {
      return false;
    }
    return apply(op, value.get_ref<const std::string&>().compare(literal.get_ref<const std::string&>()));
  }
  if (literal.is_number()) {
    return value.is_number() && apply(op, compare_numbers(value, literal));
  }
  if (op != Op::eq && op != Op::ne) {
    return false;
  }
  if (literal.is_boolean()) {
    return value.is_boolean() && apply(op, value.get<bool>() == literal.get<bool>() ? 0 : 1);
  }
  return literal.is_null() && value.is_null() && op == Op::eq;
}

bool is_scalar(const json& v) { return v.is_string() || v.is_number() || v.is_boolean() || v.is_null(); }

bool in_list(const json& value, const std::vector<json>& list) {
  return std::any_of(list.begin(), list.end(), [&](const json& item) { return compare(value, Op::eq, item); });
}

bool has_affix(const json& value, const json& literal, bool prefix) {
  if (!value.is_string()) {
    return false;
  }
  const auto& s = value.get_ref<const std::string&>();
  const auto& a = literal.get_ref<const std::string&>();
  if (a.size() > s.size()) {
    return false;
  }
  return prefix ? s.compare(0, a.size(), a) == 0 : s.compare(s.size() - a.size(), a.size(), a) == 0;
}

bool evaluate(const Node& n, const json& twin) {
  switch (n.kind) {
    case Kind::and_:
      return std::all_of(n.children.begin(), n.children.end(), [&](const auto& c) { return evaluate(*c, twin); });
    case Kind::or_:
      return std::any_of(n.children.begin(), n.children.end(), [&](const auto& c) { return evaluate(*c, twin); });
    case Kind::not_: return !evaluate(*n.children[0], twin);
    default: break;
  }
  const json* value = resolve(n.path, twin);
  if (value == nullptr) {
    return false;  // every predicate on an undefined property is false
  }
  switch (n.kind) {
    case Kind::compare: return compare(*value, n.op, n.literal);
    case Kind::in: return in_list(*value, n.list);
    // A defined scalar that equals none of the values; objects and arrays never compare.
    case Kind::not_in: return is_scalar(*value) && !in_list(*value, n.list);
    case Kind::function: break;
    default: return false;
  }
  switch (n.function) {
    case Function::is_defined: return true;
    case Function::is_null: return value->is_null();
    case Function::is_string: return value->is_string();
    case Function::is_number: return value->is_number();
    case Function::is_bool: return value->is_boolean();
    case Function::is_object: return value->is_object();
    case Function::starts_with: return has_affix(*value, n.literal, true);
    case Function::ends_with: return has_affix(*value, n.literal, false);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// SQL

// Every fragment below evaluates to 0 or 1, never NULL, so that NOT is plain boolean negation
// exactly as in evaluate(): json_type() is NULL for a missing path, hence the COALESCEs.
class SqlWriter {
 public:
  explicit SqlWriter(std::vector<json>& params) : params_(params) {}

  std::string write(const Node& n) {
    switch (n.kind) {
      case Kind::and_: return write_balanced(n.children, 0, n.children.size(), " AND ");
      case Kind::or_: return write_balanced(n.children, 0, n.children.size(), " OR ");
      case Kind::not_: return "(NOT " + write(*n.children[0]) + ")";
      case Kind::compare: return compare(n.path, n.op, n.literal);
      case Kind::in: return in_list(n.path, n.list);
      case Kind::not_in: {
        // Two statements: the placeholders must be pushed in the order they appear.
        const std::string scalar = is_scalar(n.path);
        return "(" + scalar + " AND NOT " + in_list(n.path, n.list) + ")";
      }
      case Kind::function: return function(n);
    }
    return "0";
  }

 private:
  // SQLite limits expression depth (1000 by default): long AND/OR chains become balanced trees.
  std::string write_balanced(const std::vector<std::unique_ptr<Node>>& nodes, std::size_t begin, std::size_t end,
                             const char* glue) {
    std::string out = "(";
    if (end - begin <= 8) {
      for (std::size_t i = begin; i < end; ++i) {
        if (i != begin) {
          out += glue;
        }
        out += write(*nodes[i]);
      }
    } else {
      const std::size_t mid = begin + (end - begin) / 2;
      out += write_balanced(nodes, begin, mid, glue);
      out += glue;
      out += write_balanced(nodes, mid, end, glue);
    }
    out += ")";
    return out;
  }

  std::string param(const json& value) {
    params_.push_back(value);
    return "?";
  }

  std::string json_type(const Path& p) {
    return fmt::format("json_type({}, {})", p.sql_column, param(p.sql_json_path));
  }
  std::string json_extract(const Path& p) {
    return fmt::format("json_extract({}, {})", p.sql_column, param(p.sql_json_path));
  }

  // json_type() names of the JSON values a literal can equal or be ordered against.
  static const char* json_types_of(const json& literal) {
    if (literal.is_string()) {
      return "'text'";
    }
    if (literal.is_number()) {
      return "'integer', 'real'";
    }
    return "'true', 'false'";
  }

  static bool column_holds(const Path& p, const json& literal) {
    return p.sql_source == SqlSource::text_column ? literal.is_string() : literal.is_number();
  }

  std::string compare(const Path& p, Op op, const json& literal) {
    const bool ordered = literal.is_string() || literal.is_number();
    if (!ordered && op != Op::eq && op != Op::ne) {
      return "0";
    }
    switch (p.sql_source) {
      case SqlSource::missing: return "0";
      case SqlSource::text_column:
      case SqlSource::integer_column:
        if (!column_holds(p, literal)) {
          return "0";
        }
        return fmt::format("({} {} {})", p.sql_column, op_text(op), param(literal));
      case SqlSource::json_column: break;
    }
    if (literal.is_null()) {
      return op == Op::eq ? fmt::format("({} IS 'null')", json_type(p)) : "0";
    }
    const std::string type = json_type(p);
    const std::string value = json_extract(p);
    return fmt::format("COALESCE({} IN ({}) AND {} {} {}, 0)", type, json_types_of(literal), value, op_text(op),
                       param(literal));
  }

  // Grouped by JSON type so that a long list costs one json_extract and one SQL IN per type.
  std::string in_list(const Path& p, const std::vector<json>& list) {
    if (p.sql_source == SqlSource::missing) {
      return "0";
    }
    if (p.sql_source != SqlSource::json_column) {
      std::string placeholders;
      for (const auto& item : list) {
        if (column_holds(p, item)) {
          placeholders += placeholders.empty() ? param(item) : ", " + param(item);
        }
      }
      return placeholders.empty() ? "0" : fmt::format("({} IN ({}))", p.sql_column, placeholders);
    }
    std::vector<std::string> groups;
    const auto group = [&](auto belongs) {
      std::vector<const json*> members;
      for (const auto& item : list) {
        if (belongs(item)) {
          members.push_back(&item);
        }
      }
      if (members.empty()) {
        return;
      }
      const std::string type = json_type(p);
      const std::string value = json_extract(p);
      std::string placeholders;
      for (const json* item : members) {
        placeholders += placeholders.empty() ? param(*item) : ", " + param(*item);
      }
      groups.push_back(
          fmt::format("COALESCE({} IN ({}) AND {} IN ({}), 0)", type, json_types_of(*members[0]), value, placeholders));
    };
    group([](const json& v) { return v.is_string(); });
    group([](const json& v) { return v.is_number(); });
    group([](const json& v) { return v.is_boolean(); });
    if (std::any_of(list.begin(), list.end(), [](const json& v) { return v.is_null(); })) {
      groups.push_back(fmt::format("({} IS 'null')", json_type(p)));
    }
    std::string out = "(";
    for (std::size_t i = 0; i < groups.size(); ++i) {
      out += i == 0 ? groups[i] : " OR " + groups[i];
    }
    return out + ")";
  }

  std::string is_scalar(const Path& p) {
    switch (p.sql_source) {
      case SqlSource::missing: return "0";
      case SqlSource::text_column:
      case SqlSource::integer_column: return "1";
      case SqlSource::json_column: break;
    }
    return fmt::format("COALESCE({} IN ('text', 'integer', 'real', 'true', 'false', 'null'), 0)", json_type(p));
  }

  // 1 or 0 for the columns whose type is fixed, else a json_type() test.
  std::string type_test(const Path& p, const char* json_types, bool text_column, bool integer_column) {
    switch (p.sql_source) {
      case SqlSource::missing: return "0";
      case SqlSource::text_column: return text_column ? "1" : "0";
      case SqlSource::integer_column: return integer_column ? "1" : "0";
      case SqlSource::json_column: break;
    }
    return fmt::format("COALESCE({} IN ({}), 0)", json_type(p), json_types);
  }

  std::string function(const Node& n) {
    const Path& p = n.path;
    switch (n.function) {
      case Function::is_defined:
        if (p.sql_source == SqlSource::json_column) {
          return fmt::format("({} IS NOT NULL)", json_type(p));
        }
        return p.sql_source == SqlSource::missing ? "0" : "1";
      case Function::is_null: return type_test(p, "'null'", false, false);
      case Function::is_string: return type_test(p, "'text'", true, false);
      case Function::is_number: return type_test(p, "'integer', 'real'", false, true);
      case Function::is_bool: return type_test(p, "'true', 'false'", false, false);
      case Function::is_object: return type_test(p, "'object'", false, false);
      case Function::starts_with:
      case Function::ends_with: break;
    }
    if (n.literal.get_ref<const std::string&>().empty()) {
      return type_test(p, "'text'", true, false);  // every string starts and ends with ""
    }
    // Compared as BLOBs: bytewise like std::string, and length() counts bytes, not characters.
    std::string guard;
    std::string blob;
    switch (p.sql_source) {
      case SqlSource::missing:
      case SqlSource::integer_column: return "0";
      case SqlSource::text_column:
        guard = "1";
        blob = fmt::format("CAST({} AS BLOB)", p.sql_column);
        break;
      case SqlSource::json_column:
        guard = fmt::format("{} IS 'text'", json_type(p));
        blob = fmt::format("CAST({} AS BLOB)", json_extract(p));
        break;
    }
    const std::string length = fmt::format("length(CAST({} AS BLOB))", param(n.literal));
    const std::string affix = fmt::format("CAST({} AS BLOB)", param(n.literal));
    if (n.function == Function::starts_with) {
      return fmt::format("COALESCE({} AND substr({}, 1, {}) = {}, 0)", guard, blob, length, affix);
    }
    // substr(x, -n) is the last n bytes, or all of x when it is shorter (then it cannot equal).
    return fmt::format("COALESCE({} AND substr({}, -{}) = {}, 0)", guard, blob, length, affix);
  }

  std::vector<json>& params_;
};

// ---------------------------------------------------------------------------------------------
// Printing

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string literal_text(const json& v) {
  if (v.is_string()) {
    return quote(v.get_ref<const std::string&>());
  }
  if (v.is_boolean()) {
    return v.get<bool>() ? "true" : "false";
  }
  if (v.is_null()) {
    return "null";
  }
  if (v.is_number_float()) {
    std::array<char, 64> buffer{};
    auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), v.get<double>());
    std::string out(buffer.data(), end);
    if (out.find_first_of(".e") == std::string::npos) {
      out += ".0";  // stays a decimal when parsed again
    }
    return out;
  }
  return v.dump();
}

std::string path_text(const Path& p) {
  std::string out;
  switch (p.root) {
    case Root::device_id: out = "deviceId"; break;
    case Root::status: out = "status"; break;
    case Root::authentication_type: out = "authenticationType"; break;
    case Root::tags: out = "tags"; break;
    case Root::desired: out = "properties.desired"; break;
    case Root::reported: out = "properties.reported"; break;
  }
  for (const auto& segment : p.segments) {
    if (is_identifier(segment)) {
      out += '.';
      out += segment;
    } else {
      out += '[' + quote(segment) + ']';
    }
  }
  return out;
}

const char* function_name(Function f) {
  for (const auto& info : k_functions) {
    if (info.function == f) {
      return info.name;
    }
  }
  return "IS_DEFINED";
}

std::string print(const Node& n) {
  switch (n.kind) {
    case Kind::or_:
    case Kind::and_: {
      std::string out;
      for (const auto& child : n.children) {
        if (!out.empty()) {
          out += n.kind == Kind::or_ ? " OR " : " AND ";
        }
        // Only an OR under an AND needs parentheses: NOT > AND > OR.
        const bool parens = n.kind == Kind::and_ && child->kind == Kind::or_;
        out += parens ? "(" + print(*child) + ")" : print(*child);
      }
      return out;
    }
    case Kind::not_: {
      const Node& child = *n.children[0];
      const bool bare = child.kind == Kind::function || child.kind == Kind::not_;
      return bare ? "NOT " + print(child) : "NOT (" + print(child) + ")";
    }
    case Kind::compare: return fmt::format("{} {} {}", path_text(n.path), op_text(n.op), literal_text(n.literal));
    case Kind::in:
    case Kind::not_in: {
      std::string out = path_text(n.path) + (n.kind == Kind::in ? " IN [" : " NOT IN [");
      for (std::size_t i = 0; i < n.list.size(); ++i) {
        out += (i == 0 ? "" : ", ") + literal_text(n.list[i]);
      }
      return out + "]";
    }
    case Kind::function: {
      std::string out = std::string(function_name(n.function)) + "(" + path_text(n.path);
      if (n.function == Function::starts_with || n.function == Function::ends_with) {
        out += ", " + literal_text(n.literal);
      }
      return out + ")";
    }
  }
  return {};
}

}  // namespace

Query::Query() = default;
Query::~Query() = default;
Query::Query(Query&&) noexcept = default;
Query& Query::operator=(Query&&) noexcept = default;

Query Query::parse(std::string_view text) {
  Query q;
  q.root_ = Parser(text).parse_query();
  return q;
}

bool Query::empty() const { return root_ == nullptr; }

bool Query::matches(const nlohmann::json& twin) const { return root_ == nullptr || evaluate(*root_, twin); }

// The SQL reads the local engine's table devices(id, status, auth_type, tags, desired, reported,
// desired_version, reported_version) where tags/desired/reported hold JSON objects serialised by
// nlohmann::json::dump() (raw UTF-8: SQLite 3.40 matches object keys against the raw JSON text)
// and id, status, auth_type, desired_version, reported_version are never NULL.
// Bind each params[i] to placeholder i+1 by its JSON type:
//   string  -> sqlite3_bind_text (byte length, embedded NULs allowed; JSON paths are strings too)
//   integer -> sqlite3_bind_int64 (unsigned above INT64_MAX -> sqlite3_bind_double)
//   float   -> sqlite3_bind_double
//   boolean -> sqlite3_bind_int64 with 1 or 0 (compared with json_extract, which yields 1/0)
//   null    -> sqlite3_bind_null (not emitted today)
// The expression is always 0 or 1 and agrees with matches() row for row.
std::string Query::to_sql(std::vector<nlohmann::json>& params) const {
  if (root_ == nullptr) {
    return "1";
  }
  return SqlWriter(params).write(*root_);
}

std::string Query::to_string() const { return root_ == nullptr ? std::string() : print(*root_); }

std::string quote_literal(std::string_view s) { return quote(std::string(s)); }

std::string Aggregation::to_string() const {
  std::string out = "SELECT ";
  for (std::size_t i = 0; i < group_by.size(); ++i) {
    out += group_by[i] + " AS " + aliases.at(i) + ", ";
  }
  out += "COUNT() AS " + count_alias + " FROM devices";
  if (!where.empty()) {
    out += " WHERE " + where;
  }
  for (std::size_t i = 0; i < group_by.size(); ++i) {
    out += (i == 0 ? " GROUP BY " : ", ") + group_by[i];
  }
  return out;
}

std::optional<Aggregation> parse_aggregation(std::string_view text) {
  Aggregation a;
  Parser parser(text);
  auto root = parser.parse_query(&a);
  if (!parser.select_list_) {
    return std::nullopt;  // SELECT * or a bare condition
  }
  a.where = root == nullptr ? std::string() : print(*root);
  return a;
}

struct PathBox {
  Path path;
};

PropertyPath::PropertyPath() = default;
PropertyPath::~PropertyPath() = default;
PropertyPath::PropertyPath(PropertyPath&&) noexcept = default;
PropertyPath& PropertyPath::operator=(PropertyPath&&) noexcept = default;

PropertyPath PropertyPath::parse(std::string_view text) {
  PropertyPath out;
  out.path_ = std::make_unique<PathBox>(PathBox{Parser(text).parse_lone_path()});
  return out;
}

const nlohmann::json* PropertyPath::find(const nlohmann::json& twin) const { return resolve(path_->path, twin); }

std::pair<std::string, std::string> PropertyPath::to_sql(std::vector<nlohmann::json>& params) const {
  const Path& p = path_->path;
  switch (p.sql_source) {
    case SqlSource::text_column: return {"'text'", p.sql_column};
    case SqlSource::integer_column: return {"'integer'", p.sql_column};
    case SqlSource::missing: return {"NULL", "NULL"};
    case SqlSource::json_column: break;
  }
  params.push_back(p.sql_json_path);
  params.push_back(p.sql_json_path);
  return {fmt::format("json_type({}, ?)", p.sql_column), fmt::format("json_extract({}, ?)", p.sql_column)};
}

std::string PropertyPath::to_string() const { return path_text(path_->path); }

std::string PropertyPath::last_name() const { return aiot::hub::query::last_name(path_->path); }

}  // namespace aiot::hub::query
