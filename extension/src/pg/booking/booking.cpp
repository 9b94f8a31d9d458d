// The calendar commands of the booking area (create_calendar, update_calendar, available_slots)
// and the internal functions the tests call the slot generator through with a fixed "now": each
// converts Datums, calls the booking core (core/booking) and converts back. Time zones come from
// PostgreSQL.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"
#include "pg/booking/booking_request.hpp"
#include "pg/booking/booking_store.hpp"
#include "pg/tenancy/tenancy_claims.hpp"

#include <string>
#include <vector>

#include "core/booking/booking_answer.hpp"
#include "core/booking/booking_hours.hpp"
#include "core/booking/booking_slots.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace {

namespace bk = sb::booking;
using bk::Micros;
using sb::Error;
using sb::Uuid;
using sb::pg::Calendar;
using sb::pg::jsonb_datum;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::TextRows;
using sb::pg::time_arg;
using sb::pg::zone_between;

// The calendar's rules (r: the normalised rules, bk::rules_json) and its description, the
// `calendar` of update_calendar's answer.
// The update returns the row and the description is built outside it: Citus refuses functions
// that are not IMMUTABLE (jsonb_build_object is STABLE) in the RETURNING of a distributed table.
Query store_query = {
    "with k as (update switchboard.calendars k set name = $3, time_zone = $4, "
    "business_hours = $5 OPERATOR(pg_catalog.->) 'businessHours', "
    "exceptions = $5 OPERATOR(pg_catalog.->) 'exceptions', "
    "slot_minutes = ($5 OPERATOR(pg_catalog.->>) 'slotMinutes')::pg_catalog.int4, "
    "slot_step_minutes = ($5 OPERATOR(pg_catalog.->>) 'slotStepMinutes')::pg_catalog.int4, "
    "buffer_before_minutes = ($5 OPERATOR(pg_catalog.->>) 'bufferBeforeMinutes')::pg_catalog.int4, "
    "buffer_after_minutes = ($5 OPERATOR(pg_catalog.->>) 'bufferAfterMinutes')::pg_catalog.int4, "
    "min_notice_minutes = ($5 OPERATOR(pg_catalog.->>) 'minNoticeMinutes')::pg_catalog.int4, "
    "max_days_ahead = ($5 OPERATOR(pg_catalog.->>) 'maxDaysAhead')::pg_catalog.int4, "
    "daily_cap = ($5 OPERATOR(pg_catalog.->>) 'dailyCap')::pg_catalog.int4 "
    "where k.org_id OPERATOR(pg_catalog.=) $1 and k.id OPERATOR(pg_catalog.=) $2 returning k.*) "
    "select pg_catalog.jsonb_build_object('calendarId', k.id, 'name', k.name, "
    "'timeZone', k.time_zone, 'businessHours', k.business_hours, "
    "'slotMinutes', k.slot_minutes, 'slotStepMinutes', k.slot_step_minutes, "
    "'bufferBeforeMinutes', k.buffer_before_minutes, 'bufferAfterMinutes', k.buffer_after_minutes, "
    "'minNoticeMinutes', k.min_notice_minutes, 'maxDaysAhead', k.max_days_ahead, "
    "'dailyCap', k.daily_cap, 'exceptions', k.exceptions)::pg_catalog.text from k",
    5,
    {UUIDOID, UUIDOID, TEXTOID, TEXTOID, JSONBOID}};
Query insert_query = {
    "insert into switchboard.calendars (org_id, name, time_zone, created_by) "
    "values ($1, $2, $3, $4) returning id",
    4,
    {UUIDOID, TEXTOID, TEXTOID, UUIDOID}};
