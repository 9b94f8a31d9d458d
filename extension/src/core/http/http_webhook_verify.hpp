// Verification of inbound webhooks per provider: Standard Webhooks, Stripe, Twilio, GoHighLevel,
// Vapi and Retell. Each check reads the raw body bytes, compares in constant time and enforces the
// provider's timestamp tolerance; replays of fresh requests are refused later by event id.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/http/http_crypto.hpp"

namespace sb {

// Request headers by lowercase name (the first value of each).
using HeaderMap = std::map<std::string, std::string>;

// The outcome of one verification; `outcome` is a metrics label: verified, missing_signature,
// bad_signature, stale_timestamp, malformed or not_configured.
struct WebhookVerdict {
  std::string outcome;
  std::string message;  // a short lowercase explanation, safe to return
  bool ok() const { return outcome == "verified"; }
};

struct StandardWebhookConfig {
  std::vector<std::string> secrets;  // whsec_<base64>, all accepted (rotation): v1 (HMAC)
  std::int64_t tolerance_seconds = 300;
  std::vector<PublicKey> public_keys;  // from whpk_<base64>, all accepted: v1a (Ed25519)
};

struct StripeConfig {
  std::vector<std::string> secrets;  // whsec_..., used as UTF-8 bytes as they are
  std::int64_t tolerance_seconds = 300;
};

struct TwilioConfig {
  std::vector<std::string> auth_tokens;
};

struct GhlConfig {
  PublicKey ed25519;  // x-ghl-signature
  PublicKey rsa;      // x-wh-signature (legacy)
  std::int64_t tolerance_seconds = 300;
};

struct VapiConfig {
  enum class Mode { secret, bearer, hmac };
  Mode mode = Mode::secret;
  std::string secret;
  std::string bearer_header = "authorization";
  Digest algorithm = Digest::sha256;
  std::string signature_header = "x-signature";
  std::string signature_prefix;  // e.g. "sha256=" before the encoded signature
  std::string timestamp_header = "x-timestamp";
  std::string signed_payload = "{timestamp}.{body}";
  bool base64 = false;  // encoding of the signature: hex (default) or base64
  std::int64_t tolerance_seconds = 300;
};

struct RetellConfig {
  std::vector<std::string> api_keys;  // the Retell API key(s) with webhook permission, all accepted
  std::int64_t tolerance_seconds = 300;
};

WebhookVerdict verify_standard(const StandardWebhookConfig& config, const HeaderMap& headers,
                               std::string_view body, std::int64_t now);

WebhookVerdict verify_stripe(const StripeConfig& config, const HeaderMap& headers,
                             std::string_view body, std::int64_t now);

// `url` is the full public URL Twilio requested, query string included.
WebhookVerdict verify_twilio(const TwilioConfig& config, const HeaderMap& headers,
                             std::string_view url, std::string_view body);

WebhookVerdict verify_ghl(const GhlConfig& config, const HeaderMap& headers, std::string_view body,
                          std::int64_t now);

WebhookVerdict verify_vapi(const VapiConfig& config, const HeaderMap& headers,
                           std::string_view body, std::int64_t now);

// X-Retell-Signature: v=<unix ms>,d=<hex HMAC-SHA256(api key, raw body + the ms timestamp)>.
WebhookVerdict verify_retell(const RetellConfig& config, const HeaderMap& headers,
                             std::string_view body, std::int64_t now);

// The X-Retell-Signature value of a body sent at `timestamp_ms` under one API key.
std::string retell_signature(std::string_view api_key, std::string_view body,
                             std::int64_t timestamp_ms);

// The Standard Webhooks signature header value ("v1,<base64>") of a message under one secret.
std::string standard_signature(const std::string& secret, std::string_view id,
                               std::string_view timestamp, std::string_view body);

// The Ed25519 key of a Standard Webhooks public key: whpk_ + base64 of its 32 raw bytes; throws
// std::runtime_error when malformed.
PublicKey standard_public_key(std::string_view whpk);

// The Ed25519 private key of a Standard Webhooks secret key: whsk_ + base64 of its 32-byte seed
// (64 bytes, seed then public key, as libsodium writes it, are read too); throws
// std::runtime_error when malformed.
PublicKey standard_private_key(std::string_view whsk);

// The whsk_ (32-byte seed) and whpk_ texts of an Ed25519 key.
std::string standard_private_key_text(const PublicKey& key);
std::string standard_public_key_text(const PublicKey& key);

// The Standard Webhooks asymmetric signature ("v1a,<base64>") of a message by an Ed25519 key.
std::string standard_v1a_signature(const PublicKey& private_key, std::string_view id,
                                   std::string_view timestamp, std::string_view body);

// The POST parameters a Twilio signature covers: the form fields of `body`, or none when `url`
// carries bodySHA256 (a JSON body, covered through that hash).
std::vector<std::pair<std::string, std::string>> twilio_signed_params(std::string_view url,
                                                                      std::string_view body);

// What a Twilio signature signs: the URL, then each parameter's name and value in sorted order.
std::string twilio_signed_data(std::string_view url,
                               std::vector<std::pair<std::string, std::string>> params);

// base64(HMAC-SHA1(token, twilio_signed_data(url, params))) as Twilio computes it.
std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<std::pair<std::string, std::string>> params);

// The URL variants Twilio may have signed: as given, with the default port, without a port.
std::vector<std::string> twilio_url_variants(std::string_view url);

// Percent-decoding (libcurl's curl_easy_unescape: %XX with two hex digits is a byte, anything
// else stays as written); '+' becomes a space when `plus_is_space` (form encoding).
std::string url_decode(std::string_view text, bool plus_is_space);

// The name/value pairs of application/x-www-form-urlencoded text (or a query string), decoded.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view text);

// Unix seconds of an ISO-8601 timestamp such as 2025-01-28T14:35:00.123Z or ...+02:00.
std::optional<std::int64_t> parse_iso8601(std::string_view text);

}  // namespace sb
