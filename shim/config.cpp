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

// Every setting of the server, with what it means: --help prints them, and a flag not listed is
// refused. A setting read through setting() must be listed here (or in kTokenFlags).
const SettingInfo kSettings[] = {
    {"database-url",
     "libpq URL or conninfo of the authenticator role (default: the embedded cluster)"},
    {"listen", "host:port to serve (127.0.0.1:8080)"},
    {"jwt-secret", "HS256 secret (Supabase's JWT secret)"},
    {"jwks-file", "JWKS file (RS256, ES256, HS256 keys)"},
    {"jwks-url", "JWKS URL, e.g. https://<project>/auth/v1/.well-known/jwks.json"},
    {"jwks-refresh-seconds", "fetch the JWKS URL again this often (600)"},
    {"jwks-min-refresh-seconds", "at most one fetch per this many seconds for an unknown kid (30)"},
    {"jwt-audience", "aud a token must name (unchecked when unset)"},
    {"jwt-max-lifetime-seconds", "longest token lifetime accepted; 0: no limit (86400)"},
    {"anon-role", "role of requests without a token (anon)"},
    {"max-body-bytes", "largest request body (1048576)"},
    {"max-json-depth", "deepest request JSON nesting (64)"},
    {"max-header-bytes", "largest request head (16384)"},
    {"max-headers", "most request header lines (100)"},
    {"max-connections", "open client connections (1000)"},
    {"max-connections-per-client", "open connections per client address (100)"},
    {"pool-size", "database connections (10)"},
    {"db-pooler",
     "what the database URL reaches: direct (a server, or a session-mode pooler) or transaction "
     "(a transaction-mode pooler: no prepared statements by name, no LISTEN) (direct)"},
    {"threads", "HTTP worker threads (max(32, 4 x pool size))"},
    {"request-timeout-ms", "wait for a pooled connection, statement_timeout (10000)"},
    {"client-timeout-seconds", "slow clients are cut off after (10)"},
    {"keep-alive-seconds", "idle keep-alive connections are closed after (5)"},
    {"tx-end",
     "how rpc transactions end: commit, commit-allow-override, rollback, rollback-allow-override "
     "(commit)"},
    {"cors-origins", "browser origins allowed to call the API, comma-separated, or * (none)"},
    {"metrics-access", "who reads /metrics: service_role or public (service_role)"},
    {"metrics-token", "bearer token for scrapers of /metrics"},
    {"public-url", "externally visible base URL (OpenAPI servers, Twilio's signed URL)"},
    {"twilio-webhook-url", "the exact URL Twilio calls, when a proxy rewrites the path"},
    {"standard-webhook-secrets", "space-separated whsec_ secrets (Standard Webhooks v1)"},
    {"standard-webhook-public-keys", "space-separated whpk_ Ed25519 keys (Standard Webhooks v1a)"},
    {"stripe-webhook-secret", "Stripe endpoint secret(s), space-separated"},
    {"twilio-auth-token", "Twilio auth token(s), space-separated"},
    {"ghl-ed25519-public-key", "GoHighLevel Ed25519 public key (PEM text or file)"},
    {"ghl-public-key", "GoHighLevel legacy RSA public key (PEM text or file)"},
    {"vapi-secret", "Vapi shared secret, bearer token or HMAC key"},
    {"vapi-auth", "secret, bearer or hmac (secret)"},
    {"vapi-bearer-header", "header of the Vapi bearer credential (authorization)"},
    {"vapi-hmac-algorithm", "sha256, sha512 or sha1 (sha256)"},
    {"vapi-signature-header", "Vapi HMAC signature header (x-signature)"},
    {"vapi-signature-prefix", "text before the Vapi signature, e.g. sha256="},
    {"vapi-signature-encoding", "hex or base64 (hex)"},
    {"vapi-timestamp-header", "Vapi timestamp header (x-timestamp)"},
    {"vapi-signed-payload", "template of the bytes Vapi signs ({timestamp}.{body})"},
    {"retell-api-key", "Retell API key(s) that sign its webhooks, space-separated"},
    {"fixed-now", "tests only: a fixed clock in Unix seconds"},
};

// The flags of `switchboard-shim token`.
const SettingInfo kTokenFlags[] = {
    {"sub", "the user id (a uuid)"},
    {"org", "app_metadata.org_id (a uuid)"},
    {"role", "the role claim (authenticated)"},
    {"aud", "the audience claim (authenticated)"},
    {"ttl", "seconds until exp (86400)"},
    {"secret-file", "file holding the HS256 secret (else SWITCHBOARD_JWT_SECRET or --jwt-secret)"},
    {"jwt-secret", "the HS256 secret"},
    {"key", "PEM private key for RS256 or ES256"},
    {"alg", "RS256 or ES256, with --key (RS256)"},
    {"kid", "key id written into the header, with --key"},
};