Query organization_query = {"select switchboard.require_organization($1)", 1, {UUIDOID}};
// The changes of update_calendar: the kinds of the whole and of name and timeZone, as text.
Query changes_query = {
    "select pg_catalog.jsonb_typeof($1), $1::pg_catalog.text, "
    "pg_catalog.jsonb_typeof($1 OPERATOR(pg_catalog.->) 'name'), "
    "($1 OPERATOR(pg_catalog.->) 'name')::pg_catalog.text, "
    "pg_catalog.jsonb_typeof($1 OPERATOR(pg_catalog.->) 'timeZone'), "
    "($1 OPERATOR(pg_catalog.->) 'timeZone')::pg_catalog.text",
    1,
    {JSONBOID}};
// A calendar with changes applied (not yet validated): its hours, its options, name and zone.
Query changed_query = {
    "select coalesce($3 OPERATOR(pg_catalog.->) 'businessHours', "
    "k.business_hours)::pg_catalog.text, "
    "(pg_catalog.jsonb_build_object('slotMinutes', k.slot_minutes, "
    "'slotStepMinutes', k.slot_step_minutes, 'bufferBeforeMinutes', k.buffer_before_minutes, "
    "'bufferAfterMinutes', k.buffer_after_minutes, 'minNoticeMinutes', k.min_notice_minutes, "
    "'maxDaysAhead', k.max_days_ahead, 'dailyCap', k.daily_cap, 'exceptions', k.exceptions) "
    "OPERATOR(pg_catalog.||) ($3 OPERATOR(pg_catalog.-) 'name'::pg_catalog.text "
    "OPERATOR(pg_catalog.-) 'timeZone'::pg_catalog.text "
    "OPERATOR(pg_catalog.-) 'businessHours'::pg_catalog.text))::pg_catalog.text, "
    "coalesce($3 OPERATOR(pg_catalog.->>) 'name', k.name), "
    "coalesce($3 OPERATOR(pg_catalog.->>) 'timeZone', k.time_zone) "
    "from switchboard.calendars k "
    "where k.org_id OPERATOR(pg_catalog.=) $1 and k.id OPERATOR(pg_catalog.=) $2",
    3,
    {UUIDOID, UUIDOID, JSONBOID}};

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

// Ensures: the rules of business hours and options (jsonb); 22023 (22007 for a bad exception
// date) naming the problem otherwise.
bk::CalendarRules calendar_rules(Datum business_hours, Datum options) {
  bk::CalendarRules rules;
  rules.weekly = bk::parse_weekly(sb::pg::jsonb_value(business_hours));
  bk::apply_options(sb::pg::jsonb_value(options), &rules);
  return rules;
}

// Ensures: a calendar name of 1 to 200 characters once trimmed of spaces (22023 otherwise); the
// trimmed name.
std::string calendar_name(std::string_view name) {
  std::size_t first = name.find_first_not_of(' '), last = name.find_last_not_of(' ');
  std::string trimmed(first == std::string_view::npos ? "" : name.substr(first, last - first + 1));
  int characters = 0;
  sb::pg::guard(
      [&] { characters = pg_mbstrlen_with_len(trimmed.data(), static_cast<int>(trimmed.size())); });
  if (characters < 1 || characters > 200)
    throw Error("22023", "calendar name must have 1 to 200 characters",
                sb::given_detail("name", "\"" + std::string(name) + "\""));
  return trimmed;
}

// Ensures: calendar (org, id) carries `name`, `zone` and `rules`; its description (JSON text).
std::string store_calendar(const Uuid& org, const Uuid& id, const std::string& name,
                           const std::string& zone, const bk::CalendarRules& rules) {
  Datum args[5] = {sb::pg::uuid_datum(org), sb::pg::uuid_datum(id), sb::pg::text_datum(name),
                   sb::pg::text_datum(zone), jsonb_datum(bk::rules_json(rules))};
  TextRows rows = spi_query(store_query, args, nullptr, ReadMode::read_write);
  return rows.at(0, 0);
}

