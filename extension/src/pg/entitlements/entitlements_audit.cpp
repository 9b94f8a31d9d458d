// The audit trigger of subscriptions and feature overrides: for each statement, one audit row per
// changed row (who, when, before, after), written in the same transaction. C++ builds the jsonb
// straight from the transition tables and writes each batch with one insert.
#include <cstring>
#include <string>
#include <vector>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_shards.hpp"
#include "pg/tenancy/tenancy_claims.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"

#include "core/base/base_json_writer.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace {

using sb::pg::Query;

constexpr int kBatch = 1000;

// How a column's value goes into JSON.
enum class Kind { skip, boolean, integer, numeric, json, jsonb, time, string };

Kind kind_of(Form_pg_attribute att) {
  static const char* kSkipped[] = {"org_id", "created_at", "updated_at", "effective_features",
                                   "effective_limits"};
  if (att->attisdropped) return Kind::skip;
  for (const char* name : kSkipped)
    if (strcmp(NameStr(att->attname), name) == 0) return Kind::skip;
  switch (att->atttypid) {
    case BOOLOID:
      return Kind::boolean;
    case INT2OID:
    case INT4OID:
    case INT8OID:
      return Kind::integer;
    case NUMERICOID:
      return Kind::numeric;
    case JSONBOID:
      return Kind::jsonb;
    case JSONOID:
      return Kind::json;
    case TIMESTAMPTZOID:
      return Kind::time;
    default:
      return Kind::string;
  }
}

// A column's name in camelCase (billing_cycle -> billingCycle).
std::string camel(const char* name) {
  std::string out;
  for (bool upper = false; *name; ++name) {
    if (*name == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(toupper(*name)) : *name);
    upper = false;
  }
  return out;
}

// The columns of the audited table, resolved once per statement.
struct Layout {
  TupleDesc desc = nullptr;
  int org = 0;      // attribute number of org_id
  int updated = 0;  // attribute number of updated_at
  std::vector<int> attnums;
  std::vector<Kind> kinds;
  std::vector<std::string> keys;
  FmgrInfo* out = nullptr;  // output functions, palloc'd, by position in attnums
};

Layout layout_of(Relation rel) {
  Layout l;
  l.desc = RelationGetDescr(rel);
  for (int i = 0; i < l.desc->natts; ++i) {
    Form_pg_attribute att = TupleDescAttr(l.desc, i);
    if (strcmp(NameStr(att->attname), "org_id") == 0) l.org = i + 1;
    if (strcmp(NameStr(att->attname), "updated_at") == 0) l.updated = i + 1;
    Kind k = kind_of(att);
    if (k == Kind::skip) continue;
    l.attnums.push_back(i + 1);
    l.kinds.push_back(k);
    l.keys.push_back(camel(NameStr(att->attname)));
  }
  if (l.org == 0) throw sb::Error("42703", "audited table has no org_id column");
  std::vector<Oid> types;
  for (int a : l.attnums) types.push_back(TupleDescAttr(l.desc, a - 1)->atttypid);
  sb::pg::guard([&] {
    l.out = static_cast<FmgrInfo*>(palloc0(sizeof(FmgrInfo) * (types.size() + 1)));
    for (size_t i = 0; i < types.size(); ++i) {
      Oid fn;
      bool varlena;
      getTypeOutputInfo(types[i], &fn, &varlena);
      fmgr_info(fn, &l.out[i]);
    }
  });
  return l;
}

// A transition table being read, one row at a time.
struct Cursor {
  Tuplestorestate* store = nullptr;
  TupleTableSlot* slot = nullptr;
};

// Ensures: the next row of `c` is in its slot; false at the end (or without a table).
bool next_row(Cursor& c) {
  return c.store && tuplestore_gettupleslot(c.store, true, false, c.slot);
}

// Adds one column value to the object being built in `state`.
void push_value(JsonbParseState** state, Kind kind, FmgrInfo* out, Datum v) {
  JsonbValue jv;
  switch (kind) {
    case Kind::boolean:
      jv.type = jbvBool;
      jv.val.boolean = DatumGetBool(v);
      break;
    case Kind::integer:  // int2 and int4 Datums are sign-extended: read as int8
      jv.type = jbvNumeric;
      jv.val.numeric = int64_to_numeric(DatumGetInt64(v));
      break;
    case Kind::numeric:
      jv.type = jbvNumeric;
      jv.val.numeric = DatumGetNumeric(v);
      break;
    case Kind::json:
    case Kind::jsonb: {
      Jsonb* jb = kind == Kind::jsonb ? DatumGetJsonbP(v)
                                      : DatumGetJsonbP(DirectFunctionCall1(
                                            jsonb_in, CStringGetDatum(TextDatumGetCString(v))));
      jv.type = jbvBinary;
      jv.val.binary.data = &jb->root;
      jv.val.binary.len = VARSIZE(jb) - VARHDRSZ;
      break;
    }
    case Kind::time: {
      char* text = static_cast<char*>(palloc(sb::kIso8601Size));
      sb::iso8601_utc(sb::pg::to_unix(DatumGetTimestampTz(v)), text);
      jv.type = jbvString;
      jv.val.string.val = text;
      jv.val.string.len = static_cast<int>(strlen(text));
      break;
    }
    default: {
      char* text = OutputFunctionCall(out, v);
      jv.type = jbvString;
      jv.val.string.val = text;
      jv.val.string.len = static_cast<int>(strlen(text));
    }
  }
  pushJsonbValue(state, WJB_VALUE, &jv);
}

