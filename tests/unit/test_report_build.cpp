// The governance report assembled from in-memory inputs: every section, the verdict and exit code,
// determinism, the renderers, files written atomically and replaced on a re-run, changes since the
// previous period.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include <fmt/format.h>
#include <unistd.h>

#include "aiot/core/error.hpp"
#include "aiot/core/fs.hpp"
#include "aiot/report/inputs.hpp"
#include "aiot/report/report.hpp"
#include "aiot/report/svg.hpp"

using namespace aiot;
using namespace aiot::report;
using nlohmann::json;

namespace {

TimePoint at(const char* text) { return *parse_rfc3339(text); }

const json& section(const json& doc, const std::string& id) {
  for (const auto& s : doc["sections"]) {
    if (s["id"] == id) return s;
  }
  FAIL("no section " << id);
  static json none;
  return none;
}

bool any_finding(const json& s, const std::string& needle) {
  for (const auto& f : s["findings"]) {
    if (f["text"].get<std::string>().find(needle) != std::string::npos) return true;
  }
  return false;
}

// 40 devices in berlin and 40 in tokyo; 4 of them still on 2.1; a journal with a rolled-back 2.1;
// decisions where tokyo is selected far less often than berlin; a billing export where tokyo is
// over its budget.
Inputs sample_inputs() {
  Inputs in;
  in.period = parse_period("2026-W47", {});
  in.policy = Policy::parse(R"(
models: {detector: {approved: "2.0", modelCards: ["2.0"]}}
cost: {budgetPerSite: 100, budgets: {tokyo: 5}}
carbon: {devicePowerW: {default: 5}, regions: {eu-central: DEU, ap-northeast: JPN}}
)",
                            "policy.yaml");
  in.hub = "local:test";
  in.aiot_version = "test";
  std::vector<hub::Device> devices;
  for (int i = 0; i < 80; ++i) {
    hub::Device d;
    d.id = fmt::format("dev-{:03}", i);
    bool tokyo = i % 2 == 1;
    d.tags = {{"site", tokyo ? "tokyo" : "berlin"}, {"region", tokyo ? "ap-northeast" : "eu-central"}, {"hw", i % 3 == 0 ? "pi5" : "pi4"}};
    std::string version = i < 4 ? "2.1" : "2.0";
    d.auth.primary_key = "key-" + d.id;
    d.reported = {{"aiot",
                   {{"model", {{"name", "detector"}, {"version", version}}},
                    {"ota", {{"state", "succeeded"}, {"version", version}, {"ts", "2026-11-17T03:00:00Z"}}},
                    {"health", {{"inferences", 3600}, {"ts", "2026-11-22T23:00:00Z"}}}}}};
    devices.push_back(d);
  }
  in.devices = devices;
  JournalInput j;
  j.rollout = "detector-2-1";
  j.path = "detector-2-1.jsonl";
  j.verify.ok = true;
  j.verify.events = 5;
  j.verify.head = {5, "ab12"};
  j.events = {
      {{"op", "PLANNED"}, {"ts", "2026-11-17T00:00:00Z"}, {"target", "2.1"}, {"baseline", "2.0"}, {"waves", {{{"name", "canary"}}, {{"name", "all"}}}}},
      {{"op", "WAVE_DISPATCHED"}, {"ts", "2026-11-17T00:00:00Z"}, {"wave", "canary"}},
      {{"op", "GATES_EVALUATED"}, {"ts", "2026-11-17T01:00:00Z"}, {"wave", "canary"},
       {"gates", {{"install", {{"gate", "outcome"}, {"inputs", {{"failed", 13}, {"timed_out", 0}}}}}}}},
      {{"op", "ROLLBACK_STARTED"}, {"ts", "2026-11-17T01:00:00Z"}, {"reason", "wave canary: gate install failed"}},
      {{"op", "ROLLBACK_DONE"}, {"ts", "2026-11-17T02:00:00Z"}},
  };
  in.journals.push_back(j);
  std::vector<LabelRow> labels;
  for (int i = 0; i < 80; ++i) {
    for (int k = 0; k < 5; ++k) {
      LabelRow r;
      r.device_id = fmt::format("dev-{:03}", i);
      r.ts = at("2026-11-18T00:00:00Z") + std::chrono::hours(k);
      bool tokyo = i % 2 == 1;
      r.predicted = tokyo ? (k == 0) : (k < 3);  // tokyo 20 %, berlin 60 %
      r.actual = k < 2;
      labels.push_back(r);
    }
  }
  in.labels = labels;
  in.billing = parse_billing_csv(
      "date,service,category,site,model_version,cost,currency\n"
      "2026-11-18,iothub,messaging,berlin,2.0,20.00,USD\n"
      "2026-11-18,iothub,messaging,tokyo,2.0,30.00,USD\n"
      "2026-11-18,compute,compute,tokyo,2.0,10.00,USD\n"
      "2026-12-01,compute,compute,tokyo,2.0,999.00,USD\n",  // outside the period
      "billing.csv");
  in.files.push_back({"policy", "policy.yaml", "00", 10});
  return in;
}

}  // namespace

