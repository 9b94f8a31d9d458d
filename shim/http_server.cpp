#include "http_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "core/http/http_framing.hpp"
#include "errors.hpp"
#include "logging.hpp"

namespace shim {

using Clock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kFlushAt = 64 * 1024;  // larger responses leave in pieces of about this
constexpr int kLingerMs = 10;  // a worker waits this long for a kept-alive client's next request
constexpr int kSweepMs = 100;  // how often deadlines are checked (and how soon a stop is seen)
constexpr int kAcceptPauseMs = 100;  // out of file descriptors: accept again after this
constexpr std::uint64_t kListenId = 0;
constexpr std::uint64_t kWakeId = 1;

// poll() of one descriptor, retried when interrupted.
int poll_one(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int n;
  do n = poll(&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  return n;
}

// Milliseconds from now until `deadline` (0 when past).
int ms_until(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, 1 << 30));
}

// The numeric address and port of a peer.
void describe(const sockaddr_storage& addr, std::string& ip, int& port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET6) {
    const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
    port = ntohs(a6->sin6_port);
  } else {
    const auto* a4 = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a4->sin_addr, text, sizeof text);
    port = ntohs(a4->sin_port);
  }
  ip = text;
}

// The status line's reason phrase of the statuses this layer answers with.
const char* status_text(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 501:
      return "Not Implemented";
    default:
      return "Service Unavailable";
  }
}

// A complete answer that refuses a request (JSON error, then the connection closes).
std::string refusal_response(int status, const std::string& message) {
  std::string body = error_json("SB" + std::to_string(status), message);
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) +
                    "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " +
                    std::to_string(body.size()) +
                    "\r\nConnection: close\r\nX-Request-Id: " + new_request_id() + "\r\n";
  if (status == 503) out += "Retry-After: 1\r\n";
  return out + "\r\n" + body;
}

// Reads and drops what has arrived, so that closing sends FIN rather than RST (which could
// destroy the answer before the client reads it).
void discard_input(int fd) {
  char scratch[4096];
  for (int i = 0; i < 16 && recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {
  }
}

// Closes a socket after dropping what it received (see discard_input).
void close_socket(int fd) {
  discard_input(fd);
  shutdown(fd, SHUT_RDWR);
  close(fd);
}

// Registers `fd` for input; `once`: for one event (re-armed after each).
void watch(int epoll_fd, int fd, std::uint64_t id, int op, bool once = true) {
  epoll_event ev{};
  ev.events = once ? EPOLLIN | EPOLLRDHUP | EPOLLONESHOT : EPOLLIN;
  ev.data.u64 = id;
  epoll_ctl(epoll_fd, op, fd, &ev);
}

}  // namespace

// Bytes received on a connection and not consumed yet.
class InputBuffer {
 public:
  const char* data() const { return bytes_.get() + begin_; }
  std::size_t size() const { return end_ - begin_; }
  std::string_view view() const { return {data(), size()}; }
  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Receives up to one chunk of what the socket holds; recv's result.
  ssize_t receive(int fd) {
    make_room();
    ssize_t n;
    do n = recv(fd, bytes_.get() + end_, kReadChunk, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0) end_ += static_cast<std::size_t>(n);
    return n;
  }
  // Frees the memory of an empty buffer (the connection goes idle).
  void release() {
    if (size() == 0) bytes_.reset(), capacity_ = begin_ = end_ = 0;
  }

 private:
  // Ensures room for one chunk after the unconsumed bytes.
  void make_room() {
    if (capacity_ - end_ >= kReadChunk) return;
    std::size_t kept = size();
    if (capacity_ < kept + kReadChunk) {
      std::unique_ptr<char[]> bigger(new char[kept + kReadChunk]);
      if (kept) std::memcpy(bigger.get(), data(), kept);
      bytes_ = std::move(bigger);
      capacity_ = kept + kReadChunk;
    } else {
      std::memmove(bytes_.get(), data(), kept);
    }
    begin_ = 0;
    end_ = kept;
  }

  std::unique_ptr<char[]> bytes_;
  std::size_t capacity_ = 0, begin_ = 0, end_ = 0;
};

