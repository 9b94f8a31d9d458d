#include "pg/booking/booking_request.hpp"

#include <algorithm>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"
#include "pg/tenancy/tenancy_access.hpp"

#include "core/booking/booking_answer.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"
}

namespace sb::pg {
namespace {

namespace bk = sb::booking;
using bk::kDay;
using bk::kMinute;
using bk::Micros;

constexpr std::size_t kAlternatives = 3;

Query release_query = {
    "update switchboard.appointments x set status = 'cancelled', cancel_kind = 'hold_expired', "
    "cancelled_at = x.hold_expires_at "
    "where x.org_id OPERATOR(pg_catalog.=) $1 and x.calendar_id OPERATOR(pg_catalog.=) $2 "
    "and x.status OPERATOR(pg_catalog.=) 'held'::switchboard.appointment_status "
    "and x.hold_expires_at OPERATOR(pg_catalog.<=) pg_catalog.now() "
    "and pg_catalog.tstzrange(x.block_start, x.block_end, '[)') "
    "OPERATOR(pg_catalog.&&) pg_catalog.tstzrange($3, $4, '[)') "
    "and x.id IS DISTINCT FROM $5",
    5,
    {UUIDOID, UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, UUIDOID}};

// Ensures: this transaction holds the advisory lock of `name` in org until it ends.
void lock(const Uuid& org, const std::string& name) {
  int64 key = bk::lock_key(org, name);
  guard([&] { DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(key)); });
}

// The window whose appointments bear on r's alternatives: starts within a week of it.
bk::Slot alternatives_window(const SlotRequest& r, const bk::CalendarRules& rules) {
  return bk::reach(rules, r.start - 7 * kDay, r.start + 7 * kDay, r.minutes * kMinute);
}

// True when `b` is the block of the appointment asking (never in its own way): active blocks
// never overlap, so no other active appointment has the same block.
bool is_own(const SlotRequest& r, const bk::Booking& b) {
  return r.own && r.own->start == b.start && r.own->block_start == b.block_start &&
         r.own->block_end == b.block_end;
}

// Ensures: `busy` without the block of the appointment asking.
std::vector<bk::Booking> others(const SlotRequest& r, std::vector<bk::Booking> busy) {
  if (r.own)
    busy.erase(std::remove_if(busy.begin(), busy.end(),
                              [&](const bk::Booking& b) { return is_own(r, b); }),
               busy.end());
  return busy;
}

}  // namespace

Uuid authorized_org(FunctionCallInfo fcinfo, int n, Role min_role) {
  Uuid org = uuid_arg(fcinfo, n, "org_id");
  require_role(org, min_role);
  return org;
}

Micros start_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  require_arg(fcinfo, n, name);
  return time_arg(fcinfo, n, name);
}

int duration_arg(FunctionCallInfo fcinfo, int n) {
  require_arg(fcinfo, n, "duration_minutes");
  int minutes = PG_GETARG_INT32(n);
  bk::require_duration(minutes);
  return minutes;
}

void lock_idempotency_key(const Uuid& org, const std::string& key) {
  lock(org, "idempotency:" + key);
}

void lock_calendar(const Uuid& org, const Uuid& calendar) {
  lock(org, to_string(calendar));
}

bool try_lock_calendar(const Uuid& org, const Uuid& calendar) {
  int64 key = bk::lock_key(org, to_string(calendar));
  bool locked = false;
  guard([&] {
    locked = DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8, Int64GetDatum(key)));
  });
  return locked;
}

