// The booking commands that create appointments - book_appointment and hold_slot - each one C++
// call: validation, authorisation, the idempotency key, the calendar's cached rules, the check
// against committed appointments and then, under the calendar's advisory lock, the re-check and
// the insert. A refusal seen in committed data needs no lock; only refusals search alternatives.
// Weeks of appointments this backend read and that are still current (booking_changes.hpp)
// answer refusals and alternatives without reading them again.
#include <memory>
#include <optional>
#include <string>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"
#include "pg/booking/booking_request.hpp"
#include "pg/booking/booking_store.hpp"
#include "pg/tenancy/tenancy_claims.hpp"

#include "core/booking/booking_answer.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace {

namespace bk = sb::booking;
using bk::kDay;
using bk::kMinute;
using bk::Micros;
using sb::Error;
using sb::Uuid;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::SlotCheck;
using sb::pg::TextRows;

Query insert_query = {
    "insert into switchboard.appointments (org_id, calendar_id, contact_id, service, starts_at, "
    "ends_at, block_start, block_end, status, hold_expires_at, source, idempotency_key, notes, "
    "metadata, confirmed_at, created_by, id, idempotency_request) values ($1, $2, $3, "
    "$4 OPERATOR(pg_catalog.->>) 'service', $5, $6, $7, $8, "
    "case when $9 then 'held'::switchboard.appointment_status "
    "else 'confirmed'::switchboard.appointment_status end, $10, "
    "coalesce($4 OPERATOR(pg_catalog.->>) 'source', 'api')::switchboard.appointment_source, $11, "
    "$4 OPERATOR(pg_catalog.->>) 'notes', "
    "coalesce($4 OPERATOR(pg_catalog.->) 'metadata', '{}'::pg_catalog.jsonb), $12, $13, $14, "
    "pg_catalog.sha256(pg_catalog.convert_to($15, 'UTF8')))",
    15,
    {UUIDOID, UUIDOID, UUIDOID, JSONBOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
     TIMESTAMPTZOID, BOOLOID, TIMESTAMPTZOID, TEXTOID, TIMESTAMPTZOID, UUIDOID, UUIDOID, TEXTOID}};
Query replay_query = {
    "select " SB_APPOINTMENT_COLUMNS
    ", c.time_zone, coalesce(a.idempotency_request "
    "OPERATOR(pg_catalog.=) pg_catalog.sha256(pg_catalog.convert_to($3, 'UTF8')), true) "
    "from switchboard.appointments a join switchboard.calendars c "
    "on c.org_id OPERATOR(pg_catalog.=) a.org_id and c.id OPERATOR(pg_catalog.=) a.calendar_id "
    "where a.org_id OPERATOR(pg_catalog.=) $1 and a.idempotency_key OPERATOR(pg_catalog.=) $2",
    3,
    {UUIDOID, TEXTOID, TEXTOID}};

// One request to create an appointment: booked (confirmed) or held.
struct Request {
  const char* verb;  // "booked" or "held"
  sb::pg::SlotRequest slot;
  std::optional<Uuid> contact;
  Datum details = 0;  // jsonb; 0 for holds
  std::optional<std::string> key;
  std::optional<int> hold_seconds;  // set for holds
  std::string fingerprint;          // the parameters a key stands for; set when there is a key
};

// Ensures: the arguments every create request shares (org_id, calendar_id, starts_at,
// duration_minutes, contact_id), checked in the order of every booking command; the caller
// authorised.
Request request_args(FunctionCallInfo fcinfo, const char* verb) {
  Request r{verb, {}};
  r.slot.org = sb::pg::authorized_org(fcinfo, 0, sb::Role::agent);
  r.slot.calendar = sb::pg::uuid_arg(fcinfo, 1, "calendar_id");
  sb::pg::require_arg(fcinfo, 2, "starts_at");
  sb::pg::require_arg(fcinfo, 3, "duration_minutes");
  r.slot.start = sb::pg::start_arg(fcinfo, 2, "starts_at");
  r.slot.minutes = sb::pg::duration_arg(fcinfo, 3);
  if (!PG_ARGISNULL(4)) r.contact = Uuid::from_raw(PG_GETARG_UUID_P(4)->data);
  return r;
}

