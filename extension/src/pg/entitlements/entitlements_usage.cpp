// SQL functions of the entitlements area that count: consume, reserve, settle and release.
// Every change to a usage counter happens under that counter's row lock, so concurrent callers
// never take a hard limit past its last unit.
#include <cctype>
#include <cstdlib>

#include "pg/tenancy/tenancy_access.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/entitlements/entitlements_check.hpp"

#include "core/base/base_json_writer.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace {

using sb::Error;
using sb::pg::Evaluation;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::TextRows;

Query lock_counter_query = {
    "select used, reserved, overage from switchboard.feature_usage "
    "where org_id OPERATOR(pg_catalog.=) $1 and feature OPERATOR(pg_catalog.=) $2 "
    "and period_start OPERATOR(pg_catalog.=) $3 for update",
    3,
    {UUIDOID, TEXTOID, TIMESTAMPTZOID}};
Query create_counter_query = {
    "insert into switchboard.feature_usage (org_id, feature, period_start, period_end) "
    "values ($1, $2, $3, $4) on conflict (org_id, feature, period_start) do nothing",
    4,
    {UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID}};
Query expire_query = {
    "with e as (update switchboard.feature_reservations set status = 'expired', "
    "updated_at = pg_catalog.now() where org_id OPERATOR(pg_catalog.=) $1 "
    "and feature OPERATOR(pg_catalog.=) $2 and period_start OPERATOR(pg_catalog.=) $3 "
    "and status OPERATOR(pg_catalog.=) 'active' "
    "and expires_at OPERATOR(pg_catalog.<=) pg_catalog.now() returning quantity) "
    "select coalesce(pg_catalog.sum(quantity), 0) from e",
    3,
    {UUIDOID, TEXTOID, TIMESTAMPTZOID}};
Query write_counter_query = {
    "update switchboard.feature_usage set used = used OPERATOR(pg_catalog.+) $4, "
    "reserved = reserved OPERATOR(pg_catalog.+) $5, overage = overage OPERATOR(pg_catalog.+) $6, "
    "updated_at = pg_catalog.now() where org_id OPERATOR(pg_catalog.=) $1 "
    "and feature OPERATOR(pg_catalog.=) $2 and period_start OPERATOR(pg_catalog.=) $3",
    6,
    {UUIDOID, TEXTOID, TIMESTAMPTZOID, INT8OID, INT8OID, INT8OID}};
Query claim_key_query = {
    "insert into switchboard.usage_events (org_id, idempotency_key, feature, quantity) "
    "values ($1, $2, $3, $4) on conflict (org_id, idempotency_key) do nothing returning id",
    4,
    {UUIDOID, TEXTOID, TEXTOID, INT8OID}};
Query replay_key_query = {
    "select feature, quantity, result::pg_catalog.text, "
    "coalesce((result OPERATOR(pg_catalog.->>) 'ok')::pg_catalog.bool, false) "
    "from switchboard.usage_events "
    "where org_id OPERATOR(pg_catalog.=) $1 and idempotency_key OPERATOR(pg_catalog.=) $2",
    2,
    {UUIDOID, TEXTOID}};
Query store_key_query = {
    "update switchboard.usage_events set result = $3::pg_catalog.jsonb "
    "where org_id OPERATOR(pg_catalog.=) $1 and id OPERATOR(pg_catalog.=) $2",
    3,
    {UUIDOID, UUIDOID, TEXTOID}};
// The expiry is computed before (expires_after): Citus refuses a non-IMMUTABLE function such as
// extract() in the RETURNING of a distributed table.
Query reserve_query = {
    "insert into switchboard.feature_reservations (org_id, feature, period_start, quantity, "
    "expires_at) values ($1, $2, $3, $4, $5) returning id",
    5,
    {UUIDOID, TEXTOID, TIMESTAMPTZOID, INT8OID, TIMESTAMPTZOID}};
Query find_reservation_query = {
    "select feature, (extract(epoch from period_start) OPERATOR(pg_catalog.*) "
    "1e6)::pg_catalog.int8 "
    "from switchboard.feature_reservations "
    "where org_id OPERATOR(pg_catalog.=) $1 and id OPERATOR(pg_catalog.=) $2",
    2,
    {UUIDOID, UUIDOID}};
Query lock_reservation_query = {
    "select quantity, status, result::pg_catalog.text, settled_quantity "
    "from switchboard.feature_reservations "
    "where org_id OPERATOR(pg_catalog.=) $1 and id OPERATOR(pg_catalog.=) $2 for update",
    2,
    {UUIDOID, UUIDOID}};
