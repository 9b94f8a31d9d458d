#include "logging.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>

#include "core/base/base_json_writer.hpp"

namespace shim {
namespace {

std::mutex output_mutex;
thread_local RequestState request_state;

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

// Appends `value` as a JSON string (invalid UTF-8 replaced, as nlohmann::json writes it).
void append_string(std::string& out, const std::string& value) {
  bool ascii = std::all_of(value.begin(), value.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii)
    sb::append_json_string(out, value);
  else
    out += nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Appends ,"key":"value" (or null for "").
void append_field(std::string& line, const char* key, const std::string& value) {
  line += ",\"";
  line += key;
  line += "\":";
  if (value.empty())
    line += "null";
  else
    append_string(line, value);
}

// Writes one line on stdout.
void write_line(const std::string& line) {
  std::lock_guard<std::mutex> lock(output_mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

RequestState& current_request() {
  return request_state;
}

void begin_request() {
  request_state = RequestState{};
  request_state.start = std::chrono::steady_clock::now();
}

std::string new_request_id() {
  static const std::uint64_t prefix = [] {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) ^ device();
  }();
  static std::atomic<std::uint64_t> counter{0};
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(prefix),
                static_cast<unsigned long long>(++counter));
  return text;
}

std::string request_id_from(const std::string& sent) {
  bool usable =
      !sent.empty() && sent.size() <= 128 && std::all_of(sent.begin(), sent.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
               c == ':';
      });
  return usable ? sent : new_request_id();
}

void log_request(const std::string& method, int status, double duration_ms) {
  const RequestState& r = request_state;
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", duration_ms);
  std::string line = "{\"duration_ms\":";
  line += duration;
  append_field(line, "method", method);
  append_field(line, "org_id", r.org_id);
  append_field(line, "request_id", r.request_id);
  append_field(line, "role", r.role);
  append_field(line, "route", r.route);
  if (r.route == "unmatched") append_field(line, "path", r.path);
  if (!r.sqlstate.empty()) append_field(line, "sqlstate", r.sqlstate);
  if (!r.error.empty()) append_field(line, "error", r.error);
  line += ",\"status\":" + std::to_string(status);
  append_field(line, "sub", r.subject);
  line += ",\"time\":\"" + timestamp() + "\"}\n";
  write_line(line);
}

void log_refusal(const std::string& reason, int status, const std::string& client) {
  std::string line = "{\"client\":";
  append_string(line, client);
  append_field(line, "route", "refused:" + reason);
  line += ",\"status\":" + std::to_string(status) + ",\"time\":\"" + timestamp() + "\"}\n";
  write_line(line);
}

void log_note(const std::string& message) {
  std::lock_guard<std::mutex> lock(output_mutex);
  std::fprintf(stderr, "switchboard-shim: %s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace shim
