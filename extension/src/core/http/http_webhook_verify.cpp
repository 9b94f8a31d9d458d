#include "core/http/http_webhook_verify.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <limits>
#include <new>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace sb {
namespace {

// A verdict with its metrics label and message.
WebhookVerdict verdict(const char* outcome, std::string message) {
  return WebhookVerdict{outcome, std::move(message)};
}

// The verdict of a request that passed.
WebhookVerdict verified() {
  return verdict("verified", "verified");
}

// The value of a header, or "" when absent.
std::string header(const HeaderMap& headers, const std::string& name) {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

// The integer in `text` (digits only), or nothing.
std::optional<std::int64_t> parse_integer(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// True when `timestamp` is more than `tolerance` seconds before or after `now`.
bool outside_tolerance(std::int64_t timestamp, std::int64_t now, std::int64_t tolerance) {
  return timestamp < now - tolerance || timestamp > now + tolerance;
}

// The non-empty parts of `text` between separators.
std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// The HMAC key of a Standard Webhooks secret: the base64 bytes after the whsec_ prefix.
std::optional<std::string> standard_key(std::string_view secret) {
  if (secret.substr(0, 6) == "whsec_") secret.remove_prefix(6);
  return base64_decode(secret);
}

// The decoded signatures of the space-separated "<version>,<base64>" entries of one version.
std::vector<std::string> standard_signatures(std::string_view header_value,
                                             std::string_view version) {
  std::vector<std::string> out;
  for (auto entry : split(header_value, ' ')) {
    auto comma = entry.find(',');
    if (comma == std::string_view::npos || entry.substr(0, comma) != version) continue;
    if (auto bytes = base64_decode(entry.substr(comma + 1))) out.push_back(std::move(*bytes));
  }
  return out;
}

// True when a v1 entry is the HMAC-SHA256 of `message` under one of the secrets (compared in
// constant time, every pair tried).
bool v1_matches(const StandardWebhookConfig& config, std::string_view header_value,
                const std::string& message) {
  auto given = standard_signatures(header_value, "v1");
  bool match = false;
  for (const auto& secret : config.secrets) {
    auto key = standard_key(secret);
    if (!key) continue;
    std::string expected = hmac(Digest::sha256, *key, message);
    for (const auto& signature : given) match |= constant_time_equal(signature, expected);
  }
  return match;
}

// True when a v1a entry is an Ed25519 signature of `message` by one of the public keys.
bool v1a_matches(const StandardWebhookConfig& config, std::string_view header_value,
                 const std::string& message) {
  auto given = standard_signatures(header_value, "v1a");
  bool match = false;
  for (const auto& key : config.public_keys)
    for (const auto& signature : given) match |= verify_ed25519(key, message, signature);
  return match;
}

// What a Standard Webhooks signature signs: "{id}.{timestamp}.{body}".
std::string standard_message(std::string_view id, std::string_view timestamp,
                             std::string_view body) {
  std::string message;
  message.reserve(id.size() + timestamp.size() + body.size() + 2);
  message.append(id).append(".").append(timestamp).append(".").append(body);
  return message;
}

// A header by its standard name or its svix- alias.
std::string standard_header(const HeaderMap& headers, const std::string& suffix) {
  std::string value = header(headers, "webhook-" + suffix);
  return value.empty() ? header(headers, "svix-" + suffix) : value;
}

// The scheme, authority and rest of a URL (rest starts with '/', '?' or '#', or is empty).
struct UrlParts {
  std::string scheme, host, port, rest;
};

// The parts of an absolute URL, or nothing when it has no scheme.
std::optional<UrlParts> split_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  UrlParts parts;
  parts.scheme = std::string(url.substr(0, sep));
  std::string_view after = url.substr(sep + 3);
  auto end = after.find_first_of("/?#");
  std::string_view authority = after.substr(0, end);
  parts.rest = end == std::string_view::npos ? "" : std::string(after.substr(end));
  auto colon = authority.rfind(':');
  auto bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    parts.host = std::string(authority.substr(0, colon));
    parts.port = std::string(authority.substr(colon + 1));
  } else {
    parts.host = std::string(authority);
  }
  return parts;
}

// The value of query parameter `name` in `url`, or "".
std::string query_value(std::string_view url, std::string_view name) {
  auto q = url.find('?');
  if (q == std::string_view::npos) return "";
  for (auto& [key, value] : parse_form(url.substr(q + 1)))
    if (key == name) return value;
  return "";
}

// True when `text` begins with `prefix`, ignoring ASCII case.
bool starts_with_ci(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// True when the GHL body's signature verifies: Ed25519 (x-ghl-signature) when present and a key
// is configured, else RSA (x-wh-signature). `present` tells whether any signature was sent.
bool ghl_signature_valid(const GhlConfig& config, const HeaderMap& headers, std::string_view body,
                         bool& present) {
  std::string ed = header(headers, "x-ghl-signature");
  std::string rsa = header(headers, "x-wh-signature");
  if (ed == "N/A") ed.clear();
  if (rsa == "N/A") rsa.clear();
  present = !ed.empty() || !rsa.empty();
  if (!ed.empty() && config.ed25519) {
    auto sig = base64_decode(ed);
    return sig && verify_ed25519(config.ed25519, body, *sig);
  }
  if (!rsa.empty() && config.rsa) {
    auto sig = base64_decode(rsa);
    return sig && verify_rs256(config.rsa, body, *sig);
  }
  return false;
}

// The timestamp signed inside a GHL body, or nothing.
std::optional<std::int64_t> ghl_body_timestamp(std::string_view body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("timestamp") || !doc["timestamp"].is_string())
    return std::nullopt;
  return parse_iso8601(doc["timestamp"].get<std::string>());
}

// `text` with every `from` replaced by `to`.
std::string replace_all(std::string text, const std::string& from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

// The raw bytes of a Vapi HMAC signature header value (prefix stripped, hex or base64 decoded).
std::optional<std::string> vapi_signature_bytes(const VapiConfig& config, std::string value) {
  if (!config.signature_prefix.empty()) {
    if (value.compare(0, config.signature_prefix.size(), config.signature_prefix) != 0)
      return std::nullopt;
    value.erase(0, config.signature_prefix.size());
  }
  return config.base64 ? base64_decode(value) : hex_decode(value);
}

// Checks a Vapi HMAC credential: timestamp tolerance, then the signature of the payload template.
WebhookVerdict verify_vapi_hmac(const VapiConfig& config, const HeaderMap& headers,
                                std::string_view body, std::int64_t now) {
  std::string sig = header(headers, config.signature_header);
  if (sig.empty()) return verdict("missing_signature", "signature header missing");
  std::string ts = header(headers, config.timestamp_header);
  bool uses_ts = config.signed_payload.find("{timestamp}") != std::string::npos;
  if (uses_ts) {
    auto value = parse_integer(ts);
    if (!value) return verdict("malformed", "timestamp header missing or not an integer");
    std::int64_t seconds = *value > 100000000000 ? *value / 1000 : *value;  // milliseconds too
    if (outside_tolerance(seconds, now, config.tolerance_seconds))
      return verdict("stale_timestamp", "timestamp outside the tolerance");
  }
  std::string payload =
      replace_all(replace_all(config.signed_payload, "{timestamp}", ts), "{body}", body);
  auto given = vapi_signature_bytes(config, sig);
  if (given && constant_time_equal(*given, hmac(config.algorithm, config.secret, payload)))
    return verified();
  return verdict("bad_signature", "signature does not match");
}

}  // namespace

WebhookVerdict verify_standard(const StandardWebhookConfig& config, const HeaderMap& headers,
                               std::string_view body, std::int64_t now) {
  if (config.secrets.empty() && config.public_keys.empty())
    return verdict("not_configured", "no standard webhook secret or public key");
  std::string id = standard_header(headers, "id");
  std::string ts = standard_header(headers, "timestamp");
  std::string sig = standard_header(headers, "signature");
  if (id.empty() || ts.empty() || sig.empty())
    return verdict("missing_signature",
                   "webhook-id, webhook-timestamp and webhook-signature are required");
  auto timestamp = parse_integer(ts);
  if (!timestamp) return verdict("malformed", "webhook-timestamp is not an integer");
  if (outside_tolerance(*timestamp, now, config.tolerance_seconds))
    return verdict("stale_timestamp", "webhook-timestamp outside the tolerance");
  std::string message = standard_message(id, ts, body);
  bool match = v1_matches(config, sig, message) || v1a_matches(config, sig, message);
  return match ? verified() : verdict("bad_signature", "no signature matches");
}

PublicKey standard_public_key(std::string_view whpk) {
  if (whpk.substr(0, 5) != "whpk_") throw std::runtime_error("a public key starts with whpk_");
  auto raw = base64_decode(whpk.substr(5));
  if (!raw) throw std::runtime_error("a whpk_ key is base64 after its prefix");
  return ed25519_public_key(*raw);
}

PublicKey standard_private_key(std::string_view whsk) {
  if (whsk.substr(0, 5) != "whsk_") throw std::runtime_error("a secret key starts with whsk_");
  auto raw = base64_decode(whsk.substr(5));
  if (!raw || (raw->size() != 32 && raw->size() != 64))
    throw std::runtime_error("a whsk_ key is the base64 of a 32-byte Ed25519 seed");
  PublicKey key = ed25519_private_key(raw->substr(0, 32));
  if (raw->size() == 64 && !constant_time_equal(raw->substr(32), ed25519_raw_public_key(key)))
    throw std::runtime_error("the public half of the whsk_ key does not match its seed");
  return key;
}

std::string standard_private_key_text(const PublicKey& key) {
  return "whsk_" + base64_encode(ed25519_raw_private_key(key));
}

std::string standard_public_key_text(const PublicKey& key) {
  return "whpk_" + base64_encode(ed25519_raw_public_key(key));
}

std::string standard_v1a_signature(const PublicKey& private_key, std::string_view id,
                                   std::string_view timestamp, std::string_view body) {
  std::string message = standard_message(id, timestamp, body);
  return "v1a," + base64_encode(sign_ed25519(private_key, message));
}

std::string standard_signature(const std::string& secret, std::string_view id,
                               std::string_view timestamp, std::string_view body) {
  std::string message = standard_message(id, timestamp, body);
  return "v1," + base64_encode(hmac(Digest::sha256, standard_key(secret).value_or(""), message));
}

WebhookVerdict verify_stripe(const StripeConfig& config, const HeaderMap& headers,
                             std::string_view body, std::int64_t now) {
  if (config.secrets.empty()) return verdict("not_configured", "no stripe webhook secret");
  std::string value = header(headers, "stripe-signature");
  if (value.empty()) return verdict("missing_signature", "stripe-signature missing");
  std::string t;
  std::vector<std::string> v1;
  for (auto item : split(value, ',')) {
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = item.substr(0, eq);
    if (key == "t" && t.empty()) t = std::string(item.substr(eq + 1));
    if (key == "v1") v1.emplace_back(item.substr(eq + 1));
  }
  auto timestamp = parse_integer(t);
  if (!timestamp || v1.empty()) return verdict("malformed", "stripe-signature lacks t or v1");
  if (outside_tolerance(*timestamp, now, config.tolerance_seconds))
    return verdict("stale_timestamp", "stripe timestamp outside the tolerance");
  std::string message = t + "." + std::string(body);
  bool match = false;
  for (const auto& secret : config.secrets) {
    std::string expected = hmac(Digest::sha256, secret, message);
    for (const auto& candidate : v1) {
      auto bytes = hex_decode(candidate);
      if (bytes && constant_time_equal(*bytes, expected)) match = true;
    }
  }
  return match ? verified() : verdict("bad_signature", "no v1 signature matches");
}

std::vector<std::pair<std::string, std::string>> twilio_signed_params(std::string_view url,
                                                                      std::string_view body) {
  if (!query_value(url, "bodySHA256").empty()) return {};
  return parse_form(body);
}

std::string twilio_signed_data(std::string_view url,
                               std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string data(url);
  for (const auto& [name, value] : params) data += name + value;
  return data;
}

std::string twilio_signature(std::string_view auth_token, std::string_view url,
                             std::vector<std::pair<std::string, std::string>> params) {
  return base64_encode(hmac(Digest::sha1, auth_token, twilio_signed_data(url, std::move(params))));
}

std::vector<std::string> twilio_url_variants(std::string_view url) {
  std::vector<std::string> out{std::string(url)};
  auto parts = split_url(url);
  if (!parts) return out;
  std::string base = parts->scheme + "://" + parts->host;
  std::string default_port = parts->scheme == "https" ? "443" : parts->scheme == "http" ? "80" : "";
  std::string port = parts->port.empty() ? default_port : parts->port;
  for (std::string variant :
       {port.empty() ? std::string() : base + ":" + port + parts->rest, base + parts->rest})
    if (!variant.empty() && std::find(out.begin(), out.end(), variant) == out.end())
      out.push_back(variant);
  return out;
}

WebhookVerdict verify_twilio(const TwilioConfig& config, const HeaderMap& headers,
                             std::string_view url, std::string_view body) {
  if (config.auth_tokens.empty()) return verdict("not_configured", "no twilio auth token");
  std::string given = header(headers, "x-twilio-signature");
  if (given.empty()) return verdict("missing_signature", "x-twilio-signature missing");
  std::string body_hash = query_value(url, "bodySHA256");
  if (!body_hash.empty() &&
      !constant_time_equal(hex_encode(digest(Digest::sha256, body)), body_hash))
    return verdict("bad_signature", "bodySHA256 does not match the body");
  auto params = twilio_signed_params(url, body);
  bool match = false;
  for (const auto& variant : twilio_url_variants(url))
    for (const auto& token : config.auth_tokens)
      if (constant_time_equal(twilio_signature(token, variant, params), given)) match = true;
  return match ? verified() : verdict("bad_signature", "x-twilio-signature does not match");
}

WebhookVerdict verify_ghl(const GhlConfig& config, const HeaderMap& headers, std::string_view body,
                          std::int64_t now) {
  if (!config.ed25519 && !config.rsa) return verdict("not_configured", "no ghl public key");
  bool present = false;
  if (!ghl_signature_valid(config, headers, body, present))
    return present ? verdict("bad_signature", "ghl signature does not verify")
                   : verdict("missing_signature", "x-ghl-signature and x-wh-signature missing");
  auto timestamp = ghl_body_timestamp(body);
  if (!timestamp) return verdict("malformed", "body timestamp missing or not ISO-8601");
  if (outside_tolerance(*timestamp, now, config.tolerance_seconds))
    return verdict("stale_timestamp", "body timestamp outside the tolerance");
  return verified();
}

WebhookVerdict verify_vapi(const VapiConfig& config, const HeaderMap& headers,
                           std::string_view body, std::int64_t now) {
  if (config.secret.empty()) return verdict("not_configured", "no vapi secret");
  if (config.mode == VapiConfig::Mode::hmac) return verify_vapi_hmac(config, headers, body, now);
  std::string value = config.mode == VapiConfig::Mode::secret
                          ? header(headers, "x-vapi-secret")
                          : header(headers, config.bearer_header);
  if (value.empty()) return verdict("missing_signature", "credential header missing");
  if (config.mode == VapiConfig::Mode::bearer && starts_with_ci(value, "bearer "))
    value.erase(0, 7);
  return constant_time_equal(value, config.secret)
             ? verified()
             : verdict("bad_signature", "credential does not match");
}

std::string retell_signature(std::string_view api_key, std::string_view body,
                             std::int64_t timestamp_ms) {
  std::string ms = std::to_string(timestamp_ms);
  return "v=" + ms + ",d=" + hex_encode(hmac(Digest::sha256, api_key, std::string(body) + ms));
}

WebhookVerdict verify_retell(const RetellConfig& config, const HeaderMap& headers,
                             std::string_view body, std::int64_t now) {
  if (config.api_keys.empty()) return verdict("not_configured", "no retell api key");
  std::string value = header(headers, "x-retell-signature");
  if (value.empty()) return verdict("missing_signature", "x-retell-signature missing");
  std::string v;
  std::string d;
  for (auto item : split(value, ',')) {
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    auto key = item.substr(0, eq);
    if (key == "v" && v.empty()) v = std::string(item.substr(eq + 1));
    if (key == "d" && d.empty()) d = std::string(item.substr(eq + 1));
  }
  auto ms = parse_integer(v);
  auto given = hex_decode(d);
  if (!ms || !given) return verdict("malformed", "x-retell-signature lacks v or d");
  if (outside_tolerance(*ms / 1000, now, config.tolerance_seconds))
    return verdict("stale_timestamp", "retell timestamp outside the tolerance");
  std::string message = std::string(body) + v;
  for (const auto& key : config.api_keys)
    if (constant_time_equal(*given, hmac(Digest::sha256, key, message))) return verified();
  return verdict("bad_signature", "signature does not match");
}

std::string url_decode(std::string_view text, bool plus_is_space) {
  if (text.empty()) return "";  // (libcurl takes a length of 0 to mean a NUL-terminated string)
  if (text.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::length_error("url_decode: text too long");
  std::string input(text);
  if (plus_is_space) std::replace(input.begin(), input.end(), '+', ' ');
  int length = 0;
  char* decoded =
      curl_easy_unescape(nullptr, input.data(), static_cast<int>(input.size()), &length);
  if (!decoded) throw std::bad_alloc();
  std::string out(decoded, static_cast<std::size_t>(length));
  curl_free(decoded);
  return out;
}

std::vector<std::pair<std::string, std::string>> parse_form(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto item : split(text, '&')) {
    auto eq = item.find('=');
    std::string_view name = item.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    out.emplace_back(url_decode(name, true), url_decode(value, true));
  }
  return out;
}

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

// The number in text[pos, pos+n) when all digits, else -1.
int digits_at(std::string_view text, std::size_t pos, std::size_t n) {
  if (pos + n > text.size()) return -1;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Seconds east of UTC of a zone suffix: "Z", "+hh:mm", "+hhmm", "-hh"; nothing when malformed.
std::optional<int> zone_offset(std::string_view zone) {
  if (zone == "Z" || zone == "z") return 0;
  if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
  int hours = digits_at(zone, 1, 2);
  std::string_view rest = zone.substr(3);
  if (!rest.empty() && rest[0] == ':') rest.remove_prefix(1);
  int minutes = rest.empty() ? 0 : (rest.size() == 2 ? digits_at(rest, 0, 2) : -1);
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59) return std::nullopt;
  int offset = hours * 3600 + minutes * 60;
  return zone[0] == '-' ? -offset : offset;
}

}  // namespace

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  int year = digits_at(text, 0, 4), month = digits_at(text, 5, 2), day = digits_at(text, 8, 2);
  int hour = digits_at(text, 11, 2), minute = digits_at(text, 14, 2),
      second = digits_at(text, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60)
    return std::nullopt;
  std::size_t pos = 19;
  if (text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  auto offset = zone_offset(text.substr(pos));
  if (!offset) return std::nullopt;
  return days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
         hour * 3600 + minute * 60 + second - *offset;
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
