#pragma once
#include <span>

#include "aiot/output/output.hpp"

namespace aiot::cli::device {

// The table/csv columns of device list and device import results.
inline std::span<const output::Column> device_columns() {
  static const output::Column k_columns[] = {
      {"ID", "deviceId", output::ColumnKind::text},
      {"STATUS", "status", output::ColumnKind::status},
      {"AUTH", "authenticationType", output::ColumnKind::text},
      {"TAGS", "tags", output::ColumnKind::json},
      {"MODEL", "properties.reported.aiot.ota.version", output::ColumnKind::text},
      {"UPDATED", "lastUpdated", output::ColumnKind::time},
  };
  return k_columns;
}

}  // namespace aiot::cli::device
