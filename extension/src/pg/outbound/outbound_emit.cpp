// emit_event in C++. Each call checks its arguments, the caller's role and the event type (a
// cached catalog, which also says whether the type is explicit-only), writes the message body
// (the bytes every delivery sends) and keeps the event in this transaction's memory; just before
// the transaction commits (or prepares), one prepared statement writes every event it kept: the
// messages and their fan-out to the endpoints that want them, in emitting order. A rolled-back
// transaction or savepoint drops its events with it. An event with an idempotency key is written at
// once (with the events kept before it), so that a concurrent use of the key waits for it. So is
// every event of a session Citus opened (a call it delegated to this node): at its pre-commit the
// delegated call is over, and Citus refuses a write to a distributed table from there.
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/base/base_json_writer.hpp"
#include "core/outbound/outbound_events.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_shards.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"
#include "pg/outbound/outbound_emit.hpp"
#include "pg/outbound/outbound_worker.hpp"
#include "pg/tenancy/tenancy_access.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace {

using sb::Error;
using sb::pg::Query;
using sb::pg::ReadMode;
using sb::pg::TextRows;

// $1 org, $2 event type, $3 new message id, $4 body, $5 idempotency key. Returns the id of the
// message inserted (no row when the key was used before). This, endpoints_query and
// delivery_query are plain statements, not one with data-modifying CTEs or an INSERT ... SELECT:
// Citus router-plans each of them on the node holding the organisation, but planned the CTEs
// recursively through intermediate results (about 28 ms a call) and refuses the INSERT ... SELECT
// in a trigger on a shard ("cannot execute a distributed query from a query on a shard").
Query message_query = {
    "insert into switchboard.webhook_messages as m"
    "  (org_id, id, event_type, body, idempotency_key) values ($1, $3, $2, $4, $5)"
    "  on conflict (org_id, idempotency_key) where idempotency_key is not null do nothing"
    "  returning m.id",
    5,
    {UUIDOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}};

// $1 org, $2 event type, $3 explicit-only: the enabled endpoints of the organisation that want
// the type, in id order.
Query endpoints_query = {
    "select e.id from switchboard.webhook_endpoints e"
    " where e.org_id OPERATOR(pg_catalog.=) $1 and e.enabled"
    " and switchboard._event_type_matches(e.event_types, $2, $3) order by e.id",
    3,
    {UUIDOID, TEXTOID, BOOLOID}};

// $1 org, $2 message id, $3 endpoint id: the message queued for the endpoint.
Query delivery_query = {
    "insert into switchboard.webhook_deliveries (org_id, message_id, endpoint_id)"
    " values ($1, $2, $3::pg_catalog.uuid)",
    3,
    {UUIDOID, TEXTOID, TEXTOID}};

// The message id the idempotency key of the organisation was first used for.
Query first_id_query = {
    "select m.id from switchboard.webhook_messages m where m.org_id OPERATOR(pg_catalog.=) $1"
    " and m.idempotency_key OPERATOR(pg_catalog.=) $2",
    2,
    {UUIDOID, TEXTOID}};

// The events kept by this transaction ($1 orgs, $2 types, $3 message ids, $4 bodies, $5
// explicit-only flags, in emitting order): their messages and deliveries (whose seq follows the
// emitting order). Returns how many deliveries were queued.
Query flush_query = {
    "with e as (select * from rows from (pg_catalog.unnest($1::pg_catalog.uuid[]),"
    "  pg_catalog.unnest($2::pg_catalog.text[]), pg_catalog.unnest($3::pg_catalog.text[]),"
    "  pg_catalog.unnest($4::pg_catalog.text[]), pg_catalog.unnest($5::pg_catalog.bool[]))"
    "  with ordinality as e(org_id, event_type, id, body, explicit_only, i)),"
    " m as (insert into switchboard.webhook_messages (org_id, id, event_type, body)"
    "  select e.org_id, e.id, e.event_type, e.body from e),"
    " d as (insert into switchboard.webhook_deliveries (org_id, message_id, endpoint_id)"
    "  select e.org_id, e.id, w.id from e"
    "  join switchboard.webhook_endpoints w on w.org_id OPERATOR(pg_catalog.=) e.org_id"
    "  and w.enabled and switchboard._event_type_matches(w.event_types, e.event_type,"
    "  e.explicit_only) order by e.i, w.id returning 1)"
    " select pg_catalog.count(*) from d",
    5,
    {UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, BOOLARRAYOID}};

