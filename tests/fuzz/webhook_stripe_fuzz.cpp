// verify_stripe (core/http/http_webhook_verify). Input: now, secret, the stripe-signature header,
// then the body. A header of "*" is replaced by the one Stripe sends for the body at `now`
// (t=now,v1=hex HMAC-SHA256 of "now.body"), which must verify.
#include <cstdint>
#include <string>

#include "core/http/http_crypto.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  std::int64_t now = sb::fuzz::integer_or(f[0], 1533204620);
  sb::StripeConfig config{{std::string(f[1]), "webhook_secret"}, 300};
  std::string header(f[2]);
  bool computed = header == "*" && now >= 0 && now < 1000000000000000000;  // t has <= 18 digits
  if (computed) {
    std::string t = std::to_string(now);
    header =
        "t=" + t + ",v1=" +
        sb::hex_encode(sb::hmac(sb::Digest::sha256, "webhook_secret", t + "." + std::string(f[3])));
  }
  sb::WebhookVerdict verdict = sb::verify_stripe(config, {{"stripe-signature", header}}, f[3], now);
  if (computed) sb::fuzz::require(verdict.ok(), "the header Stripe sends verifies");
  return 0;
}