bool check_slot(const SlotRequest& r, Micros now, bool kept_only, SlotCheck* c) {
  c->calendar = find_calendar(r.org, r.calendar);
  if (!c->calendar) return !kept_only;
  const bk::CalendarRules& rules = c->calendar->rules;
  Micros duration = r.minutes * kMinute;
  bk::Slot reach = bk::reach(rules, r.start, r.start, duration);
  if (kept_only) {
    std::optional<Occupancy> kept =
        committed_occupancy(r.org, r.calendar, alternatives_window(r, rules), now, true);
    if (!kept) return false;
    c->near = std::move(*kept);
    c->wide = true;
  } else {
    AppointmentReader reader(r.org, r.calendar);
    for (const BookingRow& row : reader.rows(reach)) c->near.add(row, now);
    reader.close();
  }
  c->near.active = others(r, std::move(c->near.active));
  c->zone = zone_between(c->calendar->time_zone, r.start - 9 * kDay, r.start + 10 * kDay);
  c->availability.emplace(rules, c->zone, c->near.active, check_for_interrupts);
  c->refusal = c->availability->check(r.start, duration, now);
  return true;
}

bool still_current(const SlotRequest& r, const SlotCheck& c) {
  return find_calendar(r.org, r.calendar) == c.calendar &&
         kept_current(r.org, r.calendar, alternatives_window(r, c.calendar->rules));
}

std::vector<Micros> alternatives(const SlotRequest& r, const SlotCheck& c, Micros now) {
  Micros duration = r.minutes * kMinute;
  const bk::CalendarRules& rules = c.calendar->rules;
  std::optional<bk::Availability> read;
  if (!c.wide) {
    Occupancy week = *committed_occupancy(r.org, r.calendar, alternatives_window(r, rules), now);
    read.emplace(rules, c.zone, others(r, std::move(week.active)), check_for_interrupts);
  }
  const bk::Availability& around = c.wide ? *c.availability : *read;
  std::vector<Micros> found = around.alternatives(r.start, duration, now, kAlternatives, kDay);
  if (found.size() >= kAlternatives) return found;
  return around.alternatives(r.start, duration, now, kAlternatives, 7 * kDay);
}

std::string refusal_answer(const char* verb, const SlotRequest& r, const SlotCheck& c, Micros now) {
  if (!c.calendar)
    return bk::refused_answer(verb, "CALENDAR_NOT_FOUND", std::vector<Micros>{}, c.zone);
  return bk::refused_answer(verb, bk::refusal_code(c.refusal), alternatives(r, c, now), c.zone);
}

void release_expired_holds(const Uuid& org, const Uuid& calendar, Micros block_start,
                           Micros block_end, const std::optional<Uuid>& keep) {
  Datum args[5] = {uuid_datum(org), uuid_datum(calendar),
                   TimestampTzGetDatum(from_unix(block_start)),
                   TimestampTzGetDatum(from_unix(block_end)), keep ? uuid_datum(*keep) : 0};
  char nulls[5] = {' ', ' ', ' ', ' ', keep ? ' ' : 'n'};
  spi_query(release_query, args, nulls, ReadMode::read_write);
}

namespace {

Micros micros_cell(const TextRows& rows, int column) {
  const char* text = rows.at(0, column);
  return text ? std::strtoll(text, nullptr, 10) : 0;
}

}  // namespace

std::optional<Appointment> appointment_of(const TextRows& rows) {
  if (rows.count == 0) return std::nullopt;
  Appointment a;
  a.facts = {parse_uuid(rows.at(0, 0)).value_or(Uuid{}),
             parse_uuid(rows.at(0, 1)).value_or(Uuid{}),
             rows.at(0, 2),
             micros_cell(rows, 4),
             micros_cell(rows, 5),
             std::nullopt};
  if (rows.at(0, 3)) a.cancel_kind = rows.at(0, 3);
  if (rows.at(0, 8)) a.facts.expires = micros_cell(rows, 8);
  a.block = {a.facts.start, micros_cell(rows, 6), micros_cell(rows, 7)};
  return a;
}

bk::Booking block_of(const SlotRequest& r, const bk::CalendarRules& rules) {
  return {r.start, r.start - rules.buffer_before_minutes * kMinute,
          r.end() + rules.buffer_after_minutes * kMinute};
}

}  // namespace sb::pg
