// switchboard-shim's HTTP/1.1 connection layer, in front of cpp-httplib's request parser and
// router.
//
// One epoll thread accepts connections and holds every connection that waits for a request (idle
// between requests, or with a request head still arriving), so idle and slow clients cost a socket
// and a small buffer, never a worker thread. A connection reaches a worker only with a complete
// request head; the worker checks its framing (RFC 9112), runs httplib's Server::process_request
// over a stream that ends where the request's body ends, sends the answer in one piece and waits
// a few milliseconds for a next request before handing the connection back.
//
// Limits: open connections in total and per client address (503 and close, at once), the bytes
// and header lines of a head (431), the time a head, a body or an answer may take (the client
// timeout), the idle time between requests (the keep-alive timeout).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <httplib.h>

#include <string_view>

// The connection layer calls httplib::Server::process_request, a protected member whose signature
// and stream contract are not a stable API: any other cpp-httplib than Debian 12's stops the build.
static_assert(std::string_view(CPPHTTPLIB_VERSION) == "0.11.4",
              "shim/http_server.cpp is written against cpp-httplib 0.11.4's process_request");

namespace shim {

struct HttpLimits {
  int threads = 32;
  int max_connections = 1000;
  int max_connections_per_client = 100;
  std::size_t max_header_bytes = 16384;
  std::size_t max_headers = 100;
  int keep_alive_seconds = 5;
  int client_timeout_seconds = 10;
};

// A connection or request turned away before any handler ran.
struct Refusal {
  int status = 0;      // the answer sent (0: closed without one)
  std::string reason;  // for the metrics: connections, client_connections, header_bytes, ...
  std::string client;  // the peer's address
};

struct ClientConnection;

class HttpServer {
 public:
  explicit HttpServer(HttpLimits limits);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Where routes, handlers, hooks and the logger are registered (cpp-httplib's API).
  httplib::Server& routes() { return parser_; }
  // Told of every refusal, from any thread.
  std::function<void(const Refusal&)> on_refusal;
  // Told the number of open client connections whenever it changes (with the server's lock
  // held: it must only record the number).
  std::function<void(std::size_t)> on_connections;
  // Called on the worker's thread before each request is parsed.
  std::function<void()> before_request;

  // Listens on host:port; false when the address cannot be used.
  bool bind(const std::string& host, int port);
  // Serves until stop(); returns once the requests in progress have been answered.
  void run();
  // Stops accepting and closes idle connections; callable from any thread.
  void stop();

 private:
  // httplib's server, used only to parse, route and answer one request on a given stream.
  class Parser : public httplib::Server {
   public:
    using httplib::Server::process_request;
  };
  enum class Head { complete, partial, closed, too_large };

  void accept_all();
  void admit(int fd, const std::string& client, int port);
  void on_input(std::uint64_t id);
  void sweep();
  void work();
  void serve(ClientConnection& c);
  Head take_input(ClientConnection& c);
  Head head_state(ClientConnection& c);
  Head wait_briefly(ClientConnection& c);
  void hand_back(ClientConnection& c);
  void close_connection(ClientConnection& c);
  void refuse(ClientConnection& c, int status, const std::string& reason,
              const std::string& message);
  // Answers `status` with a JSON error (nothing more will be read) and reports the refusal.
  void send_refusal(int fd, const std::string& client, int status, const std::string& reason,
                    const std::string& message);
  void pause_accepting();

  HttpLimits limits_;
  Parser parser_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  bool accept_paused_ = false;  // reactor thread only
  std::chrono::steady_clock::time_point accept_resumes_;

  std::mutex mutex_;  // everything below
  std::unordered_map<std::uint64_t, std::unique_ptr<ClientConnection>> connections_;
  std::unordered_map<std::string, int> per_client_;
  std::uint64_t next_id_ = 2;  // 0 and 1 name the listening socket and the wake-up descriptor
  std::deque<ClientConnection*> ready_;
  std::condition_variable ready_cv_;
  bool workers_stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace shim
