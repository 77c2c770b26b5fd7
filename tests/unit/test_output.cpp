// Output layer: table (TTY and piped), json, yaml, csv, object views, find_path, colour, progress.
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "aiot/core/env.hpp"
#include "aiot/core/iostreams.hpp"
#include "aiot/output/output.hpp"
#include "support/golden.hpp"

using nlohmann::json;

namespace out = aiot::output;

namespace {

aiot::TimePoint test_now() {
  return *aiot::parse_rfc3339("2026-11-23T09:00:00Z");
}

// Three devices covering the awkward cases: a missing model and a missing time, a nested tag
// object, an empty tag object, three status colours, a tab in one value, a comma and quotes in another.
json device_rows() {
  return json::parse(R"([
    {"deviceId": "cam-berlin-001", "status": "enabled", "authenticationType": "sas",
     "tags": {"site": "berlin", "floor": 2},
     "properties": {"reported": {"aiot": {"ota": {"version": "1.4.0"}}}},
     "lastUpdated": "2026-11-23T06:00:00Z", "notes": "front door camera, north wall"},
    {"deviceId": "cam-paris-002", "status": "disabled", "authenticationType": "selfSigned",
     "tags": {"site": "paris, \"rive gauche\""},
     "lastUpdated": "2026-11-20T08:30:00Z", "notes": "say \"hi\", then wait"},
    {"deviceId": "gw-003", "status": "provisioning", "authenticationType": "x509",
     "tags": {},
     "properties": {"reported": {"aiot": {"ota": {"version": "2.0"}}}},
     "notes": "tab\there"}
  ])");
}

const std::vector<out::Column>& device_columns() {
  static const std::vector<out::Column> k_columns = {
      {"ID", "deviceId", out::ColumnKind::text},
      {"Status", "status", out::ColumnKind::status},
      {"AUTH", "authenticationType", out::ColumnKind::text},
      {"TAGS", "tags", out::ColumnKind::json},
      {"MODEL", "properties.reported.aiot.ota.version", out::ColumnKind::text},
      {"UPDATED", "lastUpdated", out::ColumnKind::time},
      {"NOTES", "notes", out::ColumnKind::text},
  };
  return k_columns;
}

out::RenderOptions options(out::Format format) {
  out::RenderOptions opt;
  opt.format = format;
  opt.now = test_now();
  return opt;
}

std::string render_list(out::Format format, bool tty, int width = 0, bool color = false, bool no_headers = false) {
  aiot::TestStreams ts;
  ts.io.set_tty(false, tty, tty);
  ts.io.set_width(width);
  if (color) {
    ts.io.decide_color(aiot::Env{}, false);
  }
  auto opt = options(format);
  opt.no_headers = no_headers;
  out::print_list(ts.io, device_rows(), device_columns(), opt);
  CHECK(ts.err.str().empty());
  return ts.out.str();
}

std::size_t count_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

// Code points per line, for width checks with '…' in the text.
std::size_t max_line_width(const std::string& s) {
  std::size_t widest = 0;
  std::size_t current = 0;
  for (char c : s) {
    if (c == '\n') {
      widest = std::max(widest, current);
      current = 0;
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++current;
    }
  }
  return std::max(widest, current);
}

struct ManualClock {
  aiot::TimePoint now = test_now();
  aiot::Clock clock() {
    return [this] { return now; };
  }
};

}  // namespace

TEST_CASE("output: golden renderings of a device list") {
  SUBCASE("table on a TTY") {
    aiot::test::check_golden("output/table_tty.txt", render_list(out::Format::table, true));
  }
  SUBCASE("table on a narrow TTY") {
    auto text = render_list(out::Format::table, true, 40);
    aiot::test::check_golden("output/table_tty_narrow.txt", text);
    CHECK(max_line_width(text) <= 40);
    CHECK(text.find("…") != std::string::npos);
  }
  SUBCASE("table piped") {
    aiot::test::check_golden("output/table_piped.txt", render_list(out::Format::table, false));
  }
  SUBCASE("json piped") {
    aiot::test::check_golden("output/json_piped.txt", render_list(out::Format::json, false));
  }
  SUBCASE("json on a TTY") {
    aiot::test::check_golden("output/json_tty.txt", render_list(out::Format::json, true));
  }
  SUBCASE("yaml") {
    aiot::test::check_golden("output/yaml.txt", render_list(out::Format::yaml, false));
  }
  SUBCASE("csv") {
    aiot::test::check_golden("output/csv.txt", render_list(out::Format::csv, false));
  }
}

