// parse_jwks (core/http/http_jwt_verify): any text is a key list or std::runtime_error; every key
// it yields is usable, and a published public key reads back as the same key.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/http/http_jwt_verify.hpp"
#include "fuzz_support.hpp"

namespace {

// Ensures: a key read from a JWKS is complete for its algorithm and round-trips through jwks_of.
void check_key(const sb::JwtKey& key) {
  if (key.alg == "HS256") return sb::fuzz::require(!key.key, "an oct key is a secret only");
  sb::fuzz::require(key.alg == "RS256" || key.alg == "ES256", "a key has a known algorithm");
  sb::fuzz::require(key.key && key.secret.empty(), "a public key has no secret");
  sb::fuzz::require(!sb::verify_rs256(key.key, "message", std::string(256, 'x')) &&
                        !sb::verify_es256(key.key, "message", std::string(64, 'x')),
                    "a garbage signature never verifies");
  std::vector<sb::JwtKey> again = sb::parse_jwks(sb::jwks_of(key.key, key.kid));
  sb::fuzz::require(again.size() == 1 && again[0].alg == key.alg && again[0].kid == key.kid &&
                        sb::public_numbers(again[0].key) == sb::public_numbers(key.key),
                    "jwks_of publishes the key parse_jwks read");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<sb::JwtKey> keys;
  try {
    keys = sb::parse_jwks(sb::fuzz::text_of(data, size));
  } catch (const std::runtime_error&) {
    return 0;  // the documented refusal
  }
  for (const auto& key : keys) check_key(key);
  return 0;
}
