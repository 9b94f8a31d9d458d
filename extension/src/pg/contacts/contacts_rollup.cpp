// The call rollups (calls by outcome and hour, with cost, in switchboard.contact_metrics) kept in
// step with switchboard.calls by one C++ trigger function, _calls_rollup: for inserted and
// deleted calls a statement trigger that reads the transition table here, in C++ (no query reads
// it: on Citus the trigger runs on a shard, where a write into a distributed table cannot read the
// trigger's tuplestore), and for a call whose outcome, start or cost changed a row trigger. The
// deltas are summed per (organisation, hour, dimension) and written one upsert per key, in key
// order, so concurrent writers never deadlock; a key that nets to nothing is not written.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_store.hpp"

#include <array>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "core/base/base_error.hpp"

extern "C" {
#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace {

using sb::pg::Query;
using sb::pg::ReadMode;

Query add_metric_query = {
    "insert into switchboard.contact_metrics as m (org_id, hour, metric, dimension, count, amount)"
    " values ($1, $2, 'calls', $3, $4, $5)"
    " on conflict (org_id, hour, metric, dimension) do update"
    " set count = m.count OPERATOR(pg_catalog.+) excluded.count,"
    " amount = m.amount OPERATOR(pg_catalog.+) excluded.amount",
    5,
    {UUIDOID, TIMESTAMPTZOID, TEXTOID, INT8OID, NUMERICOID}};

Query organization_exists_query = {
    "select 1 from switchboard.organizations g where g.id OPERATOR(pg_catalog.=) $1", 1, {UUIDOID}};

// A rollup bucket: organisation (uuid bytes, compared as uuid_cmp does), UTC hour, dimension.
using Bucket = std::tuple<std::array<unsigned char, UUID_LEN>, TimestampTz, std::string>;

// What a bucket gains: calls and their cost.
struct Delta {
  int64 count = 0;
  Datum amount = 0;  // numeric, 0 while nothing was added
};

// The attribute numbers of the columns a call's bucket is read from.
struct CallColumns {
  int org_id, started_at, created_at, outcome, cost;

  explicit CallColumns(TupleDesc desc) {
    sb::pg::guard([&] {
      org_id = SPI_fnumber(desc, "org_id");
      started_at = SPI_fnumber(desc, "started_at");
      created_at = SPI_fnumber(desc, "created_at");
      outcome = SPI_fnumber(desc, "outcome");
      cost = SPI_fnumber(desc, "cost");
    });
    for (int n : {org_id, started_at, created_at, outcome, cost})
      if (n <= 0) throw sb::Error("XX000", "switchboard.calls lacks a column the rollups read");
  }
};

// The start of the UTC hour of `t` (date_trunc('hour', t, 'UTC')); infinities stay as they are.
TimestampTz utc_hour(TimestampTz t) {
  if (TIMESTAMP_NOT_FINITE(t)) return t;
  return t - ((t % USECS_PER_HOUR) + USECS_PER_HOUR) % USECS_PER_HOUR;
}

// The deltas of one trigger call, in key order.
class CallRollup {
 public:
  explicit CallRollup(TupleDesc desc) : columns_(desc) {}

  // Ensures: the call of `slot` counts `sign` (1 or -1) times in its bucket, with its cost.
  void add(TupleTableSlot* slot, int sign) {
    Bucket bucket;
    Datum cost = 0;
    bool cost_null = true;
    sb::pg::guard([&] {
      bool null = false;
      Datum org = slot_getattr(slot, columns_.org_id, &null);
      if (!null) std::memcpy(std::get<0>(bucket).data(), DatumGetUUIDP(org)->data, UUID_LEN);
      Datum at = slot_getattr(slot, columns_.started_at, &null);
      if (null) at = slot_getattr(slot, columns_.created_at, &null);
      std::get<1>(bucket) = utc_hour(null ? 0 : DatumGetTimestampTz(at));
      Datum outcome = slot_getattr(slot, columns_.outcome, &null);
      std::get<2>(bucket) = null ? "open" : TextDatumGetCString(outcome);
      cost = slot_getattr(slot, columns_.cost, &cost_null);
      if (!cost_null && sign < 0) cost = DirectFunctionCall1(numeric_uminus, cost);
    });
    Delta& delta = deltas_[bucket];
    delta.count += sign;
    if (cost_null) return;
    sb::pg::guard([&] {  // the slot's values last until its next row: the sum is a copy
      delta.amount = delta.amount ? DirectFunctionCall2(numeric_add, delta.amount, cost)
                                  : datumCopy(cost, false, -1);
    });
  }

  // Ensures: every bucket's delta is added to contact_metrics, in key order; buckets that net to
  // nothing and, when `skip_deleted_orgs`, those of organisations that no longer exist are not.
  void write(bool skip_deleted_orgs) {
    Datum zero = 0;
    sb::pg::guard([&] { zero = DirectFunctionCall1(int8_numeric, Int64GetDatum(0)); });
    std::optional<std::array<unsigned char, UUID_LEN>> checked;
    bool exists = true;
    for (auto& [bucket, delta] : deltas_) {
      Datum amount = delta.amount ? delta.amount : zero;
      if (delta.count == 0 && is_zero(amount, zero)) continue;
      Datum org = PointerGetDatum(std::get<0>(bucket).data());
      if (skip_deleted_orgs && checked != std::get<0>(bucket)) {
        checked = std::get<0>(bucket);
        exists =
            sb::pg::spi_query(organization_exists_query, &org, nullptr, ReadMode::read_write).count;
      }
      if (!exists) continue;
      Datum args[5] = {org, TimestampTzGetDatum(std::get<1>(bucket)),
                       sb::pg::text_datum(std::get<2>(bucket)), Int64GetDatum(delta.count), amount};
      sb::pg::spi_query(add_metric_query, args, nullptr, ReadMode::read_write);
    }
  }

  // Ensures: the rows of transition table `rows` count `sign` times each.
  void add_all(Tuplestorestate* rows, TupleDesc desc, int sign) {
    TupleTableSlot* slot = nullptr;
    sb::pg::guard([&] {
      slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
      int reader = tuplestore_alloc_read_pointer(rows, EXEC_FLAG_REWIND);
      tuplestore_select_read_pointer(rows, reader);
      tuplestore_rescan(rows);
    });
    for (;;) {
      sb::pg::check_for_interrupts();
      bool more = false;
      sb::pg::guard([&] { more = tuplestore_gettupleslot(rows, true, false, slot); });
      if (!more) break;
      add(slot, sign);
    }
    sb::pg::guard([&] { ExecDropSingleTupleTableSlot(slot); });
  }

  // Ensures: the old row of an update counts -1 and the new one +1.
  void add_change(HeapTuple before, HeapTuple after, TupleDesc desc) {
    TupleTableSlot* slot = nullptr;
    sb::pg::guard([&] { slot = MakeSingleTupleTableSlot(desc, &TTSOpsHeapTuple); });
    for (auto [tuple, sign] : {std::pair{before, -1}, std::pair{after, 1}}) {
      sb::pg::guard([&] { ExecStoreHeapTuple(tuple, slot, false); });
      add(slot, sign);
    }
    sb::pg::guard([&] { ExecDropSingleTupleTableSlot(slot); });
  }

 private:
  // True when numeric `amount` is zero.
  static bool is_zero(Datum amount, Datum zero) {
    int cmp = 0;
    sb::pg::guard([&] { cmp = DatumGetInt32(DirectFunctionCall2(numeric_cmp, amount, zero)); });
    return cmp == 0;
  }

  CallColumns columns_;
  std::map<Bucket, Delta> deltas_;
};

}  // namespace

