#include <doctest/doctest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "aiot/auth/x509.hpp"
#include "aiot/core/fs.hpp"
#include "support/harness.hpp"

using aiot::test::Harness;
using nlohmann::json;

TEST_CASE("device register sas: keys stay out of output unless asked, files are 0600") {
  Harness h;
  auto r = h.run({"device", "register", "dev-1", "--tag", "site=berlin", "--out-dir", "keys", "-o", "json"});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  CHECK(j["deviceId"] == "dev-1");
  CHECK(j["tags"]["site"] == "berlin");
  CHECK(j["authenticationType"] == "sas");
  CHECK_FALSE(j.contains("symmetricKey"));
  auto keyfile = h.cwd / "keys" / "dev-1.keys.json";
  CHECK(aiot::test::file_mode(keyfile) == 0600);
  auto keys = json::parse(aiot::test::read_text(keyfile));
  std::string primary = keys["primaryKey"];
  CHECK(primary.size() == 44);
  CHECK(r.out.find(primary) == std::string::npos);
  CHECK(r.err.find(primary) == std::string::npos);

  auto show = h.run({"device", "show", "dev-1", "-o", "json"});
  CHECK(show.out.find(primary) == std::string::npos);
  auto secret = h.run({"device", "show", "dev-1", "--show-secrets", "-o", "json"});
  CHECK(json::parse(secret.out)["symmetricKey"]["primaryKey"] == primary);

  auto again = h.run({"device", "register", "dev-1"});
  CHECK(again.code == 1);
  CHECK(again.err.find("already exists") != std::string::npos);
}

TEST_CASE("device register x509-ca: the cert verifies against the fleet CA") {
  Harness h;
  REQUIRE(h.run({"ca", "create", "--name", "Fleet CA", "--out", "ca"}).code == 0);
  CHECK(aiot::test::file_mode(h.cwd / "ca" / "ca.key.pem") == 0600);
  auto r = h.run({"device", "register", "cam-7", "--auth", "x509-ca", "--ca", "ca", "--out-dir", "creds"});
  REQUIRE(r.code == 0);
  auto cert = aiot::test::read_text(h.cwd / "creds" / "cam-7.cert.pem");
  auto ca = aiot::test::read_text(h.cwd / "ca" / "ca.cert.pem");
  CHECK(aiot::x509::verify_signed_by(cert, ca));
  CHECK(aiot::x509::inspect(cert).common_name == "cam-7");
  CHECK(aiot::test::file_mode(h.cwd / "creds" / "cam-7.key.pem") == 0600);
  auto key = aiot::test::read_text(h.cwd / "creds" / "cam-7.key.pem");
  CHECK(r.out.find("PRIVATE KEY") == std::string::npos);

  auto no_ca = h.run({"device", "register", "cam-8", "--auth", "x509-ca"});
  CHECK(no_ca.code == 2);
  CHECK(no_ca.err.find("--ca") != std::string::npos);
  CHECK(h.run({"device", "show", "cam-8"}).code == 1);  // nothing half-registered
}

TEST_CASE("device register x509-self-signed records both thumbprints of the given cert") {
  Harness h;
  auto kc = aiot::x509::create_self_signed("sensor-1", h.now, std::chrono::hours(24));
  aiot::test::write_text(h.cwd / "sensor-1.pem", kc.cert_pem);
  auto info = aiot::x509::inspect(kc.cert_pem);
  auto r = h.run({"device", "register", "sensor-1", "--auth", "x509-self-signed", "--cert", "sensor-1.pem", "-o", "json"});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  CHECK(j["x509Thumbprint"]["primaryThumbprint"] == info.thumbprints.sha1);
  CHECK(j["x509Thumbprint"]["primaryThumbprintSha256"] == info.thumbprints.sha256);
  auto wrong_cn = h.run({"device", "register", "sensor-2", "--auth", "x509-self-signed", "--cert", "sensor-1.pem"});
  CHECK(wrong_cn.code == 2);
  CHECK(wrong_cn.err.find("CN is 'sensor-1'") != std::string::npos);
}