struct ClientConnection {
  std::uint64_t id = 0;
  int fd = -1;
  std::string client;
  int port = 0;
  InputBuffer in;
  std::size_t scanned = 0;      // bytes of the pending head already searched for its end
  std::size_t head_length = 0;  // of the complete head at the start of `in`
  bool head_started = false;    // bytes of the next head have arrived
  bool with_worker = false;     // a worker owns it; else the epoll thread does
  Clock::time_point deadline;   // of the idle wait, or of the head once it has started
};

namespace {

// One request's view of a connection for httplib: reads end where the request's body ends (or
// fail when its framing breaks or the client is too slow); writes are collected and sent at once.
class RequestStream final : public httplib::Stream {
 public:
  RequestStream(ClientConnection& c, int timeout_seconds)
      : c_(c), timeout_(std::chrono::seconds(timeout_seconds)) {}

  // Starts the request whose head is the first `head_length` buffered bytes.
  void begin(std::size_t head_length, const sb::RequestFraming& framing) {
    bool sized = framing.body == sb::BodyKind::length;
    left_ = head_length + (sized ? framing.content_length : 0);
    chunked_ = framing.body == sb::BodyKind::chunked;
    chunks_ = sb::ChunkedBody{};
    deadline_ = Clock::now() + timeout_;
  }
  // True when the request has been read to its end (the next one starts at the next byte).
  bool request_done() const { return left_ == 0 && (!chunked_ || chunks_.done()); }

  bool is_readable() const override { return c_.in.size() > 0 || poll_one(c_.fd, POLLIN, 0) > 0; }
  bool is_writable() const override { return poll_one(c_.fd, POLLOUT, 0) > 0; }
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.client;
    port = c_.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return c_.fd; }

  // Sends everything written so far; false when the peer is gone or too slow.
  bool flush();

 private:
  // Ensures buffered input, waiting until the deadline; false at the peer's end or timeout.
  bool fill();

  ClientConnection& c_;
  Clock::duration timeout_;
  Clock::time_point deadline_;
  std::uint64_t left_ = 0;  // bytes of the head and the sized body still to read
  bool chunked_ = false;
  sb::ChunkedBody chunks_;
  std::string out_;
  mutable std::string local_ip_;
  mutable int local_port_ = -1;
};

ssize_t RequestStream::read(char* ptr, size_t size) {
  bool in_chunks = chunked_ && left_ == 0;
  if (left_ == 0 && (!chunked_ || chunks_.done())) return 0;  // the request ends here
  if (!fill()) return -1;
  std::size_t n = std::min(size, c_.in.size());
  if (in_chunks) {
    n = chunks_.feed(c_.in.data(), n);
    if (chunks_.failed()) return -1;
  } else {
    n = static_cast<std::size_t>(std::min<std::uint64_t>(n, left_));
    left_ -= n;
  }
  std::memcpy(ptr, c_.in.data(), n);
  c_.in.consume(n);
  return static_cast<ssize_t>(n);
}

bool RequestStream::fill() {
  if (c_.in.size() > 0) return true;
  if (!flush()) return false;  // e.g. "100 Continue" must reach the client before it sends
  while (true) {
    ssize_t n = c_.in.receive(c_.fd);
    if (n > 0) return true;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
    int left = ms_until(deadline_);
    if (left <= 0 || poll_one(c_.fd, POLLIN, left) <= 0) return false;
  }
}

