// The sync trigger: every subscription row carries what its tier and add-ons grant
// (effective_features: a bitmap over features.bit; effective_limits: the metered grants),
// computed from the catalog when the row is written.
#include <cerrno>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "pg/base/base_boundary.hpp"
#include "pg/entitlements/entitlements_store.hpp"
#include "pg/base/base_store.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/uuid.h"
}

namespace {

// The add-ons of a row as read from jsonb, in palloc'd memory.
struct RawAddons {
  int count = 0;
  char** keys = nullptr;
  int* kinds = nullptr;      // 0 = true, 1 = false, 2 = number, 3 = anything else
  char** numbers = nullptr;  // the numbers' text
};

void read_addons(Jsonb* jb, RawAddons* out) {
  int n = JB_ROOT_COUNT(jb);
  out->keys = static_cast<char**>(palloc0(sizeof(char*) * (n + 1)));
  out->kinds = static_cast<int*>(palloc0(sizeof(int) * (n + 1)));
  out->numbers = static_cast<char**>(palloc0(sizeof(char*) * (n + 1)));
  JsonbIterator* it = JsonbIteratorInit(&jb->root);
  JsonbValue v;
  JsonbIteratorToken token;
  while ((token = JsonbIteratorNext(&it, &v, true)) != WJB_DONE) {
    if (token == WJB_KEY) {
      out->keys[out->count] = pnstrdup(v.val.string.val, v.val.string.len);
    } else if (token == WJB_VALUE) {
      int& kind = out->kinds[out->count];
      kind = v.type == jbvBool ? (v.val.boolean ? 0 : 1) : v.type == jbvNumeric ? 2 : 3;
      if (kind == 2)
        out->numbers[out->count] =
            DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v.val.numeric)));
      ++out->count;
    }
  }
}

// A non-negative whole number of units written as `text`, or nothing; 22003 naming the add-on
// when it is a whole number beyond the bigint range.
std::optional<int64_t> whole_units(const char* key, const char* text) {
  if (!text || !*text || *text == '-') return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  if (*end != '\0') return std::nullopt;
  if (errno == ERANGE)
    throw sb::Error("22003", "add-on is out of range for bigint",
                    std::string("Add-on \"") + key + "\" has the value " + text + ".",
                    "An add-on adds at most 9223372036854775807 units.");
  if (errno != 0) return std::nullopt;
  return value;
}

std::map<std::string, sb::ent::AddonValue> addons_of(Datum addons) {
  RawAddons raw;
  bool is_object = true;
  sb::pg::guard([&] {
    Jsonb* jb = DatumGetJsonbP(addons);
    is_object = JB_ROOT_IS_OBJECT(jb) && !JB_ROOT_IS_SCALAR(jb);
    if (is_object) read_addons(jb, &raw);
  });
  if (!is_object) throw sb::Error("22023", "add-ons must be a json object");
  std::map<std::string, sb::ent::AddonValue> out;
  for (int i = 0; i < raw.count; ++i) {
    if (raw.kinds[i] == 1) continue;
    std::optional<int64_t> units =
        raw.kinds[i] == 2 ? whole_units(raw.keys[i], raw.numbers[i]) : std::nullopt;
    if (raw.kinds[i] == 3 || (raw.kinds[i] == 2 && !units))
      throw sb::Error("22023", "invalid add-on value",
                      std::string("Add-on \"") + raw.keys[i] +
                          "\" is neither true nor a non-negative whole number.",
                      "Use true to grant a feature or a non-negative whole number of units.");
    out[raw.keys[i]] = sb::ent::AddonValue{raw.kinds[i] == 0, units.value_or(0)};
  }
  return out;
}

// The effective columns as Datums, cached per tier for rows without add-ons.
struct TierDatums {
  Datum features = 0;
  Datum limits = 0;
};

MemoryContext datum_context = nullptr;
std::unordered_map<std::string, TierDatums>& tier_datums() {
  static std::unordered_map<std::string, TierDatums> cache;
  return cache;
}

void clear_tier_datums() noexcept {
  tier_datums().clear();
  if (datum_context) MemoryContextReset(datum_context);
}

// Builds the two column values for `grants` in `context`.
TierDatums build_datums(const std::map<std::string, sb::ent::Grant>& grants,
                        const sb::ent::Catalog& catalog, MemoryContext context) {
  std::string limits = sb::ent::limits_json(grants, catalog);
  std::string bits = catalog.bitmap_of(grants);
  TierDatums out;
  sb::pg::guard([&] {
    MemoryContext old = MemoryContextSwitchTo(context);
    bytea* bitmap = static_cast<bytea*>(palloc(VARHDRSZ + bits.size()));
    SET_VARSIZE(bitmap, VARHDRSZ + bits.size());
    memcpy(VARDATA(bitmap), bits.data(), bits.size());
    out.features = PointerGetDatum(bitmap);
    out.limits = DirectFunctionCall1(jsonb_in, CStringGetDatum(limits.c_str()));
    MemoryContextSwitchTo(old);
  });
  return out;
}

int cache_id();

// The catalog, reloaded when it does not know `tier` yet: a tier renamed earlier in this very
// statement (ON UPDATE CASCADE) is only announced to the caches at its end.
std::shared_ptr<const sb::ent::Catalog> catalog_knowing(const std::string& tier) {
  std::shared_ptr<const sb::ent::Catalog> catalog = sb::pg::catalog();
  if (catalog->tier(tier)) return catalog;
  sb::pg::forget_catalog();
  clear_tier_datums();
  return sb::pg::catalog();
}