Query finish_reservation_query = {
    "update switchboard.feature_reservations set status = $3, settled_quantity = $4, "
    "result = $5::pg_catalog.jsonb, updated_at = pg_catalog.now() "
    "where org_id OPERATOR(pg_catalog.=) $1 and id OPERATOR(pg_catalog.=) $2",
    5,
    {UUIDOID, UUIDOID, TEXTOID, INT8OID, TEXTOID}};
Query limit_reached_query = {
    "select switchboard._emit_event($1, 'feature.limit_reached', $2::pg_catalog.jsonb)",
    2,
    {UUIDOID, TEXTOID}};

int64_t to_int(const char* text) {
  return text ? std::strtoll(text, nullptr, 10) : 0;
}

bool is_true(const char* text) {
  return text && text[0] == 't';
}

// The counter of one organisation, feature and period.
struct CounterKey {
  sb::Uuid org;
  std::string feature;
  sb::pg::Window window;

  void args(Datum* out) const {
    out[0] = sb::pg::uuid_datum(org);
    out[1] = sb::pg::text_datum(feature);
    out[2] = TimestampTzGetDatum(sb::pg::from_unix(window.start));
  }
};

// Locks the counter row (creating it when missing) and returns its values, with reservations
// that expired given back.
sb::pg::Usage lock_counter(const CounterKey& key, int64_t* expired) {
  Datum args[4];
  key.args(args);
  TextRows rows = spi_query(lock_counter_query, args, nullptr, ReadMode::read_write);
  if (rows.count == 0) {
    args[3] = TimestampTzGetDatum(sb::pg::from_unix(key.window.end));
    spi_query(create_counter_query, args, nullptr, ReadMode::read_write);
    rows = spi_query(lock_counter_query, args, nullptr, ReadMode::read_write);
    if (rows.count == 0)  // a row another transaction made is invisible to this snapshot
      throw Error("40001", "could not serialize access to a usage counter",
                  "Another transaction changed the counter of feature \"" + key.feature + "\".",
                  "Retry the transaction.");
  }
  sb::pg::Usage u{to_int(rows.at(0, 0)), to_int(rows.at(0, 1)), to_int(rows.at(0, 2))};
  *expired = 0;
  if (u.reserved > 0) {
    *expired = to_int(spi_query(expire_query, args, nullptr, ReadMode::read_write).at(0, 0));
    u.reserved -= *expired;
  }
  return u;
}

// now() + ttl, as PostgreSQL adds an interval to a time (months and days in the session's zone).
TimestampTz expires_after(Interval* ttl) {
  TimestampTz at = 0;
  sb::pg::guard([&] {
    at = DatumGetTimestampTz(DirectFunctionCall2(
        timestamptz_pl_interval, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
        IntervalPGetDatum(ttl)));
  });
  return at;
}

void write_counter(const CounterKey& key, int64_t used, int64_t reserved, int64_t overage) {
  if (used == 0 && reserved == 0 && overage == 0) return;
  Datum args[6];
  key.args(args);
  args[3] = Int64GetDatum(used);
  args[4] = Int64GetDatum(reserved);
  args[5] = Int64GetDatum(overage);
  spi_query(write_counter_query, args, nullptr, ReadMode::read_write);
}

// Units of `quantity` that fall beyond a soft limit, given `taken` units already counted.
int64_t overage_of(const Evaluation& e, int64_t taken, int64_t quantity) {
  const auto& g = *e.decision.grant;
  if (!g.limit || g.mode != sb::ent::Mode::soft) return 0;
  return std::max<int64_t>(0, taken + quantity - std::max(*g.limit, taken));
}

// The common fields of a counting answer.
void write_usage(sb::JsonWriter& w, const Evaluation& e) {
  bool counted = e.decision.feature && e.decision.grant && e.decision.feature->metered;
  w.key("reason").string(sb::ent::reason_code(e.decision.reason));
  w.field("used", counted ? std::optional<int64_t>(e.usage.used) : std::nullopt);
  w.field("reserved", counted ? std::optional<int64_t>(e.usage.reserved) : std::nullopt);
  w.field("limit", counted ? e.decision.grant->limit : std::nullopt);
  w.field("remaining", e.remaining);
  w.field("resetsAt", counted ? sb::answer_time(e.window.end) : std::string());
}

