// Configuration of switchboard-shim: environment variables SWITCHBOARD_*, each overridable by a
// flag of the same name (--pool-size 8 for SWITCHBOARD_POOL_SIZE).
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/http/http_jwt_verify.hpp"
#include "core/http/http_webhook_verify.hpp"

namespace shim {

// A flag or variable of the command line, with what it means (for --help).
struct SettingInfo {
  const char* name;  // the flag without "--"; the variable is SWITCHBOARD_<NAME>
  const char* meaning;
};

// A command line the shim cannot act on (exit status 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Config {
  std::string database_url;
  std::string listen_host = "127.0.0.1";
  int listen_port = 8080;
  sb::JwtPolicy jwt;                          // HS256 secret and/or JWKS keys, audience
  std::string jwks_file;                      // read at start and on every refresh
  std::string jwks_url;                       // fetched at start and on every refresh
  std::chrono::seconds jwks_refresh{600};     // refresh period of the JWKS file or URL
  std::chrono::seconds jwks_min_refresh{30};  // at most one unknown-kid refresh per period
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
  bool transaction_pooler = false;        // the database URL reaches a transaction-mode pooler
  std::vector<std::string> cors_origins;  // origins a browser may call from ("*": any)
  sb::StandardWebhookConfig standard;
  sb::StripeConfig stripe;
  sb::TwilioConfig twilio;
  sb::GhlConfig ghl;
  sb::VapiConfig vapi;
  sb::RetellConfig retell;

  // Unix seconds now (or the fixed test clock).
  std::int64_t now() const;
};

// The configuration from the environment and argv; throws std::runtime_error naming the bad
// setting.
Config load_config(int argc, char** argv);

// The value of SWITCHBOARD_<NAME> (flag --<name> VALUE or --<name>=VALUE first), or `fallback`.
// `name` must be one of server_settings() or token_flags().
std::string setting(int argc, char** argv, const std::string& name, const std::string& fallback);

// An integer setting within [min, max]; throws std::runtime_error naming the variable otherwise.
long integer_setting(int argc, char** argv, const std::string& name, long fallback, long min,
                     long max);

// "pool-size" -> "SWITCHBOARD_POOL_SIZE".
std::string variable_name(const std::string& name);

// The settings of the server and the flags of the token command, for --help.
std::vector<SettingInfo> server_settings();
std::vector<SettingInfo> token_flags();

// Ensures: argv[first..] are only --flag VALUE or --flag=VALUE of the server's settings (or of
// the token command's flags); throws UsageError naming the first that is not.
void check_flags(int argc, char** argv, int first, bool token);

// `text` in ASCII lowercase (header names).
std::string lowercase(std::string text);

// The contents of a file, trailing newlines removed; throws when unreadable.
std::string read_text_file(const std::string& path);

}  // namespace shim
