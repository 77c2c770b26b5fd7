#include "aiot/report/svg.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace aiot::report {

namespace {

constexpr double k_width = 720, k_height = 260;
constexpr double k_left = 56, k_right = 16, k_top = 28, k_bottom = 64;
const char* const k_palette[] = {"#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626"};

std::string colour_of(const std::string& status) {
  if (status == "fail") return "#dc2626";
  if (status == "warn") return "#d97706";
  if (status == "n/a") return "#9ca3af";
  return "#2563eb";
}

// A "nice" axis maximum: 1, 2, 2.5 or 5 times a power of ten, at least `v`.
double nice_max(double v) {
  if (v <= 0) return 1;
  double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * p >= v) return m * p;
  }
  return 10 * p;
}

std::string tick_text(double v) {
  if (v == 0) return "0";
  if (std::fabs(v) >= 100) return fmt::format("{:.0f}", v);
  if (std::fabs(v) >= 1) return fmt::format("{:.3g}", v);
  return fmt::format("{:.3g}", v);
}

std::string axes(double y_max, const std::string& y_label) {
  std::string out;
  double plot_h = k_height - k_top - k_bottom;
  for (int i = 0; i <= 4; ++i) {
    double v = y_max * i / 4.0;
    double y = k_top + plot_h * (1.0 - i / 4.0);
    out += fmt::format(R"svg(<path d="M{:.1f} {:.1f}H{:.1f}" stroke="#e5e7eb" stroke-width="1"/>)svg", k_left, y, k_width - k_right);
    out += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" text-anchor="end" font-size="11" fill="#4b5563">{}</text>)svg", k_left - 6, y + 4, tick_text(v));
  }
  out += fmt::format(R"svg(<path d="M{:.1f} {:.1f}V{:.1f}H{:.1f}" stroke="#6b7280" stroke-width="1" fill="none"/>)svg", k_left, k_top,
                     k_height - k_bottom, k_width - k_right);
  if (!y_label.empty())
    out += fmt::format(R"svg(<text x="12" y="{:.1f}" font-size="11" fill="#4b5563" transform="rotate(-90 12 {:.1f})" text-anchor="middle">{}</text>)svg",
                       k_top + plot_h / 2, k_top + plot_h / 2, xml_escape(y_label));
  return out;
}

std::string x_label(double x, const std::string& text) {
  std::string t = text.size() > 22 ? text.substr(0, 21) + "…" : text;
  double y = k_height - k_bottom + 14;
  return fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" font-size="11" fill="#374151" text-anchor="end" transform="rotate(-30 {:.1f} {:.1f})">{}</text>)svg", x, y,
                     x, y, xml_escape(t));
}

std::string open_svg(const std::string& title) {
  return fmt::format(R"svg(<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {:.0f} {:.0f}" width="{:.0f}" height="{:.0f}" role="img" aria-label="{}">)svg"
                     R"svg(<title>{}</title><text x="{:.1f}" y="18" font-size="13" font-weight="600" fill="#111827">{}</text>)svg",
                     k_width, k_height, k_width, k_height, xml_escape(title), xml_escape(title), k_left, xml_escape(title));
}

std::string line_chart(const nlohmann::json& c) {
  const auto& xs = c.value("x", nlohmann::json::array());
  const auto& series = c.value("series", nlohmann::json::array());
  double y_max = c.value("y_max", 0.0);
  for (const auto& s : series)
    for (const auto& v : s.value("values", nlohmann::json::array()))
      if (v.is_number()) y_max = std::max(y_max, v.get<double>());
  y_max = nice_max(y_max);
  std::string out = open_svg(c.value("title", "")) + axes(y_max, c.value("y_label", ""));
  double plot_w = k_width - k_left - k_right, plot_h = k_height - k_top - k_bottom;
  std::size_t n = xs.size();
  auto x_at = [&](std::size_t i) { return k_left + (n <= 1 ? plot_w / 2 : plot_w * static_cast<double>(i) / static_cast<double>(n - 1)); };
  for (std::size_t i = 0; i < n; ++i) out += x_label(x_at(i) + 4, xs[i].is_string() ? xs[i].get<std::string>() : xs[i].dump());
  std::size_t k = 0;
  for (const auto& s : series) {
    std::string colour = k_palette[k % 8];
    std::string d;
    bool pen_down = false;
    const auto& values = s.value("values", nlohmann::json::array());
    for (std::size_t i = 0; i < values.size() && i < n; ++i) {
      if (!values[i].is_number()) {
        pen_down = false;
        continue;
      }
      double y = k_top + plot_h * (1.0 - values[i].get<double>() / y_max);
      d += fmt::format("{}{:.1f} {:.1f}", pen_down ? "L" : "M", x_at(i), y);
      pen_down = true;
      out += fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}"/>)svg", x_at(i), y, colour);
    }
    if (!d.empty()) out += fmt::format(R"svg(<path class="series" d="{}" stroke="{}" stroke-width="2" fill="none"/>)svg", d, colour);
    out += fmt::format(R"svg(<rect x="{:.1f}" y="{:.1f}" width="10" height="10" fill="{}"/><text x="{:.1f}" y="{:.1f}" font-size="11" fill="#374151">{}</text>)svg",
                       k_width - k_right - 200, 8 + 14.0 * static_cast<double>(k) + 2, colour, k_width - k_right - 186,
                       8 + 14.0 * static_cast<double>(k) + 11, xml_escape(s.value("name", "")));
    ++k;
  }
  return out + "</svg>";
}

