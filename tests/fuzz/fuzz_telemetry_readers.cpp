// The telemetry readers (NDJSON, CSV, IoT Hub JSON and Avro, AWS S3 JSON, gzip'd or not): any bytes
// give records and malformed-input reports, never a crash; every record's views stay inside the
// batch and every offset inside the input.
#include <cstdlib>

#include "aiot/core/error.hpp"
#include "aiot/lineage/readers.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aiot::lineage;
  const std::string bytes(aiot::fuzz::as_text(data, size));
  for (auto format : {Format::auto_detect, Format::ndjson, Format::csv, Format::iothub_json, Format::iothub_avro,
                      Format::aws_s3_json}) {
    ReadOptions opt;
    opt.format = format;
    opt.batch_records = 64;
    opt.max_record_bytes = 4096;
    try {
      auto source = open_memory(bytes);
      std::uint64_t records = 0, malformed = 0;
      auto stats = read_source(*source, 0, opt, [&](RecordBatch&& batch) {
        records += batch.records.size();
        malformed += batch.malformed.size();
        for (const auto& r : batch.records) {
          if (r.field_begin + r.field_count > batch.fields.size()) std::abort();
          for (std::uint32_t i = 0; i < r.field_count; ++i) {
            const auto& f = batch.fields_of(r)[i];
            volatile char sink = f.name.empty() ? 0 : f.name.back();  // ASan checks the view
            (void)sink;
          }
        }
      });
      if (stats.records != records) std::abort();
    } catch (const aiot::Error&) {
    }
  }
  return 0;
}
