#pragma once
// Small string helpers with nothing aiot-specific in them (ccache's util rule).
#include <string>
#include <string_view>
#include <vector>

namespace aiot::str {

std::vector<std::string> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);
std::string hex(const unsigned char* data, size_t n, bool upper = false);
inline std::string hex(std::string_view bytes, bool upper = false) {
  return hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), upper);
}
// Splits "k=v" at the first '='; false when there is none or the key is empty.
bool split_kv(std::string_view s, std::string& key, std::string& value);

}  // namespace aiot::str