// The audited columns of the row in `slot` as one jsonb object (camelCase keys).
Datum row_jsonb(const Layout& l, TupleTableSlot* slot) {
  JsonbParseState* state = nullptr;
  pushJsonbValue(&state, WJB_BEGIN_OBJECT, nullptr);
  for (size_t c = 0; c < l.attnums.size(); ++c) {
    JsonbValue key;
    key.type = jbvString;
    key.val.string.val = const_cast<char*>(l.keys[c].c_str());
    key.val.string.len = static_cast<int>(l.keys[c].size());
    pushJsonbValue(&state, WJB_KEY, &key);
    bool isnull = false;
    Datum v = slot_getattr(slot, l.attnums[c], &isnull);
    if (isnull) {
      JsonbValue null_value;
      null_value.type = jbvNull;
      pushJsonbValue(&state, WJB_VALUE, &null_value);
    } else {
      push_value(&state, l.kinds[c], &l.out[c], v);
    }
  }
  return JsonbPGetDatum(JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, nullptr)));
}

bool same_jsonb(Datum a, Datum b) {
  return VARSIZE(DatumGetPointer(a)) == VARSIZE(DatumGetPointer(b)) &&
         memcmp(DatumGetPointer(a), DatumGetPointer(b), VARSIZE(DatumGetPointer(a))) == 0;
}

// Up to kBatch audit rows, palloc'd in the batch's memory context.
struct Batch {
  int rows = 0;
  bool done = false;  // the transition tables are exhausted
  Datum orgs[kBatch];
  Datum before[kBatch], after[kBatch];
  bool before_null[kBatch], after_null[kBatch];
};

Datum org_of(const Layout& l, TupleTableSlot* slot) {
  bool isnull = false;
  pg_uuid_t* u = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
  memcpy(u, DatumGetUUIDP(slot_getattr(slot, l.org, &isnull)), sizeof(pg_uuid_t));
  return UUIDPGetDatum(u);
}

// An inserted row last updated before this transaction is being restored (pg_restore), not made.
// A row Citus routed here from the coordinator carries the coordinator's now(), earlier than this
// node's transaction start (a citus_internal_backend: that node's clock and transaction), and is
// made, not restored.
bool restored(const Layout& l, TupleTableSlot* slot) {
  if (!l.updated || sb::pg::citus_internal_backend()) return false;
  bool isnull = false;
  Datum at = slot_getattr(slot, l.updated, &isnull);
  return !isnull && DatumGetTimestampTz(at) < GetCurrentTransactionStartTimestamp();
}

// Ensures: `b` holds the next audit rows of the statement. An update that changes no audited
// field is no change. Call inside sb::pg::guard (a cancel raises).
void fill_batch(uint32 event, const Layout& l, Cursor& olds, Cursor& news, Batch* b) {
  b->rows = 0;
  while (b->rows < kBatch) {
    CHECK_FOR_INTERRUPTS();
    bool has_old = !TRIGGER_FIRED_BY_INSERT(event) && next_row(olds);
    bool has_new = !TRIGGER_FIRED_BY_DELETE(event) && next_row(news);
    if (!has_old && !has_new) {
      b->done = true;
      return;
    }
    if (!has_old && restored(l, news.slot)) continue;
    int r = b->rows;
    b->before_null[r] = !has_old;
    b->after_null[r] = !has_new;
    b->before[r] = has_old ? row_jsonb(l, olds.slot) : 0;
    b->after[r] = has_new ? row_jsonb(l, news.slot) : 0;
    if (has_old && has_new && same_jsonb(b->before[r], b->after[r])) continue;
    b->orgs[r] = org_of(l, has_new ? news.slot : olds.slot);
    ++b->rows;
  }
}

