// The booking commands that create appointments - book_appointment and hold_slot - each one C++
// call: validation, authorisation, the idempotency key, the calendar's cached rules, the check
// against committed appointments and then, under the calendar's advisory lock, the re-check and
// the insert. A refusal seen in committed data needs no lock; only refusals search alternatives.
// Weeks of appointments this backend read and that are still current (booking_changes.hpp)
// answer refusals and alternatives without reading them again.
#include <memory>
#include <optional>
#include <string>

#include "pg/tenancy/tenancy_access.hpp"
#include "pg/booking/booking_store.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/tenancy/tenancy_claims.hpp"
#include "pg/entitlements/entitlements_check.hpp"
#include "pg/tenancy/tenancy_membership_store.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"

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
using sb::pg::Calendar;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::TextRows;

constexpr std::size_t kAlternatives = 3;

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
Query release_query = {
    "update switchboard.appointments x set status = 'cancelled', cancel_kind = 'hold_expired', "
    "cancelled_at = x.hold_expires_at "
    "where x.org_id OPERATOR(pg_catalog.=) $1 and x.calendar_id OPERATOR(pg_catalog.=) $2 "
    "and x.status OPERATOR(pg_catalog.=) 'held'::switchboard.appointment_status "
    "and x.hold_expires_at OPERATOR(pg_catalog.<=) pg_catalog.now() "
    "and pg_catalog.tstzrange(x.block_start, x.block_end, '[)') "
    "OPERATOR(pg_catalog.&&) pg_catalog.tstzrange($3, $4, '[)')",
    4,
    {UUIDOID, UUIDOID, TIMESTAMPTZOID, TIMESTAMPTZOID}};
Query replay_query = {
    "select a.id, a.calendar_id, a.status::pg_catalog.text, "
    "(extract(epoch from a.starts_at) OPERATOR(pg_catalog.*) 1e6)::pg_catalog.int8, "
    "(extract(epoch from a.ends_at) OPERATOR(pg_catalog.*) 1e6)::pg_catalog.int8, "
    "(extract(epoch from a.hold_expires_at) OPERATOR(pg_catalog.*) 1e6)::pg_catalog.int8, "
    "c.time_zone, coalesce(a.idempotency_request OPERATOR(pg_catalog.=) "
    "pg_catalog.sha256(pg_catalog.convert_to($3, 'UTF8')), true) "
    "from switchboard.appointments a join switchboard.calendars c "
    "on c.org_id OPERATOR(pg_catalog.=) a.org_id and c.id OPERATOR(pg_catalog.=) a.calendar_id "
    "where a.org_id OPERATOR(pg_catalog.=) $1 and a.idempotency_key OPERATOR(pg_catalog.=) $2",
    3,
    {UUIDOID, TEXTOID, TEXTOID}};

// One request to create an appointment: booked (confirmed) or held.
struct Request {
  const char* verb;  // "booked" or "held"
  Uuid org;
  Uuid calendar;
  Micros start = 0;
  int minutes = 0;
  std::optional<Uuid> contact;
  Datum details = 0;  // jsonb; 0 for holds
  std::optional<std::string> key;
  std::optional<int> hold_seconds;  // set for holds
  std::string fingerprint;          // the parameters a key stands for; set when there is a key

  Micros end() const { return start + minutes * kMinute; }
};

// Ensures: the caller is the service role or a member of org with at least `min_role`; 42501
// otherwise.
void authorize(const Uuid& org, sb::Role min_role) {
  if (sb::pg::caller_is_service_role()) return;
  std::optional<sb::Role> role = sb::role_in(sb::pg::caller_memberships(), org);
  if (role && sb::role_at_least(*role, min_role)) return;
  throw Error(
      "42501", "permission denied for booking in this organization",
      "org_id: " + sb::to_string(org) + ", required role: " + std::string(sb::role_name(min_role)),
      "the caller must be service_role or a member with this role or above");
}

