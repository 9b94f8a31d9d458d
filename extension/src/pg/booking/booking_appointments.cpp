// The booking commands on an existing appointment - confirm, reschedule, cancel, complete and
// no-show - each one C++ call: the request validated and the caller authorised (as every booking
// command, booking_request.hpp), then the calendar's lock and the appointment's row lock (in that
// order), the decision, one UPDATE and the answer (core/booking/booking_answer).
#include <cmath>
#include <optional>
#include <string>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"
#include "pg/booking/booking_request.hpp"
#include "pg/booking/booking_store.hpp"

#include "core/booking/booking_answer.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "utils/timestamp.h"
}

namespace {

namespace bk = sb::booking;
using bk::kDay;
using bk::kMinute;
using bk::Micros;
using sb::Error;
using sb::Uuid;
using sb::pg::Appointment;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::TextRows;

#define SB_THIS_APPOINTMENT \
  " where a.org_id OPERATOR(pg_catalog.=) $1 and a.id OPERATOR(pg_catalog.=) $2"

Query calendar_query = {"select a.calendar_id from switchboard.appointments a" SB_THIS_APPOINTMENT,
                        2,
                        {UUIDOID, UUIDOID}};
Query lock_row_query = {"select " SB_APPOINTMENT_COLUMNS
                        " from switchboard.appointments a" SB_THIS_APPOINTMENT " for update",
                        2,
                        {UUIDOID, UUIDOID}};
Query confirm_query = {
    "update switchboard.appointments a set status = 'confirmed', confirmed_at = pg_catalog.now(), "
    "cancelled_at = null, cancel_kind = null" SB_THIS_APPOINTMENT
    " returning " SB_APPOINTMENT_COLUMNS,
    2,
    {UUIDOID, UUIDOID}};
Query move_query = {
    "update switchboard.appointments a set starts_at = $3, ends_at = $4, block_start = $5, "
    "block_end = $6" SB_THIS_APPOINTMENT " returning " SB_APPOINTMENT_COLUMNS,
    6,
    {UUIDOID, UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID}};
Query cancel_query = {
    "update switchboard.appointments a set status = 'cancelled', cancelled_at = pg_catalog.now(), "
    "cancel_kind = 'requested', cancel_reason = $3" SB_THIS_APPOINTMENT
    " returning " SB_APPOINTMENT_COLUMNS,
    3,
    {UUIDOID, UUIDOID, TEXTOID}};
Query outcome_query = {
    "update switchboard.appointments a set status = $3::pg_catalog.text::"
    "switchboard.appointment_status, outcome_at = pg_catalog.now()" SB_THIS_APPOINTMENT
    " returning " SB_APPOINTMENT_COLUMNS,
    3,
    {UUIDOID, UUIDOID, TEXTOID}};

// One command on one appointment: who asks (org), which appointment, and the command's verb.
struct Command {
  const char* verb;
  Uuid org;
  Uuid id;
};

// Ensures: org_id (argument 0, the caller authorised as an agent or above) and appointment_id
// (argument 1), in the order of every booking command.
Command command_args(FunctionCallInfo fcinfo, const char* verb) {
  Uuid org = sb::pg::authorized_org(fcinfo, 0, sb::Role::agent);
  return {verb, org, sb::pg::uuid_arg(fcinfo, 1, "appointment_id")};
}

// Ensures: the appointment row-locked, with its calendar's lock held before (the lock order of
// every booking command); nothing when the organisation has no such appointment.
std::optional<Appointment> lock_appointment(const Command& c) {
  Datum args[2] = {sb::pg::uuid_datum(c.org), sb::pg::uuid_datum(c.id)};
  TextRows found = spi_query(calendar_query, args, nullptr, ReadMode::read_write);
  if (found.count == 0) return std::nullopt;
  sb::pg::lock_calendar(c.org, sb::parse_uuid(found.at(0, 0)).value_or(Uuid{}));
  return sb::pg::appointment_of(spi_query(lock_row_query, args, nullptr, ReadMode::read_write));
}

// The calendar of a locked appointment, its time zone spans around `from`..`to`.
struct Place {
  std::shared_ptr<const sb::pg::Calendar> calendar;
  bk::Zone zone{{}};
};

Place place_of(const Command& c, const Appointment& a, Micros from, Micros to) {
  Place p;
  p.calendar = sb::pg::find_calendar(c.org, a.facts.calendar);
  if (!p.calendar)
    throw Error("XX000", "the calendar of an appointment was not found",
                "Appointment " + sb::to_string(a.facts.id) + " names no stored calendar.");
  p.zone = sb::pg::zone_between(p.calendar->time_zone, std::min(from, a.facts.start) - kDay,
                                std::max(to, a.facts.end) + kDay);
  return p;
}

// Ensures: the appointment the statement wrote (it always writes the locked row).
Appointment written(const TextRows& rows) {
  std::optional<Appointment> a = sb::pg::appointment_of(rows);
  if (!a) throw Error("XX000", "a locked appointment was not written");
  return *a;
}

std::string refused(const char* verb, std::string_view reason, std::string_view status = {}) {
  return bk::refused_answer(verb, reason, std::nullopt, bk::Zone({}), {{}, status});
}

int minutes_of(const Appointment& a) {
  return static_cast<int>(std::llround(static_cast<double>(a.facts.end - a.facts.start) / kMinute));
}

// Ensures: the request of moving or confirming `a` to `start` for `minutes`, its own block (while
// it holds one) not in its way.
sb::pg::SlotRequest slot_of(const Command& c, const Appointment& a, Micros start, int minutes) {
  sb::pg::SlotRequest r{c.org, a.facts.calendar, start, minutes, std::nullopt};
  if (a.facts.status != "cancelled") r.own = a.block;
  return r;
}

// Ensures: see sb_confirm_appointment.
std::string confirm(const Command& c) {
  std::optional<Appointment> a = lock_appointment(c);
  if (!a) return refused(c.verb, "NOT_FOUND");
  const std::string& status = a->facts.status;
  Micros now = sb::pg::transaction_now();
  if (status == "confirmed") {
    Place p = place_of(c, *a, a->facts.start, a->facts.end);
    return bk::accepted_answer(c.verb, "ALREADY_CONFIRMED", a->facts, p.zone, {true, std::nullopt});
  }
  bool expired_hold = status == "cancelled" && a->cancel_kind == "hold_expired";
  if (status != "held" && !expired_hold) return refused(c.verb, "INVALID_STATE", status);
  if (expired_hold || *a->facts.expires <= now) {
    sb::pg::SlotRequest r = slot_of(c, *a, a->facts.start, minutes_of(*a));
    sb::pg::SlotCheck check;
    sb::pg::check_slot(r, now, false, &check);
    if (check.refusal != bk::Refusal::none)
      return bk::refused_answer(c.verb, "HOLD_EXPIRED", sb::pg::alternatives(r, check, now),
                                check.zone, {bk::refusal_code(check.refusal), {}});
    sb::pg::release_expired_holds(c.org, a->facts.calendar, a->block.block_start,
                                  a->block.block_end, a->facts.id);
  }
  Datum args[2] = {sb::pg::uuid_datum(c.org), sb::pg::uuid_datum(c.id)};
  Appointment done = written(spi_query(confirm_query, args, nullptr, ReadMode::read_write));
  Place p = place_of(c, done, done.facts.start, done.facts.end);
  return bk::accepted_answer(c.verb, "CONFIRMED", done.facts, p.zone);
}

// Ensures: see sb_reschedule_appointment.
std::string reschedule(const Command& c, Micros start, std::optional<int> minutes) {
  std::optional<Appointment> a = lock_appointment(c);
  if (!a) return refused(c.verb, "NOT_FOUND");
  const std::string& status = a->facts.status;
  Micros now = sb::pg::transaction_now();
  if (status == "held" && *a->facts.expires <= now) return refused(c.verb, "HOLD_EXPIRED");
  if (status != "held" && status != "confirmed") return refused(c.verb, "INVALID_STATE", status);
  sb::pg::SlotRequest r = slot_of(c, *a, start, minutes.value_or(minutes_of(*a)));
  sb::pg::SlotCheck check;
  sb::pg::check_slot(r, now, false, &check);
  if (check.refusal != bk::Refusal::none) return sb::pg::refusal_answer(c.verb, r, check, now);
  bk::Booking block = sb::pg::block_of(r, check.calendar->rules);
  sb::pg::release_expired_holds(c.org, a->facts.calendar, block.block_start, block.block_end,
                                a->facts.id);
  Datum args[6] = {sb::pg::uuid_datum(c.org),
                   sb::pg::uuid_datum(c.id),
                   TimestampTzGetDatum(sb::pg::from_unix(r.start)),
                   TimestampTzGetDatum(sb::pg::from_unix(r.end())),
                   TimestampTzGetDatum(sb::pg::from_unix(block.block_start)),
                   TimestampTzGetDatum(sb::pg::from_unix(block.block_end))};
  Appointment moved = written(spi_query(move_query, args, nullptr, ReadMode::read_write));
  Place p = place_of(c, moved, a->facts.start, a->facts.end);
  bk::AcceptedExtras extras{false, bk::Slot{a->facts.start, a->facts.end}};
  return bk::accepted_answer(c.verb, "RESCHEDULED", moved.facts, p.zone, extras);
}

// Ensures: see sb_cancel_appointment.
std::string cancel(const Command& c, Datum reason) {
  std::optional<Appointment> a = lock_appointment(c);
  if (!a) return refused(c.verb, "NOT_FOUND");
  const std::string& status = a->facts.status;
  if (status == "cancelled") {
    Place p = place_of(c, *a, a->facts.start, a->facts.end);
    return bk::accepted_answer(c.verb, "ALREADY_CANCELLED", a->facts, p.zone, {true, std::nullopt});
  }
  if (status != "held" && status != "confirmed") return refused(c.verb, "INVALID_STATE", status);
  Datum args[3] = {sb::pg::uuid_datum(c.org), sb::pg::uuid_datum(c.id), reason};
  char nulls[3] = {' ', ' ', reason ? ' ' : 'n'};
  Appointment done = written(spi_query(cancel_query, args, nulls, ReadMode::read_write));
  Place p = place_of(c, done, done.facts.start, done.facts.end);
  return bk::accepted_answer(c.verb, "CANCELLED", done.facts, p.zone);
}

// Ensures: appointment c has outcome `outcome` (completed or no_show), answered with `reason`:
// only a confirmed appointment whose start has passed takes it; the same outcome again answers
// ALREADY_<reason> and changes nothing; any other state, including the other outcome or a start
// still ahead, is INVALID_STATE with the status. The block stays occupied.
std::string set_outcome(const Command& c, const char* outcome, const std::string& reason) {
  std::optional<Appointment> a = lock_appointment(c);
  if (!a) return refused(c.verb, "NOT_FOUND");
  const std::string& status = a->facts.status;
  if (status == outcome) {
    Place p = place_of(c, *a, a->facts.start, a->facts.end);
    return bk::accepted_answer(c.verb, "ALREADY_" + reason, a->facts, p.zone, {true, std::nullopt});
  }
  if (status != "confirmed" || a->facts.start > sb::pg::transaction_now())
    return refused(c.verb, "INVALID_STATE", status);
  Datum args[3] = {sb::pg::uuid_datum(c.org), sb::pg::uuid_datum(c.id),
                   sb::pg::text_datum(outcome)};
  Appointment done = written(spi_query(outcome_query, args, nullptr, ReadMode::read_write));
  Place p = place_of(c, done, done.facts.start, done.facts.end);
  return bk::accepted_answer(c.verb, reason, done.facts, p.zone);
}

}  // namespace

