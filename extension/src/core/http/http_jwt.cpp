#include "core/http/http_jwt.hpp"

#include "core/http/http_crypto.hpp"

namespace sb {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return hmac(Digest::sha256, key, message);
}

std::string sign_hs256(std::string_view payload_json, std::string_view secret) {
  std::string signing_input =
      base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(payload_json);
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
