// verify_standard (core/http/http_webhook_verify): Standard Webhooks v1 (HMAC) and v1a (Ed25519).
// Input: now, extra secrets (space-separated whsec_...), an extra whpk_ public key (or empty),
// header prefix ("svix" or else "webhook"), id, timestamp, signature, then the body. The config
// also holds a fixed secret and a fixed public key: a signature of "*v1" or "*v1a" is replaced by
// the one a sender with them computes, which must verify while the timestamp is fresh.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/http/http_webhook_verify.hpp"
#include "fuzz_support.hpp"

namespace {

const char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// The config of the fixed secret and key plus the input's, or nothing when its key is refused.
std::optional<sb::StandardWebhookConfig> config_of(std::string_view secrets,
                                                   std::string_view whpk) {
  sb::StandardWebhookConfig config;
  for (auto rest = secrets; !rest.empty();) {
    auto space = rest.find(' ');
    config.secrets.emplace_back(rest.substr(0, space));
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  config.secrets.emplace_back(kSecret);
  config.public_keys.push_back(sb::fuzz::ed25519_test_key());
  if (whpk.empty()) return config;
  try {
    config.public_keys.push_back(sb::standard_public_key(whpk));
  } catch (const std::runtime_error&) {
    return std::nullopt;  // the documented refusal of a malformed key
  }
  return config;
}

// True when `ts` is what a sender writes (decimal digits) within the tolerance of `now`.
bool fresh(std::string_view ts, std::int64_t now, std::int64_t tolerance) {
  bool digits = !ts.empty() && ts.size() <= 18 &&
                std::all_of(ts.begin(), ts.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits && std::abs(sb::fuzz::integer_or(ts, 0) - now) <= tolerance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 8);
  std::int64_t now = sb::fuzz::integer_or(f[0], 1614265330);
  auto config = config_of(f[1], f[2]);
  if (!config) return 0;
  std::string_view id = f[4], ts = f[5], body = f[7];
  std::string signature(f[6]);
  bool computed = signature == "*v1" || signature == "*v1a";
  if (signature == "*v1") signature = sb::standard_signature(kSecret, id, ts, body);
  if (signature == "*v1a")
    signature = sb::standard_v1a_signature(sb::fuzz::ed25519_test_key(), id, ts, body);
  std::string prefix = f[3] == "svix" ? "svix-" : "webhook-";
  sb::HeaderMap headers{{prefix + "id", std::string(id)},
                        {prefix + "timestamp", std::string(ts)},
                        {prefix + "signature", signature}};
  sb::WebhookVerdict verdict = sb::verify_standard(*config, headers, body, now);
  if (computed && !id.empty() && fresh(ts, now, config->tolerance_seconds))
    sb::fuzz::require(verdict.ok(), "a signature computed by the sender verifies");
  if (verdict.ok())
    sb::fuzz::require(fresh(ts, now, config->tolerance_seconds), "only fresh passes");
  return 0;
}