// Ensures: a live hold becomes confirmed; an expired one (still held, or cancelled as
// hold_expired) is checked again and confirmed if its slot is still free, else {confirmed: false,
// reason HOLD_EXPIRED, slotReason, alternatives}; confirming twice answers ALREADY_CONFIRMED.
SB_FUNCTION(sb_confirm_appointment) {
  return sb::pg::jsonb_datum(confirm(command_args(fcinfo, "confirmed")));
}

// Ensures: the appointment moves to new_starts_at (for duration_minutes, default its own) in one
// update, so it never holds both slots or neither: {rescheduled: true, reason RESCHEDULED, ...,
// previousStartsAt, previousEndsAt}; or stays where it was with a refusal and alternatives.
SB_FUNCTION(sb_reschedule_appointment) {
  Command c = command_args(fcinfo, "rescheduled");
  Micros start = sb::pg::start_arg(fcinfo, 2, "new_starts_at");
  std::optional<int> minutes;
  if (!PG_ARGISNULL(3)) minutes = sb::pg::duration_arg(fcinfo, 3);
  return sb::pg::jsonb_datum(reschedule(c, start, minutes));
}

// Ensures: the appointment is cancelled with the reason given (CANCELLED); cancelling again
// answers ALREADY_CANCELLED and changes nothing; a completed or no-show one is INVALID_STATE.
SB_FUNCTION(sb_cancel_appointment) {
  Command c = command_args(fcinfo, "cancelled");
  return sb::pg::jsonb_datum(cancel(c, PG_ARGISNULL(2) ? 0 : PG_GETARG_DATUM(2)));
}

// Ensures: a confirmed appointment whose start has passed is completed: {completed, reason
// COMPLETED or ALREADY_COMPLETED, ...}, else INVALID_STATE or NOT_FOUND.
SB_FUNCTION(sb_complete_appointment) {
  return sb::pg::jsonb_datum(
      set_outcome(command_args(fcinfo, "completed"), "completed", "COMPLETED"));
}

// Ensures: a confirmed appointment whose start has passed is a no-show: {noShow, reason NO_SHOW
// or ALREADY_NO_SHOW, ...}, else INVALID_STATE or NOT_FOUND.
SB_FUNCTION(sb_mark_no_show) {
  return sb::pg::jsonb_datum(set_outcome(command_args(fcinfo, "noShow"), "no_show", "NO_SHOW"));
}
