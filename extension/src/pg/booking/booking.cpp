// SQL functions of the booking area: thin wrappers that convert Datums, call the booking core
// (extension/src/core/slots, business_hours) and convert back. Time zones come from PostgreSQL.
#include "pg/base/base_boundary.hpp"
#include "pg/booking/booking_store.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_time.hpp"

#include <string>
#include <vector>

#include "core/booking/booking_hours.hpp"
#include "core/booking/booking_slots.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace {

namespace bk = sb::booking;
using bk::Micros;
using sb::pg::Calendar;
using sb::pg::jsonb_datum;
using sb::pg::time_arg;
using sb::pg::zone_between;

constexpr int kAlternatives = 3;

// A text argument of the current SQL call, copied.
std::string text_arg(FunctionCallInfo fcinfo, int n) {
  return std::string(sb::pg::text_arg(fcinfo, n));
}

Datum time_datum(Micros t) {
  return TimestampTzGetDatum(sb::pg::from_unix(t));
}

std::vector<Micros> times_arg(FunctionCallInfo fcinfo, int n) {
  Datum* items = nullptr;
  bool* nulls = nullptr;
  int count = 0;
  sb::pg::guard([&] {
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(n), TIMESTAMPTZOID, sizeof(TimestampTz),
                      FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &items, &nulls, &count);
  });
  std::vector<Micros> out;
  for (int i = 0; i < count; ++i) {
    sb::pg::check_for_interrupts();
    if (!nulls[i]) out.push_back(sb::pg::to_unix(DatumGetTimestampTz(items[i])));
  }
  return out;
}

// Ensures: the active appointments given as three parallel arrays (starts, block starts, ends).
std::vector<bk::Booking> busy_args(FunctionCallInfo fcinfo, int first) {
  std::vector<Micros> starts = times_arg(fcinfo, first);
  std::vector<Micros> block_starts = times_arg(fcinfo, first + 1);
  std::vector<Micros> block_ends = times_arg(fcinfo, first + 2);
  if (starts.size() != block_starts.size() || starts.size() != block_ends.size())
    throw sb::Error("22023", "busy arrays must have the same length");
  std::vector<bk::Booking> busy;
  for (size_t i = 0; i < starts.size(); ++i)
    busy.push_back({starts[i], block_starts[i], block_ends[i]});
  return busy;
}

Datum composite_column(void* row, const char* name, bool* isnull) {
  return GetAttributeByName(static_cast<HeapTupleHeader>(row), name, isnull);
}

// Ensures: the rules of the switchboard.calendars row passed as argument `n`.
Calendar calendar_arg(FunctionCallInfo fcinfo, int n) {
  sb::pg::CalendarColumns columns;
  sb::pg::guard([&] {
    sb::pg::read_calendar_columns(composite_column, PG_GETARG_HEAPTUPLEHEADER(n), &columns);
  });
  return sb::pg::calendar_from(columns);
}

// A question about one start: (calendar, busy arrays, starts_at, duration_minutes, now).
struct Question {
  Calendar cal;
  std::vector<bk::Booking> busy;
  Micros start;
  Micros duration;
  Micros now;
};

Question question_args(FunctionCallInfo fcinfo) {
  Question q{calendar_arg(fcinfo, 0), busy_args(fcinfo, 1), time_arg(fcinfo, 4, "starts_at"), 0,
             time_arg(fcinfo, 6, "now")};
  bk::require_duration(PG_GETARG_INT32(5));
  q.duration = PG_GETARG_INT32(5) * bk::kMinute;
  return q;
}

std::string iso_list(const std::vector<Micros>& times, const bk::Zone& zone) {
  std::string out = "[";
  for (Micros t : times)
    out += (out.size() > 1 ? "," : "") + sb::json_quote(bk::format_local_iso(t, zone.offset_at(t)));
  return out + "]";
}

}  // namespace

// Ensures: the normalised rules (businessHours, exceptions, every option) of valid input; 22023
// (22007 for a bad exception date) naming the problem otherwise.
SB_FUNCTION(sb_booking_rules) {
  bk::CalendarRules rules;
  rules.weekly = bk::parse_weekly(sb::pg::jsonb_value(PG_GETARG_DATUM(0)));
  bk::apply_options(sb::pg::jsonb_value(PG_GETARG_DATUM(1)), &rules);
  return jsonb_datum(bk::rules_json(rules));
}

