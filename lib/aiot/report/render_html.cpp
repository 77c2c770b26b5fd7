// One self-contained HTML file: inline CSS, inline SVG charts, no script, no external resource
// (the Content-Security-Policy forbids any), so it opens offline and in mail attachments.
#include <fmt/format.h>

#include "aiot/report/report.hpp"
#include "aiot/report/svg.hpp"

namespace aiot::report {

namespace {

constexpr const char* k_css = R"css(
:root{--fail:#dc2626;--warn:#d97706;--pass:#059669;--na:#6b7280}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111827;margin:0;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px}h1{font-size:24px;margin:0 0 8px}h2{font-size:19px;margin:0}
header.top{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 20px;margin-bottom:16px}
.meta{color:#4b5563;font-size:13px}.meta span{margin-right:16px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:16px 20px;margin:16px 0}
section>header{display:flex;align-items:center;gap:12px;margin-bottom:8px}
.badge{display:inline-block;border-radius:999px;padding:2px 10px;font-size:12px;font-weight:700;color:#fff;text-transform:uppercase}
.badge.fail{background:var(--fail)}.badge.warn{background:var(--warn)}.badge.pass{background:var(--pass)}.badge.na{background:var(--na)}
.verdict{font-size:16px;margin:12px 0 4px}ul.findings{margin:8px 0;padding-left:20px}
ul.findings li.error{color:var(--fail)}ul.findings li.warn{color:#92400e}
table{border-collapse:collapse;width:100%;margin:6px 0 14px;font-size:13px}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f3f4f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}.scroll{overflow-x:auto}
.notes{color:#4b5563;font-size:12.5px;border-left:3px solid #e5e7eb;padding-left:10px}
figure{margin:8px 0}svg{max-width:100%;height:auto}nav ol{columns:2;margin:8px 0}code{font-size:12px;word-break:break-all}
)css";

std::string cls(const std::string& status) {
  if (status == "fail" || status == "warn" || status == "pass") return status;
  return "na";
}

std::string badge(const std::string& status) {
  return fmt::format(R"html(<span class="badge {}">{}</span>)html", cls(status), status == "n/a" ? "n/a" : status);
}

// Right-aligned: cells that are a number, a percentage or a number with its interval.
bool numeric(const std::string& s) {
  if (s.empty() || s.size() > 40 || !((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+')) return false;
  return s.find_first_not_of("0123456789.,%-+ []eE") == std::string::npos;
}

std::string table(const json& t) {
  std::string out = R"html(<div class="scroll"><table>)html";
  out += "<caption>" + xml_escape(t.value("title", "")) + "</caption><thead><tr>";
  for (const auto& c : t["columns"]) out += "<th>" + xml_escape(c.is_string() ? c.get<std::string>() : c.dump()) + "</th>";
  out += "</tr></thead><tbody>";
  if (t["rows"].empty()) out += fmt::format(R"html(<tr><td colspan="{}">(none)</td></tr>)html", t["columns"].size());
  for (const auto& row : t["rows"]) {
    out += "<tr>";
    for (const auto& v : row) {
      std::string s = v.is_string() ? v.get<std::string>() : v.is_null() ? "—" : v.dump();
      out += (numeric(s) ? R"html(<td class="num">)html" : std::string("<td>")) + xml_escape(s) + "</td>";
    }
    out += "</tr>";
  }
  return out + "</tbody></table></div>\n";
}

}  // namespace

std::string render_html(const json& doc) {
  const auto& p = doc["period"];
  const auto& v = doc["verdict"];
  std::string level = v.value("level", "pass");
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">";
  out += R"html(<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">)html";
  out += R"html(<meta name="viewport" content="width=device-width, initial-scale=1">)html";
  out += "<title>" + xml_escape(doc.value("title", "")) + "</title><style>" + k_css + "</style></head>\n<body><main>\n";
  out += R"html(<header class="top">)html";
  out += "<h1>" + xml_escape(doc.value("title", "")) + "</h1>";
  out += fmt::format(R"html(<div class="meta"><span>Period {} – {}</span><span>Hub {}</span><span>aiot {}</span></div>)html", xml_escape(p.value("from", "")),
                     xml_escape(p.value("to", "")), xml_escape(doc.value("hub", "").empty() ? "(none)" : doc.value("hub", "")), xml_escape(doc.value("aiotVersion", "")));
  out += fmt::format(R"html(<div class="meta"><span>Policy {}</span><span>Content SHA-256 <code>{}</code></span></div>)html", xml_escape(doc["policy"].value("source", "")),
                     xml_escape(doc.value("content_sha256", "")));
  std::string verdict_status = level == "error" ? "fail" : level == "warn" ? "warn" : "pass";
  out += fmt::format(R"html(<p class="verdict">Verdict {} — {} error(s), {} warning(s); {} rule(s) not met.</p>)html", badge(verdict_status), v.value("errors", 0),
                     v.value("warnings", 0), v["failedRules"].size());
  if (!v["failedRules"].empty()) {
    out += R"html(<ul class="findings">)html";
    for (const auto& r : v["failedRules"])
      out += fmt::format(R"html(<li class="{}"><code>{}</code>: {}</li>)html", r.value("level", "") == "error" ? "error" : "warn", xml_escape(r.value("id", "")),
                         xml_escape(r.value("evidence", "")));
    out += "</ul>";
  }
  out += "<nav><ol>";
  for (const auto& s : doc["sections"])
    out += fmt::format(R"html(<li><a href="#{}">{}</a> {}</li>)html", xml_escape(s.value("id", "")), xml_escape(s.value("title", "")), badge(s.value("status", "n/a")));
  out += "</ol></nav></header>\n";
  for (const auto& s : doc["sections"]) {
    out += fmt::format(R"html(<section id="{}"><header><h2>{}. {}</h2>{}</header>)html", xml_escape(s.value("id", "")), s.value("number", 0),
                       xml_escape(s.value("title", "")), badge(s.value("status", "n/a")));
    out += "<p>" + xml_escape(s.value("summary", "")) + "</p>";
    if (!s["findings"].empty()) {
      out += R"html(<ul class="findings">)html";
      for (const auto& f : s["findings"])
        out += fmt::format(R"html(<li class="{}"><strong>{}</strong>: {}</li>)html", xml_escape(f.value("severity", "")), xml_escape(f.value("severity", "")),
                           xml_escape(f.value("text", "")));
      out += "</ul>";
    }
    for (const auto& c : s["charts"]) out += "<figure>" + render_svg(c) + "</figure>\n";
    for (const auto& t : s["tables"]) out += table(t);
    if (!s["notes"].empty()) {
      out += R"html(<div class="notes">)html";
      for (const auto& n : s["notes"]) out += "<p>" + xml_escape(n.get<std::string>()) + "</p>";
      out += "</div>";
    }
    out += "</section>\n";
  }
  out += "</main></body></html>\n";
  return out;
}

}  // namespace aiot::report
