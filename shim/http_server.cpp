#include "http_server.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

namespace shim {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kFlushAt = 64 * 1024;  // larger responses leave in pieces of about this
constexpr int kStopCheckMs = 10;             // how soon an idle connection notices a stop

// Sets a socket timeout (SO_RCVTIMEO or SO_SNDTIMEO) in whole seconds.
void set_timeout(int fd, int option, time_t seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

// The numeric address and port of a socket name.
void describe(const sockaddr_storage& addr, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST] = "";
  getnameinfo(reinterpret_cast<const sockaddr*>(&addr), length, host, sizeof host, nullptr, 0,
              NI_NUMERICHOST);
  ip = host;
  port = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port)
                                    : ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
}

// The peer's (or, with `local`, this side's) address of a socket, asked once.
void socket_name(int fd, bool local, std::string& ip, int& port) {
  sockaddr_storage addr{};
  socklen_t length = sizeof addr;
  auto* name = reinterpret_cast<sockaddr*>(&addr);
  if ((local ? getsockname(fd, name, &length) : getpeername(fd, name, &length)) == 0)
    describe(addr, length, ip, port);
}

// poll() of one descriptor, retried when interrupted.
int poll_one(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int n;
  do n = poll(&p, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  return n;
}

}  // namespace

BufferedStream::BufferedStream(int fd, time_t read_timeout_seconds, time_t write_timeout_seconds)
    : fd_(fd),
      read_timeout_ms_(static_cast<int>(read_timeout_seconds * 1000)),
      in_(new char[kReadChunk]) {
  set_timeout(fd, SO_RCVTIMEO, read_timeout_seconds);
  set_timeout(fd, SO_SNDTIMEO, write_timeout_seconds);
  int one = 1;  // the last piece of a large response must not wait for an ACK (Nagle)
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

bool BufferedStream::is_readable() const {
  return has_input() || poll_one(fd_, POLLIN, read_timeout_ms_) > 0;
}

bool BufferedStream::is_writable() const {
  return poll_one(fd_, POLLOUT, 0) > 0;
}

ssize_t BufferedStream::read(char* ptr, size_t size) {
  if (!has_input()) {
    if (!flush()) return -1;  // e.g. "100 Continue" must reach the client before it sends
    ssize_t n;
    do n = recv(fd_, in_.get(), kReadChunk, 0);
    while (n < 0 && errno == EINTR);
    in_at_ = 0;
    in_end_ = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (n <= 0) return n < 0 ? -1 : 0;
  }
  std::size_t count = std::min(size, in_end_ - in_at_);
  std::memcpy(ptr, in_.get() + in_at_, count);
  in_at_ += count;
  return static_cast<ssize_t>(count);
}

ssize_t BufferedStream::write(const char* ptr, size_t size) {
  out_.append(ptr, size);
  if (out_.size() >= kFlushAt && !flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool BufferedStream::flush() {
  std::size_t sent = 0;
  while (sent < out_.size()) {
    ssize_t n = send(fd_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  out_.clear();
  return true;
}

void BufferedStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  if (remote_port_ < 0) socket_name(fd_, false, remote_ip_, remote_port_);
  ip = remote_ip_;
  port = remote_port_;
}

void BufferedStream::get_local_ip_and_port(std::string& ip, int& port) const {
  if (local_port_ < 0) socket_name(fd_, true, local_ip_, local_port_);
  ip = local_ip_;
  port = local_port_;
}

bool HttpServer::wait_for_request(const BufferedStream& stream) const {
  if (stream.has_input()) return true;
  auto start = std::chrono::steady_clock::now();
  auto limit = std::chrono::seconds(keep_alive_timeout_sec_);
  while (svr_sock_ != INVALID_SOCKET) {
    int n = poll_one(stream.socket(), POLLIN, kStopCheckMs);
    if (n != 0) return n > 0;
    if (std::chrono::steady_clock::now() - start > limit) return false;
  }
  return false;
}

bool HttpServer::process_and_close_socket(int sock) {
  BufferedStream stream(sock, read_timeout_sec_, write_timeout_sec_);
  bool ok = false;
  for (std::size_t left = keep_alive_max_count_; left > 0 && wait_for_request(stream); --left) {
    bool closed = false;
    ok = process_request(stream, left == 1, closed, nullptr);
    ok = stream.flush() && ok;
    if (!ok || closed) break;
  }
  shutdown(sock, SHUT_RDWR);
  close(sock);
  return ok;
}

}  // namespace shim