TEST_CASE("output: table on a TTY") {
  auto text = render_list(out::Format::table, true);
  SUBCASE("headers are upper-cased and columns aligned") {
    auto first_line = text.substr(0, text.find('\n'));
    CHECK(first_line.rfind("ID", 0) == 0);
    CHECK(first_line.find("STATUS") != std::string::npos);
    CHECK(text.find("Status") == std::string::npos);
    // The second column starts at the same offset in every line: widest ID + two spaces.
    auto col = std::string("cam-berlin-001").size() + 2;
    CHECK(first_line.substr(col, 6) == "STATUS");
    CHECK(text.find("cam-berlin-001  enabled") != std::string::npos);
    CHECK(text.find("gw-003          provisioning") != std::string::npos);
  }
  SUBCASE("relative times, '-' for missing values, one line per row") {
    CHECK(text.find("3 hours ago") != std::string::npos);
    CHECK(text.find("3 days ago") != std::string::npos);
    CHECK(text.find("2026-11-23T06:00:00Z") == std::string::npos);
    CHECK(text.find("  -  ") != std::string::npos);
    CHECK(text.find('\t') == std::string::npos);
    CHECK(count_lines(text) == 4);
  }
  SUBCASE("no trailing blanks") {
    CHECK(text.find(" \n") == std::string::npos);
  }
  SUBCASE("no_headers drops the header line") {
    auto bare = render_list(out::Format::table, true, 0, false, true);
    CHECK(count_lines(bare) == 3);
    CHECK(bare.find("STATUS") == std::string::npos);
  }
}

TEST_CASE("output: colour only when colour is on") {
  auto plain = render_list(out::Format::table, true, 0, false);
  auto coloured = render_list(out::Format::table, true, 0, true);
  CHECK(plain.find("\x1b[") == std::string::npos);
  CHECK(coloured.find("\x1b[1mID\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[32menabled\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[31mdisabled\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[33mprovisioning\x1b[0m") != std::string::npos);
  // Escape codes do not count toward alignment: stripping them gives the plain table back.
  std::string stripped;
  for (std::size_t i = 0; i < coloured.size(); ++i) {
    if (coloured[i] == '\x1b') {
      i = coloured.find('m', i);
      continue;
    }
    stripped += coloured[i];
  }
  CHECK(stripped == plain);
  SUBCASE("piped output never has colour") {
    aiot::TestStreams ts;
    ts.io.set_tty(false, false, false);
    ts.io.decide_color(aiot::Env(std::map<std::string, std::string>{{"CLICOLOR_FORCE", "1"}}), false);
    REQUIRE(ts.io.color_out());
    out::print_list(ts.io, device_rows(), device_columns(), options(out::Format::table));
    CHECK(ts.out.str().find("\x1b[") == std::string::npos);
  }
}

TEST_CASE("output: narrow TTY truncates the widest column first") {
  json rows = json::array({{{"id", "a1"}, {"desc", std::string(50, 'x')}}, {{"id", "b2"}, {"desc", "short"}}});
  std::vector<out::Column> cols = {{"ID", "id"}, {"DESC", "desc"}};
  aiot::TestStreams ts;
  ts.io.set_tty(false, true, false);
  ts.io.set_width(20);
  out::print_list(ts.io, rows, cols, options(out::Format::table));
  auto text = ts.out.str();
  CHECK(text.find("a1  " + std::string(15, 'x') + "…\n") != std::string::npos);
  CHECK(text.find("b2  short\n") != std::string::npos);
  CHECK(max_line_width(text) == 20);
  SUBCASE("multi-byte characters count as one column") {
    json wide = json::array({{{"id", "zürich-ü"}, {"desc", "ok"}}, {{"id", "z"}, {"desc", "ok"}}});
    aiot::TestStreams ts2;
    ts2.io.set_tty(false, true, false);
    out::print_list(ts2.io, wide, cols, options(out::Format::table));
    CHECK(ts2.out.str() == "ID        DESC\nzürich-ü  ok\nz         ok\n");
  }
}