ssize_t RequestStream::write(const char* ptr, size_t size) {
  out_.append(ptr, size);
  if (out_.size() >= kFlushAt && !flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool RequestStream::flush() {
  auto deadline = Clock::now() + timeout_;
  std::size_t sent = 0;
  while (sent < out_.size()) {
    ssize_t n = send(c_.fd, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return false;
    int left = ms_until(deadline);
    if (left <= 0 || poll_one(c_.fd, POLLOUT, left) <= 0) return false;
  }
  out_.clear();
  return true;
}

void RequestStream::get_local_ip_and_port(std::string& ip, int& port) const {
  if (local_port_ < 0) {
    sockaddr_storage addr{};
    socklen_t length = sizeof addr;
    if (getsockname(c_.fd, reinterpret_cast<sockaddr*>(&addr), &length) == 0)
      describe(addr, local_ip_, local_port_);
  }
  ip = local_ip_;
  port = local_port_;
}

}  // namespace

HttpServer::HttpServer(HttpLimits limits)
    : limits_(limits),
      epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

HttpServer::~HttpServer() {
  for (int fd : {listen_fd_, epoll_fd_, wake_fd_})
    if (fd >= 0) close(fd);
  for (auto& [id, c] : connections_) close(c->fd);
}

bool HttpServer::bind(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return false;
  for (addrinfo* a = found; a && listen_fd_ < 0; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
      listen_fd_ = fd;
    else
      close(fd);
  }
  freeaddrinfo(found);
  return listen_fd_ >= 0;
}

void HttpServer::stop() {
  stopping_ = true;
  std::uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // the epoll thread also sees the flag within kSweepMs
  }
}

void HttpServer::run() {
  watch(epoll_fd_, listen_fd_, kListenId, EPOLL_CTL_ADD, false);
  watch(epoll_fd_, wake_fd_, kWakeId, EPOLL_CTL_ADD, false);
  for (int i = 0; i < limits_.threads; ++i) workers_.emplace_back([this] { work(); });
  epoll_event events[256];
  auto next_sweep = Clock::now();
  while (!stopping_) {
    int n = epoll_wait(epoll_fd_, events, 256, kSweepMs);
    for (int i = 0; i < n; ++i) {
      std::uint64_t id = events[i].data.u64;
      if (id == kListenId)
        accept_all();
      else if (id != kWakeId)
        on_input(id);
    }
    if (Clock::now() >= next_sweep) {
      sweep();
      next_sweep = Clock::now() + std::chrono::milliseconds(kSweepMs);
    }
  }
  close(listen_fd_);  // no new connections
  listen_fd_ = -1;
  std::vector<ClientConnection*> idle;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, c] : connections_)
      if (!c->with_worker) idle.push_back(c.get());
    workers_stop_ = true;
  }
  for (ClientConnection* c : idle) close_connection(*c);
  ready_cv_.notify_all();
  for (auto& worker : workers_) worker.join();  // requests in progress are answered first
  workers_.clear();
}

void HttpServer::accept_all() {
  while (true) {
    sockaddr_storage addr{};
    socklen_t length = sizeof addr;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &length,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        pause_accepting();
      return;
    }
    std::string client;
    int port = 0;
    describe(addr, client, port);
    admit(fd, client, port);
  }
}

void HttpServer::pause_accepting() {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  accept_paused_ = true;
  accept_resumes_ = Clock::now() + std::chrono::milliseconds(kAcceptPauseMs);
  if (on_refusal) on_refusal({0, "file_descriptors", ""});
}

void HttpServer::admit(int fd, const std::string& client, int port) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (connections_.size() >= static_cast<std::size_t>(limits_.max_connections)) {
    lock.unlock();
    send_refusal(fd, client, 503, "connections", "too many connections");
    return close_socket(fd);
  }
  int& open = per_client_[client];
  if (open >= limits_.max_connections_per_client) {
    lock.unlock();
    send_refusal(fd, client, 503, "client_connections", "too many connections from this client");
    return close_socket(fd);
  }
  ++open;
  auto c = std::make_unique<ClientConnection>();
  c->id = next_id_++;
  c->fd = fd;
  c->client = client;
  c->port = port;
  c->deadline = Clock::now() + std::chrono::seconds(limits_.keep_alive_seconds);
  int one = 1;  // the last piece of an answer must not wait for an ACK (Nagle)
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  watch(epoll_fd_, fd, c->id, EPOLL_CTL_ADD);
  connections_.emplace(c->id, std::move(c));
  if (on_connections) on_connections(connections_.size());
}

void HttpServer::on_input(std::uint64_t id) {
  ClientConnection* c = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->with_worker) return;
    c = it->second.get();
  }
  switch (take_input(*c)) {
    case Head::complete: {
      std::lock_guard<std::mutex> lock(mutex_);
      c->with_worker = true;
      ready_.push_back(c);
      ready_cv_.notify_one();
      return;
    }
    case Head::partial:
      return watch(epoll_fd_, c->fd, c->id, EPOLL_CTL_MOD);
    case Head::too_large:
      return refuse(*c, 431, "header_bytes", "request header fields too large");
    case Head::closed:
      return close_connection(*c);
  }
}

void HttpServer::sweep() {
  auto now = Clock::now();
  if (accept_paused_ && now >= accept_resumes_) {
    watch(epoll_fd_, listen_fd_, kListenId, EPOLL_CTL_ADD, false);
    accept_paused_ = false;
  }
  std::vector<ClientConnection*> late;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, c] : connections_)
      if (!c->with_worker && c->deadline <= now) late.push_back(c.get());
  }
  for (ClientConnection* c : late) {
    if (c->head_started)
      refuse(*c, 408, "head_timeout", "the request head did not arrive in time");
    else
      close_connection(*c);  // idle for the keep-alive timeout
  }
}

