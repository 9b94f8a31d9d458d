// Prometheus metrics of the shim: requests by method, route and status, a latency histogram by
// method and route, the pool (in use + idle + unconnected = size),
// webhook verifications by provider and outcome, refusals (limits, broken framing) by reason,
// and the client connections open now.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "pool.hpp"

namespace shim {

class Metrics {
 public:
  void observe_request(const std::string& method, const std::string& route, int status,
                       double seconds);
  void count_webhook(const std::string& provider, const std::string& outcome);
  // A connection or request refused for a limit or for broken framing.
  void count_refusal(const std::string& reason);
  // The number of client connections open now.
  void set_http_connections(std::size_t open) { http_connections_ = open; }
  // The text exposition format (version 0.0.4).
  std::string render(const PoolStats& pool) const;

 private:
  static constexpr std::array<double, 14> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  // The latency histogram of one method and route.
  struct Histogram {
    std::array<long, kBuckets.size()> buckets{};  // cumulative: observations <= the bound
    long count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, long> requests_;
  std::map<std::pair<std::string, std::string>, Histogram> latency_;  // by method and route
  std::map<std::pair<std::string, std::string>, long> webhooks_;
  std::map<std::string, long> refusals_;
  std::atomic<std::size_t> http_connections_{0};
};

}  // namespace shim
