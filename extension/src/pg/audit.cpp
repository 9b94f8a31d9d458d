// The audit trigger of subscriptions and feature overrides: for each statement, one audit row per
// changed row (who, when, before, after), written in the same transaction. C++ formats the rows
// straight from the transition tables and writes each batch with one insert.
#include <string>
#include <vector>

#include "boundary.hpp"
#include "claims.hpp"
#include "store.hpp"
#include "time.hpp"

#include "../core/json_writer.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/tuptable.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace {

using sb::pg::Query;

constexpr int kBatch = 1000;

// How a column's value goes into JSON.
enum class Kind { skip, boolean, number, json, time, string };

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
    case NUMERICOID:
      return Kind::number;
    case JSONBOID:
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

// One batch of rows read from a transition table: org ids and each audited value as text
// (nullptr for NULL; timestamps as Unix microseconds), palloc'd.
struct RawBatch {
  int rows = 0;
  pg_uuid_t* orgs = nullptr;
  bool* restored = nullptr;  // last updated before this transaction: written back, not changed
  char** cells = nullptr;
};

void read_batch(Tuplestorestate* store, TupleTableSlot* slot, const Layout& l, RawBatch* b) {
  size_t n = l.attnums.size();
  b->orgs = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t) * kBatch));
  b->restored = static_cast<bool*>(palloc0(sizeof(bool) * kBatch));
  TimestampTz start = GetCurrentTransactionStartTimestamp();
  b->cells = static_cast<char**>(palloc0(sizeof(char*) * kBatch * (n + 1)));
  b->rows = 0;
  while (b->rows < kBatch && tuplestore_gettupleslot(store, true, false, slot)) {
    bool isnull = false;
    Datum org = slot_getattr(slot, l.org, &isnull);
    memcpy(&b->orgs[b->rows], DatumGetUUIDP(org), sizeof(pg_uuid_t));
    if (l.updated) {
      Datum at = slot_getattr(slot, l.updated, &isnull);
      b->restored[b->rows] = !isnull && DatumGetTimestampTz(at) < start;
    }
    for (size_t c = 0; c < n; ++c) {
      Datum v = slot_getattr(slot, l.attnums[c], &isnull);
      char** cell = &b->cells[b->rows * n + c];
      if (isnull) continue;
      *cell = l.kinds[c] == Kind::time
                  ? psprintf(INT64_FORMAT, sb::pg::to_unix(DatumGetTimestampTz(v)))
                  : OutputFunctionCall(&l.out[c], v);
    }
    ++b->rows;
  }
}

std::string row_json(const Layout& l, char** cells) {
  sb::JsonWriter w;
  w.begin_object();
  for (size_t c = 0; c < l.attnums.size(); ++c) {
    w.key(l.keys[c]);
    const char* v = cells[c];
    if (!v) {
      w.null();
      continue;
    }
    switch (l.kinds[c]) {
      case Kind::boolean:
        w.boolean(v[0] == 't');
        break;
      case Kind::number:
      case Kind::json:
        w.raw_number(v);
        break;
      case Kind::time:
        w.string(sb::iso8601_utc(std::strtoll(v, nullptr, 10)));
        break;
      default:
        w.string(v);
    }
  }
  w.end_object();
  return w.text();
}

struct AuditedRow {
  sb::Uuid org;
  bool restored = false;
  std::string json;
};

// Reads every row of a transition table, in batches.
std::vector<AuditedRow> rows_of(Tuplestorestate* store, const Layout& l) {
  std::vector<AuditedRow> out;
  if (!store) return out;
  TupleTableSlot* slot = nullptr;
  sb::pg::guard([&] {
    slot = MakeSingleTupleTableSlot(l.desc, &TTSOpsMinimalTuple);
    tuplestore_rescan(store);
  });
  for (;;) {
    RawBatch b;
    sb::pg::guard([&] { read_batch(store, slot, l, &b); });
    for (int r = 0; r < b.rows; ++r)
      out.push_back(AuditedRow{sb::Uuid::from_raw(b.orgs[r].data), b.restored[r],
                               row_json(l, b.cells + r * l.attnums.size())});
    if (b.rows < kBatch) break;
  }
  sb::pg::guard([&] { ExecDropSingleTupleTableSlot(slot); });
  return out;
}

