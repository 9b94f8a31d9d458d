#include "metrics.hpp"

#include <sstream>

namespace shim {
namespace {

// A label value escaped as the exposition format requires.
std::string label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void Metrics::observe_request(const std::string& method, const std::string& route, int status,
                              double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{method, route, status}];
  Histogram& h = latency_[{method, route}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
}

void Metrics::count_webhook(const std::string& provider, const std::string& outcome) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++webhooks_[{provider, outcome}];
}

void Metrics::count_refusal(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++refusals_[reason];
}

std::string Metrics::render(const PoolStats& pool) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  out << "# HELP switchboard_http_requests_total HTTP requests by method, route and status.\n"
      << "# TYPE switchboard_http_requests_total counter\n";
  for (const auto& [key, count] : requests_)
    out << "switchboard_http_requests_total{method=\"" << label(std::get<0>(key)) << "\",route=\""
        << label(std::get<1>(key)) << "\",status=\"" << std::get<2>(key) << "\"} " << count << "\n";
  out << "# HELP switchboard_http_request_duration_seconds Time to answer a request, by method "
         "and route.\n"
      << "# TYPE switchboard_http_request_duration_seconds histogram\n";
  for (const auto& [key, h] : latency_) {
    std::string labels = "method=\"" + label(key.first) + "\",route=\"" + label(key.second) + "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i)
      out << "switchboard_http_request_duration_seconds_bucket{" << labels << ",le=\""
          << kBuckets[i] << "\"} " << h.buckets[i] << "\n";
    out << "switchboard_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} "
        << h.count << "\n"
        << "switchboard_http_request_duration_seconds_sum{" << labels << "} " << h.sum << "\n"
        << "switchboard_http_request_duration_seconds_count{" << labels << "} " << h.count << "\n";
  }
  out << "# HELP switchboard_db_pool_connections Database connections of the pool by state "
         "(in_use + idle + unconnected = switchboard_db_pool_size).\n"
      << "# TYPE switchboard_db_pool_connections gauge\n"
      << "switchboard_db_pool_connections{state=\"in_use\"} " << pool.in_use << "\n"
      << "switchboard_db_pool_connections{state=\"idle\"} " << pool.idle << "\n"
      << "switchboard_db_pool_connections{state=\"unconnected\"} " << pool.unconnected << "\n"
      << "# HELP switchboard_db_pool_size Connections the pool may hold "
         "(SWITCHBOARD_POOL_SIZE).\n"
      << "# TYPE switchboard_db_pool_size gauge\n"
      << "switchboard_db_pool_size " << pool.size << "\n";
  out << "# HELP switchboard_webhook_verifications_total Inbound webhook verifications by provider "
         "and outcome.\n"
      << "# TYPE switchboard_webhook_verifications_total counter\n";
  for (const auto& [key, count] : webhooks_)
    out << "switchboard_webhook_verifications_total{provider=\"" << label(key.first)
        << "\",outcome=\"" << label(key.second) << "\"} " << count << "\n";
  out << "# HELP switchboard_http_refused_total Connections and requests refused before a handler "
         "ran or for a limit, by reason.\n"
      << "# TYPE switchboard_http_refused_total counter\n";
  for (const auto& [reason, count] : refusals_)
    out << "switchboard_http_refused_total{reason=\"" << label(reason) << "\"} " << count << "\n";
  out << "# HELP switchboard_http_connections Client connections open now, this one included "
         "(SWITCHBOARD_MAX_CONNECTIONS at most).\n"
      << "# TYPE switchboard_http_connections gauge\n"
      << "switchboard_http_connections " << http_connections_.load() << "\n";
  return out.str();
}

}  // namespace shim
