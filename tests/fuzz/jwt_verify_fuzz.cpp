// verify_jwt and jwt_kid (core/http/http_jwt_verify) under a policy with HS256, RS256 and ES256
// keys.
// Input: mode, now, audience, then the rest. Mode "raw": the rest is the token as sent. Mode
// "hs256" or "es256": the rest is a header line and the claims, which the target signs with the
// policy's own key so that the header and claim checks behind the signature are reached too.
#include <cstdint>
#include <string>

#include "core/http/http_jwt.hpp"
#include "core/http/http_jwt_verify.hpp"
#include "fuzz_support.hpp"

namespace {

const char kSecret[] = "fuzz-secret-with-at-least-32-characters!";

// The policy every input is checked against: one key per algorithm, two of them with a kid.
sb::JwtPolicy make_policy() {
  sb::JwtPolicy policy;
  policy.keys.push_back({"h1", "HS256", kSecret, nullptr});
  policy.keys.push_back({"r1", "RS256", "", sb::fuzz::rsa_test_key()});
  policy.keys.push_back({"", "ES256", "", sb::fuzz::ec_test_key()});
  return policy;
}

// The compact token of `header` and `claims` signed by the policy's key for `alg`.
std::string signed_token(const std::string& alg, std::string_view header, std::string_view claims) {
  std::string input = sb::base64url_encode(header) + "." + sb::base64url_encode(claims);
  std::string signature = alg == "es256" ? sb::sign_es256(sb::fuzz::ec_test_key(), input)
                                         : sb::hmac_sha256(kSecret, input);
  return input + "." + sb::base64url_encode(signature);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static sb::JwtPolicy policy = make_policy();
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  std::int64_t now = sb::fuzz::integer_or(f[1], 1700000000);
  policy.audience = std::string(f[2]);
  auto parts = sb::fuzz::fields(f[3], 2);
  std::string token =
      f[0] == "raw" ? std::string(f[3]) : signed_token(std::string(f[0]), parts[0], parts[1]);
  sb::JwtResult result = sb::verify_jwt(token, policy, now);
  sb::fuzz::require(result.ok == result.error.empty(), "a token is either accepted or refused");
  std::string kid = sb::jwt_kid(token);  // what the shim reads to decide on a JWKS refresh
  sb::fuzz::require(kid.empty() || token.find('.') != std::string::npos,
                    "only a token with a header part names a kid");
  if (result.ok) {
    sb::fuzz::require(result.claims.is_object(), "accepted claims are an object");
    sb::fuzz::require(sb::jwt_time_problem(result.claims, now, policy.leeway_seconds).empty(),
                      "accepted claims pass the time checks");
  }
  return 0;
}
