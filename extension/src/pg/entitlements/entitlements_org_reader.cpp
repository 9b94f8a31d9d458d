#include "pg/entitlements/entitlements_org_reader.hpp"

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_shards.hpp"
#include "pg/base/base_time.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "utils/inval.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

constexpr int kColumns = 9;

// Rows being collected, palloc'd, grown as needed.
struct Collector {
  TextRows* out;
  uint64 capacity;

  char** add_row() {
    if (out->count == capacity) {
      capacity *= 2;
      out->cells = static_cast<char**>(repalloc(out->cells, sizeof(char*) * capacity * kColumns));
    }
    char** row = out->cells + out->count * kColumns;
    for (int c = 0; c < kColumns; ++c) row[c] = nullptr;
    ++out->count;
    return row;
  }
};

char* int_text(int64 v) {
  return psprintf(INT64_FORMAT, v);
}

char* text_of(Datum d) {
  return TextDatumGetCString(d);
}

// The value of column `name` of `tuple`, or nullptr for NULL.
bool column(HeapTuple tuple, Relation rel, const char* name, Datum* value) {
  bool isnull = false;
  AttrNumber att = get_attnum(RelationGetRelid(rel), name);
  if (att == InvalidAttrNumber) elog(ERROR, "switchboard: column %s is missing", name);
  *value = heap_getattr(tuple, att, RelationGetDescr(rel), &isnull);
  return !isnull;
}

char* text_column(HeapTuple t, Relation rel, const char* name) {
  Datum d;
  return column(t, rel, name, &d) ? text_of(d) : nullptr;
}

char* time_column(HeapTuple t, Relation rel, const char* name) {
  Datum d;
  return column(t, rel, name, &d) ? int_text(to_unix(DatumGetTimestampTz(d))) : nullptr;
}

// Calls `each` for every row of `where` (a table and its index) whose column `key_column` equals
// `org`.
template <typename Each>
void scan_org(OrgRelation where, const char* key_column, pg_uuid_t* org, Snapshot snapshot,
              Each each) {
  Relation rel = table_open(where.table, AccessShareLock);
  ScanKeyData key;
  ScanKeyInit(&key, get_attnum(RelationGetRelid(rel), key_column), BTEqualStrategyNumber, F_UUID_EQ,
              UUIDPGetDatum(org));
  SysScanDesc scan = systable_beginscan(rel, where.index, true, snapshot, 1, &key);
  HeapTuple tuple;
  while (HeapTupleIsValid(tuple = systable_getnext(scan))) each(tuple, rel);
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
}

// One 'e' row per bit set in effective_features (the feature's bit number).
void add_feature_bits(Collector& rows, Datum features) {
  bytea* bits = DatumGetByteaPP(features);
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(VARDATA_ANY(bits));
  int n = VARSIZE_ANY_EXHDR(bits);
  for (int bit = 0; bit < n * 8; ++bit) {
    if (!(bytes[bit / 8] & (1 << (bit % 8)))) continue;
    char** row = rows.add_row();
    row[0] = pstrdup("e");
    row[1] = psprintf("%d", bit);
  }
}

// Copies `grant`'s limit, period and mode into row cells 2 to 4.
void copy_limit(char** row, JsonbContainer* grant) {
  JsonbValue v;
  if (JsonbValue* limit = getKeyJsonValueFromContainer(grant, "limit", 5, &v))
    if (limit->type == jbvNumeric)
      row[2] =
          DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(limit->val.numeric)));
  if (JsonbValue* period = getKeyJsonValueFromContainer(grant, "period", 6, &v))
    if (period->type == jbvString)
      row[3] = pnstrdup(period->val.string.val, period->val.string.len);
  if (JsonbValue* mode = getKeyJsonValueFromContainer(grant, "mode", 4, &v))
    if (mode->type == jbvString) row[4] = pnstrdup(mode->val.string.val, mode->val.string.len);
}

// One 'l' row per grant in effective_limits: (feature, limit, period, mode).
void add_limits(Collector& rows, Datum limits) {
  Jsonb* jb = DatumGetJsonbP(limits);
  if (!JB_ROOT_IS_OBJECT(jb)) return;
  JsonbIterator* it = JsonbIteratorInit(&jb->root);
  JsonbValue v;
  JsonbIteratorToken token;
  char* key = nullptr;
  while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
    if (token == WJB_KEY) key = pnstrdup(v.val.string.val, v.val.string.len);
    if (token != WJB_VALUE || v.type != jbvBinary || !key) continue;
    char** row = rows.add_row();
    row[0] = pstrdup("l");
    row[1] = key;
    copy_limit(row, v.val.binary.data);
  }
}

// The subscription's grants: effective_features, with limits from effective_limits.
void add_grants(Collector& rows, HeapTuple t, Relation rel) {
  Datum d;
  if (column(t, rel, "effective_features", &d)) add_feature_bits(rows, d);
  if (column(t, rel, "effective_limits", &d)) add_limits(rows, d);
}