TEST_CASE("device import: bad rows named, good rows imported, re-run idempotent, conflicts need --update") {
  Harness h;
  aiot::test::write_text(h.cwd / "fleet.csv",
                         "id,auth,tags.site\n"
                         "a,sas,berlin\n"
                         "b,sas,paris\n"
                         "bad id,sas,x\n"
                         "c,sas,rome\n");
  auto r = h.run({"device", "import", "-f", "fleet.csv", "-o", "json"});
  CHECK(r.code == 2);
  CHECK(r.err.find("fleet.csv:4: a device id may hold") != std::string::npos);
  auto summary = json::parse(r.out);
  CHECK(summary["created"] == 3);
  CHECK(summary["failed"] == 1);
  auto list = h.run({"device", "list", "-o", "json"});
  CHECK(json::parse(list.out).size() == 3);

  aiot::test::write_text(h.cwd / "fleet.csv", "id,auth,tags.site\na,sas,berlin\nb,sas,paris\nc,sas,rome\n");
  auto again = h.run({"device", "import", "-f", "fleet.csv", "-o", "json"});
  CHECK(again.code == 0);
  CHECK(json::parse(again.out)["unchanged"] == 3);

  aiot::test::write_text(h.cwd / "fleet.csv", "id,auth,tags.site\na,sas,berlin\nb,sas,lyon\n");
  auto conflict = h.run({"device", "import", "-f", "fleet.csv", "-o", "json"});
  CHECK(conflict.code == 2);
  CHECK(conflict.err.find("fleet.csv:3: b: device 'b' already exists with other content") != std::string::npos);
  auto update = h.run({"device", "import", "-f", "fleet.csv", "--update", "-o", "json"});
  CHECK(update.code == 0);
  CHECK(json::parse(update.out)["updated"] == 1);
  CHECK(json::parse(h.run({"device", "show", "b", "-o", "json"}).out)["tags"]["site"] == "lyon");
}

TEST_CASE("device import: a file that cannot be read imports nothing") {
  Harness h;
  aiot::test::write_text(h.cwd / "f.yaml", "- id: a\n- id: b\n  tags: {x: [\n");
  auto r = h.run({"device", "import", "-f", "f.yaml"});
  CHECK(r.code == 2);
  CHECK(r.err.find("f.yaml:") != std::string::npos);
  CHECK(h.run({"device", "show", "a"}).code == 1);
  CHECK(h.run({"device", "import", "-f", "missing.csv"}).code == 2);
}

TEST_CASE("device list, update, delete and export") {
  Harness h;
  for (auto* id : {"a", "b", "c"}) REQUIRE(h.run({"device", "register", id, "--tag", "site=berlin"}).code == 0);
  REQUIRE(h.run({"device", "update", "b", "--tag", "site=paris", "--desired", "aiot.model.version=\"2.0\""}).code == 0);
  REQUIRE(h.run({"device", "update", "c", "--disable"}).code == 0);

  auto berlin = h.run({"device", "list", "--tag", "site=berlin", "-o", "json"});
  CHECK(json::parse(berlin.out).size() == 2);
  auto where = h.run({"device", "list", "--where", "properties.desired.aiot.model.version = '2.0'", "-o", "json"});
  auto rows = json::parse(where.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["deviceId"] == "b");
  auto disabled = h.run({"device", "list", "-w", "status = 'disabled'", "-o", "csv"});
  CHECK(disabled.out.find("c,disabled") != std::string::npos);
  auto bad_query = h.run({"device", "list", "--where", "tags.site = "});
  CHECK(bad_query.code == 2);
  CHECK(bad_query.err.find("query:1:") != std::string::npos);

  auto piped = h.run({"device", "list"});
  CHECK(piped.out.rfind("ID\tSTATUS", 0) == 0);

  auto etag = json::parse(h.run({"device", "show", "a", "-o", "json"}).out)["etag"].get<std::string>();
  CHECK(h.run({"device", "update", "a", "--tag", "x=1", "--if-match", etag}).code == 0);
  CHECK(h.run({"device", "update", "a", "--tag", "x=2", "--if-match", etag}).code == 1);
  CHECK(h.run({"device", "update", "a"}).code == 2);

  auto exported = h.run({"device", "export", "--format", "jsonl"});
  CHECK(exported.code == 0);
  CHECK(exported.out.find("\"id\":\"b\"") != std::string::npos);
  CHECK(exported.out.find("Key") == std::string::npos);

  auto refused = h.run({"device", "delete", "a"});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("--yes") != std::string::npos);
  auto typo = h.run({"device", "delete", "a", "zzz", "--yes"});
  CHECK(typo.code == 1);
  CHECK(h.run({"device", "show", "a"}).code == 0);  // nothing deleted when one id is wrong
  CHECK(h.run({"device", "delete", "a", "b", "--yes"}).code == 0);
  CHECK(json::parse(h.run({"device", "list", "-o", "json"}).out).size() == 1);

  h.set_tty(true);
  auto declined = h.run({"device", "delete", "c"}, "n\n");
  CHECK(declined.code == 1);
  CHECK(h.run({"device", "show", "c"}).code == 0);
  auto accepted = h.run({"device", "delete", "c"}, "y\n");
  CHECK(accepted.code == 0);
  CHECK(h.run({"device", "show", "c"}).code == 1);
}