TEST_CASE("report build: twelve sections, each issue shown, exit 3 at --fail-on error") {
  Inputs in = sample_inputs();
  json doc = build_report(in);
  CHECK(doc["schema"] == "aiot.report/v1");
  REQUIRE(doc["sections"].size() == 12);
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < 12; ++i) {
    CHECK(doc["sections"][i]["number"] == i + 1);
    ids.push_back(doc["sections"][i]["id"]);
  }
  CHECK(ids == std::vector<std::string>{"summary", "kpis", "compliance", "data_health", "performance", "drift", "bias", "cost", "carbon",
                                        "security", "policy", "evidence"});
  SUBCASE("update compliance: share, stragglers, the rolled-back rollout and the journal") {
    const json& s = section(doc, "compliance");
    CHECK(s["data"]["models"][0]["share"] == doctest::Approx(76.0 / 80.0));
    CHECK(s["data"]["models"][0]["stragglers"] == 4);
    CHECK(s["data"]["period"]["rolledBack"] == 1);
    CHECK(s["data"]["period"]["failedInstalls"] == 13);
    CHECK(any_finding(s, "rolled back: wave canary: gate install failed"));
    CHECK(s["status"] == "warn");  // 95 % share is on the warn line
    CHECK(s["charts"][0]["type"] == "line");
  }
  SUBCASE("bias: tokyo's selection rate is a third of berlin's") {
    const json& s = section(doc, "bias");
    CHECK(s["status"] == "fail");
    CHECK(any_finding(s, "site = tokyo: disparate impact"));
    json site;
    for (const auto& a : s["data"]["audits"]) {
      if (a["dimension"] == "site" && a["modelVersion"] == "2.0") site = a;
    }
    REQUIRE(site.is_object());
    CHECK(site["groups"][1]["group"] == "tokyo");
    CHECK(site["groups"][1]["disparateImpact"]["value"].get<double>() == doctest::Approx(1.0 / 3.0).epsilon(1e-3));
  }
  SUBCASE("cost: the period's billing lines only; tokyo over its budget") {
    const json& s = section(doc, "cost");
    CHECK(s["data"]["total"]["total"] == doctest::Approx(60.0));
    CHECK(s["data"]["overBudgetSites"] == 1);
    CHECK(any_finding(s, "site tokyo spent 40.00 USD against a budget of 5.00"));
  }
  SUBCASE("carbon: power x hours x grid figure of the region") {
    const json& s = section(doc, "carbon");
    CHECK(s["status"] != "n/a");
    // berlin 2.0: 38 devices x 5 W x 168 h = 31.92 kWh at Germany's figure.
    for (const auto& d : s["data"]["deployments"]) {
      if (d["site"] == "berlin" && d["modelVersion"] == "2.0") {
        CHECK(d["deviceKwh"]["value"].get<double>() == doctest::Approx(31.92));
        CHECK(d["intensity"]["key"] == "DEU");
      }
    }
  }
  SUBCASE("sections without inputs say so instead of inventing numbers") {
    CHECK(section(doc, "drift")["status"] == "n/a");
    CHECK(section(doc, "drift")["summary"].get<std::string>().find("Not assessed") == 0);
    CHECK(section(doc, "data_health")["status"] == "n/a");
    CHECK(section(doc, "kpis")["status"] == "n/a");
  }
  SUBCASE("policy adherence and the verdict") {
    const json& s = section(doc, "policy");
    std::set<std::string> failed;
    for (const auto& r : s["data"]["rules"]) {
      if (r["outcome"] == "fail") failed.insert(r["id"]);
    }
    CHECK(failed.count("bias-four-fifths"));
    CHECK(failed.count("cost-within-budget"));
    CHECK(failed.count("model-card-required"));  // 2.1 runs on 4 devices without a card
    CHECK_FALSE(failed.count("journal-verified"));
    CHECK(doc["verdict"]["level"] == "error");
    CHECK(exit_code(doc, FailOn::error) == 3);
    CHECK(exit_code(doc, FailOn::warn) == 3);
    CHECK(exit_code(doc, FailOn::never) == 0);
  }
  SUBCASE("a broken journal fails journal-verified") {
    in.journals[0].verify.ok = false;
    in.journals[0].verify.problem = "hash mismatch";
    json d2 = build_report(in);
    CHECK(any_finding(section(d2, "compliance"), "does not verify"));
    bool failed = false;
    for (const auto& r : section(d2, "policy")["data"]["rules"]) failed = failed || (r["id"] == "journal-verified" && r["outcome"] == "fail");
    CHECK(failed);
  }
}

