// Per-endpoint pacing of outbound webhook delivery, kept in the delivery worker's memory: the
// concurrency cap (requests in flight), the rate limit (at most rate_limit requests started in any
// window of one second) and a circuit breaker that stops sending to an endpoint failing again and
// again, then lets one probe through before it resumes.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sb::outbound {

struct BreakerSettings {
  int failures_to_open = 5;          // consecutive failures that open the breaker (0: never)
  std::int64_t cooldown_ms = 30000;  // the wait before the first probe; doubles per failed probe
  std::int64_t max_cooldown_ms = 600000;
};

// An endpoint's own limits (webhook_endpoints.max_concurrency and rate_limit).
struct EndpointCaps {
  int max_concurrency = 10;
  std::optional<int> rate_limit;  // messages per second
};

// The room a fresh endpoint has (nothing in flight, nothing started in the last second, breaker
// closed).
int fresh_room(const EndpointCaps& caps);

// True when an attempt's outcome counts against the breaker: no HTTP answer, or a 5xx.
bool breaker_failure(long status, bool success);

class EndpointLimits {
 public:
  explicit EndpointLimits(BreakerSettings breaker = {}) : breaker_(breaker) {}

  // Ensures: the breaker settings apply from now on.
  void set_breaker(BreakerSettings breaker) { breaker_ = breaker; }
  // How many more requests the endpoint may start at `now_ms`: none while its breaker is open or
  // its probe runs, one probe once the cooldown is over, else what the cap and the rate leave.
  int room(const std::string& endpoint, std::int64_t now_ms);
  // Ensures: a started request is counted (in flight, in the rate window; the probe when half
  // open).
  void started(const std::string& endpoint, const EndpointCaps& caps, std::int64_t now_ms);
  // Ensures: a finished request is counted; a breaker failure counts towards opening (or reopens
  // after a failed probe, with twice the cooldown), anything else closes the breaker.
  void finished(const std::string& endpoint, bool breaker_failed, std::int64_t now_ms);
  // True while the endpoint's breaker is open (including while its probe runs).
  bool open(const std::string& endpoint) const;
  // The room of every endpoint the worker keeps state for, for the claim; endpoints back in their
  // fresh state are forgotten first.
  std::vector<std::pair<std::string, int>> rooms(std::int64_t now_ms);
  // The earliest time after `now_ms` at which an endpoint held back by its rate or its breaker
  // may get room again (-1: none is held back that way).
  std::int64_t next_room_ms(std::int64_t now_ms);

 private:
  struct State {
    EndpointCaps caps;
    int in_flight = 0;
    std::deque<std::int64_t> starts;  // the start times of the last second, oldest first
    int failures = 0;                 // consecutive breaker failures
    std::int64_t open_until_ms = 0;   // > 0: the breaker is open (half open once this passed)
    std::int64_t cooldown_ms = 0;
    bool probing = false;  // the half-open probe is in flight
  };
  static void forget_old_starts(State& s, std::int64_t now_ms);
  bool fresh(const State& s) const;

  BreakerSettings breaker_;
  std::map<std::string, State> states_;
};

}  // namespace sb::outbound
