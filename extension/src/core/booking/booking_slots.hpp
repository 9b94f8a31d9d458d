// Bookable slots of a calendar: business hours in the calendar's own time zone (correct across DST
// changes), exceptions, buffers, notice, horizon, daily caps and existing appointments; the check
// of one requested start with the reason it is refused; and the nearest free alternatives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/booking/booking_hours.hpp"
#include "core/base/base_uuid.hpp"

namespace sb::booking {

using Micros = std::int64_t;  // microseconds since 1970-01-01 00:00 UTC
constexpr Micros kSecond = 1000000;
constexpr Micros kMinute = 60 * kSecond;
constexpr Micros kDay = 86400 * kSecond;

// A stretch of time [start, end) during which the zone's UTC offset is constant.
struct ZoneSpan {
  Micros start;
  Micros end;
  int offset_seconds;  // east of UTC
};

// A time zone over a window, as consecutive spans of constant offset (from the tz database).
class Zone {
 public:
  explicit Zone(std::vector<ZoneSpan> spans);
  int offset_at(Micros t) const noexcept;  // clamps to the first/last span outside the window
  int local_day(Micros t) const noexcept;  // the civil day number of the wall date at `t`
  const std::vector<ZoneSpan>& spans() const noexcept { return spans_; }

 private:
  std::vector<ZoneSpan> spans_;
};

// An active appointment: its start and its block (the appointment padded by the buffers).
struct Booking {
  Micros start;
  Micros block_start;
  Micros block_end;
};

struct Slot {
  Micros start;
  Micros end;
};

enum class Refusal { none, too_soon, too_far, outside_hours, daily_cap, slot_taken };

// The machine-readable reason of a refusal ("SLOT_TAKEN" ...); "" for none.
std::string_view refusal_code(Refusal r) noexcept;

// Called by every loop of a search that can run long (over the appointments, the days of the
// window, the hours of a day); it may throw to stop the search. The PostgreSQL side passes
// sb::pg::check_for_interrupts, so that a cancel or a statement timeout stops a search mid-way.
using InterruptCheck = void (*)();

// Answers availability questions about one calendar given its active appointments.
class Availability {
 public:
  Availability(const CalendarRules& rules, const Zone& zone, std::vector<Booking> busy,
               InterruptCheck check = nullptr);

  // Free slots of `duration` starting in [from, to), in time order.
  std::vector<Slot> free_slots(Micros from, Micros to, Micros duration, Micros now) const;
  // Why a booking of [start, start + duration) would be refused now, or Refusal::none.
  Refusal check(Micros start, Micros duration, Micros now) const;
  // Up to `count` free starts nearest to `start` within `radius`, nearest first (later on ties).
  std::vector<Micros> alternatives(Micros start, Micros duration, Micros now, std::size_t count,
                                   Micros radius) const;
  // Every start the hours allow on local date `day` (ignoring notice and appointments).
  std::vector<Micros> day_starts(int day, Micros duration) const;

 private:
  // The spans of starts in [from, to) whose padded block meets no busy block, in time order.
  std::vector<Slot> open_starts(Micros from, Micros to, Micros duration) const;
  // Calls visit(t) for the free starts t in [from, to) in time order while it returns true.
  template <typename Visit>
  void for_each_free_start(Micros from, Micros to, Micros duration, Micros now, Visit visit) const;
  // Appends the starts the hours allow on local date `day`, in time order.
  void append_day_starts(int day, Micros duration, std::vector<Micros>* out) const;
  // The wall-clock end of range `r` of `day`, carried past midnight while the next day goes on.
  Micros continued_end(int day, const ClockRange& r) const;
  Refusal timing(Micros start, Micros now) const noexcept;
  Refusal occupancy(Micros start, Micros duration, int day) const noexcept;
  bool overlaps(Micros from, Micros to) const noexcept;
  int booked_on(int day) const noexcept;
  // Calls the interrupt check, when there is one.
  void checkpoint() const {
    if (check_) check_();
  }

  const CalendarRules& rules_;
  const Zone& zone_;
  std::vector<Booking> busy_;                 // by block start
  std::vector<Micros> max_end_;               // max block end of busy_[0..i]
  std::vector<std::pair<int, int>> per_day_;  // (local day, active appointments), with a cap
  InterruptCheck check_;
};

// The padded blocks that can bear on a booking of `duration` starting anywhere in [from, to]: the
// blocks it could overlap and, when the calendar has a daily cap, every appointment starting on
// the same local date (a date lasts at most 25 hours). Existing blocks meeting it must be read.
Slot reach(const CalendarRules& rules, Micros from, Micros to, Micros duration) noexcept;

// Rejects durations outside 1..1440 minutes and windows that are empty or longer than 92 days
// (sb::Error 22023 naming the value).
void require_duration(int minutes);
void require_window(Micros from, Micros to);

// A stable 64-bit advisory-lock key for `name` within organisation `org`.
std::int64_t lock_key(const Uuid& org, std::string_view name) noexcept;

}  // namespace sb::booking
