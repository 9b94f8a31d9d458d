#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace shim {
namespace {

// "pool-size" -> "SWITCHBOARD_POOL_SIZE".
std::string env_name(const std::string& name) {
  std::string out = "SWITCHBOARD_";
  for (char c : name) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return out;
}

// An integer setting within [min, max]; throws naming the variable otherwise.
long integer_setting(int argc, char** argv, const std::string& name, long fallback, long min,
                     long max) {
  std::string text = setting(argc, argv, name, std::to_string(fallback));
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min || value > max)
    throw std::runtime_error(env_name(name) + " must be an integer from " + std::to_string(min) +
                             " to " + std::to_string(max));
  return value;
}

// The space-separated words of `text`.
std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string word; in >> word;) out.push_back(word);
  return out;
}

// A PEM public key given inline or as the path of a file holding it; empty when `value` is.
sb::PublicKey pem_setting(const std::string& name, const std::string& value) {
  if (value.empty()) return nullptr;
  std::string pem = value.find("-----BEGIN") != std::string::npos ? value : read_text_file(value);
  try {
    return sb::public_key_from_pem(pem);
  } catch (const std::exception&) {
    throw std::runtime_error(env_name(name) + " is not a PEM public key (or a file holding one)");
  }
}

// The embedded cluster of `make run`: its port and the authenticator password under .switchboard/.
std::string embedded_database_url() {
  const char* port = std::getenv("SWITCHBOARD_PORT");
  std::string url = "host=127.0.0.1 dbname=switchboard user=switchboard_authenticator port=" +
                    std::string(port && *port ? port : "54329");
  std::ifstream password(".switchboard/secrets/authenticator_password");
  std::string secret;
  if (password && std::getline(password, secret) && !secret.empty()) url += " password=" + secret;
  return url;
}

// Host and port from "host:port".
void load_listen(Config& c, const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("SWITCHBOARD_LISTEN must be host:port");
  c.listen_host = text.substr(0, colon);
  c.listen_port = std::atoi(text.substr(colon + 1).c_str());
  if (c.listen_port <= 0 || c.listen_port > 65535)
    throw std::runtime_error("SWITCHBOARD_LISTEN has no valid port");
}

// The JWT keys (HS256 secret, JWKS file) and the audience.
void load_jwt(Config& c, int argc, char** argv) {
  std::string secret = setting(argc, argv, "jwt-secret", "");
  if (!secret.empty()) c.jwt.keys.push_back({"", "HS256", secret, nullptr});
  std::string jwks = setting(argc, argv, "jwks-file", "");
  if (!jwks.empty()) {
    auto keys = sb::parse_jwks(read_text_file(jwks));
    c.jwt.keys.insert(c.jwt.keys.end(), keys.begin(), keys.end());
  }
  c.jwt.audience = setting(argc, argv, "jwt-audience", "");
  c.jwt.max_lifetime_seconds =
      integer_setting(argc, argv, "jwt-max-lifetime-seconds", 86400, 0, 20L * 366 * 86400);
}

// The limits that keep hostile clients from exhausting connections, threads or memory.
void load_limits(Config& c, int argc, char** argv) {
  c.max_body_bytes =
      static_cast<std::size_t>(integer_setting(argc, argv, "max-body-bytes", 1 << 20, 1, 1L << 30));
  c.max_json_depth =
      static_cast<std::size_t>(integer_setting(argc, argv, "max-json-depth", 64, 1, 1000));
  c.max_connections =
      static_cast<int>(integer_setting(argc, argv, "max-connections", 1000, 1, 1000000));
  c.max_connections_per_client =
      static_cast<int>(integer_setting(argc, argv, "max-connections-per-client", 100, 1, 1000000));
  c.max_header_bytes = static_cast<std::size_t>(
      integer_setting(argc, argv, "max-header-bytes", 16384, 1024, 1L << 20));
  c.max_headers =
      static_cast<std::size_t>(integer_setting(argc, argv, "max-headers", 100, 1, 10000));
}

// Who may read /metrics.
void load_metrics(Config& c, int argc, char** argv) {
  std::string access = setting(argc, argv, "metrics-access", "service_role");
  if (access != "service_role" && access != "public")
    throw std::runtime_error("SWITCHBOARD_METRICS_ACCESS must be service_role or public");
  c.metrics_public = access == "public";
  c.metrics_token = setting(argc, argv, "metrics-token", "");
}

// The digest named by SWITCHBOARD_VAPI_HMAC_ALGORITHM.
sb::Digest digest_setting(const std::string& text) {
  if (text == "sha256") return sb::Digest::sha256;
  if (text == "sha512") return sb::Digest::sha512;
  if (text == "sha1") return sb::Digest::sha1;
  throw std::runtime_error("SWITCHBOARD_VAPI_HMAC_ALGORITHM must be sha256, sha512 or sha1");
}

// The Vapi credential mode named by SWITCHBOARD_VAPI_AUTH.
sb::VapiConfig::Mode vapi_mode(const std::string& text) {
  if (text == "secret") return sb::VapiConfig::Mode::secret;
  if (text == "bearer") return sb::VapiConfig::Mode::bearer;
  if (text == "hmac") return sb::VapiConfig::Mode::hmac;
  throw std::runtime_error("SWITCHBOARD_VAPI_AUTH must be secret, bearer or hmac");
}

