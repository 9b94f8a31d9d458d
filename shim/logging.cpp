#include "logging.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/base/base_json_writer.hpp"

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

// Appends `value` as a JSON string (invalid UTF-8 replaced, as nlohmann::json writes it).
void append_string(std::string& out, const std::string& value) {
  bool ascii = std::all_of(value.begin(), value.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii)
    sb::append_json_string(out, value);
  else
    out += nlohmann::json(value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

void log_request(const RequestLog& entry) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f", entry.duration_ms);
  std::string line = "{\"duration_ms\":";
  line += duration;
  line += ",\"method\":";
  append_string(line, entry.method);
  line += ",\"org_id\":";
  if (entry.org_id.empty())
    line += "null";
  else
    append_string(line, entry.org_id);
  line += ",\"role\":";
  append_string(line, entry.role);
  line += ",\"route\":";
  append_string(line, entry.route);
  line += ",\"status\":" + std::to_string(entry.status) + ",\"time\":\"" + timestamp() + "\"}\n";
  std::lock_guard<std::mutex> lock(output_mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

void log_note(const std::string& message) {
  std::lock_guard<std::mutex> lock(output_mutex);
  std::fprintf(stderr, "switchboard-shim: %s\n", message.c_str());
  std::fflush(stderr);
}

}  // namespace shim