TEST_CASE("report build: a clean fleet passes and exits 0") {
  Inputs in;
  in.period = parse_period("2026-W47", {});
  in.policy = Policy::parse("models: {detector: {approved: '2.0', modelCards: ['2.0']}}", "p.yaml");
  std::vector<hub::Device> devices(3);
  for (int i = 0; i < 3; ++i) {
    devices[i].id = fmt::format("d{}", i);
    devices[i].auth.primary_key = fmt::format("k{}", i);
    devices[i].reported = {{"aiot", {{"model", {{"name", "detector"}, {"version", "2.0"}}}}}};
  }
  in.devices = devices;
  json doc = build_report(in);
  CHECK(doc["verdict"]["level"] == "pass");
  CHECK(exit_code(doc, FailOn::warn) == 0);
  CHECK(section(doc, "compliance")["status"] == "pass");
}

TEST_CASE("report build: deterministic bytes, no generation time") {
  json a = build_report(sample_inputs());
  json b = build_report(sample_inputs());
  CHECK(render_json(a) == render_json(b));
  CHECK(render_markdown(a) == render_markdown(b));
  CHECK(render_html(a) == render_html(b));
  CHECK(a["content_sha256"].get<std::string>().size() == 64);
  CHECK(render_json(a).find("generated") == std::string::npos);
  // The content hash covers the content: another input gives another hash.
  Inputs other = sample_inputs();
  other.policy.bias_min_group = 10;
  CHECK(build_report(other)["content_sha256"] != a["content_sha256"]);
}

TEST_CASE("report renderers: Markdown tables, single-file HTML with SVG charts, model cards") {
  json doc = build_report(sample_inputs());
  std::string md = render_markdown(doc);
  CHECK(md.find("# Governance report 2026-W47") == 0);
  CHECK(md.find("## 7. Bias audit — FAIL") != std::string::npos);
  CHECK(md.find("| Group | n | Selection rate [95% CI] |") != std::string::npos);
  std::string html = render_html(doc);
  CHECK(html.find("<!DOCTYPE html>") == 0);
  CHECK(html.find("default-src 'none'") != std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // the SVG namespace is the only URL
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("class=\"series\" d=\"M") != std::string::npos);  // adoption line
  CHECK(html.find("class=\"bar\"") != std::string::npos);           // bias, cost, carbon bars
  CHECK(html.find("class=\"ci\"") != std::string::npos);            // CI whiskers on selection rates
  auto cards = render_model_cards(doc);
  REQUIRE(cards.size() == 2);
  CHECK(cards[0].first == "modelcard-2026-W47-detector-2.0.json");
  json card = json::parse(cards[0].second);
  CHECK(card["model_details"]["name"] == "detector");
  CHECK(card["model_details"]["version"]["name"] == "2.0");
  CHECK_FALSE(card["quantitative_analysis"]["performance_metrics"].empty());
  std::set<std::string> keys;
  for (const auto& [k, v] : card.items()) keys.insert(k);
  CHECK(keys == std::set<std::string>{"considerations", "model_details", "quantitative_analysis"});
}

TEST_CASE("report svg: line and bar charts, escaping") {
  json line = {{"type", "line"}, {"title", "a<b"}, {"y_max", 1}, {"x", {"11-16", "11-17"}}, {"series", {{{"name", "s"}, {"values", {0.5, nullptr}}}}}};
  std::string svg = render_svg(line);
  CHECK(svg.find("a&lt;b") != std::string::npos);
  CHECK(svg.find("class=\"series\" d=\"M") != std::string::npos);
  json bar = {{"type", "bar"}, {"title", "t"}, {"bars", {{{"label", "x"}, {"value", 2}, {"status", "fail"}}}}, {"thresholds", {{{"value", 1}, {"label", "max"}}}}};
  svg = render_svg(bar);
  CHECK(svg.find("#dc2626") != std::string::npos);
  CHECK(svg.find("class=\"threshold\"") != std::string::npos);
  CHECK(render_svg({{"type", "pie"}}).empty());
}