// Ensures: the details jsonb argument, checked (see bk::require_details).
Datum details_arg(FunctionCallInfo fcinfo, int n) {
  sb::pg::require_arg(fcinfo, n, "details");
  Jsonb* details = nullptr;
  sb::pg::guard([&] { details = PG_GETARG_JSONB_P(n); });
  if (!JB_ROOT_IS_OBJECT(details) || JB_ROOT_COUNT(details) != 0)
    bk::require_details(sb::pg::jsonb_value(PointerGetDatum(details)));
  return PointerGetDatum(details);
}

// Ensures: every parameter of r that its idempotency key stands for, as one text (the details in
// jsonb's canonical form, so key order and spacing do not count).
std::string fingerprint(const Request& r) {
  const char* details = "";
  sb::pg::guard([&] {
    if (r.details) {
      Jsonb* jb = DatumGetJsonbP(r.details);
      details = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
    }
  });
  return std::string(r.verb) + "|" + sb::to_string(r.slot.calendar) + "|" +
         std::to_string(r.slot.start) + "|" + std::to_string(r.slot.minutes) + "|" +
         (r.contact ? sb::to_string(*r.contact) : "") + "|" +
         (r.hold_seconds ? std::to_string(*r.hold_seconds) : "") + "|" + details;
}

// Ensures: the answer for the appointment made earlier with r's idempotency key, if there is one;
// 23505 when that key was used for other parameters.
std::optional<std::string> replay(const Request& r) {
  Datum args[3] = {sb::pg::uuid_datum(r.slot.org), sb::pg::text_datum(*r.key),
                   sb::pg::text_datum(r.fingerprint)};
  TextRows rows = spi_query(replay_query, args, nullptr, ReadMode::read_write);
  std::optional<sb::pg::Appointment> earlier = sb::pg::appointment_of(rows);
  if (!earlier) return std::nullopt;
  if (std::string_view(rows.at(0, sb::pg::kAppointmentColumns + 1)) != "t")
    throw sb::reused_key_error(*r.key);
  const bk::AppointmentFacts& a = earlier->facts;
  Micros from = std::min(a.start, a.expires.value_or(a.start)) - kDay;
  Micros to = std::max(a.end, a.expires.value_or(a.end)) + kDay;
  bk::Zone zone = sb::pg::zone_between(rows.at(0, sb::pg::kAppointmentColumns), from, to);
  return bk::accepted_answer(r.verb, "IDEMPOTENT_REPLAY", a, zone, {true, std::nullopt});
}

// Ensures: a new random (version 4) appointment id from PostgreSQL's strong random source, drawn
// 64 ids at a time (a call into the source costs far more than its bytes).
Uuid new_appointment_id() {
  static std::uint8_t pool[16 * 64];
  static std::size_t used = sizeof pool;
  if (used == sizeof pool) {
    bool ok = false;
    sb::pg::guard([&] { ok = pg_strong_random(pool, sizeof pool); });
    if (!ok) throw Error("XX000", "could not generate random values for an appointment id");
    used = 0;
  }
  Uuid id = sb::random_uuid_from(pool + used);
  used += 16;
  return id;
}

Datum optional_uuid(const std::optional<Uuid>& id, char* null) {
  *null = id ? ' ' : 'n';
  return id ? sb::pg::uuid_datum(*id) : 0;
}

// Ensures: the new appointment of the checked request, expired holds in its way released first.
std::string insert(const Request& r, const SlotCheck& c, Micros now) {
  const sb::pg::SlotRequest& s = r.slot;
  bk::Booking block = sb::pg::block_of(s, c.calendar->rules);
  if (c.near.expired_hold_meets(block.block_start, block.block_end))
    sb::pg::release_expired_holds(s.org, s.calendar, block.block_start, block.block_end,
                                  std::nullopt);
  bool held = r.hold_seconds.has_value();
  std::optional<Micros> expires;
  if (held) expires = now + *r.hold_seconds * bk::kSecond;
  const char* status = held ? "held" : "confirmed";
  char nulls[15];
  memset(nulls, ' ', sizeof nulls);
  std::optional<Uuid> user = sb::pg::caller_user();
  Uuid id = new_appointment_id();
  Datum args[15] = {sb::pg::uuid_datum(s.org),
                    sb::pg::uuid_datum(s.calendar),
                    optional_uuid(r.contact, &nulls[2]),
                    r.details,
                    TimestampTzGetDatum(sb::pg::from_unix(s.start)),
                    TimestampTzGetDatum(sb::pg::from_unix(s.end())),
                    TimestampTzGetDatum(sb::pg::from_unix(block.block_start)),
                    TimestampTzGetDatum(sb::pg::from_unix(block.block_end)),
                    BoolGetDatum(held),
                    TimestampTzGetDatum(sb::pg::from_unix(expires.value_or(0))),
                    r.key ? sb::pg::text_datum(*r.key) : 0,
                    TimestampTzGetDatum(sb::pg::from_unix(now)),
                    optional_uuid(user, &nulls[12]),
                    sb::pg::uuid_datum(id),
                    r.key ? sb::pg::text_datum(r.fingerprint) : 0};
  nulls[3] = r.details ? ' ' : 'n';
  nulls[14] = r.key ? ' ' : 'n';
  nulls[9] = held ? ' ' : 'n';
  nulls[10] = r.key ? ' ' : 'n';
  nulls[11] = held ? 'n' : ' ';
  spi_query(insert_query, args, nulls, ReadMode::read_write);
  bk::AppointmentFacts a{id, s.calendar, status, s.start, s.end(), expires};
  return bk::accepted_answer(r.verb, held ? "HELD" : "BOOKED", a, c.zone);
}

