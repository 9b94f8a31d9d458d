#include "core/booking/booking_slots.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "core/base/base_error.hpp"
#include "core/base/base_json_writer.hpp"

namespace sb::booking {
namespace {

constexpr Micros kFarPast = -(Micros{1} << 62);
constexpr Micros kFarFuture = Micros{1} << 62;
constexpr int kMaxWindowDays = 92;

Micros floor_div(Micros a, Micros b) noexcept {
  Micros q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

using Piece = std::pair<Micros, Micros>;

// The instants whose wall-clock time lies in [wall_from, wall_to): one piece, two on a
// fall-back night when the range covers the repeated hour.
std::vector<Piece> open_pieces(const Zone& zone, Micros wall_from, Micros wall_to) {
  std::vector<Piece> pieces;
  for (const ZoneSpan& s : zone.spans()) {
    Micros off = s.offset_seconds * kSecond;
    Micros a = std::max(wall_from - off, s.start), b = std::min(wall_to - off, s.end);
    if (a >= b) continue;
    if (!pieces.empty() && pieces.back().second == a)
      pieces.back().second = b;
    else
      pieces.push_back({a, b});
  }
  return pieces;
}

bool fits(const std::vector<Piece>& pieces, Micros from, Micros to) noexcept {
  for (const Piece& p : pieces)
    if (p.first <= from && to <= p.second) return true;
  return false;
}

std::string utc_text(Micros t) {
  return sb::answer_time(t);
}

// The detail naming a requested window: "The window given runs from <from_ts> to <to_ts>."
std::string window_detail(Micros from, Micros to) {
  return "The window given runs from " + utc_text(from) + " to " + utc_text(to) + ".";
}

}  // namespace

Zone::Zone(std::vector<ZoneSpan> spans) : spans_(std::move(spans)) {
  if (spans_.empty()) spans_.push_back({kFarPast, kFarFuture, 0});
  spans_.front().start = kFarPast;
  spans_.back().end = kFarFuture;
}

int Zone::offset_at(Micros t) const noexcept {
  auto it = std::upper_bound(spans_.begin(), spans_.end(), t,
                             [](Micros v, const ZoneSpan& s) { return v < s.start; });
  return it == spans_.begin() ? spans_.front().offset_seconds : std::prev(it)->offset_seconds;
}

int Zone::local_day(Micros t) const noexcept {
  return static_cast<int>(floor_div(t + offset_at(t) * kSecond, kDay));
}

std::string_view refusal_code(Refusal r) noexcept {
  switch (r) {
    case Refusal::none:
      return "";
    case Refusal::too_soon:
      return "TOO_SOON";
    case Refusal::too_far:
      return "TOO_FAR";
    case Refusal::outside_hours:
      return "OUTSIDE_HOURS";
    case Refusal::daily_cap:
      return "DAILY_CAP";
    case Refusal::slot_taken:
      return "SLOT_TAKEN";
  }
  return "";
}

Availability::Availability(const CalendarRules& rules, const Zone& zone, std::vector<Booking> busy,
                           InterruptCheck check)
    : rules_(rules), zone_(zone), busy_(std::move(busy)), check_(check) {
  auto by_start = [](const Booking& a, const Booking& b) { return a.block_start < b.block_start; };
  if (!std::is_sorted(busy_.begin(), busy_.end(), by_start))
    std::sort(busy_.begin(), busy_.end(), by_start);
  Micros max_end = kFarPast;
  max_end_.reserve(busy_.size());
  for (const Booking& b : busy_) {
    checkpoint();
    max_end = std::max(max_end, b.block_end);
    max_end_.push_back(max_end);
  }
  if (!rules_.daily_cap) return;
  std::map<int, int> counts;
  for (const Booking& b : busy_) {
    checkpoint();
    ++counts[zone_.local_day(b.start)];
  }
  per_day_.assign(counts.begin(), counts.end());
}

std::vector<Micros> Availability::day_starts(int day, Micros duration) const {
  std::vector<Micros> starts;
  append_day_starts(day, duration, &starts);
  return starts;
}

void Availability::append_day_starts(int day, Micros duration, std::vector<Micros>* out) const {
  size_t first = out->size();
  Micros step = rules_.step_minutes() * kMinute;
  for (const ClockRange& r : rules_.hours_on(day)) {
    checkpoint();
    Micros wall_from = day * kDay + r.start * kMinute, wall_to = day * kDay + r.end * kMinute;
    std::vector<Piece> pieces = open_pieces(zone_, wall_from, continued_end(day, r));
    for (Micros wall = wall_from; wall < wall_to; wall += step)
      for (const ZoneSpan& s : zone_.spans()) {
        Micros t = wall - s.offset_seconds * kSecond;
        if (t >= s.start && t < s.end && fits(pieces, t, t + duration)) out->push_back(t);
      }
  }
  if (!std::is_sorted(out->begin() + first, out->end()))
    std::sort(out->begin() + first, out->end());
}

Micros Availability::continued_end(int day, const ClockRange& r) const {
  Micros end = day * kDay + r.end * kMinute;
  for (int next = day + 1; r.end == 1440 && next <= day + 2; ++next) {
    const DayHours& hours = rules_.hours_on(next);
    if (hours.empty() || hours.front().start != 0) break;
    end = next * kDay + hours.front().end * kMinute;
    if (hours.front().end != 1440) break;
  }
  return end;
}

Refusal Availability::timing(Micros start, Micros now) const noexcept {
  if (start < now + rules_.min_notice_minutes * kMinute) return Refusal::too_soon;
  if (start > now + rules_.max_days_ahead * kDay) return Refusal::too_far;
  return Refusal::none;
}

bool Availability::overlaps(Micros from, Micros to) const noexcept {
  auto it = std::lower_bound(busy_.begin(), busy_.end(), to,
                             [](const Booking& b, Micros v) { return b.block_start < v; });
  size_t before = static_cast<size_t>(it - busy_.begin());  // blocks starting before `to`
  return before > 0 && max_end_[before - 1] > from;
}

int Availability::booked_on(int day) const noexcept {
  auto it = std::lower_bound(per_day_.begin(), per_day_.end(), std::make_pair(day, 0));
  return it != per_day_.end() && it->first == day ? it->second : 0;
}

Refusal Availability::occupancy(Micros start, Micros duration, int day) const noexcept {
  if (rules_.daily_cap && booked_on(day) >= *rules_.daily_cap) return Refusal::daily_cap;
  Micros before = rules_.buffer_before_minutes * kMinute;
  Micros after = rules_.buffer_after_minutes * kMinute;
  if (overlaps(start - before, start + duration + after)) return Refusal::slot_taken;
  return Refusal::none;
}

Refusal Availability::check(Micros start, Micros duration, Micros now) const {
  Refusal r = timing(start, now);
  if (r != Refusal::none) return r;
  int day = zone_.local_day(start);
  std::vector<Micros> starts = day_starts(day, duration);
  if (!std::binary_search(starts.begin(), starts.end(), start)) return Refusal::outside_hours;
  return occupancy(start, duration, day);
}

std::vector<Slot> Availability::open_starts(Micros from, Micros to, Micros duration) const {
  Micros before = rules_.buffer_before_minutes * kMinute;
  Micros after = duration + rules_.buffer_after_minutes * kMinute;
  std::vector<Slot> open;
  auto add_gap = [&](Micros gap_from, Micros gap_to) {  // the starts whose block fits in the gap
    Micros lo = std::max(gap_from + before, from), hi = std::min(gap_to - after + 1, to);
    if (lo < hi) open.push_back({lo, hi});
  };
  Micros covered = kFarPast;  // the latest end of the blocks so far
  for (const Booking& b : busy_) {
    checkpoint();
    if (b.block_start > covered) add_gap(covered, b.block_start);
    covered = std::max(covered, b.block_end);
    if (covered - before >= to) return open;
  }
  add_gap(covered, kFarFuture);
  return open;
}

template <typename Visit>
void Availability::for_each_free_start(Micros from, Micros to, Micros duration, Micros now,
                                       Visit visit) const {
  from = std::max(from, now + rules_.min_notice_minutes * kMinute);
  to = std::min(to, now + rules_.max_days_ahead * kDay + 1);
  if (from >= to) return;
  std::vector<Slot> open = open_starts(from, to, duration);
  constexpr Micros kZoneReach = 15 * 3600 * kSecond;  // a local date's instants lie this close
  size_t day_open = 0, open_at = 0;  // the first open span not before the day, and before t
  std::vector<Micros> starts;
  for (int day = zone_.local_day(from) - 1; day <= zone_.local_day(to) + 1; ++day) {
    checkpoint();
    while (day_open < open.size() && open[day_open].end <= day * kDay - kZoneReach) ++day_open;
    if (day_open == open.size()) return;
    if (open[day_open].start >= (day + 1) * kDay + kZoneReach) continue;
    if (rules_.daily_cap && booked_on(day) >= *rules_.daily_cap) continue;
    starts.clear();
    append_day_starts(day, duration, &starts);
    for (Micros t : starts) {
      if (t < from || t >= to) continue;
      if (open_at > 0 && t < open[open_at - 1].end) open_at = 0;  // not ascending: start over
      while (open_at < open.size() && open[open_at].end <= t) ++open_at;
      if (open_at == open.size() || t < open[open_at].start) continue;
      if (!visit(t)) return;
    }
  }
}

std::vector<Slot> Availability::free_slots(Micros from, Micros to, Micros duration,
                                           Micros now) const {
  std::vector<Slot> slots;
  for_each_free_start(from, to, duration, now, [&](Micros t) {
    slots.push_back({t, t + duration});
    return true;
  });
  std::sort(slots.begin(), slots.end(),
            [](const Slot& a, const Slot& b) { return a.start < b.start; });
  return slots;
}

std::vector<Micros> Availability::alternatives(Micros start, Micros duration, Micros now,
                                               std::size_t count, Micros radius) const {
  auto distance = [start](Micros t) { return t > start ? t - start : start - t; };
  auto nearer = [&](Micros a, Micros b) {
    return distance(a) != distance(b) ? distance(a) < distance(b) : a > b;
  };
  std::vector<Micros> best;  // the nearest free starts so far, nearest first
  for_each_free_start(start - radius, start + radius + 1, duration, now, [&](Micros t) {
    if (t == start) return true;
    if (best.size() == count && (count == 0 || !nearer(t, best.back())))
      return t < start;  // past the start, every later one is farther still
    best.insert(std::upper_bound(best.begin(), best.end(), t, nearer), t);
    if (best.size() > count) best.pop_back();
    return true;
  });
  return best;
}

Slot reach(const CalendarRules& rules, Micros from, Micros to, Micros duration) noexcept {
  Micros before = rules.buffer_before_minutes * kMinute;
  Micros after = duration + rules.buffer_after_minutes * kMinute;
  if (rules.daily_cap) {
    before = std::max(before, 26 * 60 * kMinute);
    after = std::max(after, 26 * 60 * kMinute);
  }
  return {from - before - kMinute, to + after + kMinute};
}

void require_duration(int minutes) {
  if (minutes < 1 || minutes > 1440)
    throw Error("22023", "duration_minutes must be between 1 and 1440",
                given_detail("duration_minutes", std::to_string(minutes)),
                "Appointments last at most 24 hours.");
}

void require_window(Micros from, Micros to) {
  if (to <= from) throw Error("22023", "to_ts must be after from_ts", window_detail(from, to));
  if (to - from > kMaxWindowDays * kDay)
    throw Error("22023", "the window is longer than 92 days", window_detail(from, to),
                "Ask for availability in windows of at most 92 days.");
}

std::int64_t lock_key(const Uuid& org, std::string_view name) noexcept {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a, 64 bits
  auto feed = [&h](const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ULL;
  };
  static const char kDomain[] = "switchboard.booking";
  feed(kDomain, sizeof kDomain - 1);
  feed(org.bytes.data(), org.bytes.size());
  feed(name.data(), name.size());
  std::int64_t key;
  std::memcpy(&key, &h, sizeof key);
  return key;
}

}  // namespace sb::booking

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
