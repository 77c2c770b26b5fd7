#pragma once
// Hashes, HMAC, random bytes and base64 through OpenSSL.
#include <string>
#include <string_view>

namespace aiot::crypto {

std::string random_bytes(size_t n);
std::string sha256(std::string_view data);  // raw digest
std::string sha1(std::string_view data);    // raw digest
std::string sha256_hex(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw
std::string base64_encode(std::string_view data);
// Throws Error::usage on malformed input.
std::string base64_decode(std::string_view text);

}  // namespace aiot::crypto