Query event_types_query = {"select t.name, t.explicit_only from switchboard.event_types t", 0, {}};

// The event types and whether each is explicit-only (a backend cache, cleared when event_types
// changes).
std::unordered_map<std::string, bool>* event_types = nullptr;

void forget_event_types() noexcept {
  delete event_types;
  event_types = nullptr;
}

int event_types_cache() {
  static int id = sb::pg::register_cache({"event_types"}, forget_event_types);
  return id;
}

// The event types, loaded when the cache was cleared.
const std::unordered_map<std::string, bool>& event_types_now(
    std::unique_ptr<std::unordered_map<std::string, bool>>* transient) {
  if (event_types) return *event_types;
  bool keep = false;
  auto loaded = sb::pg::load_for_cache(
      event_types_cache(),
      [] {
        auto types = std::make_unique<std::unordered_map<std::string, bool>>();
        TextRows rows = sb::pg::spi_query(event_types_query, nullptr, nullptr, ReadMode::fresh);
        for (uint64 r = 0; r < rows.count; ++r)
          (*types)[rows.at(r, 0)] = std::string_view(rows.at(r, 1)) == "t";
        return types;
      },
      &keep);
  if (!keep) {
    *transient = std::move(loaded);
    return **transient;
  }
  event_types = loaded.release();
  return *event_types;
}

// Ensures: the type is in switchboard.event_types (22023 naming it otherwise); returns whether
// it is explicit-only.
bool check_event_type(const std::string& type) {
  std::unique_ptr<std::unordered_map<std::string, bool>> transient;
  const auto& types = event_types_now(&transient);
  auto found = types.find(type);
  if (found == types.end())
    throw Error("22023", "unknown event type", "event type: " + type,
                "a name from switchboard.event_types");
  return found->second;
}

// An event kept until the transaction commits: Datums copied into the transaction's memory.
struct Kept {
  Datum org, type, id, body;
  bool explicit_only;
  SubTransactionId subtransaction;
};
std::vector<Kept> kept;

// A copy of the organisation id in the top transaction's memory (kept until it ends).
Datum kept_uuid(Datum value) {
  Datum out = 0;
  sb::pg::guard([&] {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    out = datumCopy(value, false, UUID_LEN);
    MemoryContextSwitchTo(old);
  });
  return out;
}

// A one-dimensional array Datum of the kept events' field (`field` picks it).
template <typename Field>
Datum kept_array(Field field, Oid type, int length, bool by_value, char align) {
  std::vector<Datum> items;
  items.reserve(kept.size());
  for (const Kept& k : kept) items.push_back(field(k));
  Datum out = 0;
  sb::pg::guard([&] {
    out = PointerGetDatum(construct_array(items.data(), static_cast<int>(items.size()), type,
                                          length, by_value, align));
  });
  return out;
}

// Ensures: every kept event is written (messages and deliveries) and forgotten; the worker is
// woken at commit when deliveries were queued.
void write_kept() {
  if (kept.empty()) return;
  Datum args[5] = {
      kept_array([](const Kept& k) { return k.org; }, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR),
      kept_array([](const Kept& k) { return k.type; }, TEXTOID, -1, false, TYPALIGN_INT),
      kept_array([](const Kept& k) { return k.id; }, TEXTOID, -1, false, TYPALIGN_INT),
      kept_array([](const Kept& k) { return k.body; }, TEXTOID, -1, false, TYPALIGN_INT),
      kept_array([](const Kept& k) { return BoolGetDatum(k.explicit_only); }, BOOLOID, 1, true,
                 TYPALIGN_CHAR)};
  kept.clear();
  // At pre-commit no statement's snapshot is active: this write takes its own (an error aborts
  // the transaction, which pops it).
  bool pushed = false;
  sb::pg::guard([&] {
    if (!ActiveSnapshotSet()) PushActiveSnapshot(GetTransactionSnapshot()), pushed = true;
  });
  TextRows rows = sb::pg::spi_query(flush_query, args, nullptr, ReadMode::read_write);
  if (pushed) sb::pg::guard([] { PopActiveSnapshot(); });
  if (std::string_view(rows.at(0, 0)) != "0") sb::pg::wake_worker_at_commit();
}