// True when `name` is listed in `table`.
template <std::size_t N>
bool listed(const SettingInfo (&table)[N], const std::string& name) {
  for (const auto& s : table)
    if (name == s.name) return true;
  return false;
}

}  // namespace

long integer_setting(int argc, char** argv, const std::string& name, long fallback, long min,
                     long max) {
  std::string text = setting(argc, argv, name, std::to_string(fallback));
  char* end = nullptr;
  long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < min || value > max)
    throw std::runtime_error(variable_name(name) + " (--" + name + ") must be an integer from " +
                             std::to_string(min) + " to " + std::to_string(max));
  return value;
}

namespace {

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
    throw std::runtime_error(variable_name(name) +
                             " is not a PEM public key (or a file holding one)");
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

// The JWT keys (HS256 secret; the JWKS file and URL that JwtKeys loads) and the audience.
void load_jwt(Config& c, int argc, char** argv) {
  std::string secret = setting(argc, argv, "jwt-secret", "");
  if (!secret.empty()) c.jwt.keys.push_back({"", "HS256", secret, nullptr});
  c.jwks_file = setting(argc, argv, "jwks-file", "");
  c.jwks_url = setting(argc, argv, "jwks-url", "");
  if (!c.jwks_url.empty() && c.jwks_url.rfind("http://", 0) != 0 &&
      c.jwks_url.rfind("https://", 0) != 0)
    throw std::runtime_error("SWITCHBOARD_JWKS_URL must be an http:// or https:// URL");
  c.jwks_refresh =
      std::chrono::seconds(integer_setting(argc, argv, "jwks-refresh-seconds", 600, 1, 7L * 86400));
  c.jwks_min_refresh =
      std::chrono::seconds(integer_setting(argc, argv, "jwks-min-refresh-seconds", 30, 0, 86400));
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
  c.retell.api_keys = words(setting(argc, argv, "retell-api-key", ""));
  if (!c.twilio.auth_tokens.empty() && c.public_url.empty() && c.twilio_webhook_url.empty())
    throw std::runtime_error(
        "SWITCHBOARD_TWILIO_AUTH_TOKEN needs SWITCHBOARD_PUBLIC_URL (or "
        "SWITCHBOARD_TWILIO_WEBHOOK_URL): the public URL Twilio calls and signs");
}

// The PostgREST contract's settings: transaction end (PostgREST's db-tx-end), CORS origins, and
// what the database URL reaches (a transaction-mode pooler or not).
void load_api(Config& c, int argc, char** argv) {
  std::string tx = setting(argc, argv, "tx-end", "commit");
  if (tx != "commit" && tx != "commit-allow-override" && tx != "rollback" &&
      tx != "rollback-allow-override")
    throw std::runtime_error(
        "SWITCHBOARD_TX_END must be commit, commit-allow-override, rollback or "
        "rollback-allow-override");
  std::string pooler = setting(argc, argv, "db-pooler", "direct");
  if (pooler != "direct" && pooler != "transaction")
    throw std::runtime_error("SWITCHBOARD_DB_POOLER must be direct or transaction");
  c.transaction_pooler = pooler == "transaction";
  c.tx_rollback = tx.rfind("rollback", 0) == 0;
  c.tx_override = tx.find("allow-override") != std::string::npos;
  std::string origins = setting(argc, argv, "cors-origins", "");
  std::replace(origins.begin(), origins.end(), ',', ' ');
  c.cors_origins = words(origins);
}

}  // namespace

std::string setting(int argc, char** argv, const std::string& name, const std::string& fallback) {
  if (!listed(kSettings, name) && !listed(kTokenFlags, name))
    throw std::logic_error("setting " + name + " is not declared in shim/config.cpp");
  const std::string flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 < argc && argv[i] == flag) return argv[i + 1];
    if (std::string_view(argv[i]).substr(0, flag.size() + 1) == flag + "=")
      return argv[i] + flag.size() + 1;
  }
  const char* value = std::getenv(variable_name(name).c_str());
  return value && *value ? value : fallback;
}

std::string variable_name(const std::string& name) {
  std::string out = "SWITCHBOARD_";
  for (char c : name) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return out;
}

std::vector<SettingInfo> server_settings() {
  return {std::begin(kSettings), std::end(kSettings)};
}

std::vector<SettingInfo> token_flags() {
  return {std::begin(kTokenFlags), std::end(kTokenFlags)};
}

void check_flags(int argc, char** argv, int first, bool token) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0)
      throw UsageError("unexpected argument " + arg);
    std::string name =
        arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
    if (!(token ? listed(kTokenFlags, name) : listed(kSettings, name)))
      throw UsageError("unknown flag --" + name);
    if (arg.find('=') != std::string::npos) continue;
    if (i + 1 >= argc) throw UsageError("flag --" + name + " needs a value");
    ++i;
  }
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