TEST_CASE("output: piped table is tab-separated data") {
  auto text = render_list(out::Format::table, false);
  CHECK(text.rfind("ID\tSTATUS\tAUTH\tTAGS\tMODEL\tUPDATED\tNOTES\n", 0) == 0);
  CHECK(text.find("2026-11-23T06:00:00Z") != std::string::npos);
  CHECK(text.find("ago") == std::string::npos);
  CHECK(text.find("tab here") != std::string::npos);
  CHECK(count_lines(text) == 4);
  // Every line has exactly one field per column, so `cut -f` works.
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    auto line = text.substr(start, end - start);
    CHECK(std::count(line.begin(), line.end(), '\t') == 6);
    start = end + 1;
  }
  // The missing model of the second device is an empty field.
  CHECK(text.find("selfSigned\t{\"site\":\"paris, \\\"rive gauche\\\"\"}\t\t2026-11-20T08:30:00Z") != std::string::npos);
}

TEST_CASE("output: json") {
  SUBCASE("piped: one compact line, parseable, equal to the input") {
    auto text = render_list(out::Format::json, false);
    CHECK(count_lines(text) == 1);
    CHECK(text.back() == '\n');
    CHECK(json::parse(text) == device_rows());
  }
  SUBCASE("TTY: indented with two spaces") {
    auto text = render_list(out::Format::json, true);
    CHECK(text.rfind("[\n  {\n    \"authenticationType\"", 0) == 0);
    CHECK(json::parse(text) == device_rows());
  }
  SUBCASE("an empty list is []") {
    aiot::TestStreams ts;
    out::print_list(ts.io, json::array(), device_columns(), options(out::Format::json));
    CHECK(ts.out.str() == "[]\n");
  }
}

TEST_CASE("output: to_yaml keeps strings strings") {
  json value = {{"v", "2.0"}, {"b", "true"}, {"e", ""}, {"o", "01"}, {"n", "null"}, {"y", "yes"},
                {"d", "2026-11-23"}, {"t", "2026-11-23T06:00:00Z"}, {"neg", "-5"}, {"plain", "berlin"},
                {"num", 2.5}, {"int", 7}, {"flag", false}, {"nothing", nullptr}};
  auto text = out::to_yaml(value);
  CHECK(text.back() == '\n');
  auto node = YAML::Load(text);
  REQUIRE(node.IsMap());
  for (const auto& key : {"v", "b", "e", "o", "n", "y", "d", "t", "neg"}) {
    CAPTURE(key);
    REQUIRE(node[key].IsScalar());
    CHECK(node[key].as<std::string>() == value[key].get<std::string>());
    // "!" is yaml-cpp's tag for a quoted (non-plain) scalar: no reader will resolve it to a non-string.
    CHECK(node[key].Tag() == "!");
  }
  CHECK(node["plain"].Tag() == "?");
  CHECK(node["plain"].as<std::string>() == "berlin");
  CHECK(node["num"].as<double>() == 2.5);
  CHECK(node["int"].as<int>() == 7);
  CHECK(node["flag"].as<bool>() == false);
  CHECK(node["nothing"].IsNull());
  CHECK(text.find("v: \"2.0\"") != std::string::npos);
  CHECK(text.find("e: \"\"") != std::string::npos);
  SUBCASE("keys that look like numbers are quoted too") {
    auto keyed = YAML::Load(out::to_yaml(json{{"1", "one"}, {"true", "t"}}));
    for (const auto& entry : keyed) {
      CHECK(entry.first.Tag() == "!");
    }
  }
  SUBCASE("empty containers stay on the key's line") {
    CHECK(out::to_yaml(json{{"a", json::array()}, {"b", json::object()}}) == "a: []\nb: {}\n");
  }
}

