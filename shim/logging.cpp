#include "logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

namespace shim {
namespace {

std::mutex output_mutex;

// The current UTC time as ISO-8601 with milliseconds.
std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms));
  return text;
}

}  // namespace

void log_request(const RequestLog& entry) {
  nlohmann::json line = {
      {"time", timestamp()},
      {"method", entry.method},
      {"route", entry.route},
      {"status", entry.status},
      {"duration_ms", entry.duration_ms},
      {"role", entry.role},
      {"org_id", entry.org_id.empty() ? nlohmann::json() : nlohmann::json(entry.org_id)}};
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(output_mutex);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void log_note(const std::string& message) {
  std::lock_guard<std::mutex> lock(output_mutex);
  std::fprintf(stderr, "switchboard-shim: %s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace shim
