// What every booking command shares: the validation of its arguments (in one order: org_id, the
// caller's role, the ids, the start, the duration), its locks (in one order: the idempotency key,
// the calendar, the appointment's row), the check of a slot against the calendar's rules and the
// appointments in its way, the alternatives of a refused slot, and the release of expired holds.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pg/base/base_postgres.hpp"
#include "pg/base/base_store.hpp"
#include "pg/booking/booking_store.hpp"

#include "core/base/base_uuid.hpp"
#include "core/booking/booking_answer.hpp"
#include "core/booking/booking_slots.hpp"
#include "core/tenancy/tenancy_roles.hpp"

namespace sb::pg {

// A slot a command asks for: on a calendar, a start and a duration, and the appointment that is
// being moved or confirmed (its own block is not in its way).
struct SlotRequest {
  Uuid org;
  Uuid calendar;
  booking::Micros start = 0;
  int minutes = 0;
  std::optional<booking::Booking> own;  // the block of the appointment asking, while it holds one

  booking::Micros end() const { return start + minutes * booking::kMinute; }
};

// Ensures: org_id (argument `n`) is given and the caller may act in it with `min_role`
// (sb::pg::require_role: the service role, or a member with that role or above).
Uuid authorized_org(FunctionCallInfo fcinfo, int n, Role min_role);

// Ensures: a start (argument `n`, named `name`): given and finite (22023, 22007).
booking::Micros start_arg(FunctionCallInfo fcinfo, int n, const char* name);

// Ensures: duration_minutes (argument `n`): given and 1 to 1440 (22023).
int duration_arg(FunctionCallInfo fcinfo, int n);

// The locks, taken in this order by every command: the idempotency key, then the calendar, then
// the appointment's row. Each is held until the transaction ends.
void lock_idempotency_key(const Uuid& org, const std::string& key);
void lock_calendar(const Uuid& org, const Uuid& calendar);
// Ensures: whether this transaction now holds the calendar's lock (it never waits).
bool try_lock_calendar(const Uuid& org, const Uuid& calendar);

// A request checked against its calendar and the appointments its booking would meet, as a
// snapshot taken now sees them. Filled in place: `availability` refers to the members.
struct SlotCheck {
  std::shared_ptr<const Calendar> calendar;  // nullptr: there is no such calendar
  booking::Zone zone{{}};
  Occupancy near;                                     // what bears on the requested slot
  std::optional<booking::Availability> availability;  // over `near`
  booking::Refusal refusal = booking::Refusal::none;
  bool wide = false;  // `near` covers the alternatives' window too

  SlotCheck() = default;
  SlotCheck(const SlotCheck&) = delete;
  SlotCheck& operator=(const SlotCheck&) = delete;
};

// Ensures: *c holds r's calendar and the check of r against the appointments committed now (and
// this transaction's own), read with a snapshot taken now; with `kept_only`, from the weeks this
// backend keeps current around the alternatives' window too, or false when it does not keep them
// all.
bool check_slot(const SlotRequest& r, booking::Micros now, bool kept_only, SlotCheck* c);

// Ensures: whether nothing was committed to r's calendar or the weeks around it since `c` was
// checked from kept weeks (then the check still holds).
bool still_current(const SlotRequest& r, const SlotCheck& c);

// Ensures: up to 3 free starts nearest to the request within a week, nearest first (searched
// within a day first), from the committed appointments of the weeks around it.
std::vector<booking::Micros> alternatives(const SlotRequest& r, const SlotCheck& c,
                                          booking::Micros now);

// Ensures: the refusal answer of a checked request (CALENDAR_NOT_FOUND, or the slot's reason
// with alternatives).
std::string refusal_answer(const char* verb, const SlotRequest& r, const SlotCheck& c,
                           booking::Micros now);

// Ensures: expired holds of the calendar whose blocks meet [block_start, block_end), other than
// `keep`, no longer occupy it: they become cancelled with cancel_kind 'hold_expired'.
void release_expired_holds(const Uuid& org, const Uuid& calendar, booking::Micros block_start,
                           booking::Micros block_end, const std::optional<Uuid>& keep);

// The columns every statement returning an appointment selects, in this order (appointment_of
// reads them as text), from switchboard.appointments as `a`. Immutable expressions only: Citus
// refuses others in an UPDATE's RETURNING (an enum's text cast and extract() from a timestamptz
// are stable), so the status columns come as themselves and each time as microseconds since
// 1970 from an interval.
#define SB_APPOINTMENT_MICROS(column) \
  "(extract(epoch from " column       \
  " OPERATOR(pg_catalog.-) "          \
  "'1970-01-01 00:00:00+00'::pg_catalog.timestamptz) OPERATOR(pg_catalog.*) 1e6)::pg_catalog.int8"
#define SB_APPOINTMENT_COLUMNS \
  "a.id, a.calendar_id, a.status, a.cancel_kind, " SB_APPOINTMENT_MICROS("a.starts_at") ", " \
      SB_APPOINTMENT_MICROS("a.ends_at") ", " SB_APPOINTMENT_MICROS("a.block_start") ", "    \
      SB_APPOINTMENT_MICROS("a.block_end") ", " SB_APPOINTMENT_MICROS("a.hold_expires_at")
constexpr int kAppointmentColumns = 9;

// An appointment as a statement selecting SB_APPOINTMENT_COLUMNS returned it.
struct Appointment {
  booking::AppointmentFacts facts;
  std::string cancel_kind;  // empty unless cancelled
  booking::Booking block;   // its start and padded block
};

// Ensures: the appointment of the first row of `rows`, if there is one.
std::optional<Appointment> appointment_of(const TextRows& rows);

// Ensures: the block an appointment of r occupies on a calendar with these rules.
booking::Booking block_of(const SlotRequest& r, const booking::CalendarRules& rules);

}  // namespace sb::pg