// Evaluates access and, for an entitled metered feature, locks its counter for a change.
Evaluation evaluate_locked(const sb::Uuid& org, std::string_view feature, CounterKey* key,
                           int64_t* expired) {
  Evaluation e = sb::pg::evaluate(org, feature, 0);
  *expired = 0;
  if (e.decision.feature && !e.decision.feature->metered)
    throw sb::Error("22023", "feature is not metered",
                    "Feature \"" + std::string(feature) + "\" is not metered.",
                    "Use has_feature or check_feature for boolean features.");
  if (!e.decision.access) return e;
  *key = CounterKey{org, std::string(feature), e.window};
  e.usage = lock_counter(*key, expired);
  return e;
}

// Ensures: feature.limit_reached is queued when this change took the counted units (used plus
// reserved) from below the limit to it or beyond.
void note_limit_reached(const CounterKey& key, const Evaluation& e, int64_t counted_before) {
  const auto& limit = e.decision.grant->limit;
  int64_t counted = e.usage.used + e.usage.reserved;
  if (!limit || counted_before >= *limit || counted < *limit) return;
  sb::JsonWriter w;
  w.begin_object().key("feature").string(key.feature);
  w.field("used", std::optional<int64_t>(e.usage.used));
  w.field("reserved", std::optional<int64_t>(e.usage.reserved));
  w.field("limit", limit);
  w.key("resetsAt").string(sb::answer_time(e.window.end));
  w.end_object();
  Datum args[2] = {sb::pg::uuid_datum(key.org), sb::pg::text_datum(w.text())};
  spi_query(limit_reached_query, args, nullptr, ReadMode::read_write);
}

struct Consumption {
  bool ok = false;
  std::string json;
};

// Consumes `quantity` units atomically; a denial changes nothing.
Consumption consume(const sb::Uuid& org, std::string_view feature, int64_t quantity) {
  CounterKey key;
  int64_t expired = 0;
  Evaluation e = evaluate_locked(org, feature, &key, &expired);
  int64_t overage = 0;
  if (e.decision.access) {
    sb::pg::apply_limit(e, quantity);
    if (e.decision.access) {
      int64_t counted_before = e.usage.used + e.usage.reserved;
      overage = overage_of(e, counted_before, quantity);
      e.usage.used += quantity;
      e.usage.overage += overage;
      sb::pg::apply_limit(e, 0);
      note_limit_reached(key, e, counted_before);
    }
    write_counter(key, e.decision.access ? quantity : 0, -expired, overage);
  }
  sb::JsonWriter w;
  w.begin_object().field("ok", e.decision.access);
  w.key("feature").string(feature);
  write_usage(w, e);
  w.field("overage", std::optional<int64_t>(overage));
  w.end_object();
  return Consumption{e.decision.access, w.text()};
}

// The stored answer for an idempotency key, or nothing when this call claimed the key (then
// `event_id` names the row to store the answer in).
std::optional<Consumption> replay(const sb::Uuid& org, std::string_view key,
                                  std::string_view feature, int64_t quantity, sb::Uuid* event_id) {
  Datum args[4] = {sb::pg::uuid_datum(org), sb::pg::text_datum(key), sb::pg::text_datum(feature),
                   Int64GetDatum(quantity)};
  TextRows claimed = spi_query(claim_key_query, args, nullptr, ReadMode::read_write);
  if (claimed.count == 1) {
    *event_id = *sb::parse_uuid(claimed.at(0, 0));
    return std::nullopt;
  }
  TextRows stored = spi_query(replay_key_query, args, nullptr, ReadMode::read_write);
  if (feature != stored.at(0, 0) || quantity != to_int(stored.at(0, 1)))
    throw sb::reused_key_error(std::string(key));
  return Consumption{is_true(stored.at(0, 3)),
                     sb::mark_replayed(stored.at(0, 2) ? stored.at(0, 2) : "{}")};
}

void store_answer(const sb::Uuid& org, const sb::Uuid& event_id, const std::string& json) {
  Datum args[3] = {sb::pg::uuid_datum(org), sb::pg::uuid_datum(event_id), sb::pg::text_datum(json)};
  spi_query(store_key_query, args, nullptr, ReadMode::read_write);
}

// consume(), answered once per idempotency key when one is given.
Consumption consume_once(FunctionCallInfo fcinfo) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  std::string_view feature = sb::pg::feature_arg(fcinfo, 1);
  int64_t quantity = PG_NARGS() > 2 ? sb::pg::positive_arg(fcinfo, 2, "quantity") : 1;
  sb::pg::require_role(org, sb::Role::agent);
  std::optional<std::string> key =
      PG_NARGS() > 3 ? sb::pg::idempotency_key_arg(fcinfo, 3) : std::nullopt;
  if (!key) return consume(org, feature, quantity);
  sb::Uuid event_id;
  if (std::optional<Consumption> answer = replay(org, *key, feature, quantity, &event_id))
    return *answer;
  Consumption c = consume(org, feature, quantity);
  store_answer(org, event_id, c.json);
  return c;
}

}  // namespace