TEST_CASE("report files: atomic writes, a re-run replaces its files, changes since the previous period") {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("aiot-report-test-{}", ::getpid());
  std::filesystem::remove_all(dir);
  Inputs w46 = sample_inputs();
  w46.period = parse_period("2026-W46", {});
  json doc46 = build_report(w46);
  auto files = write_report(dir, doc46, {Format::json, Format::md, Format::modelcard});
  CHECK(files.size() == 4);
  CHECK(std::filesystem::exists(dir / "governance-2026-W46.json"));
  // A stale card of the same period goes on a re-run; another period's files stay.
  fs::write_atomic(dir / "modelcard-2026-W46-detector-9.9.json", "{}");
  write_report(dir, doc46, {Format::json, Format::modelcard});
  CHECK_FALSE(std::filesystem::exists(dir / "modelcard-2026-W46-detector-9.9.json"));
  CHECK(std::filesystem::exists(dir / "governance-2026-W46.md"));

  Inputs w47 = sample_inputs();
  // W46 saw none of the billing lines (all dated in W47): cost goes from pass to fail.
  load_previous(w47, dir);
  REQUIRE(w47.previous);
  json doc47 = build_report(w47);
  const json& summary = section(doc47, "summary");
  CHECK(summary["data"]["previous"] == "2026-W46");
  bool cost_changed = false;
  for (const auto& c : summary["data"]["changes"])
    cost_changed = cost_changed || (c["section"] == "cost" && c["what"] == "status" && c["before"] == "pass" && c["after"] == "fail");
  CHECK(cost_changed);
  CHECK(render_markdown(doc47).find("Changes since 2026-W46") != std::string::npos);
  write_report(dir, doc47, {Format::html});
  std::string first = fs::read_file(dir / "governance-2026-W47.html");
  write_report(dir, doc47, {Format::html});
  CHECK(fs::read_file(dir / "governance-2026-W47.html") == first);
  std::filesystem::remove_all(dir);
}

TEST_CASE("report inputs: labels in NDJSON and CSV, evidence hashes") {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("aiot-report-inputs-{}", ::getpid());
  std::filesystem::create_directories(dir);
  fs::write_atomic(dir / "labels.jsonl",
                   "{\"deviceId\":\"d1\",\"ts\":\"2026-11-18T00:00:00Z\",\"prediction\":1,\"label\":0,\"modelVersion\":\"2.0\",\"site\":\"x\"}\n"
                   "\n{\"deviceId\":\"d2\",\"ts\":1794000000000,\"prediction\":false}\n");
  fs::write_atomic(dir / "labels.csv", "deviceId,ts,prediction,label,confidence\nd1,2026-11-18T00:00:00Z,1,1,0.9\n");
  Inputs in;
  in.period = parse_period("2026-W47", {});
  load_labels(in, dir / "labels.jsonl");
  REQUIRE(in.labels->size() == 2);
  const auto& r = in.labels->back();  // sorted by time: the RFC 3339 one is later
  CHECK(r.device_id == "d1");
  CHECK(*r.predicted);
  CHECK_FALSE(*r.actual);
  CHECK(r.segments.at("site") == "x");
  CHECK(in.files.back().role == "labels");
  CHECK(in.files.back().sha256.size() == 64);
  load_labels(in, dir / "labels.csv");
  REQUIRE(in.labels->size() == 1);
  CHECK(*in.labels->front().confidence == doctest::Approx(0.9));
  fs::write_atomic(dir / "bad.jsonl", "{\"ts\":\"2026-11-18T00:00:00Z\"}\n");
  CHECK_THROWS_AS(load_labels(in, dir / "bad.jsonl"), Error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("report build: no inputs at all (--no-hub, no files): every section says so, nothing throws") {
  Inputs in;
  in.period = parse_period("2026-W47", {});
  json doc = build_report(in);
  REQUIRE(doc["sections"].size() == 12);
  for (const auto& s : doc["sections"]) {
    std::string id = s["id"];
    if (id == "summary" || id == "policy" || id == "evidence") continue;
    CHECK_MESSAGE(s["status"] == "n/a", id);
    CHECK_MESSAGE(s["summary"].get<std::string>().find("Not assessed") == 0, id);
  }
  CHECK(doc["verdict"]["level"] == "pass");
  CHECK_FALSE(render_html(doc).empty());
}