TEST_CASE("device count: groups by property paths as the listing does, most devices first") {
  Harness h;
  REQUIRE(h.run({"sim", "fleet", "--devices", "60", "--seed", "4"}).code == 0);
  // The oracle: the listing, counted here.
  std::map<std::string, std::int64_t> by_hw;
  std::int64_t berlin = 0;
  for (const auto& d : nlohmann::json::parse(h.run({"device", "list", "-o", "json"}).out)) {
    ++by_hw[d["tags"]["hw"].get<std::string>()];
    berlin += d["tags"]["site"] == "berlin";
  }
  REQUIRE(by_hw.size() > 1);

  auto total = h.run({"device", "count", "-o", "json"});
  REQUIRE(total.code == 0);
  CHECK(nlohmann::json::parse(total.out) == nlohmann::json::array({{{"count", 60}}}));

  auto hw = nlohmann::json::parse(h.run({"device", "count", "--by", "tags.hw", "-o", "json"}).out);
  REQUIRE(hw.size() == by_hw.size());
  for (std::size_t i = 0; i < hw.size(); ++i) {
    CHECK(hw[i]["count"] == by_hw[hw[i]["hw"].get<std::string>()]);
    if (i > 0) CHECK(hw[i - 1]["count"].get<std::int64_t>() >= hw[i]["count"].get<std::int64_t>());
  }

  auto site = nlohmann::json::parse(h.run({"device", "count", "--tag", "site=berlin", "-o", "json"}).out);
  CHECK(site[0]["count"] == berlin);

  // Two paths with the same last name get distinct columns; an undefined path is left out of the row.
  auto two = nlohmann::json::parse(h.run({"device", "count", "--by", "properties.reported.aiot.ota.version", "--by",
                                          "properties.reported.aiot.model.version", "--by", "tags.nope", "-o", "json"})
                                       .out);
  REQUIRE(two.size() == 1);
  CHECK(two[0] == nlohmann::json{{"version", "2.0"}, {"version_2", "2.0"}, {"count", 60}});

  auto table = h.run({"device", "count", "--by", "properties.reported.aiot.ota.version"});
  CHECK(table.out.find("VERSION") != std::string::npos);
  CHECK(table.out.find("60") != std::string::npos);

  auto bad = h.run({"device", "count", "--by", "tags.hw = 'x'"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("query:1:") != std::string::npos);
  CHECK(bad.out.empty());
}

TEST_CASE("device list/count --tag: values with quotes and backslashes match as written") {
  Harness h;
  REQUIRE(h.run({"device", "register", "cam-1", "--tag", "path=C:\\models\\it's"}).code == 0);
  REQUIRE(h.run({"device", "register", "cam-2", "--tag", "path=C:\\models"}).code == 0);
  auto listed = json::parse(h.run({"device", "list", "--tag", "path=C:\\models\\it's", "-o", "json"}).out);
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["deviceId"] == "cam-1");
  CHECK(json::parse(h.run({"device", "count", "--tag", "path=C:\\models", "-o", "json"}).out)[0]["count"] == 1);
}
