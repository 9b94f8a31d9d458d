// Configuration of switchboard-shim: environment variables SWITCHBOARD_*, each overridable by a
// flag of the same name (--pool-size 8 for SWITCHBOARD_POOL_SIZE).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/http/http_jwt_verify.hpp"
#include "core/http/http_webhook_verify.hpp"

namespace shim {

struct Config {
  std::string database_url;
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  sb::JwtPolicy jwt;  // HS256 secret and/or JWKS keys, audience
  std::string anon_role = "anon";
  std::string schema = "switchboard";
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_json_depth = 64;  // nesting of request JSON
  int pool_size = 10;
  int threads = 32;
  std::chrono::milliseconds request_timeout{10000};
  int keep_alive_seconds = 5;
  int client_timeout_seconds = 10;
  int max_connections = 1000;
  int max_connections_per_client = 100;
  std::size_t max_header_bytes = 16384;  // the request line and every header line
  std::size_t max_headers = 100;
  bool metrics_public = false;  // else /metrics needs a service_role JWT or the metrics token
  std::string metrics_token;
  std::string public_url;                 // the externally visible base URL (no trailing slash)
  std::string twilio_webhook_url;         // the exact URL Twilio calls, when a proxy rewrites paths
  std::int64_t fixed_now = 0;             // tests only: the clock, in Unix seconds
  bool tx_rollback = false;               // every /rpc transaction rolls back (SWITCHBOARD_TX_END)
  bool tx_override = false;               // Prefer: tx=commit|rollback decides instead
  std::vector<std::string> cors_origins;  // origins a browser may call from ("*": any)
  sb::StandardWebhookConfig standard;
  sb::StripeConfig stripe;
  sb::TwilioConfig twilio;
  sb::GhlConfig ghl;
  sb::VapiConfig vapi;

  // Unix seconds now (or the fixed test clock).
  std::int64_t now() const;
};

// The configuration from the environment and argv; throws std::runtime_error naming the bad
// setting.
Config load_config(int argc, char** argv);

// The value of SWITCHBOARD_<NAME> (flag --<name> first), or `fallback`.
std::string setting(int argc, char** argv, const std::string& name, const std::string& fallback);

// `text` in ASCII lowercase (header names).
std::string lowercase(std::string text);

// The contents of a file, trailing newlines removed; throws when unreadable.
std::string read_text_file(const std::string& path);

}  // namespace shim