// Fills the head row (row 0) from the subscription and adds its grants.
void add_subscription(Collector& rows, HeapTuple t, Relation rel) {
  char** head = rows.out->cells;
  head[2] = text_column(t, rel, "tier");
  head[3] = text_column(t, rel, "status");
  head[4] = time_column(t, rel, "trial_ends_at");
  head[5] = time_column(t, rel, "current_period_start");
  head[6] = time_column(t, rel, "current_period_end");
  head[7] = text_column(t, rel, "billing_cycle");
  add_grants(rows, t, rel);
}

void add_override(Collector& rows, HeapTuple t, Relation rel) {
  char** row = rows.add_row();
  Datum d;
  row[0] = pstrdup("v");
  row[1] = text_column(t, rel, "feature");
  row[2] = pstrdup(column(t, rel, "enabled", &d) && DatumGetBool(d) ? "t" : "f");
  row[3] = column(t, rel, "usage_limit", &d) ? int_text(DatumGetInt64(d)) : nullptr;
  row[4] = text_column(t, rel, "limit_mode");
  row[5] = time_column(t, rel, "expires_at");
  row[6] = text_column(t, rel, "source");
}

// The relations read_rows reads for one organisation.
struct OrgTables {
  OrgRelation organizations, subscriptions, overrides;
};

void read_rows(pg_uuid_t* org, const OrgTables& tables, TextRows* out) {
  AcceptInvalidationMessages();
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  out->columns = kColumns;
  out->cells = static_cast<char**>(palloc0(sizeof(char*) * 16 * kColumns));
  Collector rows{out, 16};
  char** head = nullptr;
  scan_org(tables.organizations, "id", org, snapshot, [&](HeapTuple t, Relation rel) {
    head = rows.add_row();
    head[0] = pstrdup("o");
    head[1] = text_column(t, rel, "timezone");
  });
  if (head) {
    scan_org(tables.subscriptions, "org_id", org, snapshot,
             [&](HeapTuple t, Relation rel) { add_subscription(rows, t, rel); });
    scan_org(tables.overrides, "org_id", org, snapshot,
             [&](HeapTuple t, Relation rel) { add_override(rows, t, rel); });
  }
  UnregisterSnapshot(snapshot);
}

// Finds the counter row and copies its three counts.
void read_usage(OrgRelation where, pg_uuid_t* org, text* feature, TimestampTz start, bool* found,
                int64* out) {
  Relation rel = table_open(where.table, AccessShareLock);
  Oid relid = RelationGetRelid(rel);
  ScanKeyData keys[3];
  ScanKeyInit(&keys[0], get_attnum(relid, "org_id"), BTEqualStrategyNumber, F_UUID_EQ,
              UUIDPGetDatum(org));
  ScanKeyEntryInitialize(&keys[1], 0, get_attnum(relid, "feature"), BTEqualStrategyNumber,
                         InvalidOid, DEFAULT_COLLATION_OID, F_TEXTEQ, PointerGetDatum(feature));
  ScanKeyInit(&keys[2], get_attnum(relid, "period_start"), BTEqualStrategyNumber, F_TIMESTAMPTZ_EQ,
              TimestampTzGetDatum(start));
  SysScanDesc scan = systable_beginscan(rel, where.index, true, GetActiveSnapshot(), 3, keys);
  HeapTuple tuple = systable_getnext(scan);
  *found = HeapTupleIsValid(tuple);
  const char* names[3] = {"used", "reserved", "overage"};
  for (int i = 0; *found && i < 3; ++i) {
    Datum d;
    out[i] = column(tuple, rel, names[i], &d) ? DatumGetInt64(d) : 0;
  }
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
}

}  // namespace

bool read_usage_row(const Uuid& org, std::string_view feature, int64_t period_start,
                    int64_t out[3]) {
  pg_uuid_t key;
  memcpy(key.data, org.bytes.data(), 16);
  bool found = false;
  int64 counts[3] = {0, 0, 0};
  OrgRelation where = org_relation(OrgTable::feature_usage, key);
  guard([&] {
    text* name = cstring_to_text_with_len(feature.data(), static_cast<int>(feature.size()));
    read_usage(where, &key, name, from_unix(period_start), &found, counts);
  });
  for (int i = 0; i < 3; ++i) out[i] = counts[i];
  return found;
}

TextRows read_org_rows(const Uuid& org) {
  pg_uuid_t key;
  memcpy(key.data, org.bytes.data(), 16);
  TextRows rows;
  OrgTables tables{org_relation(OrgTable::organizations, key),
                   org_relation(OrgTable::subscriptions, key),
                   org_relation(OrgTable::feature_overrides, key)};
  guard([&] { read_rows(&key, tables, &rows); });
  return rows;
}

}  // namespace sb::pg
