// The SigV4 canonicaliser: the input is "METHOD TARGET\nname:value\n...\n\nbody"; canonical strings
// are built for the default and the S3 rules, and Authorization headers are parsed.
#include <string>

#include "aiot/auth/cloud/sigv4.hpp"
#include "aiot/core/error.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace aiot::sigv4;
  std::string_view text = aiot::fuzz::as_text(data, size);
  (void)parse_authorization(text);

  SignableRequest r;
  auto line_end = text.find('\n');
  auto first = text.substr(0, line_end);
  auto space = first.find(' ');
  r.method = std::string(first.substr(0, space));
  r.target = space == std::string_view::npos ? "/" : std::string(first.substr(space + 1));
  std::string_view rest = line_end == std::string_view::npos ? std::string_view{} : text.substr(line_end + 1);
  while (!rest.empty()) {
    auto end = rest.find('\n');
    auto line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (line.empty()) break;
    auto colon = line.find(':');
    r.headers.emplace_back(std::string(line.substr(0, colon)),
                           colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1)));
  }
  r.body = std::string(rest);
  r.headers.emplace_back("host", "example.amazonaws.com");

  Credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  for (bool s3 : {false, true}) {
    Config c;
    c.region = "us-east-1";
    c.service = s3 ? "s3" : "iot";
    c.normalize_path = !s3;
    c.double_encode_path = !s3;
    c.add_content_sha256_header = s3;
    try {
      auto copy = r;
      auto signed_request = sign(copy, creds, c);
      if (signed_request.signature.size() != 64) __builtin_trap();
    } catch (const aiot::Error&) {
    }
  }
  return 0;
}