// Ensures: the arguments every create request shares (org_id, calendar_id, starts_at,
// duration_minutes, contact_id), checked in the order the callers see them; the caller authorised.
Request request_args(FunctionCallInfo fcinfo, const char* verb) {
  sb::pg::require_arg(fcinfo, 0, "org_id");
  Request r{verb, sb::pg::uuid_arg(fcinfo, 0), Uuid{}};
  authorize(r.org, sb::Role::agent);
  sb::pg::require_arg(fcinfo, 1, "calendar_id");
  r.calendar = Uuid::from_raw(PG_GETARG_UUID_P(1)->data);
  sb::pg::require_arg(fcinfo, 2, "starts_at");
  sb::pg::require_arg(fcinfo, 3, "duration_minutes");
  r.start = sb::pg::time_arg(fcinfo, 2, "starts_at");
  r.minutes = PG_GETARG_INT32(3);
  bk::require_duration(r.minutes);
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

// Ensures: this transaction holds the advisory lock of `name` in org until it ends.
void lock(const Uuid& org, const std::string& name) {
  int64 key = bk::lock_key(org, name);
  sb::pg::guard([&] { DirectFunctionCall1(pg_advisory_xact_lock_int8, Int64GetDatum(key)); });
}

Micros micros_cell(const TextRows& rows, int column) {
  const char* text = rows.at(0, column);
  return text ? std::strtoll(text, nullptr, 10) : 0;
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
  return std::string(r.verb) + "|" + sb::to_string(r.calendar) + "|" + std::to_string(r.start) +
         "|" + std::to_string(r.minutes) + "|" + (r.contact ? sb::to_string(*r.contact) : "") +
         "|" + (r.hold_seconds ? std::to_string(*r.hold_seconds) : "") + "|" + details;
}

// Ensures: the answer for the appointment made earlier with r's idempotency key, if there is one;
// 23505 when that key was used for other parameters.
std::optional<std::string> replay(const Request& r) {
  Datum args[3] = {sb::pg::uuid_datum(r.org), sb::pg::text_datum(*r.key),
                   sb::pg::text_datum(r.fingerprint)};
  TextRows rows = spi_query(replay_query, args, nullptr, ReadMode::read_write);
  if (rows.count == 0) return std::nullopt;
  if (std::string_view(rows.at(0, 7)) != "t") throw sb::reused_key_error(*r.key);
  bk::AppointmentFacts a{sb::parse_uuid(rows.at(0, 0)).value_or(Uuid{}),
                         sb::parse_uuid(rows.at(0, 1)).value_or(Uuid{}),
                         rows.at(0, 2),
                         micros_cell(rows, 3),
                         micros_cell(rows, 4),
                         std::nullopt};
  if (rows.at(0, 5)) a.expires = micros_cell(rows, 5);
  Micros from = std::min(a.start, a.expires.value_or(a.start)) - kDay;
  Micros to = std::max(a.end, a.expires.value_or(a.end)) + kDay;
  bk::Zone zone = sb::pg::zone_between(rows.at(0, 6), from, to);
  return bk::accepted_answer(r.verb, "IDEMPOTENT_REPLAY", a, zone, true);
}

// Ensures: whether this transaction now holds the advisory lock of `name` in org (it never waits).
bool try_lock(const Uuid& org, const std::string& name) {
  int64 key = bk::lock_key(org, name);
  bool locked = false;
  sb::pg::guard([&] {
    locked = DatumGetBool(DirectFunctionCall1(pg_try_advisory_xact_lock_int8, Int64GetDatum(key)));
  });
  return locked;
}

// A request checked against its calendar and the appointments its booking would meet, as a
// snapshot taken now sees them. Filled in place: `availability` refers to the members.
struct Check {
  std::shared_ptr<const Calendar> calendar;  // nullptr: there is no such calendar
  bk::Zone zone{{}};
  sb::pg::Occupancy near;                        // what bears on the requested slot
  std::optional<bk::Availability> availability;  // over `near`
  bk::Refusal refusal = bk::Refusal::none;
  bool wide = false;  // `near` covers the alternatives' window too

  Check() = default;
  Check(const Check&) = delete;
  Check& operator=(const Check&) = delete;
};

// The window whose appointments bear on r's alternatives: starts within a week of it.
bk::Slot alternatives_window(const Request& r, const bk::CalendarRules& rules) {
  return bk::reach(rules, r.start - 7 * kDay, r.start + 7 * kDay, r.minutes * kMinute);
}

// Ensures: *c holds r's calendar and the check of r against the appointments committed now, read
// with a snapshot taken now; with `kept_only`, from the weeks this backend keeps current around
// the alternatives' window too, or false when it does not keep them all.
bool check(const Request& r, Micros now, bool kept_only, Check* c) {
  c->calendar = sb::pg::find_calendar(r.org, r.calendar);
  if (!c->calendar) return !kept_only;
  const bk::CalendarRules& rules = c->calendar->rules;
  Micros duration = r.minutes * kMinute;
  bk::Slot reach = bk::reach(rules, r.start, r.start, duration);
  if (kept_only) {
    std::optional<sb::pg::Occupancy> kept =
        sb::pg::committed_occupancy(r.org, r.calendar, alternatives_window(r, rules), now, true);
    if (!kept) return false;
    c->near = std::move(*kept);
    c->wide = true;
  } else {
    sb::pg::AppointmentReader reader(r.org, r.calendar);
    for (const sb::pg::BookingRow& row : reader.rows(reach)) c->near.add(row, now);
    reader.close();
  }
  c->zone = sb::pg::zone_between(c->calendar->time_zone, r.start - 9 * kDay, r.start + 10 * kDay);
  c->availability.emplace(rules, c->zone, c->near.active, sb::pg::check_for_interrupts);
  c->refusal = c->availability->check(r.start, duration, now);
  return true;
}

// Ensures: up to 3 free starts nearest to the request within a week, nearest first (searched
// within a day first), from the committed appointments of the weeks around it.
std::vector<Micros> alternatives(const Request& r, const Check& c, Micros now) {
  Micros duration = r.minutes * kMinute;
  const bk::CalendarRules& rules = c.calendar->rules;
  std::optional<bk::Availability> read;
  if (!c.wide) {
    sb::pg::Occupancy week =
        *sb::pg::committed_occupancy(r.org, r.calendar, alternatives_window(r, rules), now);
    read.emplace(rules, c.zone, std::move(week.active), sb::pg::check_for_interrupts);
  }
  const bk::Availability& around = c.wide ? *c.availability : *read;
  std::vector<Micros> found = around.alternatives(r.start, duration, now, kAlternatives, kDay);
  if (found.size() >= kAlternatives) return found;
  return around.alternatives(r.start, duration, now, kAlternatives, 7 * kDay);
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
std::string insert(const Request& r, const Check& c, Micros now) {
  const bk::CalendarRules& rules = c.calendar->rules;
  Micros block_start = r.start - rules.buffer_before_minutes * kMinute;
  Micros block_end = r.end() + rules.buffer_after_minutes * kMinute;
  if (c.near.expired_hold_meets(block_start, block_end)) {
    Datum args[4] = {sb::pg::uuid_datum(r.org), sb::pg::uuid_datum(r.calendar),
                     TimestampTzGetDatum(sb::pg::from_unix(block_start)),
                     TimestampTzGetDatum(sb::pg::from_unix(block_end))};
    spi_query(release_query, args, nullptr, ReadMode::read_write);
  }
  bool held = r.hold_seconds.has_value();
  std::optional<Micros> expires;
  if (held) expires = now + *r.hold_seconds * bk::kSecond;
  const char* status = held ? "held" : "confirmed";
  char nulls[15];
  memset(nulls, ' ', sizeof nulls);
  std::optional<Uuid> user = sb::pg::caller_user();
  Uuid id = new_appointment_id();
  Datum args[15] = {sb::pg::uuid_datum(r.org),
                    sb::pg::uuid_datum(r.calendar),
                    optional_uuid(r.contact, &nulls[2]),
                    r.details,
                    TimestampTzGetDatum(sb::pg::from_unix(r.start)),
                    TimestampTzGetDatum(sb::pg::from_unix(r.end())),
                    TimestampTzGetDatum(sb::pg::from_unix(block_start)),
                    TimestampTzGetDatum(sb::pg::from_unix(block_end)),
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
  bk::AppointmentFacts a{id, r.calendar, status, r.start, r.end(), expires};
  return bk::accepted_answer(r.verb, held ? "HELD" : "BOOKED", a, c.zone, false);
}

// Ensures: the answer of r's checked request: a refusal with alternatives, or the insert.
std::string answer(const Request& r, const Check& c, Micros now) {
  if (!c.calendar) return bk::refused_answer(r.verb, "CALENDAR_NOT_FOUND", {}, c.zone);
  return bk::refused_answer(r.verb, bk::refusal_code(c.refusal), alternatives(r, c, now), c.zone);
}

// Ensures: the answer of request r (see SB_FUNCTION comments below); nothing written on refusal.
// A refusal seen in committed appointments needs no lock: on a calendar this backend keeps current
// weeks of, those answer at once, and a slot they show free is booked under the lock unless
// something was committed meanwhile. Otherwise an uncontended calendar lock is taken and the
// request checked once under it; when another transaction holds it, a refusal is answered without
// waiting, and a slot that looks free is checked again once the lock is held.
std::string create(const Request& r) {
  if (r.key) {
    lock(r.org, "idempotency:" + *r.key);
    if (std::optional<std::string> earlier = replay(r)) return *earlier;
  }
  Micros now = sb::pg::transaction_now();
  Check kept;
  bool from_kept = check(r, now, true, &kept);
  if (from_kept && kept.refusal != bk::Refusal::none) return answer(r, kept, now);
  std::string calendar_lock = sb::to_string(r.calendar);
  bool locked = from_kept;
  if (from_kept) {
    lock(r.org, calendar_lock);
    // Nothing committed to the calendar or its weeks since the check: it holds under the lock.
    if (sb::pg::find_calendar(r.org, r.calendar) == kept.calendar &&
        sb::pg::kept_current(r.org, r.calendar, alternatives_window(r, kept.calendar->rules)))
      return insert(r, kept, now);
  } else {
    locked = try_lock(r.org, calendar_lock);
  }
  for (;;) {
    Check c;
    check(r, now, false, &c);
    if (!c.calendar || c.refusal != bk::Refusal::none) return answer(r, c, now);
    if (locked) return insert(r, c, now);
    lock(r.org, calendar_lock);  // the slot looked free: wait for the lock, then check again
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
                "hold_seconds: " + std::to_string(seconds));
  r.hold_seconds = seconds;
  r.key = sb::pg::idempotency_key_arg(fcinfo, 6);
  if (r.key) r.fingerprint = fingerprint(r);
  return sb::pg::jsonb_datum(create(r));
}