// Ensures: `quantity` units are counted if the limit allows (atomic; idempotent per key).
SB_FUNCTION(sb_consume_feature) {
  return sb::pg::jsonb_datum(consume_once(fcinfo).json);
}

// Ensures: seed-compatible consumption; true when the units were counted.
SB_FUNCTION(sb_increment_feature_usage) {
  PG_RETURN_BOOL(consume_once(fcinfo).ok);
}

// Ensures: `quantity` units are held for `ttl` against the limit (given back when they expire).
SB_FUNCTION(sb_reserve_feature) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  std::string_view feature = sb::pg::feature_arg(fcinfo, 1);
  int64_t quantity = sb::pg::positive_arg(fcinfo, 2, "quantity");
  sb::pg::require_arg(fcinfo, 3, "ttl");
  Interval* ttl = PG_GETARG_INTERVAL_P(3);
  if (ttl->month < 0 || ttl->day < 0 || ttl->time < 0 || (!ttl->month && !ttl->day && !ttl->time))
    throw sb::Error("22023", "ttl must be positive");
  sb::pg::require_role(org, sb::Role::agent);
  CounterKey key;
  int64_t expired = 0;
  Evaluation e = evaluate_locked(org, feature, &key, &expired);
  std::optional<std::string> id;
  std::optional<int64_t> expires;
  if (e.decision.access) sb::pg::apply_limit(e, quantity);
  if (e.decision.access) {
    Datum args[5];
    key.args(args);
    args[3] = Int64GetDatum(quantity);
    TimestampTz at = expires_after(ttl);
    args[4] = TimestampTzGetDatum(at);
    TextRows r = spi_query(reserve_query, args, nullptr, ReadMode::read_write);
    id = r.at(0, 0);
    expires = sb::pg::to_unix(at);
    e.usage.reserved += quantity;
    sb::pg::apply_limit(e, 0);
    note_limit_reached(key, e, e.usage.used + e.usage.reserved - quantity);
  }
  if (e.decision.feature && e.decision.feature->metered)
    write_counter(key, 0, (e.decision.access ? quantity : 0) - expired, 0);
  sb::JsonWriter w;
  w.begin_object().field("ok", e.decision.access);
  w.key("feature").string(feature);
  w.field("reservationId", id ? std::string_view(*id) : std::string_view());
  w.field("expiresAt", expires ? sb::answer_time(*expires) : std::string());
  write_usage(w, e);
  w.end_object();
  return sb::pg::jsonb_datum(w.text());
}

namespace {

// `text` in capitals (a reservation status as a reason: expired -> EXPIRED).
std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  return text;
}

struct Reservation {
  std::string feature;
  int64_t period_start = 0;
  int64_t quantity = 0;
  std::string status;
  std::string result;  // the stored answer of a finished reservation
  int64_t settled = 0;
};

// Finds the reservation, locks its counter and then the reservation itself (the order consume
// uses too, so they cannot deadlock); raises P0002 when it does not exist.
Reservation lock_reservation(const sb::Uuid& org, const sb::Uuid& id, CounterKey* key,
                             sb::pg::Usage* usage, int64_t* expired) {
  Datum args[2] = {sb::pg::uuid_datum(org), sb::pg::uuid_datum(id)};
  TextRows found = spi_query(find_reservation_query, args, nullptr, ReadMode::read_write);
  if (found.count == 0)
    throw sb::Error("P0002", "reservation not found",
                    "No reservation of this organization has the id " + sb::to_string(id) + ".");
  Reservation r;
  r.feature = found.at(0, 0);
  r.period_start = to_int(found.at(0, 1));
  *key = CounterKey{org, r.feature, sb::pg::Window{r.period_start, r.period_start}};
  *usage = lock_counter(*key, expired);
  TextRows locked = spi_query(lock_reservation_query, args, nullptr, ReadMode::read_write);
  r.quantity = to_int(locked.at(0, 0));
  r.status = locked.at(0, 1);
  r.result = locked.at(0, 2) ? locked.at(0, 2) : "";
  r.settled = to_int(locked.at(0, 3));
  return r;
}

