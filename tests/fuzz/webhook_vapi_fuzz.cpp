// verify_vapi (core/http/http_webhook_verify) in its three modes, with the HMAC credential's
// settings fuzzed too. Input: "mode algorithm encoding" (secret|bearer|hmac, sha1|sha256|sha512,
// hex|base64), secret, signature prefix, signed-payload template, now, the credential or signature
// header value, the timestamp header value, then the body. A signature of "*" under the default
// template is replaced by the one Vapi computes, which must verify while the timestamp is fresh.
#include <algorithm>
#include <cstdint>
#include <string>

#include "core/http/http_crypto.hpp"
#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

namespace {

// The config named by the first line and the settings lines.
sb::VapiConfig config_of(std::string_view settings, std::string_view secret,
                         std::string_view prefix, std::string_view payload) {
  sb::VapiConfig config;
  auto words = sb::fuzz::fields(settings, 3);
  config.mode = words[0] == "hmac"     ? sb::VapiConfig::Mode::hmac
                : words[0] == "bearer" ? sb::VapiConfig::Mode::bearer
                                       : sb::VapiConfig::Mode::secret;
  config.algorithm = words[1] == "sha1"     ? sb::Digest::sha1
                     : words[1] == "sha512" ? sb::Digest::sha512
                                            : sb::Digest::sha256;
  config.base64 = words[2] == "base64";
  config.secret = std::string(secret);
  config.signature_prefix = std::string(prefix);
  if (!payload.empty()) config.signed_payload = std::string(payload);
  return config;
}

// The signature header value Vapi sends for `ts` and `body` under the default template.
std::string sender_signature(const sb::VapiConfig& config, std::string_view ts,
                             std::string_view body) {
  std::string mac =
      sb::hmac(config.algorithm, config.secret, std::string(ts) + "." + std::string(body));
  return config.signature_prefix + (config.base64 ? sb::base64_encode(mac) : sb::hex_encode(mac));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 8);
  // The first field's words are separated by spaces.
  std::string settings(f[0]);
  std::replace(settings.begin(), settings.end(), ' ', '\n');
  sb::VapiConfig config = config_of(settings, f[1], f[2], f[3]);
  std::int64_t now = sb::fuzz::integer_or(f[4], 1738074900);
  std::string value(f[5]), ts(f[6]);
  std::string_view body = f[7];
  bool computed = value == "*" && config.mode == sb::VapiConfig::Mode::hmac &&
                  config.signed_payload == "{timestamp}.{body}";
  if (computed) value = sender_signature(config, ts, body);
  sb::HeaderMap headers{{"x-vapi-secret", value},
                        {"authorization", value},
                        {"x-signature", value},
                        {"x-timestamp", ts}};
  sb::WebhookVerdict verdict = sb::verify_vapi(config, headers, body, now);
  // Seconds as a sender writes them (larger numbers are taken for milliseconds).
  std::int64_t seconds = sb::fuzz::integer_or(ts, -1);
  bool fresh = !ts.empty() && ts.size() <= 12 && seconds <= 100000000000 &&
               std::all_of(ts.begin(), ts.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
               std::abs(seconds - now) <= config.tolerance_seconds;
  if (computed && fresh && !config.secret.empty())
    sb::fuzz::require(verdict.ok(), "the signature Vapi computes verifies");
  if (verdict.ok()) sb::fuzz::require(!config.secret.empty(), "no secret, nothing verifies");
  return 0;
}
