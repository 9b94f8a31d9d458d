#include "jwks.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "logging.hpp"

namespace shim {
namespace {

constexpr std::size_t kMaxJwksBytes = 1 << 20;

// Appends a piece of the answer to the std::string at `out`; refuses (ends the transfer) past
// the size limit.
std::size_t append_body(char* data, std::size_t size, std::size_t count, void* out) {
  auto* body = static_cast<std::string*>(out);
  if (body->size() + size * count > kMaxJwksBytes) return 0;
  body->append(data, size * count);
  return size * count;
}

// The body of a 200 answer to GET `url` (http or https, no redirects, 10 s at most); throws
// std::runtime_error saying what failed.
std::string http_get(const std::string& url) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  std::string body;
  char error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "switchboard-shim");
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string(*error ? error : curl_easy_strerror(rc)) +
                             (rc == CURLE_WRITE_ERROR ? " (larger than 1 MB?)" : ""));
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) throw std::runtime_error("answered HTTP status " + std::to_string(status));
  return body;
}

// The kids of `keys`, comma-separated ("-" for a key without one).
std::string kids_of(const std::vector<sb::JwtKey>& keys) {
  std::string out;
  for (const auto& key : keys) out += (out.empty() ? "" : ", ") + (key.kid.empty() ? "-" : key.kid);
  return out.empty() ? "none" : out;
}

// Ensures: libcurl's global state is set up once, before any transfer.
void init_curl() {
  static const bool done = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!done) throw std::runtime_error("curl_global_init failed");
}

}  // namespace

JwtKeys::JwtKeys(const Config& config)
    : config_(config), policy_(std::make_shared<sb::JwtPolicy>(config.jwt)) {
  if (config_.jwks_file.empty() && config_.jwks_url.empty()) return;
  if (!config_.jwks_url.empty()) init_curl();
  if (!config_.jwks_file.empty())
    sb::parse_jwks(read_text_file(config_.jwks_file));  // an unusable file stops the start
  refresh();
  if (!config_.jwks_url.empty() && !url_answered_)
    log_note(
        "warning: no keys from SWITCHBOARD_JWKS_URL yet; tokens signed with them get 401 "
        "until it answers (tried again every " +
        std::to_string(retry_period().count()) + " s)");
  thread_ = std::thread([this] { run(); });
}

JwtKeys::~JwtKeys() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

std::shared_ptr<const sb::JwtPolicy> JwtKeys::policy() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return policy_;
}

std::uint64_t JwtKeys::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

std::optional<std::string> JwtKeys::fetch(bool url) const {
  const std::string& source = url ? config_.jwks_url : config_.jwks_file;
  if (source.empty()) return std::nullopt;
  try {
    std::string text = url ? http_get(source) : read_text_file(source);
    sb::parse_jwks(text);  // a document with an unusable key changes nothing
    return text;
  } catch (const std::exception& e) {
    log_note("warning: JWKS " + source + " not read, the keys in force stay: " + e.what());
    return std::nullopt;
  }
}

void JwtKeys::install(const std::string& file_text, const std::string& url_text) {
  auto policy = std::make_shared<sb::JwtPolicy>(config_.jwt);
  std::vector<sb::JwtKey> file_keys, url_keys;
  if (!file_text.empty()) file_keys = sb::parse_jwks(file_text);
  if (!url_text.empty()) url_keys = sb::parse_jwks(url_text);
  policy->keys.insert(policy->keys.end(), file_keys.begin(), file_keys.end());
  policy->keys.insert(policy->keys.end(), url_keys.begin(), url_keys.end());
  std::lock_guard<std::mutex> lock(mutex_);
  policy_ = std::move(policy);
  file_text_ = file_text;
  url_text_ = url_text;
  ++generation_;
  if (!file_text.empty()) log_note("JWKS " + config_.jwks_file + ": keys " + kids_of(file_keys));
  if (!url_text.empty()) log_note("JWKS " + config_.jwks_url + ": keys " + kids_of(url_keys));
}

bool JwtKeys::refresh() {
  std::lock_guard<std::mutex> lock(refresh_mutex_);
  auto file_text = fetch(false);
  auto url_text = fetch(true);
  if (!config_.jwks_url.empty()) url_answered_ = url_text.has_value();
  std::string file_now, url_now;
  {
    std::lock_guard<std::mutex> state(mutex_);
    file_now = file_text.value_or(file_text_);
    url_now = url_text.value_or(url_text_);
    if (file_now == file_text_ && url_now == url_text_) return false;
  }
  install(file_now, url_now);
  return true;
}

bool JwtKeys::refresh_for_kid(const std::string& kid) {
  if (kid.empty() || (config_.jwks_file.empty() && config_.jwks_url.empty())) return false;
  {
    std::lock_guard<std::mutex> lock(refresh_mutex_);
    if (sb::has_kid(*policy(), kid)) return true;  // another request has just fetched it
    auto now = std::chrono::steady_clock::now();
    if (last_kid_refresh_.time_since_epoch().count() != 0 &&
        now - last_kid_refresh_ < config_.jwks_min_refresh)
      return false;
    last_kid_refresh_ = now;
  }
  return refresh();
}

std::chrono::seconds JwtKeys::retry_period() const {
  return std::min(config_.jwks_refresh,
                  std::max(config_.jwks_min_refresh, std::chrono::seconds(1)));
}

void JwtKeys::run() {
  std::unique_lock<std::mutex> lock(stop_mutex_);
  while (!stopping_) {
    auto wait = url_answered_ || config_.jwks_url.empty() ? config_.jwks_refresh : retry_period();
    if (stop_cv_.wait_for(lock, wait, [this] { return stopping_; })) break;
    lock.unlock();
    refresh();
    lock.lock();
  }
}

}  // namespace shim