Query insert_query = {
    "insert into switchboard.entitlement_audit "
    "(org_id, entity, action, actor_user, actor_role, before, after) "
    "select t.o, $4, $5, switchboard.current_user_id(), "
    "coalesce(nullif(current_setting('role'), 'none'), session_user::text), t.b::jsonb, t.a::jsonb "
    "from unnest($1::uuid[], $2::text[], $3::text[]) as t (o, b, a)",
    5,
    {UUIDARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID}};

struct Entry {
  sb::Uuid org;
  std::string before, after;  // empty = NULL
};

// Writes `entries[from, to)` with one insert.
void write_batch(const std::vector<Entry>& entries, size_t from, size_t to, const char* entity,
                 const char* action) {
  Datum args[5];
  char nulls[6] = "     ";
  sb::pg::guard([&] {
    int n = static_cast<int>(to - from);
    Datum* orgs = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
    Datum* before = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
    Datum* after = static_cast<Datum*>(palloc(sizeof(Datum) * (n + 1)));
    bool* before_null = static_cast<bool*>(palloc0(sizeof(bool) * (n + 1)));
    bool* after_null = static_cast<bool*>(palloc0(sizeof(bool) * (n + 1)));
    int dims[1] = {n}, lbs[1] = {1};
    for (int i = 0; i < n; ++i) {
      const Entry& e = entries[from + i];
      pg_uuid_t* u = static_cast<pg_uuid_t*>(palloc(sizeof(pg_uuid_t)));
      memcpy(u->data, e.org.bytes.data(), 16);
      orgs[i] = UUIDPGetDatum(u);
      before_null[i] = e.before.empty();
      after_null[i] = e.after.empty();
      before[i] = before_null[i] ? 0 : CStringGetTextDatum(e.before.c_str());
      after[i] = after_null[i] ? 0 : CStringGetTextDatum(e.after.c_str());
    }
    args[0] = PointerGetDatum(construct_array(orgs, n, UUIDOID, 16, false, TYPALIGN_CHAR));
    args[1] = PointerGetDatum(
        construct_md_array(before, before_null, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    args[2] = PointerGetDatum(
        construct_md_array(after, after_null, 1, dims, lbs, TEXTOID, -1, false, TYPALIGN_INT));
    args[3] = CStringGetTextDatum(entity);
    args[4] = CStringGetTextDatum(action);
  });
  sb::pg::spi_query(insert_query, args, nulls, sb::pg::ReadMode::read_write);
}

// The audit entries of one statement. An update that changes no audited field is no change, and
// an inserted row last updated before this transaction is being restored (pg_restore), not made.
std::vector<Entry> entries_of(TriggerData* data, const Layout& l) {
  std::vector<Entry> out;
  auto olds = rows_of(data->tg_oldtable, l);
  auto news = rows_of(data->tg_newtable, l);
  if (TRIGGER_FIRED_BY_INSERT(data->tg_event))
    for (auto& n : news)
      if (!n.restored) out.push_back({n.org, "", std::move(n.json)});
  if (TRIGGER_FIRED_BY_DELETE(data->tg_event))
    for (auto& o : olds) out.push_back({o.org, std::move(o.json), ""});
  if (TRIGGER_FIRED_BY_UPDATE(data->tg_event))  // transition tables keep the rows in step
    for (size_t i = 0; i < olds.size() && i < news.size(); ++i)
      if (olds[i].json != news[i].json)
        out.push_back({news[i].org, std::move(olds[i].json), std::move(news[i].json)});
  return out;
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
  std::vector<Entry> entries = entries_of(data, l);
  for (size_t from = 0; from < entries.size(); from += kBatch)
    write_batch(entries, from, std::min(entries.size(), from + kBatch), entity, action);
  return PointerGetDatum(nullptr);
}