// The Vapi credential settings.
void load_vapi(sb::VapiConfig& v, int argc, char** argv) {
  v.secret = setting(argc, argv, "vapi-secret", "");
  v.mode = vapi_mode(setting(argc, argv, "vapi-auth", "secret"));
  v.bearer_header = lowercase(setting(argc, argv, "vapi-bearer-header", "authorization"));
  v.algorithm = digest_setting(setting(argc, argv, "vapi-hmac-algorithm", "sha256"));
  v.signature_header = lowercase(setting(argc, argv, "vapi-signature-header", "x-signature"));
  v.signature_prefix = setting(argc, argv, "vapi-signature-prefix", "");
  v.timestamp_header = lowercase(setting(argc, argv, "vapi-timestamp-header", "x-timestamp"));
  v.signed_payload = setting(argc, argv, "vapi-signed-payload", "{timestamp}.{body}");
  std::string encoding = setting(argc, argv, "vapi-signature-encoding", "hex");
  if (encoding != "hex" && encoding != "base64")
    throw std::runtime_error("SWITCHBOARD_VAPI_SIGNATURE_ENCODING must be hex or base64");
  v.base64 = encoding == "base64";
}

// The Ed25519 keys of SWITCHBOARD_STANDARD_WEBHOOK_PUBLIC_KEYS (space-separated whpk_ keys).
std::vector<sb::PublicKey> standard_public_keys(const std::string& text) {
  std::vector<sb::PublicKey> keys;
  try {
    for (const auto& word : words(text)) keys.push_back(sb::standard_public_key(word));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("SWITCHBOARD_STANDARD_WEBHOOK_PUBLIC_KEYS: ") + e.what());
  }
  return keys;
}

// The public URLs and every provider's secrets and keys.
void load_webhooks(Config& c, int argc, char** argv) {
  c.public_url = setting(argc, argv, "public-url", "");
  while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
  c.twilio_webhook_url = setting(argc, argv, "twilio-webhook-url", "");
  c.standard.secrets = words(setting(argc, argv, "standard-webhook-secrets", ""));
  c.standard.public_keys =
      standard_public_keys(setting(argc, argv, "standard-webhook-public-keys", ""));
  c.stripe.secrets = words(setting(argc, argv, "stripe-webhook-secret", ""));
  c.twilio.auth_tokens = words(setting(argc, argv, "twilio-auth-token", ""));
  c.ghl.rsa = pem_setting("ghl-public-key", setting(argc, argv, "ghl-public-key", ""));
  c.ghl.ed25519 =
      pem_setting("ghl-ed25519-public-key", setting(argc, argv, "ghl-ed25519-public-key", ""));
  load_vapi(c.vapi, argc, argv);
  if (!c.twilio.auth_tokens.empty() && c.public_url.empty() && c.twilio_webhook_url.empty())
    throw std::runtime_error(
        "SWITCHBOARD_TWILIO_AUTH_TOKEN needs SWITCHBOARD_PUBLIC_URL (or "
        "SWITCHBOARD_TWILIO_WEBHOOK_URL): the public URL Twilio calls and signs");
}

// The PostgREST contract's settings: transaction end (PostgREST's db-tx-end) and CORS origins.
void load_api(Config& c, int argc, char** argv) {
  std::string tx = setting(argc, argv, "tx-end", "commit");
  if (tx != "commit" && tx != "commit-allow-override" && tx != "rollback" &&
      tx != "rollback-allow-override")
    throw std::runtime_error(
        "SWITCHBOARD_TX_END must be commit, commit-allow-override, rollback or "
        "rollback-allow-override");
  c.tx_rollback = tx.rfind("rollback", 0) == 0;
  c.tx_override = tx.find("allow-override") != std::string::npos;
  std::string origins = setting(argc, argv, "cors-origins", "");
  std::replace(origins.begin(), origins.end(), ',', ' ');
  c.cors_origins = words(origins);
}

}  // namespace

std::string setting(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return argv[i + 1];
  const char* value = std::getenv(env_name(name).c_str());
  return value && *value ? value : fallback;
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::int64_t Config::now() const {
  return fixed_now ? fixed_now : static_cast<std::int64_t>(std::time(nullptr));
}

Config load_config(int argc, char** argv) {
  Config c;
  c.database_url = setting(argc, argv, "database-url", "");
  if (c.database_url.empty()) c.database_url = embedded_database_url();
  load_listen(c, setting(argc, argv, "listen", "127.0.0.1:8080"));
  load_jwt(c, argc, argv);
  c.anon_role = setting(argc, argv, "anon-role", "anon");
  load_limits(c, argc, argv);
  load_metrics(c, argc, argv);
  c.pool_size = static_cast<int>(integer_setting(argc, argv, "pool-size", 10, 1, 1000));
  c.threads = static_cast<int>(
      integer_setting(argc, argv, "threads", std::max(32, c.pool_size * 4), 2, 4096));
  c.request_timeout = std::chrono::milliseconds(
      integer_setting(argc, argv, "request-timeout-ms", 10000, 10, 3600000));
  c.keep_alive_seconds =
      static_cast<int>(integer_setting(argc, argv, "keep-alive-seconds", 5, 1, 3600));
  c.client_timeout_seconds =
      static_cast<int>(integer_setting(argc, argv, "client-timeout-seconds", 10, 1, 3600));
  c.fixed_now = integer_setting(argc, argv, "fixed-now", 0, 0, 1L << 40);
  load_webhooks(c, argc, argv);
  load_api(c, argc, argv);
  return c;
}

}  // namespace shim
