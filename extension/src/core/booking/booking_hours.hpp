// A calendar's rules: weekly business hours, date exceptions and booking options, validated from
// the JSON a client sends and written back in one normalised form.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/base_json.hpp"

namespace sb::booking {

// Minutes after local midnight: start < end <= 1440.
struct ClockRange {
  int start;
  int end;
};
using DayHours = std::vector<ClockRange>;  // sorted, neither overlapping nor touching

struct CalendarRules {
  std::array<DayHours, 7> weekly;      // monday first; empty = closed
  std::map<int, DayHours> exceptions;  // civil day number -> the hours of that date
  int slot_minutes = 30;
  std::optional<int> slot_step_minutes;  // unset: the slot length
  int buffer_before_minutes = 0;
  int buffer_after_minutes = 0;
  int min_notice_minutes = 0;
  int max_days_ahead = 90;
  std::optional<int> daily_cap;

  int step_minutes() const noexcept { return slot_step_minutes.value_or(slot_minutes); }
  // The hours of the local date `day` (an exception replaces the weekday's hours).
  const DayHours& hours_on(int day) const;
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int days_from_civil(int year, int month, int day) noexcept;
void civil_from_days(int days, int* year, int* month, int* day) noexcept;
// 0 = monday ... 6 = sunday.
int weekday(int days) noexcept;

// "YYYY-MM-DD" as a day number, or nothing when malformed or not a real date.
std::optional<int> parse_date(std::string_view text) noexcept;
std::string format_date(int days);
// "HH:MM" as minutes after midnight (00:00-23:59, and 24:00 when `end_of_day`), or nothing.
std::optional<int> parse_clock(std::string_view text, bool end_of_day) noexcept;
std::string format_clock(int minutes);

// The ranges of one day: an array of ["HH:MM","HH:MM"] pairs, sorted; touching ranges merge.
// Throws sb::Error 22023 naming `where` and the offending value.
DayHours parse_day_hours(const Json& value, const std::string& where);
// {"mon": [...], ...}: missing days are closed. Throws sb::Error 22023.
std::array<DayHours, 7> parse_weekly(const Json& value);
// {"YYYY-MM-DD": [...], ...}. Throws sb::Error 22007 for a bad date, 22023 otherwise.
std::map<int, DayHours> parse_exceptions(const Json& value);
// Applies the option keys of `options` (slotMinutes, ..., exceptions) to `rules`.
void apply_options(const Json& options, CalendarRules* rules);

// The normalised JSON object of the rules (businessHours, exceptions and every option).
std::string rules_json(const CalendarRules& rules);
// The normalised JSON object of one set of weekly hours or of exceptions.
std::string weekly_json(const std::array<DayHours, 7>& weekly);
std::string exceptions_json(const std::map<int, DayHours>& exceptions);

}  // namespace sb::booking