TierDatums effective_datums(const std::string& tier, Datum addons) {
  std::shared_ptr<const sb::ent::Catalog> catalog = catalog_knowing(tier);
  std::map<std::string, sb::ent::AddonValue> extra = addons_of(addons);
  if (!extra.empty())
    return build_datums(sb::ent::effective_grants(*catalog, tier, extra), *catalog,
                        CurrentMemoryContext);
  auto hit = tier_datums().find(tier);
  if (hit != tier_datums().end()) return hit->second;
  if (!datum_context)
    sb::pg::guard([] {
      datum_context =
          AllocSetContextCreate(TopMemoryContext, "switchboard tier grants", ALLOCSET_SMALL_SIZES);
    });
  bool keep = false;
  std::map<std::string, sb::ent::Grant> grants = sb::pg::load_for_cache(
      cache_id(), [&] { return sb::ent::effective_grants(*catalog, tier, extra); }, &keep);
  if (!keep) return build_datums(grants, *catalog, CurrentMemoryContext);
  TierDatums built = build_datums(grants, *catalog, datum_context);
  tier_datums()[tier] = built;
  return built;
}

int cache_id() {
  static const int id =
      sb::pg::register_cache({"features", "plan_tiers", "plan_tier_features"}, clear_tier_datums);
  return id;
}

// Column numbers of subscriptions' tier, addons, effective_features and effective_limits.
struct Columns {
  Oid relid = InvalidOid;
  int org = 0, tier = 0, addons = 0, features = 0, limits = 0;
};

const Columns& columns_of(Relation rel) {
  static Columns c;
  if (c.relid == RelationGetRelid(rel)) return c;
  sb::pg::guard([&] {
    TupleDesc desc = RelationGetDescr(rel);
    c.org = SPI_fnumber(desc, "org_id");
    c.tier = SPI_fnumber(desc, "tier");
    c.addons = SPI_fnumber(desc, "addons");
    c.features = SPI_fnumber(desc, "effective_features");
    c.limits = SPI_fnumber(desc, "effective_limits");
  });
  if (c.org <= 0 || c.tier <= 0 || c.addons <= 0 || c.features <= 0 || c.limits <= 0)
    throw sb::Error("42703", "subscriptions table lacks a column the sync trigger needs");
  c.relid = RelationGetRelid(rel);
  return c;
}

}  // namespace

// Ensures: the new subscription row's effective columns match its tier and add-ons now.
SB_FUNCTION(sb_sync_subscription) {
  if (!CALLED_AS_TRIGGER(fcinfo)) throw sb::Error("39P01", "sync must be called as a trigger");
  auto* data = reinterpret_cast<TriggerData*>(fcinfo->context);
  cache_id();
  HeapTuple row = TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : data->tg_trigtuple;
  const Columns& c = columns_of(data->tg_relation);
  TupleDesc desc = RelationGetDescr(data->tg_relation);
  char* tier = nullptr;
  bool isnull = false, org_null = false;
  Datum addons = 0, org = 0;
  sb::pg::guard([&] {
    tier = SPI_getvalue(row, desc, c.tier);
    addons = SPI_getbinval(row, desc, c.addons, &isnull);
    org = SPI_getbinval(row, desc, c.org, &org_null);
  });
  if (!tier || isnull) throw sb::Error("23502", "subscription tier and addons must not be null");
  if (!org_null) sb::pg::organization_changed(sb::Uuid::from_raw(DatumGetUUIDP(org)->data));
  TierDatums d = effective_datums(tier, addons);
  int cols[2] = {c.features, c.limits};
  Datum values[2] = {d.features, d.limits};
  bool nulls[2] = {false, false};
  HeapTuple result = nullptr;
  sb::pg::guard([&] { result = heap_modify_tuple_by_cols(row, desc, 2, cols, values, nulls); });
  return PointerGetDatum(result);
}

// Ensures: the organisation of the changed row (column TG_ARGV[0]) is reloaded by every backend
// once this transaction commits (row trigger on the tables an organisation's state comes from).
SB_FUNCTION(sb_organization_changed) {
  if (!CALLED_AS_TRIGGER(fcinfo)) throw sb::Error("39P01", "must be called as a trigger");
  auto* data = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (data->tg_trigger->tgnargs < 1) throw sb::Error("39P01", "the trigger needs a column name");
  TupleDesc desc = RelationGetDescr(data->tg_relation);
  HeapTuple rows[2] = {data->tg_trigtuple,
                       TRIGGER_FIRED_BY_UPDATE(data->tg_event) ? data->tg_newtuple : nullptr};
  for (HeapTuple row : rows) {
    if (!row) continue;
    bool isnull = true;
    Datum org = 0;
    sb::pg::guard([&] {
      int column = SPI_fnumber(desc, data->tg_trigger->tgargs[0]);
      if (column <= 0) elog(ERROR, "switchboard: no column %s", data->tg_trigger->tgargs[0]);
      org = SPI_getbinval(row, desc, column, &isnull);
    });
    if (!isnull) sb::pg::organization_changed(sb::Uuid::from_raw(DatumGetUUIDP(org)->data));
  }
  return PointerGetDatum(nullptr);
}
