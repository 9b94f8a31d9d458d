// verify_retell (core/http/http_webhook_verify). Input: now (Unix seconds), API key, the
// x-retell-signature header, then the body. A header of "*" is replaced by the one Retell sends
// for the body at `now` (retell_signature), which must verify; nothing verifies under another key.
#include <cstdint>
#include <string>

#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  std::int64_t now = sb::fuzz::integer_or(f[0], 1765000000);
  sb::RetellConfig config{{std::string(f[1])}, 300};
  std::string header(f[2]);
  bool computed = header == "*" && now >= 0 && now < 100000000000000;  // ms has <= 18 digits
  if (computed) header = sb::retell_signature(f[1], f[3], now * 1000);
  sb::WebhookVerdict verdict =
      sb::verify_retell(config, {{"x-retell-signature", header}}, f[3], now);
  if (computed) sb::fuzz::require(verdict.ok(), "the header Retell sends verifies");
  if (verdict.ok()) {
    sb::RetellConfig other{{std::string(f[1]) + "x"}, 300};
    sb::fuzz::require(!sb::verify_retell(other, {{"x-retell-signature", header}}, f[3], now).ok(),
                      "another key does not verify");
  }
  return 0;
}
