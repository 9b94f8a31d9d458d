#include "core/outbound/outbound_limits.hpp"

#include <algorithm>
#include <climits>

namespace sb::outbound {

int fresh_room(const EndpointCaps& caps) {
  return std::min(caps.max_concurrency, caps.rate_limit.value_or(INT_MAX));
}

bool breaker_failure(long status, bool success) {
  return !success && (status == 0 || status >= 500);
}

constexpr std::int64_t kRateWindowMs = 1000;

void EndpointLimits::forget_old_starts(State& s, std::int64_t now_ms) {
  while (!s.starts.empty() && s.starts.front() <= now_ms - kRateWindowMs) s.starts.pop_front();
}

bool EndpointLimits::fresh(const State& s) const {
  return s.in_flight == 0 && s.starts.empty() && s.failures == 0 && s.open_until_ms == 0;
}

int EndpointLimits::room(const std::string& endpoint, std::int64_t now_ms) {
  auto it = states_.find(endpoint);
  if (it == states_.end()) return INT_MAX;  // unknown: the claim applies the fresh room
  State& s = it->second;
  if (s.open_until_ms > 0) return s.probing || now_ms < s.open_until_ms ? 0 : 1;
  forget_old_starts(s, now_ms);
  int room = std::max(0, s.caps.max_concurrency - s.in_flight);
  if (s.caps.rate_limit)
    room = std::min(room, std::max(0, *s.caps.rate_limit - static_cast<int>(s.starts.size())));
  return room;
}

void EndpointLimits::started(const std::string& endpoint, const EndpointCaps& caps,
                             std::int64_t now_ms) {
  State& s = states_[endpoint];
  s.caps = caps;
  forget_old_starts(s, now_ms);
  ++s.in_flight;
  if (s.caps.rate_limit) s.starts.push_back(now_ms);
  if (s.open_until_ms > 0) s.probing = true;
}

void EndpointLimits::finished(const std::string& endpoint, bool breaker_failed,
                              std::int64_t now_ms) {
  auto it = states_.find(endpoint);
  if (it == states_.end()) return;
  State& s = it->second;
  s.in_flight = std::max(0, s.in_flight - 1);
  bool was_probe = s.probing;
  s.probing = false;
  if (!breaker_failed) {
    s.failures = 0;
    s.open_until_ms = s.cooldown_ms = 0;
    return;
  }
  ++s.failures;
  if (was_probe) {
    s.cooldown_ms = std::min(breaker_.max_cooldown_ms, 2 * s.cooldown_ms);
    s.open_until_ms = now_ms + s.cooldown_ms;
  } else if (s.open_until_ms == 0 && breaker_.failures_to_open > 0 &&
             s.failures >= breaker_.failures_to_open) {
    s.cooldown_ms = breaker_.cooldown_ms;
    s.open_until_ms = now_ms + s.cooldown_ms;
  }
}

bool EndpointLimits::open(const std::string& endpoint) const {
  auto it = states_.find(endpoint);
  return it != states_.end() && it->second.open_until_ms > 0;
}

std::vector<std::pair<std::string, int>> EndpointLimits::rooms(std::int64_t now_ms) {
  std::vector<std::pair<std::string, int>> out;
  for (auto it = states_.begin(); it != states_.end();) {
    forget_old_starts(it->second, now_ms);
    if (fresh(it->second)) {
      it = states_.erase(it);
      continue;
    }
    out.emplace_back(it->first, room(it->first, now_ms));
    ++it;
  }
  return out;
}

std::int64_t EndpointLimits::next_room_ms(std::int64_t now_ms) {
  std::int64_t next = -1;
  auto earlier = [&](std::int64_t t) { next = next < 0 ? t : std::min(next, t); };
  for (auto& [endpoint, s] : states_) {
    if (s.open_until_ms > 0) {
      if (!s.probing && now_ms < s.open_until_ms) earlier(s.open_until_ms);
      continue;
    }
    forget_old_starts(s, now_ms);
    if (s.caps.rate_limit && static_cast<int>(s.starts.size()) >= *s.caps.rate_limit)
      earlier(s.starts.front() + kRateWindowMs);
  }
  return next;
}

}  // namespace sb::outbound

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