HttpServer::Head HttpServer::take_input(ClientConnection& c) {
  while (true) {
    ssize_t n = c.in.receive(c.fd);
    if (n == 0) return Head::closed;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? head_state(c) : Head::closed;
    Head state = head_state(c);
    if (state != Head::partial || static_cast<std::size_t>(n) < kReadChunk) return state;
  }
}

HttpServer::Head HttpServer::head_state(ClientConnection& c) {
  if (std::size_t blank = sb::leading_blank_lines(c.in.view())) {
    c.in.consume(2 * blank);
    c.scanned = 0;
  }
  if (c.in.size() == 0) return Head::partial;
  if (!c.head_started) {
    c.head_started = true;
    c.deadline = Clock::now() + std::chrono::seconds(limits_.client_timeout_seconds);
  }
  std::size_t end = sb::request_head_end(c.in.view(), c.scanned);
  c.scanned = c.in.size();
  if (end > limits_.max_header_bytes || (!end && c.in.size() >= limits_.max_header_bytes))
    return Head::too_large;
  c.head_length = end;
  return end ? Head::complete : Head::partial;
}

HttpServer::Head HttpServer::wait_briefly(ClientConnection& c) {
  c.head_started = false;
  c.scanned = 0;
  Head state = head_state(c);  // a pipelined request may be buffered already
  auto until = Clock::now() + std::chrono::milliseconds(kLingerMs);
  while (state == Head::partial && !stopping_) {
    int left = ms_until(until);
    if (left <= 0 || poll_one(c.fd, POLLIN, left) <= 0) break;
    state = take_input(c);
  }
  return state;
}

void HttpServer::work() {
  while (true) {
    ClientConnection* c = nullptr;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_cv_.wait(lock, [this] { return !ready_.empty() || workers_stop_; });
      if (ready_.empty()) return;
      c = ready_.front();
      ready_.pop_front();
    }
    serve(*c);
  }
}

void HttpServer::serve(ClientConnection& c) {
  RequestStream stream(c, limits_.client_timeout_seconds);
  while (true) {
    auto framing =
        sb::request_framing(std::string_view(c.in.data(), c.head_length), limits_.max_headers);
    if (framing.status)
      return refuse(c, framing.status, framing.status == 431 ? "headers" : "framing",
                    framing.problem);
    stream.begin(c.head_length, framing);
    if (before_request) before_request();
    bool closed = false;
    bool ok = parser_.process_request(stream, stopping_, closed, nullptr);
    ok = stream.flush() && ok && stream.request_done();
    if (!ok || closed || stopping_) return close_connection(c);
    switch (wait_briefly(c)) {
      case Head::complete:
        continue;
      case Head::partial:
        return hand_back(c);
      case Head::too_large:
        return refuse(c, 431, "header_bytes", "request header fields too large");
      case Head::closed:
        return close_connection(c);
    }
  }
}

void HttpServer::hand_back(ClientConnection& c) {
  if (stopping_) return close_connection(c);
  std::lock_guard<std::mutex> lock(mutex_);  // held until re-armed: the sweep may not close it
  c.with_worker = false;
  if (!c.head_started) {
    c.deadline = Clock::now() + std::chrono::seconds(limits_.keep_alive_seconds);
    c.in.release();
  }
  watch(epoll_fd_, c.fd, c.id, EPOLL_CTL_MOD);
}

void HttpServer::close_connection(ClientConnection& c) {
  int fd = c.fd;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = per_client_.find(c.client);
    if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
    connections_.erase(c.id);  // destroys c
    if (on_connections) on_connections(connections_.size());
  }
  close_socket(fd);
}

void HttpServer::refuse(ClientConnection& c, int status, const std::string& reason,
                        const std::string& message) {
  send_refusal(c.fd, c.client, status, reason, message);
  close_connection(c);
}

void HttpServer::send_refusal(int fd, const std::string& client, int status,
                              const std::string& reason, const std::string& message) {
  std::string answer = refusal_response(status, message);
  discard_input(fd);
  if (send(fd, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
    // the client is gone or not reading: it is closed all the same
  }
  if (on_refusal) on_refusal({status, reason, client});
}

}  // namespace shim
