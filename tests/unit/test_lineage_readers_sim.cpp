// The readers against the generator's writers (lib/aiot/sim/export_writers.cpp): every format,
// plain and gzip'd, read back to the same records, at the offsets the writer says, with the
// malformed lines it planted reported where it put them.
#include <doctest/doctest.h>

#include <cmath>
#include <deque>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "aiot/lineage/readers.hpp"
#include "aiot/sim/export_writers.hpp"

using namespace aiot;
namespace stdfs = std::filesystem;

namespace {

struct Written {
  sim::ExportMessage message;
  sim::ExportLocation at;
  bool raw = false;
};

struct ReadBack {
  std::string path;
  lineage::Record record;
  std::vector<lineage::Field> fields;
};

}  // namespace

TEST_CASE("readers read back what the generator's writers write, in every format") {
  const char* names[] = {"ndjson", "csv", "iothub-json", "iothub-avro", "aws-s3-json"};
  const sim::ExportFormat formats[] = {sim::ExportFormat::ndjson, sim::ExportFormat::csv, sim::ExportFormat::iothub_json,
                                       sim::ExportFormat::iothub_avro, sim::ExportFormat::aws_s3_json};
  const lineage::Format expected[] = {lineage::Format::ndjson, lineage::Format::csv, lineage::Format::iothub_json,
                                      lineage::Format::iothub_avro, lineage::Format::aws_s3_json};
  std::random_device rd;
  const auto root = stdfs::temp_directory_path() / ("aiot-readers-sim-" + std::to_string(rd()) + std::to_string(rd()));

  for (int f = 0; f < 5; ++f) {
    for (const bool gzip : {false, true}) {
      CAPTURE(names[f]);
      CAPTURE(gzip);
      const auto out = root / (std::string(names[f]) + (gzip ? "-gz" : ""));
      sim::WriterOptions options;
      options.out = out;
      options.gzip = gzip;
      options.batch = std::chrono::minutes(5);
      auto writer = sim::make_export_writer(formats[f], options);

      // 3 devices, a message a minute for 30 minutes; every 7th value absent, every 11th null;
      // two malformed lines (line formats only).
      std::vector<std::string> ids;
      std::vector<Written> written;
      const std::int64_t t0 = 1795168800000;
      ids.reserve(200);
      for (int i = 0; i < 90; ++i) {
        sim::ExportMessage m;
        ids.push_back("dev-0000" + std::to_string(i % 3));
        const std::string& device = ids.back();
        ids.push_back("msg-" + std::to_string(i));
        m.device_id = device;
        m.message_id = ids.back();
        m.schema = "telemetry/v1";
        m.model = "detector";
        m.model_version = i % 2 == 0 ? "2.0" : "2.1";
        m.generation_id = "638000000000000000";
        m.device_ms = t0 + (i / 3) * 60000 + (i % 3) * 1000 + 7;
        m.hub_ms = m.device_ms + 1250;
        m.seq = static_cast<std::uint64_t>(i / 3 + 1);
        for (std::size_t k = 0; k < sim::k_payload_field_count; ++k) {
          m.values[k] = 10.0 * static_cast<double>(k) + 0.123456 * i;
          m.presence[k] = (i + static_cast<int>(k)) % 7 == 0    ? sim::Presence::absent
                          : (i + static_cast<int>(k)) % 11 == 0 ? sim::Presence::null
                                                                : sim::Presence::present;
        }
        Written w{m, {}, false};
        if (writer->line_based() && (i == 20 || i == 61)) {
          const std::string text = writer->render(m);
          w.at = writer->write_raw_line(m, i == 20 ? std::string_view(text).substr(0, text.size() / 2)
                                                   : std::string_view("\x01\xfe garbage \x02", 13));
          w.raw = true;
        } else {
          w.at = writer->write(m);
        }
        written.push_back(w);
      }
      writer->finish();
      const auto& files = writer->files();

      const auto inputs = lineage::discover_files({(out / "data").string()});
      REQUIRE(inputs.size() == files.size());
      std::vector<ReadBack> records;
      std::deque<std::string> keep;  // stable storage for the strings copied out of the batches
      std::vector<std::pair<std::string, lineage::Malformed>> malformed;
      for (std::uint32_t i = 0; i < inputs.size(); ++i) {
        const auto path = stdfs::relative(inputs[i].name, out).generic_string();
        const auto stats = lineage::read_input(inputs[i], i, lineage::ReadOptions{}, [&](lineage::RecordBatch&& b) {
          for (const auto& r : b.records) {
            ReadBack rb{path, r, {}};
            for (std::uint32_t k = 0; k < r.field_count; ++k) {
              rb.fields.push_back(b.fields[r.field_begin + k]);
            }
            // Views into the batch must outlive it here: copy the strings the checks look at.
            records.push_back(std::move(rb));
            auto& copy = records.back();
            auto own = [&](std::string_view s) -> std::string_view { return keep.emplace_back(s); };
            copy.record.device_id = own(r.device_id);
            copy.record.message_id = own(r.message_id);
            copy.record.model_version = own(r.model_version);
            copy.record.schema_id = own(r.schema_id);
            for (auto& fl : copy.fields) {
              fl.name = own(fl.name);
            }
          }
          for (const auto& m : b.malformed) {
            malformed.emplace_back(path, m);
          }
        });
        CHECK(stats.detected == expected[f]);
        CHECK(stats.malformed + stats.records > 0);
      }

      std::map<std::string, const ReadBack*> by_id;
      for (const auto& r : records) {
        by_id[std::string(r.record.message_id)] = &r;
      }
      std::size_t raws = 0;
      for (const auto& w : written) {
        CAPTURE(w.message.message_id);
        const std::string& path = files.at(w.at.file).path;
        if (w.raw) {
          ++raws;
          bool found = false;
          for (const auto& [p, m] : malformed) {
            found = found || (p == path && m.offset == w.at.offset);
          }
          CHECK(found);
          continue;
        }
        const auto it = by_id.find(std::string(w.message.message_id));
        REQUIRE(it != by_id.end());
        const ReadBack& r = *it->second;
        CHECK(r.path == path);
        CHECK(r.record.offset == w.at.offset);
        CHECK(r.record.device_id == w.message.device_id);
        CHECK(r.record.device_ts_ms == w.message.device_ms);
        CHECK(r.record.hub_ts_ms == w.message.hub_ms);
        CHECK(r.record.seq == static_cast<std::int64_t>(w.message.seq));
        CHECK(r.record.model_version == w.message.model_version);
        CHECK(r.record.schema_id == w.message.schema);
        CHECK_FALSE(r.record.device_ts_invalid);
        for (std::size_t k = 0; k < sim::k_payload_field_count; ++k) {
          const std::string name = sim::k_payload_fields[k].name;
          CAPTURE(name);
          const lineage::Field* field = nullptr;
          for (const auto& fl : r.fields) {
            if (fl.name == name) {
              field = &fl;
            }
          }
          switch (w.message.presence[k]) {
            case sim::Presence::absent:
              CHECK(field == nullptr);
              break;
            case sim::Presence::null:
              // CSV has no null: an empty cell is a missing value.
              if (formats[f] == sim::ExportFormat::csv) {
                CHECK(field == nullptr);
              } else {
                REQUIRE(field != nullptr);
                CHECK(field->kind == lineage::Field::Kind::null);
              }
              break;
            case sim::Presence::present: {
              REQUIRE(field != nullptr);
              CHECK(field->kind == lineage::Field::Kind::number);
              const double scale = std::pow(10.0, sim::k_payload_fields[k].decimals);
              CHECK(field->number == doctest::Approx(std::round(w.message.values[k] * scale) / scale));
              break;
            }
          }
        }
      }
      CHECK(malformed.size() == raws);
      CHECK(records.size() == written.size() - raws);
    }
  }
  std::error_code ec;
  stdfs::remove_all(root, ec);
}