// Transaction events: the kept events are written just before commit (or prepare) and dropped
// when the transaction ends.
void on_xact(XactEvent event) {
  if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
      event == XACT_EVENT_PRE_PREPARE) {
    write_kept();
    return;
  }
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT ||
      event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
      event == XACT_EVENT_PREPARE)
    kept.clear();
}

void forget_kept(XactEvent) noexcept {
  kept.clear();
}

// A rolled-back savepoint drops the events kept since it began (subtransaction ids grow, so those
// are the ones with its id or a greater one).
void on_subxact(SubXactEvent event) noexcept {
  if (event != SUBXACT_EVENT_ABORT_SUB) return;
  SubTransactionId aborted = GetCurrentSubTransactionId();
  while (!kept.empty() && kept.back().subtransaction >= aborted) kept.pop_back();
}

void forget_kept_sub(SubXactEvent) noexcept {
  kept.clear();
}

constexpr int kMaxKeyCharacters = 200;  // webhook_messages_idempotency_key_check

// Ensures: a key, when given, has 1 to 200 characters (22023 naming it otherwise).
void check_idempotency_key(FunctionCallInfo fcinfo, int n) {
  if (PG_ARGISNULL(n)) return;
  std::string_view key = sb::pg::text_arg(fcinfo, n);
  int characters = 0;
  sb::pg::guard(
      [&] { characters = pg_mbstrlen_with_len(key.data(), static_cast<int>(key.size())); });
  if (characters < 1 || characters > kMaxKeyCharacters)
    throw Error("22023", "invalid idempotency key", "idempotency_key: \"" + std::string(key) + "\"",
                "1 to 200 characters");
}

// A fresh message id: msg_ and 32 hex digits, the first 12 the milliseconds since 1970 (so ids
// follow time, and the outbox's keys take new ids near each other), the other 20 (80 bits) from
// the strong random source.
std::string new_message_id() {
  unsigned char raw[16];
  uint64 millis = static_cast<uint64>(sb::pg::to_unix(GetCurrentTimestamp()) / 1000);
  for (int i = 5; i >= 0; --i, millis >>= 8) raw[i] = static_cast<unsigned char>(millis & 0xff);
  bool ok = false;
  sb::pg::guard([&] { ok = pg_strong_random(raw + 6, sizeof raw - 6); });
  if (!ok) throw Error("XX000", "could not generate random bytes for a message id");
  static const char hex[] = "0123456789abcdef";
  std::string id = "msg_";
  for (unsigned char b : raw) id += hex[b >> 4], id += hex[b & 15];
  return id;
}

// The body every delivery of the event sends: jsonb's text of {type, timestamp, data} (its key
// order and spacing), the timestamp the transaction's start as answer_time writes it. The type
// needs no escaping (event_types_name_check allows lowercase letters, digits, _ and . only).
std::string message_body(const std::string& type, Datum payload) {
  std::string body = "{\"data\": ";
  sb::pg::guard([&] {
    Jsonb* jsonb = DatumGetJsonbP(payload);
    body += JsonbToCString(nullptr, &jsonb->root, VARSIZE(jsonb));
  });
  body += ", \"type\": \"" + type + "\", \"timestamp\": \"";
  body += sb::answer_time(sb::pg::transaction_now()) + "\"}";
  return body;
}

// A text Datum of `value` in the top transaction's memory.
Datum kept_text(const std::string& value) {
  Datum out = 0;
  sb::pg::guard([&] {
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    out = PointerGetDatum(cstring_to_text_with_len(value.data(), static_cast<int>(value.size())));
    MemoryContextSwitchTo(old);
  });
  return out;
}

