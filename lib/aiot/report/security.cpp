// Registry-side security posture (lineage-governance.md §6 fleet security anchors; docs/report-metrics.md §6).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "aiot/core/strings.hpp"
#include "aiot/core/time.hpp"
#include "aiot/report/metrics.hpp"

namespace aiot::report {
namespace {

// Thumbprints are compared as upper-case hex without separators ("ab:cd" == "ABCD").
std::string normalise_thumbprint(std::string_view t) {
  std::string out;
  for (char c : t) {
    if (c != ':' && c != ' ' && c != '-') {
      out.push_back(c);
    }
  }
  return str::to_upper(out);
}

bool is_sas(std::string_view auth_type) {
  const std::string a = str::to_lower(auth_type);
  return a == "sas" || a == "symmetric" || a == "symmetrickey" || a == "sas-key";
}

}  // namespace

SecurityPosture security_posture(std::span<const DeviceSecurity> devices, const SecurityOptions& options) {
  SecurityPosture posture;
  std::map<std::string, std::set<std::string>> holders;  // credential -> device ids
  const auto horizon = options.now + std::chrono::hours(24) * options.expiry_days;
  for (const auto& d : devices) {
    ++posture.devices;
    if (is_sas(d.auth_type)) {
      ++posture.sas;
      if (options.require_x509) {
        posture.findings.push_back({"sas-not-allowed", "medium", d.device_id,
                                    "policy requires X.509; the device authenticates with a SAS key"});
      }
    } else {
      ++posture.x509;
    }
    if (d.not_after) {
      if (*d.not_after < options.now) {
        posture.findings.push_back(
            {"cert-expired", "high", d.device_id, fmt::format("certificate expired {}", format_rfc3339(*d.not_after))});
      } else if (*d.not_after <= horizon) {
        const auto days = std::chrono::duration_cast<std::chrono::hours>(*d.not_after - options.now).count() / 24;
        posture.findings.push_back({"cert-expiring", "medium", d.device_id,
                                    fmt::format("certificate expires {} (in {} d, threshold {} d)",
                                                format_rfc3339(*d.not_after), days, options.expiry_days)});
      }
    }
    // One device may list the same thumbprint twice (primary = secondary): count it once.
    std::set<std::string> own;
    for (const auto& t : d.thumbprints) {
      if (!t.empty()) {
        own.insert("x509:" + normalise_thumbprint(t));
      }
    }
    for (const auto& k : d.key_fingerprints) {
      if (!k.empty()) {
        own.insert("sas:" + k);
      }
    }
    for (const auto& credential : own) {
      holders[credential].insert(d.device_id);
    }
    if (!d.enabled && d.last_seen && *d.last_seen >= options.period_start) {
      posture.findings.push_back({"disabled-sending", "high", d.device_id,
                                  fmt::format("disabled but seen {}", format_rfc3339(*d.last_seen))});
    }
    if (d.enabled && !d.last_seen) {
      posture.findings.push_back({"never-seen", "low", d.device_id, "enabled but never seen"});
    }
  }
  for (const auto& [credential, ids] : holders) {
    if (ids.size() < 2) {
      continue;
    }
    const bool cert = credential.rfind("x509:", 0) == 0;
    for (const auto& id : ids) {
      std::vector<std::string> others;
      for (const auto& other : ids) {
        if (other != id) {
          others.push_back(other);
        }
      }
      posture.findings.push_back(
          {"shared-credential", "high", id,
           fmt::format("{} {} also used by {}", cert ? "certificate thumbprint" : "SAS key",
                       cert ? credential.substr(5) : std::string("(fingerprint withheld)"), str::join(others, ", "))});
    }
  }
  std::sort(posture.findings.begin(), posture.findings.end(), [](const SecurityFinding& a, const SecurityFinding& b) {
    return std::tie(a.check, a.device_id, a.detail) < std::tie(b.check, b.device_id, b.detail);
  });
  for (const auto& f : posture.findings) {
    ++posture.counts[f.check];
  }
  return posture;
}

}  // namespace aiot::report