TEST_CASE("output: csv") {
  SUBCASE("header is the column paths; json columns are JSON text") {
    auto text = render_list(out::Format::csv, false);
    CHECK(text.rfind("deviceId,status,authenticationType,tags,properties.reported.aiot.ota.version,lastUpdated,notes\n",
                     0) == 0);
    CHECK(text.find("\"{\"\"floor\"\":2,\"\"site\"\":\"\"berlin\"\"}\"") != std::string::npos);
    CHECK(text.find(",{},2.0,,") != std::string::npos);
    CHECK(text.find("\r") == std::string::npos);
  }
  SUBCASE("quoting") {
    json rows = json::array({{{"v", "plain"}},
                             {{"v", "a,b"}},
                             {{"v", "say \"hi\""}},
                             {{"v", "line\nbreak"}},
                             {{"v", "cr\rhere"}},
                             {{"v", "tab\tstays"}},
                             {{"v", "=SUM(A1)"}},
                             {{"v", 3}},
                             {{"v", true}},
                             {{"v", nullptr}},
                             json::object()});
    std::vector<out::Column> cols = {{"VALUE", "v"}};
    aiot::TestStreams ts;
    auto opt = options(out::Format::csv);
    opt.no_headers = true;
    out::print_list(ts.io, rows, cols, opt);
    CHECK(ts.out.str() ==
          "plain\n\"a,b\"\n\"say \"\"hi\"\"\"\n\"line\nbreak\"\n\"cr\rhere\"\ntab\tstays\n=SUM(A1)\n3\ntrue\n\n\n");
  }
}

TEST_CASE("output: print_object") {
  json device = {{"deviceId", "cam-1"},
                 {"tags", {{"site", "berlin"}, {"floor", 2}}},
                 {"zones", {"a", "b"}},
                 {"etag", nullptr},
                 {"enabled", true},
                 {"desc", "two\nlines"}};
  SUBCASE("TTY table: FIELD/VALUE, flattened, sorted") {
    aiot::TestStreams ts;
    ts.io.set_tty(false, true, false);
    out::print_object(ts.io, device, options(out::Format::table));
    CHECK(ts.out.str() ==
          "FIELD       VALUE\n"
          "desc        two lines\n"
          "deviceId    cam-1\n"
          "enabled     true\n"
          "etag        -\n"
          "tags.floor  2\n"
          "tags.site   berlin\n"
          "zones       [\"a\",\"b\"]\n");
  }
  SUBCASE("piped: tab-separated, null empty") {
    aiot::TestStreams ts;
    out::print_object(ts.io, device, options(out::Format::table));
    CHECK(ts.out.str() ==
          "FIELD\tVALUE\ndesc\ttwo lines\ndeviceId\tcam-1\nenabled\ttrue\netag\t\ntags.floor\t2\ntags.site\tberlin\n"
          "zones\t[\"a\",\"b\"]\n");
  }
  SUBCASE("csv: field,value") {
    aiot::TestStreams ts;
    out::print_object(ts.io, device, options(out::Format::csv));
    CHECK(ts.out.str() ==
          "field,value\ndesc,\"two\nlines\"\ndeviceId,cam-1\nenabled,true\netag,\ntags.floor,2\ntags.site,berlin\n"
          "zones,\"[\"\"a\"\",\"\"b\"\"]\"\n");
  }
  SUBCASE("json and yaml whole") {
    aiot::TestStreams ts;
    out::print_object(ts.io, device, options(out::Format::json));
    CHECK(json::parse(ts.out.str()) == device);
    aiot::TestStreams ty;
    out::print_object(ty.io, device, options(out::Format::yaml));
    auto node = YAML::Load(ty.out.str());
    CHECK(node["tags"]["site"].as<std::string>() == "berlin");
    CHECK(node["zones"][1].as<std::string>() == "b");
  }
}