std::string bar_chart(const nlohmann::json& c) {
  const auto& bars = c.value("bars", nlohmann::json::array());
  const auto& thresholds = c.value("thresholds", nlohmann::json::array());
  double y_max = 0;
  for (const auto& b : bars) {
    if (b.contains("value") && b["value"].is_number()) y_max = std::max(y_max, b["value"].get<double>());
    if (b.contains("upper") && b["upper"].is_number()) y_max = std::max(y_max, b["upper"].get<double>());
  }
  for (const auto& t : thresholds)
    if (t.contains("value") && t["value"].is_number()) y_max = std::max(y_max, t["value"].get<double>());
  y_max = nice_max(y_max);
  std::string out = open_svg(c.value("title", "")) + axes(y_max, c.value("unit", ""));
  double plot_w = k_width - k_left - k_right, plot_h = k_height - k_top - k_bottom;
  std::size_t n = std::max<std::size_t>(bars.size(), 1);
  double slot = plot_w / static_cast<double>(n);
  double bar_w = std::min(48.0, slot * 0.7);
  auto y_of = [&](double v) { return k_top + plot_h * (1.0 - std::clamp(v, 0.0, y_max) / y_max); };
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    double v = b.contains("value") && b["value"].is_number() ? b["value"].get<double>() : 0.0;
    double cx = k_left + slot * (static_cast<double>(i) + 0.5);
    double top = y_of(v), base = k_top + plot_h;
    out += fmt::format(R"svg(<path class="bar" d="M{:.1f} {:.1f}H{:.1f}V{:.1f}H{:.1f}Z" fill="{}"><title>{}: {}</title></path>)svg", cx - bar_w / 2, base,
                       cx + bar_w / 2, top, cx - bar_w / 2, colour_of(b.value("status", "pass")), xml_escape(b.value("label", "")), tick_text(v));
    if (b.contains("lower") && b.contains("upper") && b["lower"].is_number() && b["upper"].is_number()) {
      double lo = y_of(b["lower"].get<double>()), hi = y_of(b["upper"].get<double>());
      out += fmt::format(R"svg(<path class="ci" d="M{:.1f} {:.1f}V{:.1f}M{:.1f} {:.1f}H{:.1f}M{:.1f} {:.1f}H{:.1f}" stroke="#111827" stroke-width="1.5" fill="none"/>)svg",
                         cx, lo, hi, cx - 6, lo, cx + 6, cx - 6, hi, cx + 6);
    }
    out += x_label(cx + 4, b.value("label", ""));
  }
  for (const auto& t : thresholds) {
    if (!t.contains("value") || !t["value"].is_number()) continue;
    double y = y_of(t["value"].get<double>());
    out += fmt::format(R"svg(<path class="threshold" d="M{:.1f} {:.1f}H{:.1f}" stroke="#dc2626" stroke-width="1" stroke-dasharray="5 4"/>)svg", k_left, y,
                       k_width - k_right);
    out += fmt::format(R"svg(<text x="{:.1f}" y="{:.1f}" font-size="10" fill="#dc2626" text-anchor="end">{}</text>)svg", k_width - k_right - 2, y - 3,
                       xml_escape(t.value("label", "")));
  }
  return out + "</svg>";
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

std::string render_svg(const nlohmann::json& chart) {
  std::string type = chart.value("type", "");
  if (type == "line") return line_chart(chart);
  if (type == "bar") return bar_chart(chart);
  return "";
}

}  // namespace aiot::report