// _calls_rollup() trigger: AFTER INSERT (REFERENCING NEW TABLE) and AFTER DELETE (REFERENCING
// OLD TABLE) for each statement, AFTER UPDATE for each row (its WHEN: outcome, start or cost
// changed). Calls deleted with their organisation leave no rollup behind (its rollups go with it).
SB_FUNCTION(sb_calls_rollup) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw sb::Error("39P01", "_calls_rollup() must be called as a trigger");
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  TupleDesc desc = RelationGetDescr(trigger->tg_relation);
  CallRollup rollup(desc);
  TriggerEvent event = trigger->tg_event;
  if (TRIGGER_FIRED_BY_UPDATE(event) && TRIGGER_FIRED_FOR_ROW(event))
    rollup.add_change(trigger->tg_trigtuple, trigger->tg_newtuple, desc);
  else if (TRIGGER_FIRED_BY_INSERT(event) && trigger->tg_newtable)
    rollup.add_all(trigger->tg_newtable, desc, 1);
  else if (TRIGGER_FIRED_BY_DELETE(event) && trigger->tg_oldtable)
    rollup.add_all(trigger->tg_oldtable, desc, -1);
  else
    throw sb::Error("39P01", "_calls_rollup() fired for an event it does not roll up");
  rollup.write(TRIGGER_FIRED_BY_DELETE(event));
  return PointerGetDatum(nullptr);
}
