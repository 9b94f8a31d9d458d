// verify_ghl (core/http/http_webhook_verify): GoHighLevel's Ed25519 (x-ghl-signature) and RSA
// (x-wh-signature) signatures and the ISO-8601 timestamp signed inside the body. Input: now,
// x-ghl-signature, x-wh-signature, then the body. An x-ghl-signature of "*" is replaced by the
// fixed Ed25519 key's signature of the body, so the body's timestamp checks are reached.
#include <cstdint>
#include <string>

#include "core/http/http_crypto.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  std::int64_t now = sb::fuzz::integer_or(f[0], 1738074900);
  std::string_view body = f[3];
  sb::GhlConfig config{sb::fuzz::ed25519_test_key(), sb::fuzz::rsa_test_key(), 300};
  std::string ed(f[1]);
  bool computed = ed == "*";
  if (computed) ed = sb::base64_encode(sb::sign_ed25519(sb::fuzz::ed25519_test_key(), body));
  sb::HeaderMap headers;
  if (!ed.empty()) headers["x-ghl-signature"] = ed;
  if (!f[2].empty()) headers["x-wh-signature"] = std::string(f[2]);
  sb::WebhookVerdict verdict = sb::verify_ghl(config, headers, body, now);
  if (computed)
    sb::fuzz::require(verdict.outcome != "bad_signature" && verdict.outcome != "missing_signature",
                      "the Ed25519 signature of the body verifies");
  return 0;
}
