#include "core/outbound/outbound_sender.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <stdexcept>

namespace sb::outbound {

struct Sender::Transfer {
  Request request;
  const SenderOptions* options = nullptr;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string response;
  std::optional<long> retry_after;
  bool refused = false;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  ~Transfer() {
    if (headers) curl_slist_free_all(headers);
    if (easy) curl_easy_cleanup(easy);
  }
};

namespace {

// libcurl write callback: keeps the first max_body bytes of the response.
size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Sender::Transfer*>(user);
  size_t n = size * count;
  size_t room = t->options->max_body - std::min(t->options->max_body, t->response.size());
  t->response.append(data, std::min(n, room));
  return n;
}

// libcurl header callback: notes Retry-After.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Sender::Transfer*>(user);
  size_t n = size * count;
  std::string_view line(data, n);
  constexpr std::string_view name = "retry-after:";
  if (line.size() > name.size()) {
    bool match = true;
    for (size_t i = 0; i < name.size() && match; ++i)
      match = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) == name[i];
    if (match) t->retry_after = retry_after_seconds(line.substr(name.size()), std::time(nullptr));
  }
  return n;
}

// libcurl open-socket callback: the SSRF guard on the resolved address.
curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* t = static_cast<Sender::Transfer*>(user);
  if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
  auto a = address_of(&address->addr);
  if (!a || !may_connect(*a, t->options->allowed)) {
    t->refused = true;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

// Ensures: the options of one delivery request are set on its easy handle.
void configure(Sender::Transfer& t, const SenderOptions& o) {
  CURL* e = t.easy;
  for (const std::string& h : t.request.headers)
    t.headers = curl_slist_append(t.headers, h.c_str());
  t.headers = curl_slist_append(t.headers, "Expect:");
  curl_easy_setopt(e, CURLOPT_URL, t.request.url.c_str());
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.request.body.data());
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.request.body.size()));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, o.allow_http ? "http,https" : "https");
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o.connect_timeout_ms);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o.timeout_ms);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "Switchboard-Webhooks/0.1");
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
}

// The outcome of a finished transfer.
Result result_of(Sender::Transfer& t, CURLcode code) {
  Result r;
  r.token = t.request.token;
  r.retry_after = t.retry_after;
  r.duration_ms = static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - t.started)
                                        .count());
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &r.status);
  if (code == CURLE_OK) {
    r.outcome = outcome_of_status(r.status);
    r.body = std::move(t.response);
    return r;
  }
  r.error = curl_easy_strerror(code);
  if (t.refused)
    r.outcome = "refused";
  else if (code == CURLE_OPERATION_TIMEDOUT)
    r.outcome = "timeout";
  else if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST)
    r.outcome = "connect_error";
  else
    r.outcome = "error";
  return r;
}

}  // namespace

Sender::Sender(SenderOptions options) : options_(std::move(options)), multi_(curl_multi_init()) {
  if (!multi_) throw std::runtime_error("could not start libcurl");
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
}

Sender::~Sender() {
  for (auto& [easy, t] : transfers_) curl_multi_remove_handle(multi_, easy);
  transfers_.clear();
  curl_multi_cleanup(multi_);
}

void Sender::set_options(SenderOptions options) {
  options_ = std::move(options);
  close_pool_ = true;
  close_pool_if_idle();
}

void Sender::close_pool_if_idle() {
  if (!close_pool_ || !transfers_.empty()) return;
  CURLM* fresh = curl_multi_init();
  if (!fresh) return;  // keep the old pool; tried again after the next request
  curl_multi_cleanup(multi_);
  multi_ = fresh;
  curl_multi_setopt(multi_, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
  close_pool_ = false;
}

// The result of a request that never started.
static Result not_started(std::uint64_t token, const char* outcome, const char* error) {
  Result r;
  r.token = token;
  r.outcome = outcome;
  r.error = error;
  return r;
}

void Sender::start(Request request) {
  if (!options_.allow_http && request.url.compare(0, 8, "https://") != 0) {
    failed_to_start_.push_back(not_started(request.token, "refused", "only https is allowed"));
    return;
  }
  auto t = std::make_unique<Transfer>();
  t->request = std::move(request);
  t->options = &options_;
  t->easy = curl_easy_init();
  if (!t->easy || (configure(*t, options_), curl_multi_add_handle(multi_, t->easy)) != CURLM_OK) {
    failed_to_start_.push_back(
        not_started(t->request.token, "error", "could not start the request"));
    return;
  }
  void* key = t->easy;
  transfers_.emplace(key, std::move(t));
}

std::vector<Result> Sender::wait(int timeout_ms) {
  std::vector<Result> done = std::move(failed_to_start_);
  failed_to_start_.clear();
  int running = 0;
  curl_multi_perform(multi_, &running);
  if (done.empty()) {
    curl_multi_poll(multi_, nullptr, 0, timeout_ms, nullptr);
    curl_multi_perform(multi_, &running);
  }
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi_, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    auto it = transfers_.find(m->easy_handle);
    if (it == transfers_.end()) continue;
    done.push_back(result_of(*it->second, m->data.result));
    curl_multi_remove_handle(multi_, m->easy_handle);
    transfers_.erase(it);
  }
  close_pool_if_idle();
  return done;
}

}  // namespace sb::outbound

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