void finish_reservation(const sb::Uuid& org, const sb::Uuid& id, const char* status,
                        std::optional<int64_t> settled, const std::string& json) {
  Datum args[5] = {sb::pg::uuid_datum(org), sb::pg::uuid_datum(id), sb::pg::text_datum(status),
                   Int64GetDatum(settled.value_or(0)), sb::pg::text_datum(json)};
  char nulls[6] = "     ";
  if (!settled) nulls[3] = 'n';
  spi_query(finish_reservation_query, args, nulls, ReadMode::read_write);
}

// The limit in force for the reservation's feature now (for the answer; settling is not refused).
std::optional<sb::ent::Grant> current_grant(const sb::Uuid& org, const std::string& feature) {
  Evaluation e = sb::pg::evaluate(org, feature, 0);
  return e.decision.grant;
}

std::string settle_json(const sb::Uuid& id, const char* reason, int64_t settled, int64_t overage,
                        const sb::pg::Usage& u, const std::optional<sb::ent::Grant>& g) {
  sb::JsonWriter w;
  w.begin_object().field("ok", true);
  w.key("reason").string(reason);
  w.key("reservationId").string(sb::to_string(id));
  w.field("settledQuantity", std::optional<int64_t>(settled));
  w.field("used", std::optional<int64_t>(u.used));
  w.field("overage", std::optional<int64_t>(overage));
  w.field("limitExceeded", g && g->limit && u.used + u.reserved > *g->limit);
  w.end_object();
  return w.text();
}

}  // namespace

// Ensures: the reservation is replaced by the real quantity (once; a repeat returns the answer).
SB_FUNCTION(sb_settle_reservation) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  sb::Uuid id = sb::pg::uuid_arg(fcinfo, 1, "reservation_id");
  int64_t actual = sb::pg::positive_arg(fcinfo, 2, "actual_quantity", true);
  sb::pg::require_role(org, sb::Role::agent);
  CounterKey key;
  sb::pg::Usage u;
  int64_t expired = 0;
  Reservation r = lock_reservation(org, id, &key, &u, &expired);
  if (r.status == "settled") {
    if (r.settled != actual)
      throw sb::Error("23505", "reservation already settled with another quantity",
                      "It was settled with " + std::to_string(r.settled) + "; this call gives " +
                          std::to_string(actual) + ".");
    write_counter(key, 0, -expired, 0);
    return sb::pg::jsonb_datum(sb::mark_replayed(r.result));
  }
  if (r.status == "released")
    throw sb::Error("22023", "reservation was released",
                    "Reservation " + sb::to_string(id) + " was released before it was settled.");
  int64_t held = r.status == "active" ? r.quantity : 0;  // an expired one was given back already
  std::optional<sb::ent::Grant> g = current_grant(org, r.feature);
  int64_t taken = u.used + u.reserved - held;
  int64_t wanted = sb::ent::checked_sum(
      "usage is out of range for bigint",
      {{"used", u.used}, {"other reservations", u.reserved - held}, {"actual_quantity", actual}});
  int64_t overage = 0;
  if (g && g->limit && g->mode == sb::ent::Mode::soft)
    overage = std::max<int64_t>(0, wanted - std::max(*g->limit, taken));
  write_counter(key, actual, -held - expired, overage);
  u.used += actual;
  u.reserved -= held;
  std::string json = settle_json(id, "SETTLED", actual, overage, u, g);
  finish_reservation(org, id, "settled", actual, json);
  return sb::pg::jsonb_datum(json);
}

// Ensures: a live reservation gives its quantity back; releasing again changes nothing.
SB_FUNCTION(sb_release_reservation) {
  sb::Uuid org = sb::pg::uuid_arg(fcinfo, 0);
  sb::Uuid id = sb::pg::uuid_arg(fcinfo, 1, "reservation_id");
  sb::pg::require_role(org, sb::Role::agent);
  CounterKey key;
  sb::pg::Usage u;
  int64_t expired = 0;
  Reservation r = lock_reservation(org, id, &key, &u, &expired);
  bool live = r.status == "active";
  write_counter(key, 0, -(live ? r.quantity : 0) - expired, 0);
  sb::JsonWriter w;
  w.begin_object().field("released", live);
  w.key("reason").string(live ? std::string("RELEASED") : "ALREADY_" + upper(r.status));
  w.key("reservationId").string(sb::to_string(id));
  w.field("quantity", std::optional<int64_t>(live ? r.quantity : 0));
  w.end_object();
  if (live) finish_reservation(org, id, "released", std::nullopt, w.text());
  return sb::pg::jsonb_datum(w.text());
}
