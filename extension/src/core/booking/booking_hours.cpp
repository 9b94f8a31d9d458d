#include "core/booking/booking_hours.hpp"

#include <algorithm>
#include <climits>
#include <cstdio>

#include "core/base/base_error.hpp"

namespace sb::booking {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"mon", "tue", "wed", "thu",
                                                       "fri", "sat", "sun"};

// An option key, its allowed range, and whether null (meaning "unset") is accepted.
struct OptionSpec {
  std::string_view key;
  int min;
  int max;
  bool nullable;
};

constexpr std::array<OptionSpec, 7> kOptions = {{
    {"slotMinutes", 1, 1440, false},
    {"slotStepMinutes", 1, 1440, true},
    {"bufferBeforeMinutes", 0, 1440, false},
    {"bufferAfterMinutes", 0, 1440, false},
    {"minNoticeMinutes", 0, 525600, false},
    {"maxDaysAhead", 1, 3650, false},
    {"dailyCap", 1, 100000, true},
}};

int digits(std::string_view text, size_t at, size_t count) noexcept {
  int value = 0;
  for (size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::string range_text(const ClockRange& r) {
  return format_clock(r.start) + "-" + format_clock(r.end);
}

[[noreturn]] void bad_hours(const std::string& message, const std::string& where,
                            const std::string& value) {
  throw Error("22023", message,
              where == "business_hours" ? given_detail("business_hours", value)
                                        : "The hours given for " + where + " were " + value + ".",
              "Business hours are arrays of [\"HH:MM\", \"HH:MM\"] pairs, e.g. "
              "{\"mon\": [[\"09:00\", \"12:00\"], [\"13:00\", \"17:00\"]]}.");
}

ClockRange parse_range(const Json& pair, const std::string& where) {
  bool shaped = pair.kind == Json::Kind::array && pair.items.size() == 2 &&
                pair.items[0].kind == Json::Kind::string &&
                pair.items[1].kind == Json::Kind::string;
  if (!shaped) bad_hours("malformed business hours", where, json_text(pair));
  std::optional<int> start = parse_clock(pair.items[0].text, false);
  std::optional<int> end = parse_clock(pair.items[1].text, true);
  if (!start || !end) bad_hours("malformed time in business hours", where, json_text(pair));
  if (*end <= *start) bad_hours("business hours end before they start", where, json_text(pair));
  return {*start, *end};
}

// Sorted ranges with touching neighbours merged; overlapping ones are an error.
DayHours merge_ranges(DayHours ranges, const std::string& where) {
  std::sort(ranges.begin(), ranges.end(),
            [](const ClockRange& a, const ClockRange& b) { return a.start < b.start; });
  DayHours merged;
  for (const ClockRange& r : ranges) {
    if (!merged.empty() && r.start < merged.back().end)
      bad_hours("business hours overlap", where,
                range_text(merged.back()) + " and " + range_text(r));
    if (!merged.empty() && r.start == merged.back().end)
      merged.back().end = r.end;
    else
      merged.push_back(r);
  }
  return merged;
}

int parse_option_value(const OptionSpec& spec, const Json& value) {
  std::string range = std::to_string(spec.min) + " and " + std::to_string(spec.max);
  std::string message = std::string(spec.key) + " must be an integer between " + range;
  const std::string& t = value.text;
  size_t sign = !t.empty() && t[0] == '-' ? 1 : 0;  // at least one digit follows it
  bool integer = value.kind == Json::Kind::number && t.size() > sign && t.size() < 10 &&
                 digits(t, sign, t.size() - sign) >= 0;
  if (!integer)
    throw Error("22023", message, given_detail(std::string(spec.key), json_text(value)));
  int n = std::stoi(t);
  if (n < spec.min || n > spec.max)
    throw Error("22023", message, given_detail(std::string(spec.key), t));
  return n;
}

void set_option(CalendarRules* rules, std::string_view key, std::optional<int> v) {
  if (key == "slotMinutes") rules->slot_minutes = *v;
  if (key == "slotStepMinutes") rules->slot_step_minutes = v;
  if (key == "bufferBeforeMinutes") rules->buffer_before_minutes = *v;
  if (key == "bufferAfterMinutes") rules->buffer_after_minutes = *v;
  if (key == "minNoticeMinutes") rules->min_notice_minutes = *v;
  if (key == "maxDaysAhead") rules->max_days_ahead = *v;
  if (key == "dailyCap") rules->daily_cap = v;
}

std::string day_json(const DayHours& hours) {
  std::string out = "[";
  for (const ClockRange& r : hours) {
    if (out.size() > 1) out += ",";
    out += "[\"" + format_clock(r.start) + "\",\"" + format_clock(r.end) + "\"]";
  }
  return out + "]";
}

std::string optional_json(const std::optional<int>& v) {
  return v ? std::to_string(*v) : "null";
}

}  // namespace

const DayHours& CalendarRules::hours_on(int day) const {
  auto it = exceptions.find(day);
  return it != exceptions.end() ? it->second : weekly[weekday(day)];
}

int days_from_civil(int y, int m, int d) noexcept {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int z, int* year, int* month, int* day) noexcept {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  *day = doy - (153 * mp + 2) / 5 + 1;
  *month = mp < 10 ? mp + 3 : mp - 9;
  *year = yoe + era * 400 + (*month <= 2);
}

int weekday(int days) noexcept {
  int w = (days + 3) % 7;  // 1970-01-01 was a thursday
  return w < 0 ? w + 7 : w;
}

std::optional<int> parse_date(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = digits(text, 0, 4), m = digits(text, 5, 2), d = digits(text, 8, 2);
  if (y < 1 || m < 1 || m > 12 || d < 1) return std::nullopt;
  int days = days_from_civil(y, m, d);
  int cy, cm, cd;
  civil_from_days(days, &cy, &cm, &cd);
  if (cy != y || cm != m || cd != d) return std::nullopt;  // e.g. 2026-02-30
  return days;
}

std::string format_date(int days) {
  int y, m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
  return buf;
}

std::optional<int> parse_clock(std::string_view text, bool end_of_day) noexcept {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  int h = digits(text, 0, 2), m = digits(text, 3, 2);
  if (h < 0 || m < 0 || m > 59) return std::nullopt;
  if (h == 24 && m == 0 && end_of_day) return 1440;
  if (h > 23) return std::nullopt;
  return h * 60 + m;
}

std::string format_clock(int minutes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

DayHours parse_day_hours(const Json& value, const std::string& where) {
  if (value.kind != Json::Kind::array)
    bad_hours("malformed business hours", where, json_text(value));
  DayHours ranges;
  for (const Json& pair : value.items) ranges.push_back(parse_range(pair, where));
  return merge_ranges(std::move(ranges), where);
}

std::array<DayHours, 7> parse_weekly(const Json& value) {
  if (value.kind != Json::Kind::object)
    bad_hours("business hours must be a json object", "business_hours", json_text(value));
  std::array<DayHours, 7> weekly;
  for (const auto& [key, hours] : value.members) {
    auto it = std::find(kWeekdays.begin(), kWeekdays.end(), key);
    if (it == kWeekdays.end())
      throw Error("22023", "unknown weekday in business hours",
                  "Key " + json_quote(key) + " is not a weekday.",
                  "Use mon, tue, wed, thu, fri, sat and sun.");
    weekly[it - kWeekdays.begin()] = parse_day_hours(hours, key);
  }
  return weekly;
}

std::map<int, DayHours> parse_exceptions(const Json& value) {
  if (value.kind != Json::Kind::object)
    throw Error(
        "22023", "exceptions must be a json object", given_detail("exceptions", json_text(value)),
        "Map dates to hours, e.g. {\"2026-12-25\": [], \"2026-12-24\": [[\"09:00\", \"13:00\"]]}.");
  std::map<int, DayHours> exceptions;
  for (const auto& [key, hours] : value.members) {
    std::optional<int> day = parse_date(key);
    if (!day)
      throw Error("22007", "invalid date in exceptions",
                  "Key " + json_quote(key) + " is not a date.", "Write dates as YYYY-MM-DD.");
    exceptions[*day] = parse_day_hours(hours, key);
  }
  return exceptions;
}

void apply_options(const Json& options, CalendarRules* rules) {
  if (options.kind != Json::Kind::object)
    throw not_json_object_error("options", json_text(options));
  for (const auto& member : options.members) {
    const std::string& key = member.first;  // a plain name: lambdas capture no structured binding
    const Json& value = member.second;
    if (key == "exceptions") {
      rules->exceptions = parse_exceptions(value);
      continue;
    }
    auto spec = std::find_if(kOptions.begin(), kOptions.end(),
                             [&](const OptionSpec& s) { return s.key == key; });
    if (spec == kOptions.end())
      throw Error("22023", "unknown calendar option",
                  "Option " + json_quote(key) + " is not a calendar option.",
                  "The options are slotMinutes, slotStepMinutes, bufferBeforeMinutes, "
                  "bufferAfterMinutes, minNoticeMinutes, maxDaysAhead, dailyCap and exceptions.");
    if (value.kind == Json::Kind::null && spec->nullable)
      set_option(rules, key, std::nullopt);
    else
      set_option(rules, key, parse_option_value(*spec, value));
  }
}

std::string weekly_json(const std::array<DayHours, 7>& weekly) {
  std::string out = "{";
  for (size_t i = 0; i < weekly.size(); ++i) {
    if (weekly[i].empty()) continue;
    if (out.size() > 1) out += ",";
    out += "\"" + std::string(kWeekdays[i]) + "\":" + day_json(weekly[i]);
  }
  return out + "}";
}

std::string exceptions_json(const std::map<int, DayHours>& exceptions) {
  std::string out = "{";
  for (const auto& [day, hours] : exceptions) {
    if (out.size() > 1) out += ",";
    out += "\"" + format_date(day) + "\":" + day_json(hours);
  }
  return out + "}";
}

std::string rules_json(const CalendarRules& r) {
  return "{\"businessHours\":" + weekly_json(r.weekly) +
         ",\"exceptions\":" + exceptions_json(r.exceptions) +
         ",\"slotMinutes\":" + std::to_string(r.slot_minutes) +
         ",\"slotStepMinutes\":" + optional_json(r.slot_step_minutes) +
         ",\"bufferBeforeMinutes\":" + std::to_string(r.buffer_before_minutes) +
         ",\"bufferAfterMinutes\":" + std::to_string(r.buffer_after_minutes) +
         ",\"minNoticeMinutes\":" + std::to_string(r.min_notice_minutes) +
         ",\"maxDaysAhead\":" + std::to_string(r.max_days_ahead) +
         ",\"dailyCap\":" + optional_json(r.daily_cap) + "}";
}

}  // namespace sb::booking

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