// Ensures: the event is in the organisation's outbox and queued for every enabled endpoint that
// wants it, delivered after this transaction commits; returns the message id (the first one's
// for a key used before, queuing nothing). Arguments: org_id, event_type, payload, key.
Datum emit(FunctionCallInfo fcinfo) {
  sb::pg::require_arg(fcinfo, 0, "org_id");
  sb::pg::require_arg(fcinfo, 1, "event_type");
  sb::pg::require_arg(fcinfo, 2, "payload");
  check_idempotency_key(fcinfo, 3);
  std::string type(sb::pg::text_arg(fcinfo, 1));
  bool explicit_only = check_event_type(type);
  std::string id = new_message_id();
  std::string body = message_body(type, PG_GETARG_DATUM(2));
  if (PG_ARGISNULL(3) && !sb::pg::citus_internal_backend()) {
    kept.push_back(Kept{kept_uuid(PG_GETARG_DATUM(0)), kept_text(type), kept_text(id),
                        kept_text(body), explicit_only, GetCurrentSubTransactionId()});
    return sb::pg::text_datum(id);
  }
  write_kept();  // the events before this one keep their order
  Datum args[5] = {PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), sb::pg::text_datum(id),
                   sb::pg::text_datum(body), PG_ARGISNULL(3) ? Datum(0) : PG_GETARG_DATUM(3)};
  char nulls[6] = "     ";
  if (PG_ARGISNULL(3)) nulls[4] = 'n';
  TextRows rows = sb::pg::spi_query(message_query, args, nulls, ReadMode::read_write);
  if (rows.count == 0) {
    Datum key_args[2] = {args[0], args[4]};
    TextRows first = sb::pg::spi_query(first_id_query, key_args, nullptr, ReadMode::read_write);
    return sb::pg::text_datum(first.at(0, 0));
  }
  Datum endpoint_args[3] = {args[0], args[1], BoolGetDatum(explicit_only)};
  TextRows endpoints =
      sb::pg::spi_query(endpoints_query, endpoint_args, nullptr, ReadMode::read_write);
  for (uint64 r = 0; r < endpoints.count; ++r) {
    Datum delivery_args[3] = {args[0], args[2], sb::pg::text_datum(endpoints.at(r, 0))};
    sb::pg::spi_query(delivery_query, delivery_args, nullptr, ReadMode::read_write);
  }
  if (endpoints.count > 0) sb::pg::wake_worker_at_commit();
  return sb::pg::text_datum(id);
}

// The elements of a text[] argument (NULL elements left out).
std::vector<std::string_view> text_array_arg(FunctionCallInfo fcinfo, int n) {
  Datum* items = nullptr;
  bool* item_nulls = nullptr;
  int count = 0;
  sb::pg::guard([&] {
    deconstruct_array(PG_GETARG_ARRAYTYPE_P(n), TEXTOID, -1, false, TYPALIGN_INT, &items,
                      &item_nulls, &count);
  });
  std::vector<std::string_view> out;
  for (int i = 0; i < count; ++i) {
    if (item_nulls[i]) continue;
    text* t = reinterpret_cast<text*>(DatumGetPointer(items[i]));
    out.emplace_back(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
  }
  return out;
}

}  // namespace

namespace sb::pg {

void init_outbound_emit() {
  register_xact_handler("outbound emit", on_xact, forget_kept);
  register_subxact_handler("outbound emit subxact", on_subxact, forget_kept_sub);
}

}  // namespace sb::pg

// switchboard._emit_event(org_id, event_type, payload, idempotency_key): no permission check (the
// capabilities call it for their built-in events).
SB_FUNCTION(sb_emit_event_unchecked) {
  return emit(fcinfo);
}

// switchboard.emit_event(org_id, event_type, payload, idempotency_key): as _emit_event, for
// admins and owners of the organisation and the service role (42501 otherwise).
SB_FUNCTION(sb_emit_event) {
  sb::pg::require_arg(fcinfo, 0, "org_id");
  sb::pg::assert_role(sb::pg::uuid_arg(fcinfo, 0), sb::Role::admin);
  return emit(fcinfo);
}

// switchboard._event_type_matches(filters text[], event_type text, explicit_only boolean): whether
// an endpoint with these filters wants the type (NULL filters: every type).
SB_FUNCTION(sb_event_type_matches) {
  if (PG_ARGISNULL(1)) PG_RETURN_BOOL(false);
  bool every_type = PG_ARGISNULL(0);
  std::vector<std::string_view> filters;
  if (!every_type) filters = text_array_arg(fcinfo, 0);
  bool explicit_only = !PG_ARGISNULL(2) && PG_GETARG_BOOL(2);
  PG_RETURN_BOOL(sb::outbound::event_type_wanted(every_type, filters, sb::pg::text_arg(fcinfo, 1),
                                                 explicit_only));
}
