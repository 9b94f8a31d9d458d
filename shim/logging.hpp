// One JSON line per request on stdout (never tokens, secrets or bodies), and start/stop notes
// on stderr.
#pragma once

#include <string>

namespace shim {

struct RequestLog {
  std::string method;
  std::string route;  // the route template, not the raw path
  int status = 0;
  double duration_ms = 0;
  std::string role;
  std::string org_id;
};

void log_request(const RequestLog& entry);

// A line on stderr: "switchboard-shim: <message>".
void log_note(const std::string& message);

}  // namespace shim
