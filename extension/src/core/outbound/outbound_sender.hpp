// Outbound webhook HTTP with one libcurl multi handle: requests start at any time, finished ones
// are collected by wait(); connections are kept alive between requests. The libcurl callbacks
// only copy bytes and set flags (no PostgreSQL call is possible here: this is core code).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/outbound/outbound_policy.hpp"

namespace sb::outbound {

struct Request {
  std::uint64_t token = 0;  // the caller's handle for the result
  std::string url;
  std::string body;
  std::vector<std::string> headers;  // "name: value"
};

struct Result {
  std::uint64_t token = 0;
  long status = 0;      // the HTTP status, 0 when none arrived
  std::string outcome;  // success, http_error, redirect, timeout, connect_error, refused, error
  std::string body;     // the response body, cut at SenderOptions::max_body bytes
  std::optional<long> retry_after;  // seconds, from a Retry-After header
  long duration_ms = 0;
  std::string error;  // libcurl's message when no HTTP answer arrived
};

struct SenderOptions {
  std::vector<Network> allowed;  // reserved addresses that may be connected to all the same
  bool allow_http = false;       // plain http besides https
  long connect_timeout_ms = 15000;
  long timeout_ms = 15000;
  std::size_t max_body = 20000;
};

class Sender {
 public:
  explicit Sender(SenderOptions options);
  ~Sender();
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  // Ensures: requests use these options from now on; kept-alive connections are closed once no
  // request runs (a connection opened under a wider allow list is never reused under a narrower).
  void set_options(SenderOptions options);
  // Starts the request (a failure to start is reported by the next wait()).
  void start(Request request);
  // Ensures: the requests whose results wait() has not returned yet.
  std::size_t in_flight() const { return transfers_.size() + failed_to_start_.size(); }
  // Runs transfers for up to timeout_ms (less when one finishes) and returns the finished ones.
  std::vector<Result> wait(int timeout_ms);

  struct Transfer;

 private:
  SenderOptions options_;
  void* multi_;                                           // CURLM
  std::map<void*, std::unique_ptr<Transfer>> transfers_;  // by easy handle
  std::vector<Result> failed_to_start_;
  bool close_pool_ = false;  // close kept-alive connections once nothing runs

  void close_pool_if_idle();
};

}  // namespace sb::outbound