// Ensures: the name when PostgreSQL knows the time zone; 22023 otherwise.
SB_FUNCTION(sb_booking_time_zone) {
  sb::pg::require_time_zone(text_arg(fcinfo, 0));
  return PG_GETARG_DATUM(0);
}

// Ensures: the free slots of the calendar in [from_ts, to_ts) given its active appointments.
SB_FUNCTION(sb_booking_slots) {
  Calendar cal = calendar_arg(fcinfo, 0);
  std::vector<bk::Booking> busy = busy_args(fcinfo, 1);
  Micros from = time_arg(fcinfo, 4, "from_ts"), to = time_arg(fcinfo, 5, "to_ts");
  int minutes = PG_GETARG_INT32(6);
  Micros now = time_arg(fcinfo, 7, "now");
  bk::require_window(from, to);
  bk::require_duration(minutes);
  bk::Zone zone = zone_between(cal.time_zone, from - 2 * bk::kDay, to + 2 * bk::kDay);
  bk::Availability availability(cal.rules, zone, std::move(busy), sb::pg::check_for_interrupts);
  std::vector<bk::Slot> slots = availability.free_slots(from, to, minutes * bk::kMinute, now);
  const bk::Slot* rows = slots.data();
  size_t count = slots.size();
  sb::pg::guard([&] {
    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (size_t i = 0; i < count; ++i) {
      CHECK_FOR_INTERRUPTS();
      Datum values[2] = {time_datum(rows[i].start), time_datum(rows[i].end)};
      bool nulls[2] = {false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
  });
  return 0;
}

// Ensures: why booking [starts_at, + duration) is refused now ('SLOT_TAKEN' ...), NULL if it is
// not.
SB_FUNCTION(sb_booking_refusal) {
  Question q = question_args(fcinfo);
  bk::Zone zone = zone_between(q.cal.time_zone, q.start - 2 * bk::kDay, q.start + 3 * bk::kDay);
  bk::Availability availability(q.cal.rules, zone, std::move(q.busy), sb::pg::check_for_interrupts);
  std::string_view code = bk::refusal_code(availability.check(q.start, q.duration, q.now));
  if (code.empty()) PG_RETURN_NULL();
  Datum result = 0;
  sb::pg::guard([&] {
    result = PointerGetDatum(cstring_to_text_with_len(code.data(), static_cast<int>(code.size())));
  });
  return result;
}

// Ensures: up to 3 free starts nearest to starts_at (same duration, within radius_days), nearest
// first, as a jsonb array of ISO timestamps in the calendar's zone.
SB_FUNCTION(sb_booking_alternatives) {
  Question q = question_args(fcinfo);
  int days = PG_GETARG_INT32(7);
  if (days < 1 || days > 7)
    throw sb::Error("22023", "radius_days must be between 1 and 7",
                    "radius_days: " + std::to_string(days));
  Micros radius = days * bk::kDay;
  bk::Zone zone = zone_between(q.cal.time_zone, q.start - radius - 2 * bk::kDay,
                               q.start + radius + 3 * bk::kDay);
  bk::Availability availability(q.cal.rules, zone, std::move(q.busy), sb::pg::check_for_interrupts);
  std::vector<Micros> found =
      availability.alternatives(q.start, q.duration, q.now, kAlternatives, radius);
  return jsonb_datum(iso_list(found, zone));
}

// Ensures: the timestamp as ISO 8601 local time of the zone, with its offset.
SB_FUNCTION(sb_booking_local_iso) {
  Micros t = time_arg(fcinfo, 0, "ts");
  bk::Zone zone = zone_between(text_arg(fcinfo, 1), t - bk::kDay, t + bk::kDay);
  std::string iso = bk::format_local_iso(t, zone.offset_at(t));
  Datum result = 0;
  sb::pg::guard([&] { result = PointerGetDatum(cstring_to_text(iso.c_str())); });
  return result;
}

// Ensures: the stable advisory-lock key of `name` (a calendar id, an idempotency key) in the org.
SB_FUNCTION(sb_booking_lock_key) {
  sb::Uuid org = sb::Uuid::from_raw(PG_GETARG_UUID_P(0)->data);
  PG_RETURN_INT64(bk::lock_key(org, text_arg(fcinfo, 1)));
}