// Ensures: `changes` is a json object whose name and timeZone, when present, are strings (22023).
void require_changes(Datum changes) {
  TextRows kinds = spi_query(changes_query, &changes, nullptr, ReadMode::current);
  if (std::string_view(kinds.at(0, 0)) != "object")
    throw sb::not_json_object_error("changes", kinds.at(0, 1));
  auto not_string = [&](int kind) {
    return kinds.at(0, kind) && std::string_view(kinds.at(0, kind)) != "string";
  };
  if (not_string(2) || not_string(4))
    throw Error("22023", "name and timeZone must be strings",
                "The name given was " + std::string(kinds.at(0, 3) ? kinds.at(0, 3) : "absent") +
                    " and the timeZone given was " +
                    std::string(kinds.at(0, 5) ? kinds.at(0, 5) : "absent") + ".");
}

// Ensures: the slots as the rows of the set-returning function's result: timestamptz columns,
// or with `zone` text columns as booking answers write times (bk::answer_time in that zone).
void return_slots(FunctionCallInfo fcinfo, const std::vector<bk::Slot>& slots,
                  const bk::Zone* zone = nullptr) {
  std::vector<std::string> texts;
  if (zone)
    for (const bk::Slot& s : slots) {
      texts.push_back(bk::answer_time(s.start, *zone));
      texts.push_back(bk::answer_time(s.end, *zone));
    }
  const bk::Slot* rows = slots.data();
  const std::string* text = texts.data();
  size_t count = slots.size();
  sb::pg::guard([&] {
    InitMaterializedSRF(fcinfo, 0);
    auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (size_t i = 0; i < count; ++i) {
      CHECK_FOR_INTERRUPTS();
      Datum values[2] = {time_datum(rows[i].start), time_datum(rows[i].end)};
      if (zone) {
        values[0] = PointerGetDatum(cstring_to_text(text[2 * i].c_str()));
        values[1] = PointerGetDatum(cstring_to_text(text[2 * i + 1].c_str()));
      }
      bool nulls[2] = {false, false};
      tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
    }
  });
}

}  // namespace

// Ensures: the normalised rules (businessHours, exceptions, every option) of valid input; 22023
// (22007 for a bad exception date) naming the problem otherwise.
SB_FUNCTION(sb_booking_rules) {
  return jsonb_datum(bk::rules_json(calendar_rules(PG_GETARG_DATUM(0), PG_GETARG_DATUM(1))));
}

// Ensures: a new calendar of the organisation (caller: a manager or above, or service_role) with
// valid hours and options; 22023/22007 naming the problem and nothing written otherwise.
SB_FUNCTION(sb_create_calendar) {
  Uuid org = sb::pg::authorized_org(fcinfo, 0, sb::Role::manager);
  Datum org_datum = sb::pg::uuid_datum(org);
  spi_query(organization_query, &org_datum, nullptr, ReadMode::current);
  sb::pg::require_arg(fcinfo, 1, "name");
  std::string name = calendar_name(sb::pg::text_arg(fcinfo, 1));
  sb::pg::require_arg(fcinfo, 2, "time_zone");
  sb::pg::require_arg(fcinfo, 3, "business_hours");
  sb::pg::require_arg(fcinfo, 4, "options");
  bk::CalendarRules rules = calendar_rules(PG_GETARG_DATUM(3), PG_GETARG_DATUM(4));
  std::string zone(sb::pg::text_arg(fcinfo, 2));
  sb::pg::require_time_zone(zone);
  std::optional<Uuid> user = sb::pg::caller_user();
  Datum args[4] = {org_datum, sb::pg::text_datum(name), sb::pg::text_datum(zone),
                   user ? sb::pg::uuid_datum(*user) : 0};
  char nulls[4] = {' ', ' ', ' ', user ? ' ' : 'n'};
  TextRows made = spi_query(insert_query, args, nulls, ReadMode::read_write);
  Uuid id = sb::parse_uuid(made.at(0, 0)).value_or(Uuid{});
  store_calendar(org, id, name, zone, rules);
  return sb::pg::uuid_datum(id);
}

