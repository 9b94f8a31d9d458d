// The byte encodings under the JWT and webhook checks (core/http/http_crypto, OpenSSL): base64url,
// base64, hex and the DER <-> JOSE forms of ECDSA signatures, on any bytes. Whatever decodes
// encodes back to the canonical text it came from (padding aside), and any bytes round-trip.
#include <cstdint>
#include <string>

#include "core/http/http_crypto.hpp"
#include "core/http/http_jwt.hpp"
#include "fuzz_support.hpp"

namespace {

// `text` without trailing '=' padding.
std::string_view unpadded(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text = sb::fuzz::text_of(data, size);
  if (auto bytes = sb::base64url_decode(text))
    sb::fuzz::require(sb::base64url_encode(*bytes) == text, "base64url decodes canonically");
  if (auto bytes = sb::base64_decode(text))
    sb::fuzz::require(unpadded(sb::base64_encode(*bytes)) == unpadded(text),
                      "base64 decodes canonically");
  if (auto bytes = sb::hex_decode(text))
    sb::fuzz::require(sb::hex_decode(sb::hex_encode(*bytes)) == bytes, "hex round-trips");
  sb::fuzz::require(sb::base64url_decode(sb::base64url_encode(text)) == std::string(text) &&
                        sb::base64_decode(sb::base64_encode(text)) == std::string(text),
                    "any bytes round-trip through base64url and base64");
  if (auto jose = sb::ecdsa_der_to_jose(text, 32)) {
    sb::fuzz::require(jose->size() == 64, "a JOSE P-256 signature has 64 bytes");
    auto der = sb::ecdsa_jose_to_der(*jose);
    sb::fuzz::require(der && sb::ecdsa_der_to_jose(*der, 32) == jose, "DER and JOSE round-trip");
  }
  return 0;
}
