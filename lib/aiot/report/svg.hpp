#pragma once
// Inline SVG charts for the HTML report: drawn by our own code so the report is one file that
// needs no network and no script. Deterministic: coordinates printed with one decimal.
#include <string>

#include <nlohmann/json.hpp>

namespace aiot::report {

// A chart as the sections describe it (sections.hpp): "line" (x labels, series of values in
// [0, y_max]; null = no value) or "bar" (bars with optional lower/upper whiskers and a status
// colour, dashed threshold lines). Unknown types give an empty string.
std::string render_svg(const nlohmann::json& chart);

// Text escaped for HTML/XML content and attribute values.
std::string xml_escape(std::string_view text);

}  // namespace aiot::report