// Ensures: the answer of request r (see SB_FUNCTION comments below); nothing written on refusal.
// A refusal seen in committed appointments needs no lock: on a calendar this backend keeps current
// weeks of, those answer at once, and a slot they show free is booked under the lock unless
// something was committed meanwhile. Otherwise an uncontended calendar lock is taken and the
// request checked once under it; when another transaction holds it, a refusal is answered without
// waiting, and a slot that looks free is checked again once the lock is held.
std::string create(const Request& r) {
  const sb::pg::SlotRequest& s = r.slot;
  if (r.key) {
    sb::pg::lock_idempotency_key(s.org, *r.key);
    if (std::optional<std::string> earlier = replay(r)) return *earlier;
  }
  Micros now = sb::pg::transaction_now();
  SlotCheck kept;
  bool from_kept = sb::pg::check_slot(s, now, true, &kept);
  if (from_kept && kept.refusal != bk::Refusal::none)
    return sb::pg::refusal_answer(r.verb, s, kept, now);
  bool locked = from_kept;
  if (from_kept) {
    sb::pg::lock_calendar(s.org, s.calendar);
    // Nothing committed to the calendar or its weeks since the check: it holds under the lock.
    if (sb::pg::still_current(s, kept)) return insert(r, kept, now);
  } else {
    locked = sb::pg::try_lock_calendar(s.org, s.calendar);
  }
  for (;;) {
    SlotCheck c;
    sb::pg::check_slot(s, now, false, &c);
    if (!c.calendar || c.refusal != bk::Refusal::none)
      return sb::pg::refusal_answer(r.verb, s, c, now);
    if (locked) return insert(r, c, now);
    sb::pg::lock_calendar(s.org, s.calendar);  // the slot looked free: wait, then check again
    locked = true;
  }
}

}  // namespace

// Ensures: a confirmed appointment when the slot can be booked now: {booked: true, reason BOOKED,
// appointmentId, calendarId, status, startsAt, endsAt}; the earlier appointment for a known
// idempotency key (IDEMPOTENT_REPLAY, replayed: true); else {booked: false, reason, alternatives}.
SB_FUNCTION(sb_book_appointment) {
  Request r = request_args(fcinfo, "booked");
  r.details = details_arg(fcinfo, 5);
  r.key = sb::pg::idempotency_key_arg(fcinfo, 6);
  if (r.key) r.fingerprint = fingerprint(r);
  return sb::pg::jsonb_datum(create(r));
}

// Ensures: a hold on the slot for hold_seconds when it can be booked now: {held: true, reason
// HELD, appointmentId, calendarId, status, startsAt, endsAt, expiresAt}; the earlier appointment
// for a known idempotency key; else {held: false, reason, alternatives}.
SB_FUNCTION(sb_hold_slot) {
  Request r = request_args(fcinfo, "held");
  sb::pg::require_arg(fcinfo, 5, "hold_seconds");
  int seconds = PG_GETARG_INT32(5);
  if (seconds < 1 || seconds > 3600)
    throw Error("22023", "hold_seconds must be between 1 and 3600",
                sb::given_detail("hold_seconds", std::to_string(seconds)));
  r.hold_seconds = seconds;
  r.key = sb::pg::idempotency_key_arg(fcinfo, 6);
  if (r.key) r.fingerprint = fingerprint(r);
  return sb::pg::jsonb_datum(create(r));
}
