// The whsk_ / whpk_ key texts of v1a (Ed25519) outbound webhooks: standard_private_key,
// standard_public_key and v1a_public_key (core/outbound, core/http) parse any text. Input: the
// key text on the first line, then the body to sign. Properties: a malformed key is refused with
// std::runtime_error and nothing else; an accepted secret key's texts round-trip (whsk_ -> key ->
// whsk_ -> the same key) and its whpk_ parses back to the same public key; a message signed by
// the outbound signature header under an accepted secret key verifies with its public key, and
// not with another key.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "core/http/http_webhook_verify.hpp"
#include "core/outbound/outbound_policy.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr std::int64_t kNow = 1700000000;

// The verdict of a delivery signed with `header` under the public key `whpk`.
bool verifies(const std::string& whpk, const std::string& header, std::string_view body) {
  sb::StandardWebhookConfig config;
  config.public_keys.push_back(sb::standard_public_key(whpk));
  sb::HeaderMap headers{{"webhook-id", "msg_fuzz"},
                        {"webhook-timestamp", std::to_string(kNow)},
                        {"webhook-signature", header}};
  return sb::verify_standard(config, headers, body, kNow).ok();
}

// Ensures: the properties of an accepted secret key.
void check_secret_key(std::string_view whsk, std::string_view body) {
  sb::PublicKey key;
  try {
    key = sb::standard_private_key(whsk);
  } catch (const std::runtime_error&) {
    bool refused = false;
    try {
      sb::outbound::v1a_public_key(whsk);
    } catch (const std::runtime_error&) {
      refused = true;
    }
    sb::fuzz::require(refused, "v1a_public_key accepts what standard_private_key refuses");
    return;
  }
  std::string text = sb::standard_private_key_text(key);
  std::string whpk = sb::standard_public_key_text(key);
  sb::fuzz::require(sb::standard_public_key_text(sb::standard_private_key(text)) == whpk,
                    "a whsk_ text does not round-trip");
  sb::fuzz::require(sb::outbound::v1a_public_key(whsk) == whpk,
                    "v1a_public_key differs from the key's public half");
  sb::fuzz::require(sb::standard_public_key_text(sb::standard_public_key(whpk)) == whpk,
                    "a whpk_ text does not round-trip");
  std::string header =
      sb::outbound::signature_header({std::string(whsk)}, "msg_fuzz", std::to_string(kNow), body);
  sb::fuzz::require(header.compare(0, 4, "v1a,") == 0, "a whsk_ key did not sign v1a");
  sb::fuzz::require(verifies(whpk, header, body), "a v1a signature does not verify");
  std::string other = sb::standard_public_key_text(sb::fuzz::ed25519_test_key());
  sb::fuzz::require(other == whpk || !verifies(other, header, body),
                    "a v1a signature verifies with another key");
}

// Ensures: a public key text is refused with std::runtime_error or re-encodes to a stable text.
void check_public_key(std::string_view whpk) {
  std::string text;
  try {
    text = sb::standard_public_key_text(sb::standard_public_key(whpk));
  } catch (const std::runtime_error&) {
    return;
  }
  sb::fuzz::require(sb::standard_public_key_text(sb::standard_public_key(text)) == text,
                    "a whpk_ text does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 2);
  std::string key(f[0]);
  check_secret_key(key, f[1]);
  check_public_key(key);
  if (key.compare(0, 5, "whpk_") == 0) check_secret_key("whsk_" + key.substr(5), f[1]);
  if (key.compare(0, 5, "whsk_") == 0) check_public_key("whpk_" + key.substr(5));
  return 0;
}
