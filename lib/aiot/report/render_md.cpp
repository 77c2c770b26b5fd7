// Markdown: diff-friendly (one table row per line, no timestamps of its own), for committing to a repo.
#include <fmt/format.h>

#include "aiot/report/report.hpp"

namespace aiot::report {

namespace {

std::string cell(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? "—" : v.dump();
  std::string out;
  for (char c : s) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string badge(const std::string& status) {
  if (status == "fail") return "FAIL";
  if (status == "warn") return "WARN";
  if (status == "pass") return "PASS";
  return "N/A";
}

void table(std::string& out, const json& t) {
  out += fmt::format("\n**{}**\n\n", t.value("title", ""));
  const auto& cols = t["columns"];
  if (t["rows"].empty()) {
    out += "_(none)_\n";
    return;
  }
  out += "|";
  for (const auto& c : cols) out += " " + cell(c) + " |";
  out += "\n|";
  for (std::size_t i = 0; i < cols.size(); ++i) out += " --- |";
  out += "\n";
  for (const auto& row : t["rows"]) {
    out += "|";
    for (const auto& v : row) out += " " + cell(v) + " |";
    out += "\n";
  }
}

// A chart in Markdown is its data as a table (the HTML draws it).
void chart(std::string& out, const json& c) {
  json t = {{"title", "Chart: " + c.value("title", "")}, {"columns", json::array()}, {"rows", json::array()}};
  if (c.value("type", "") == "line") {
    t["columns"].push_back("series");
    for (const auto& x : c["x"]) t["columns"].push_back(x);
    for (const auto& s : c["series"]) {
      json row = json::array({s.value("name", "")});
      for (const auto& v : s["values"]) row.push_back(v.is_null() ? json("—") : json(fmt::format("{:.3f}", v.get<double>())));
      t["rows"].push_back(row);
    }
  } else {
    t["columns"] = {"bar", c.value("unit", "value")};
    for (const auto& b : c["bars"]) {
      std::string v = b.contains("value") && b["value"].is_number() ? fmt::format("{:.4g}", b["value"].get<double>()) : "—";
      if (b.contains("lower") && b["lower"].is_number())
        v += fmt::format(" [{:.4g}, {:.4g}]", b["lower"].get<double>(), b["upper"].get<double>());
      t["rows"].push_back({b.value("label", ""), v});
    }
  }
  table(out, t);
}

}  // namespace

std::string render_markdown(const json& doc) {
  std::string out;
  const auto& p = doc["period"];
  out += fmt::format("# {}\n\n", doc.value("title", ""));
  out += fmt::format("- Period: {} to {} ({})\n", p.value("from", ""), p.value("to", ""), p.value("label", ""));
  out += fmt::format("- Hub: {}\n", doc.value("hub", "").empty() ? "(none)" : doc.value("hub", ""));
  out += fmt::format("- Policy: {}\n", doc["policy"].value("source", ""));
  out += fmt::format("- aiot {}; schema {}; content SHA-256 {}\n", doc.value("aiotVersion", ""), doc.value("schema", ""), doc.value("content_sha256", ""));
  const auto& v = doc["verdict"];
  std::string level = v.value("level", "pass");
  out += fmt::format("\n**Verdict: {}** — {} error(s), {} warning(s) in the areas; {} rule(s) not met.\n", level == "pass" ? "PASS" : level == "warn" ? "WARN" : "FAIL",
                     v.value("errors", 0), v.value("warnings", 0), v["failedRules"].size());
  for (const auto& r : v["failedRules"]) out += fmt::format("- `{}` ({}): {}\n", r.value("id", ""), r.value("level", ""), r.value("evidence", ""));
  out += "\n## Contents\n\n";
  for (const auto& s : doc["sections"])
    out += fmt::format("{}. [{}](#{}) — {}\n", s.value("number", 0), s.value("title", ""), s.value("id", ""), badge(s.value("status", "n/a")));
  for (const auto& s : doc["sections"]) {
    out += fmt::format("\n<a id=\"{}\"></a>\n## {}. {} — {}\n\n{}\n", s.value("id", ""), s.value("number", 0), s.value("title", ""), badge(s.value("status", "n/a")),
                       s.value("summary", ""));
    if (!s["findings"].empty()) {
      out += "\n**Findings**\n\n";
      for (const auto& f : s["findings"]) out += fmt::format("- **{}**: {}\n", f.value("severity", ""), f.value("text", ""));
    }
    for (const auto& t : s["tables"]) table(out, t);
    for (const auto& c : s["charts"]) chart(out, c);
    if (!s["notes"].empty()) {
      out += "\n";
      for (const auto& n : s["notes"]) out += fmt::format("> {}\n>\n", n.get<std::string>());
      out.erase(out.size() - 2);
    }
  }
  return out;
}

}  // namespace aiot::report
