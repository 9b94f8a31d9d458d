// verify_twilio with its form parsing and URL variants (core/http/http_webhook_verify). Input:
// auth token, public URL, x-twilio-signature, then the body. A signature of "*" is replaced by
// the one Twilio computes for the URL as given (and the body's form fields, unless the URL
// carries bodySHA256), which must verify unless the URL's bodySHA256 is not the body's.
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/http/http_crypto.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  std::string_view token = f[0], url = f[1], body = f[3];
  auto variants = sb::twilio_url_variants(url);
  sb::fuzz::require(!variants.empty() && variants[0] == url, "the URL as given comes first");
  for (std::size_t i = 1; i < variants.size(); ++i)
    sb::fuzz::require(std::count(variants.begin(), variants.end(), variants[i]) == 1,
                      "URL variants are distinct");
  std::string signature(f[2]);
  bool computed = signature == "*";
  if (computed) signature = sb::twilio_signature(token, url, sb::twilio_signed_params(url, body));
  sb::TwilioConfig config{{"12345", std::string(token)}};
  sb::WebhookVerdict verdict =
      sb::verify_twilio(config, {{"x-twilio-signature", signature}}, url, body);
  if (computed)
    sb::fuzz::require(verdict.ok() || verdict.message == "bodySHA256 does not match the body",
                      "the signature Twilio computes verifies");
  return 0;
}