// Ensures: the calendar carries the changes (name, timeZone, businessHours and option keys), all
// validated together under the calendar's lock (caller: a manager or above, or service_role):
// {updated: true, reason UPDATED, calendar}, or {updated: false, reason CALENDAR_NOT_FOUND}.
SB_FUNCTION(sb_update_calendar) {
  Uuid org = sb::pg::authorized_org(fcinfo, 0, sb::Role::manager);
  Uuid id = sb::pg::uuid_arg(fcinfo, 1, "calendar_id");
  sb::pg::require_arg(fcinfo, 2, "changes");
  Datum changes = PG_GETARG_DATUM(2);
  require_changes(changes);
  sb::pg::lock_calendar(org, id);
  Datum args[3] = {sb::pg::uuid_datum(org), sb::pg::uuid_datum(id), changes};
  TextRows changed = spi_query(changed_query, args, nullptr, ReadMode::read_write);
  if (changed.count == 0) return jsonb_datum(bk::calendar_answer("CALENDAR_NOT_FOUND", {}));
  std::string name = calendar_name(changed.at(0, 2));
  bk::CalendarRules rules = calendar_rules(jsonb_datum(std::string(changed.at(0, 0))),
                                           jsonb_datum(std::string(changed.at(0, 1))));
  std::string zone = changed.at(0, 3);
  sb::pg::require_time_zone(zone);
  return jsonb_datum(bk::calendar_answer("UPDATED", store_calendar(org, id, name, zone, rules)));
}

// Ensures: the free slots of the calendar starting in [from_ts, to_ts) (at most 92 days) of
// duration_minutes (default: the calendar's slot length), as the calendar's appointments
// committed now and this transaction's own leave them; P0002 for an unknown calendar.
SB_FUNCTION(sb_available_slots) {
  Uuid org = sb::pg::authorized_org(fcinfo, 0, sb::Role::agent);
  Uuid id = sb::pg::uuid_arg(fcinfo, 1, "calendar_id");
  sb::pg::require_arg(fcinfo, 2, "from_ts");
  sb::pg::require_arg(fcinfo, 3, "to_ts");
  std::shared_ptr<const Calendar> cal = sb::pg::find_calendar(org, id);
  if (!cal)
    throw Error("P0002", "calendar not found",
                "No calendar of this organization has the id " + sb::to_string(id) + ".");
  Micros from = time_arg(fcinfo, 2, "from_ts"), to = time_arg(fcinfo, 3, "to_ts");
  bk::require_window(from, to);
  int minutes = PG_ARGISNULL(4) ? cal->rules.slot_minutes : PG_GETARG_INT32(4);
  bk::require_duration(minutes);
  Micros duration = minutes * bk::kMinute;
  Micros now = sb::pg::transaction_now();
  sb::pg::Occupancy busy;
  sb::pg::AppointmentReader reader(org, id);
  for (const sb::pg::BookingRow& row : reader.rows(bk::reach(cal->rules, from, to, duration)))
    busy.add(row, now);
  reader.close();
  bk::Zone zone = zone_between(cal->time_zone, from - 2 * bk::kDay, to + 2 * bk::kDay);
  bk::Availability availability(cal->rules, zone, std::move(busy.active),
                                sb::pg::check_for_interrupts);
  return_slots(fcinfo, availability.free_slots(from, to, duration, now), &zone);
  return 0;
}

// Ensures: the free slots of the calendar row in [from_ts, to_ts) given its active appointments
// and `now` (internal: the tests call the generator with a fixed now).
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
  return_slots(fcinfo, availability.free_slots(from, to, minutes * bk::kMinute, now));
  return 0;
}

// Ensures: why booking [starts_at, + duration) is refused now ('SLOT_TAKEN' ...), NULL if it is
// not (internal: for the tests, with a fixed now).
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