// The actor's role: the caller's as the coordinator carried it ($6) on a shard written in a session
// Citus opened (a SECURITY DEFINER function's statements reach it as the owner), else the SET ROLE
// role, else the session user.
Query insert_query = {
    "insert into switchboard.entitlement_audit "
    "(org_id, entity, action, actor_user, actor_role, before, after) "
    "select t.o, $4, $5, actor.u, actor.r, t.b, t.a "
    "from (select switchboard.current_user_id() as u, "
    "coalesce($6, nullif(pg_catalog.current_setting('role'), 'none'), "
    "session_user::pg_catalog.text) as r offset 0) actor, "
    "rows from (pg_catalog.unnest($1::pg_catalog.uuid[]), "
    "pg_catalog.unnest($2::pg_catalog.jsonb[]), "
    "pg_catalog.unnest($3::pg_catalog.jsonb[])) as t (o, b, a)",
    6,
    {UUIDARRAYOID, JSONBARRAYOID, JSONBARRAYOID, TEXTOID, TEXTOID, TEXTOID}};

// Writes the rows of `b` with one insert.
void write_batch(const Batch& b, const char* entity, const char* action) {
  Datum args[6];
  char nulls[7] = "      ";
  const char* carried = sb::pg::carried_caller_role();
  sb::pg::guard([&] {
    int dims[1] = {b.rows}, lbs[1] = {1};
    args[0] = PointerGetDatum(
        construct_array(const_cast<Datum*>(b.orgs), b.rows, UUIDOID, 16, false, TYPALIGN_CHAR));
    args[1] = PointerGetDatum(construct_md_array(const_cast<Datum*>(b.before),
                                                 const_cast<bool*>(b.before_null), 1, dims, lbs,
                                                 JSONBOID, -1, false, TYPALIGN_INT));
    args[2] = PointerGetDatum(construct_md_array(const_cast<Datum*>(b.after),
                                                 const_cast<bool*>(b.after_null), 1, dims, lbs,
                                                 JSONBOID, -1, false, TYPALIGN_INT));
    args[3] = CStringGetTextDatum(entity);
    args[4] = CStringGetTextDatum(action);
    args[5] = carried ? CStringGetTextDatum(carried) : 0;
  });
  if (!carried) nulls[5] = 'n';
  sb::pg::spi_query(insert_query, args, nulls, sb::pg::ReadMode::read_write);
}

// Ensures: every audit row of the statement is written, one batch at a time, each batch's
// memory released before the next.
void audit_statement(TriggerData* data, const Layout& l, const char* entity, const char* action) {
  Cursor olds{data->tg_oldtable}, news{data->tg_newtable};
  MemoryContext batch_memory = nullptr;
  Batch* b = nullptr;
  sb::pg::guard([&] {
    for (Cursor* c : {&olds, &news}) {
      if (!c->store) continue;
      c->slot = MakeSingleTupleTableSlot(l.desc, &TTSOpsMinimalTuple);
      tuplestore_rescan(c->store);
    }
    batch_memory =
        AllocSetContextCreate(CurrentMemoryContext, "switchboard audit", ALLOCSET_DEFAULT_SIZES);
    b = static_cast<Batch*>(palloc0(sizeof(Batch)));
  });
  while (!b->done) {
    sb::pg::guard([&] {
      MemoryContext caller = MemoryContextSwitchTo(batch_memory);
      fill_batch(data->tg_event, l, olds, news, b);
      MemoryContextSwitchTo(caller);
    });
    if (b->rows > 0) write_batch(*b, entity, action);
    sb::pg::guard([&] {  // a tuple read back from disk lives in the batch's memory
      for (Cursor* c : {&olds, &news})
        if (c->slot) ExecClearTuple(c->slot);
      MemoryContextReset(batch_memory);
    });
  }
  sb::pg::guard([&] {
    for (Cursor* c : {&olds, &news})
      if (c->slot) ExecDropSingleTupleTableSlot(c->slot);
    MemoryContextDelete(batch_memory);
  });
}

}  // namespace

// Ensures: one entitlement_audit row per changed row of this statement (statement trigger with
// transition tables; TG_ARGV[0] names the entity).
SB_FUNCTION(sb_audit_changes) {
  if (!CALLED_AS_TRIGGER(fcinfo)) throw sb::Error("39P01", "must be called as a trigger");
  auto* data = reinterpret_cast<TriggerData*>(fcinfo->context);
  const char* entity = data->tg_trigger->tgnargs > 0 ? data->tg_trigger->tgargs[0] : "unknown";
  const char* action = TRIGGER_FIRED_BY_INSERT(data->tg_event)   ? "insert"
                       : TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? "update"
                                                                 : "delete";
  Layout l = layout_of(data->tg_relation);
  audit_statement(data, l, entity, action);
  return PointerGetDatum(nullptr);
}
