// Starts real switchboard-shim processes against the test cluster (SWITCHBOARD_TEST_DSN) on free
// ports from SB_SHIM_PORT_BASE (default 18610) and talks HTTP to them.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

#include "pg.hpp"

extern char** environ;

namespace sbtest {

inline const std::string kJwtSecret = "integration-test-jwt-secret-of-at-least-32-bytes";
inline const std::string kMetricsToken = "integration-test-metrics-token";

// The connection string the shim uses: the test cluster, as the authenticator role.
inline std::string shim_dsn() {
  std::string dsn = test_dsn();
  auto at = dsn.find("user=postgres");
  if (at == std::string::npos)
    throw std::runtime_error("SWITCHBOARD_TEST_DSN must say user=postgres");
  return dsn.replace(at, 13, "user=switchboard_authenticator");
}

// The directory of the test binaries (the shim is built next to them).
inline std::string build_dir() {
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw std::runtime_error("cannot locate the test binary");
  std::string exe(path, static_cast<std::size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

inline bool port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// The next free port at or above SB_SHIM_PORT_BASE, never the same twice in one run.
inline int next_port() {
  static int next = [] {
    const char* base = std::getenv("SB_SHIM_PORT_BASE");
    return base && *base ? std::atoi(base) : 18610;
  }();
  while (!port_free(next)) ++next;
  return next++;
}

inline std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A file under /tmp holding `text`, removed with the object.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    char name[] = "/tmp/switchboard-shim-test.XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    path_ = name;
    if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      throw std::runtime_error("write failed");
    close(fd);
  }
  ~TempFile() { unlink(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Environment variables of a shim process.
using Env = std::map<std::string, std::string>;

// One running switchboard-shim; SIGKILLed if still running when destroyed.
class Shim {
 public:
  explicit Shim(Env env = {}) : port_(next_port()), log_("") {
    env.emplace("SWITCHBOARD_DATABASE_URL", shim_dsn());
    env.emplace("SWITCHBOARD_JWT_SECRET", kJwtSecret);
    env.emplace("SWITCHBOARD_METRICS_TOKEN", kMetricsToken);
    env["SWITCHBOARD_LISTEN"] = "127.0.0.1:" + std::to_string(port_);
    start(env);
    wait_until_healthy();
  }
  ~Shim() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Shim(const Shim&) = delete;
  Shim& operator=(const Shim&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(20, 0);
    c.set_connection_timeout(2, 0);
    return c;
  }

  // The /metrics text, read with the metrics token.
  std::string metrics() const {
    auto res = client().Get("/metrics", {{"Authorization", "Bearer " + kMetricsToken}});
    return res && res->status == 200 ? res->body : "";
  }

  // The process's peak resident memory in kB (VmHWM).
  long peak_memory_kb() const {
    std::istringstream status(file_text("/proc/" + std::to_string(pid_) + "/status"));
    for (std::string line; std::getline(status, line);)
      if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
  }

  // Sends SIGTERM and waits for the exit; returns the exit status (-1 when killed by a signal).
  int terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

  // Everything the shim wrote (request log lines on stdout, notes on stderr).
  std::string output() const { return file_text(log_.path()); }

 private:
  void start(const std::map<std::string, std::string>& env) {
    std::vector<std::string> entries;
    for (char** e = environ; *e; ++e)
      if (std::string(*e).rfind("SWITCHBOARD_", 0) != 0) entries.emplace_back(*e);
    for (const auto& [k, v] : env) entries.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : entries) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string binary = build_dir() + "/switchboard-shim";
    int out = open(log_.path().c_str(), O_WRONLY | O_TRUNC);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out, 1);
      dup2(out, 2);
      char* argv[] = {binary.data(), nullptr};
      execve(binary.c_str(), argv, envp.data());
      _exit(127);
    }
    close(out);
  }

  void wait_until_healthy() {
    for (int i = 0; i < 200; ++i) {
      auto res = client().Get("/healthz");
      if (res && res->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    throw std::runtime_error("switchboard-shim did not start: " + output());
  }

  int port_;
  TempFile log_;
  pid_t pid_ = -1;
};

// Restarts the test cluster (pg_ctl restart as its OS user); false when the test environment
// does not say where it is.
inline bool restart_database() {
  const char* home = std::getenv("SB_TEST_HOME");
  const char* root = std::getenv("SB_ROOT");
  if (!home || !root) return false;
  std::string cmd = std::string("bash -c 'source \"") + root +
                    "/extension/tools/lib.sh\" && as_pg \"$PG_BIN/pg_ctl\" -D \"" + home +
                    "/data\" -m fast -w restart -l \"" + home + "/postgres.log\" >/dev/null'";
  return std::system(cmd.c_str()) == 0;
}

inline httplib::Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

// A raw TCP connection to the shim, for requests no HTTP client would send; `source` is the
// client's loopback address (127.0.0.2 is another client than 127.0.0.1).
class RawSocket {
 public:
  explicit RawSocket(int port, const char* source = "127.0.0.1")
      : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source, &from.sin_addr);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0)
      throw std::runtime_error("bind failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawSocket() { close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool send_text(const std::string& text) {
    return ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
  }
  // Ends the sending direction (the client is done, or gave up, sending).
  void close_sending() { shutdown(fd_, SHUT_WR); }
  // What arrives until the peer closes or `seconds` pass without data.
  std::string receive(int seconds = 5) {
    timeval tv{seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof buf, 0)) > 0) {
      out.append(buf, static_cast<std::size_t>(n));
      if (out.find("\r\n\r\n") != std::string::npos && complete(out)) break;
    }
    return out;
  }
  // True when the peer has closed the connection (reads EOF within `seconds`).
  bool closed_by_peer(int seconds) {
    timeval tv{seconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    ssize_t n;
    while ((n = recv(fd_, buf, sizeof buf, 0)) > 0) {
    }
    return n == 0;
  }

 private:
  static bool complete(const std::string& response) {
    auto head_end = response.find("\r\n\r\n");
    auto cl = response.find("Content-Length: ");
    if (cl == std::string::npos || cl > head_end) return true;
    std::size_t length = std::stoul(response.substr(cl + 16));
    return response.size() >= head_end + 4 + length;
  }
  int fd_;
};

}  // namespace sbtest
