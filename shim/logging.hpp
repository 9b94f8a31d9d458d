// One JSON line per request on stdout (never tokens, secrets or bodies), and every other line on
// stderr as "switchboard-shim: <message>": start, stop, database outages, failures.
#pragma once

#include <chrono>
#include <string>

namespace shim {

// What the log line and the metrics of the request in progress on this thread report.
struct RequestState {
  std::chrono::steady_clock::time_point start;
  std::string request_id;
  std::string path;  // the raw path (logged for requests no route matched)
  std::string route = "unmatched";
  std::string role;
  std::string org_id;
  std::string subject;   // the JWT's sub
  std::string sqlstate;  // of a failed database call
  std::string error;     // the cause of a 5xx answer, for the log only
};

// The state of the request this thread is answering.
RequestState& current_request();

// Starts the state of a new request on this thread.
void begin_request();

// A new request id: 32 hex digits, unique in this process and unlikely to repeat across processes.
std::string new_request_id();

// The request id a client sent when it is usable (1 to 128 characters of letters, digits and
// ".-_:"), else a new one.
std::string request_id_from(const std::string& sent);

// Writes the log line of the finished request in progress on this thread.
void log_request(const std::string& method, int status, double duration_ms);

// Writes the log line of a connection or request refused before a handler ran.
void log_refusal(const std::string& reason, int status, const std::string& client);

// A line on stderr: "switchboard-shim: <message>".
void log_note(const std::string& message);

}  // namespace shim