TEST_CASE("output: find_path") {
  json v = {{"a", {{"b", {{"c", 1}}}}}, {"list", {1, 2}}, {"s", "text"}, {"n", nullptr}};
  REQUIRE(out::find_path(v, "a.b.c") != nullptr);
  CHECK(*out::find_path(v, "a.b.c") == 1);
  CHECK(out::find_path(v, "a.b")->is_object());
  CHECK(out::find_path(v, "missing") == nullptr);
  CHECK(out::find_path(v, "a.x.c") == nullptr);
  CHECK(out::find_path(v, "s.length") == nullptr);  // through a string
  CHECK(out::find_path(v, "list.0") == nullptr);    // arrays are not traversed
  CHECK(out::find_path(v, "a..b") == nullptr);
  REQUIRE(out::find_path(v, "n") != nullptr);
  CHECK(out::find_path(v, "n")->is_null());
  CHECK(out::find_path(v, "") == &v);
}

TEST_CASE("output: formats and colour helpers") {
  CHECK(out::parse_format("json") == out::Format::json);
  CHECK(out::parse_format("YAML") == out::Format::yaml);
  CHECK(out::parse_format("csv") == out::Format::csv);
  CHECK(out::parse_format("table") == out::Format::table);
  CHECK_FALSE(out::parse_format("xml").has_value());
  CHECK(out::to_string(out::Format::csv) == "csv");
  CHECK(out::red("x", true) == "\x1b[31mx\x1b[0m");
  CHECK(out::green("x", true) == "\x1b[32mx\x1b[0m");
  CHECK(out::yellow("x", true) == "\x1b[33mx\x1b[0m");
  CHECK(out::bold("x", true) == "\x1b[1mx\x1b[0m");
  CHECK(out::dim("x", true) == "\x1b[2mx\x1b[0m");
  CHECK(out::red("x", false) == "x");
  CHECK(out::dim("x", false) == "x");
}

TEST_CASE("output: progress") {
  ManualClock clock;
  SUBCASE("silent when stderr is not a TTY") {
    aiot::TestStreams ts;
    ts.io.set_tty(false, true, false);
    {
      out::Progress p(ts.io, "uploading", 10, clock.clock());
      p.advance(5);
      p.done();
    }
    CHECK(ts.err.str().empty());
    CHECK(ts.out.str().empty());
  }
  SUBCASE("silent with -q") {
    aiot::TestStreams ts;
    ts.io.set_tty(false, false, true);
    ts.io.set_quiet(true);
    {
      out::Progress p(ts.io, "uploading", 10, clock.clock());
      p.advance(5);
    }
    CHECK(ts.err.str().empty());
  }
  SUBCASE("draws on a TTY, throttled, final state and clear on done") {
    aiot::TestStreams ts;
    ts.io.set_tty(false, false, true);
    out::Progress p(ts.io, "devices", 1000, clock.clock());
    CHECK(ts.err.str() == "\rdevices [....................] 0/1000 0%");
    p.advance(120);  // within 100 ms of the first draw: no redraw
    CHECK(ts.err.str() == "\rdevices [....................] 0/1000 0%");
    clock.now += std::chrono::milliseconds(100);
    p.advance(0);
    CHECK(ts.err.str().ends_with("\rdevices [##..................] 120/1000 12%"));
    clock.now += std::chrono::milliseconds(50);
    p.advance(880);
    CHECK(ts.err.str().find("1000/1000") == std::string::npos);
    p.done();
    CHECK(ts.err.str().ends_with("\rdevices [####################] 1000/1000 100%\r\x1b[K"));
    auto after_done = ts.err.str();
    p.advance(1);
    p.done();
    CHECK(ts.err.str() == after_done);
    CHECK(ts.out.str().empty());
  }
  SUBCASE("the destructor finishes the line") {
    aiot::TestStreams ts;
    ts.io.set_tty(false, false, true);
    { out::Progress p(ts.io, "x", 2, clock.clock()); }
    CHECK(ts.err.str().ends_with("\r\x1b[K"));
  }
  SUBCASE("a long label is cut to the terminal width") {
    aiot::TestStreams ts;
    ts.io.set_tty(false, false, true);
    ts.io.set_width(40);
    out::Progress p(ts.io, std::string(100, 'L'), 5, clock.clock());
    auto line = ts.err.str().substr(1);
    CHECK(line.size() == 39);
    CHECK(line.ends_with("0/5 0%"));
  }
}
