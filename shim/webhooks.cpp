// POST /webhooks/{provider}: verify the raw bytes, then hand the event to
// switchboard.receive_webhook as service_role (which stores it once and dispatches it).
#include <algorithm>
#include <cctype>

#include "app.hpp"
#include "core/http/http_crypto.hpp"
#include "errors.hpp"

namespace shim {
namespace {

using nlohmann::json;

const char* kProviders[] = {"standard", "stripe", "twilio", "ghl", "vapi", "retell"};

// True for the providers the shim can verify.
bool known_provider(const std::string& name) {
  return std::find(std::begin(kProviders), std::end(kProviders), name) != std::end(kProviders);
}

// The request headers by lowercase name (first value of each), for the verifiers.
sb::HeaderMap header_map(const httplib::Request& req) {
  sb::HeaderMap out;
  for (const auto& [name, value] : req.headers) out.emplace(lowercase(name), value);
  return out;
}

// The public URL the provider requested: the configured URL (or public base + path), plus the raw
// query. Never derived from Host or X-Forwarded-* (the shim refuses to start with a Twilio token
// but neither URL setting).
std::string public_url(const Config& config, const httplib::Request& req) {
  std::string base =
      !config.twilio_webhook_url.empty() ? config.twilio_webhook_url : config.public_url + req.path;
  auto q = req.target.find('?');
  return q == std::string::npos ? base : base + req.target.substr(q);
}

// Hex SHA-256 of what the provider's signature covers: for Twilio the URL and the sorted form
// parameters (so a reordered or re-encoded replay has the same digest), else the raw body.
std::string signed_digest(const Config& config, const std::string& provider,
                          const httplib::Request& req, const std::string& body) {
  if (provider != "twilio") return sb::hex_encode(sb::digest(sb::Digest::sha256, body));
  std::string url = public_url(config, req);
  std::string data = sb::twilio_signed_data(url, sb::twilio_signed_params(url, body));
  return sb::hex_encode(sb::digest(sb::Digest::sha256, data));
}

// The verdict of the provider's verifier on this request.
sb::WebhookVerdict verify(const Config& config, const std::string& provider,
                          const httplib::Request& req, const std::string& body) {
  sb::HeaderMap headers = header_map(req);
  std::int64_t now = config.now();
  if (provider == "standard") return sb::verify_standard(config.standard, headers, body, now);
  if (provider == "stripe") return sb::verify_stripe(config.stripe, headers, body, now);
  if (provider == "twilio")
    return sb::verify_twilio(config.twilio, headers, public_url(config, req), body);
  if (provider == "ghl") return sb::verify_ghl(config.ghl, headers, body, now);
  if (provider == "retell") return sb::verify_retell(config.retell, headers, body, now);
  return sb::verify_vapi(config.vapi, headers, body, now);
}

// The event as JSON: form fields as an object (repeated names as arrays), JSON as it is (nested at
// most the configured depth, else nullopt), anything else as {"raw": text}.
std::optional<json> payload_of(App& app, const httplib::Request& req, const std::string& body) {
  if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
    json out = json::object();
    for (auto& [name, value] : sb::parse_form(body)) {
      if (!out.contains(name))
        out[name] = value;
      else if (out[name].is_array())
        out[name].push_back(value);
      else
        out[name] = json::array({out[name], value});
    }
    return out;
  }
  auto parsed = sb::parse_json(body, app.config.max_json_depth);
  if (parsed.too_deep) return std::nullopt;
  if (parsed.value.is_discarded()) return json{{"raw", body}};
  return std::move(parsed.value);
}

// The settings that configure a provider's verification, for the hint of an unconfigured one.
std::string provider_settings(const std::string& provider) {
  if (provider == "standard")
    return "SWITCHBOARD_STANDARD_WEBHOOK_SECRETS (or SWITCHBOARD_STANDARD_WEBHOOK_PUBLIC_KEYS)";
  if (provider == "stripe") return "SWITCHBOARD_STRIPE_WEBHOOK_SECRET";
  if (provider == "twilio")
    return "SWITCHBOARD_TWILIO_AUTH_TOKEN (with SWITCHBOARD_PUBLIC_URL or "
           "SWITCHBOARD_TWILIO_WEBHOOK_URL)";
  if (provider == "ghl")
    return "SWITCHBOARD_GHL_ED25519_PUBLIC_KEY (or the legacy SWITCHBOARD_GHL_PUBLIC_KEY)";
  if (provider == "retell") return "SWITCHBOARD_RETELL_API_KEY";
  return "SWITCHBOARD_VAPI_SECRET (and SWITCHBOARD_VAPI_AUTH for bearer or hmac)";
}

// The headers stored with the event: all but those carrying credentials or signatures.
json stored_headers(const sb::HeaderMap& headers) {
  json out = json::object();
  for (const auto& [name, value] : headers)
    if (name.find("signature") == std::string::npos && name != "authorization" &&
        name != "x-vapi-secret" && name != "cookie" && name.rfind("remote_", 0) != 0 &&
        name.rfind("local_", 0) != 0)
      out[name] = value;
  return out;
}

}  // namespace

void handle_webhook(App& app, const httplib::Request& req, httplib::Response& res,
                    const std::string& body) {
  std::string provider = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
  if (!known_provider(provider))
    return send_error(res, 404, code::not_found, "unknown webhook provider " + provider);
  current_request().route = "/webhooks/" + provider;
  auto verdict = verify(app.config, provider, req, body);
  app.metrics.count_webhook(provider, verdict.outcome);
  if (verdict.outcome == "not_configured")
    return send_error(res, 503, code::unavailable,
                      "webhooks of provider " + provider + " are not configured", verdict.message,
                      "Set " + provider_settings(provider) + " and restart switchboard-shim.");
  if (!verdict.ok()) return send_error(res, 401, code::unauthorized, verdict.message);
  auto service = service_identity();
  current_request().role = service->role;
  auto schema = schema_or_503(app, res);
  if (!schema) return;
  auto payload = payload_of(app, req, body);
  if (!payload) return refuse_deep_json(app, res);
  json args = {{"provider", provider},
               {"payload", std::move(*payload)},
               {"headers", stored_headers(header_map(req))},
               {"body_sha256", signed_digest(app.config, provider, req, body)}};
  auto overloads = schema->overloads("receive_webhook");
  Call call;
  call.keys = {"provider", "payload", "headers", "body_sha256"};
  call.fn = overloads ? sb::choose_overload(*overloads, call.keys) : nullptr;
  if (!call.fn) return send_internal_error(res, "switchboard.receive_webhook is missing");
  call.arg = args.dump(-1, ' ', false, json::error_handler_t::replace);
  execute(app, req, res, *service, call, 500);
}

}  // namespace shim
