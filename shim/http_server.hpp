// cpp-httplib's server with a leaner connection loop: each accepted socket is read through one
// buffer kept for the whole connection, each response leaves in one send (status line, headers
// and body together), and no poll precedes every read and write (the socket's own timeouts bound
// slow clients). Request parsing, routing and handlers stay httplib's.
#pragma once

#include <memory>
#include <string>

#include <httplib.h>

namespace shim {

// An httplib stream over one accepted socket: buffered reads, writes collected until flush().
class BufferedStream final : public httplib::Stream {
 public:
  BufferedStream(int fd, time_t read_timeout_seconds, time_t write_timeout_seconds);

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  int socket() const override { return fd_; }

  // Sends everything written so far; false when the peer is gone or too slow.
  bool flush();
  // True when received bytes wait to be read (a pipelined request).
  bool has_input() const { return in_at_ < in_end_; }

 private:
  int fd_;
  int read_timeout_ms_;
  std::unique_ptr<char[]> in_;  // received bytes: [in_at_, in_end_) not yet read
  std::size_t in_at_ = 0, in_end_ = 0;
  std::string out_;
  mutable std::string remote_ip_, local_ip_;
  mutable int remote_port_ = -1, local_port_ = -1;
};

class HttpServer final : public httplib::Server {
 private:
  // Serves the requests of one connection until it closes, idles out or the server stops.
  bool process_and_close_socket(int sock) override;
  // Waits for the next request; false after the keep-alive timeout or once the server stops.
  bool wait_for_request(const BufferedStream& stream) const;
};

}  // namespace shim
