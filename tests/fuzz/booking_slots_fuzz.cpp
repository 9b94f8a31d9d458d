// Slot generation (core/booking/booking_slots) over fuzzed rules and appointments in New York
// across the 2026 spring DST change. Input: weekly hours JSON, options JSON, then "from to now
// duration" in minutes after 2026-03-07 00:00 UTC (the window is cut to 3 days), then the
// appointments as "start length" pairs in minutes. Every free slot and every alternative offered
// must pass check(); free slots come in time order inside the window.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/base/base_error.hpp"
#include "core/booking/booking_hours.hpp"
#include "core/base/base_json.hpp"
#include "core/booking/booking_slots.hpp"
#include "fuzz_support.hpp"

namespace bk = sb::booking;

namespace {

const bk::Micros kBase = bk::days_from_civil(2026, 3, 7) * bk::kDay;

// America/New_York around 2026: EST, EDT from 2026-03-08 07:00Z, EST from 2026-11-01 06:00Z.
const bk::Zone& new_york() {
  static const bk::Micros spring =
      bk::days_from_civil(2026, 3, 8) * bk::kDay + 7 * 3600 * bk::kSecond;
  static const bk::Micros fall =
      bk::days_from_civil(2026, 11, 1) * bk::kDay + 6 * 3600 * bk::kSecond;
  static const bk::Zone zone({{0, spring, -5 * 3600},
                              {spring, fall, -4 * 3600},
                              {fall, fall + 400 * bk::kDay, -5 * 3600}});
  return zone;
}

// The integers of `text` (separated by spaces or newlines) in minutes, each within +-10 days.
std::vector<bk::Micros> minutes(std::string_view text) {
  std::vector<bk::Micros> out;
  while (!text.empty() && out.size() < 512) {
    auto end = text.find_first_of(" \n");
    auto word = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (word.empty()) continue;
    out.push_back(std::clamp<std::int64_t>(sb::fuzz::integer_or(word, 0), -14400, 14400) *
                  bk::kMinute);
  }
  return out;
}

// The rules of the input's hours and options, or nothing when they are refused.
std::optional<bk::CalendarRules> rules_of(std::string_view weekly, std::string_view options) {
  try {
    bk::CalendarRules rules;
    rules.weekly = bk::parse_weekly(sb::read_json(weekly));
    bk::apply_options(sb::read_json(options), &rules);
    return rules;
  } catch (const sb::Error&) {
    return std::nullopt;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto f = sb::fuzz::fields(sb::fuzz::text_of(data, size), 4);
  auto rules = rules_of(f[0], f[1]);
  if (!rules) return 0;
  auto times = minutes(f[2]);
  times.resize(4, 0);
  bk::Micros from = kBase + times[0], to = std::min(kBase + times[1], from + 3 * bk::kDay);
  bk::Micros now = kBase + times[2];
  bk::Micros duration =
      times[3] > 0 ? std::min(times[3], bk::kDay) : rules->slot_minutes * bk::kMinute;
  std::vector<bk::Booking> busy;
  auto pairs = minutes(f[3]);
  for (std::size_t i = 0; i + 1 < pairs.size() && busy.size() < 200; i += 2) {
    bk::Micros start = kBase + pairs[i],
               end = start + std::max<bk::Micros>(pairs[i + 1], bk::kMinute);
    busy.push_back({start, start - rules->buffer_before_minutes * bk::kMinute,
                    end + rules->buffer_after_minutes * bk::kMinute});
  }
  bk::Availability availability(*rules, new_york(), busy);
  bk::Micros last = from - 1;
  if (to > from) {
    for (const bk::Slot& slot : availability.free_slots(from, to, duration, now)) {
      sb::fuzz::require(slot.start > last && slot.start < to,
                        "free slots are ordered in the window");
      sb::fuzz::require(slot.end == slot.start + duration, "a free slot lasts the duration");
      sb::fuzz::require(availability.check(slot.start, duration, now) == bk::Refusal::none,
                        "every free slot passes check()");
      last = slot.start;
    }
  }
  for (bk::Micros t : availability.alternatives(from, duration, now, 3, bk::kDay)) {
    sb::fuzz::require(t != from && std::abs(t - from) <= bk::kDay, "alternatives are near");
    sb::fuzz::require(availability.check(t, duration, now) == bk::Refusal::none,
                      "every alternative passes check()");
  }
  return 0;
}
