#include "pg/base/base_shards.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_store.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
}

namespace sb::pg {
namespace {

struct Shard {
  int32 low;
  int32 high;
  std::string suffix;   // "_<shardid>"
  OrgRelation found{};  // the shard's table and index here, once looked up
};

// How Citus places one table: no shards (not a Citus table), one shard (reference or Citus local
// table) or hash ranges ordered by their low end; `whole` is the table itself when it has none.
struct Placement {
  bool loaded = false;
  bool hashed = false;
  std::vector<Shard> shards;
  OrgRelation whole{};
};

struct TableNames {
  const char* table;
  const char* index;
};
constexpr TableNames kNames[] = {{"organizations", "organizations_pkey"},
                                 {"subscriptions", "subscriptions_one_per_org"},
                                 {"feature_overrides", "feature_overrides_one_per_feature"},
                                 {"feature_usage", "feature_usage_period_key"},
                                 {"calendars", "calendars_pkey"},
                                 {"appointments", "appointments_calendar_starts_idx"},
                                 {"organization_members", "organization_members_user_key"},
                                 {"member_defaults", "member_defaults_pkey"}};
static_assert(sizeof(kNames) / sizeof(kNames[0]) == static_cast<size_t>(OrgTable::count));

Placement placements[static_cast<int>(OrgTable::count)];

void clear_placements() noexcept {
  for (Placement& p : placements) p = Placement{};
}

// Cleared on any invalidation of these tables: Citus invalidates a table when its shards change.
int placement_cache() {
  static int id =
      register_cache({"organizations", "organization_members", "subscriptions", "feature_overrides",
                      "feature_usage", "calendars", "appointments", "member_defaults"},
                     clear_placements);
  return id;
}

Query shard_query{
    "SELECT p.partmethod::pg_catalog.text, s.shardid::pg_catalog.text, s.shardminvalue,"
    "       s.shardmaxvalue"
    "  FROM pg_catalog.pg_dist_partition p"
    "  LEFT JOIN pg_catalog.pg_dist_shard s ON s.logicalrelid OPERATOR(pg_catalog.=) p.logicalrelid"
    " WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1",
    1,
    {OIDOID}};

Oid switchboard_relid(const std::string& name) {
  Oid relid = InvalidOid;
  guard([&] { relid = get_relname_relid(name.c_str(), get_namespace_oid("switchboard", false)); });
  return relid;
}

bool citus_present() {
  Oid relid = InvalidOid;
  guard([&] { relid = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE); });
  return OidIsValid(relid);
}

Placement load_placement(const char* table) {
  Placement placement;
  placement.loaded = true;
  Oid relid = switchboard_relid(table);
  if (!OidIsValid(relid)) throw Error("XX000", std::string("switchboard.") + table + " is missing");
  if (!citus_present()) return placement;
  Datum arg = ObjectIdGetDatum(relid);
  TextRows rows = spi_query(shard_query, &arg, " ", ReadMode::fresh);
  for (uint64 r = 0; r < rows.count; ++r) {
    if (!rows.at(r, 1)) continue;
    placement.hashed = rows.at(r, 0)[0] == 'h';
    int32 low = rows.at(r, 2) ? static_cast<int32>(std::strtol(rows.at(r, 2), nullptr, 10)) : 0;
    int32 high = rows.at(r, 3) ? static_cast<int32>(std::strtol(rows.at(r, 3), nullptr, 10)) : 0;
    placement.shards.push_back(Shard{low, high, std::string("_") + rows.at(r, 1)});
  }
  std::sort(placement.shards.begin(), placement.shards.end(),
            [](const Shard& a, const Shard& b) { return a.low < b.low; });
  return placement;
}

// The placement of `table`, read once per backend until an invalidation clears it (a placement
// read while an invalidation raced is used by this call only).
Placement& placement_of(OrgTable table) {
  Placement& cached = placements[static_cast<int>(table)];
  if (cached.loaded) return cached;
  bool keep = false;
  Placement placement = load_for_cache(
      placement_cache(), [&] { return load_placement(kNames[static_cast<int>(table)].table); },
      &keep);
  if (keep) return cached = std::move(placement);
  static Placement once;
  return once = std::move(placement);
}

// The relation (`found`, looked up by name once) holding `suffix` ("" for the table itself).
OrgRelation& resolve(OrgTable table, const std::string& suffix, OrgRelation& found) {
  if (!OidIsValid(found.table) || !OidIsValid(found.index)) {
    const TableNames& names = kNames[static_cast<int>(table)];
    found = {switchboard_relid(names.table + suffix), switchboard_relid(names.index + suffix)};
  }
  return found;
}

// The relation holding `org` in `placement`: the table itself when it is not a Citus table.
OrgRelation& relation_for(OrgTable table, Placement& placement, const pg_uuid_t& org) {
  if (placement.shards.empty()) return resolve(table, "", placement.whole);
  if (!placement.hashed)
    return resolve(table, placement.shards.front().suffix, placement.shards.front().found);
  int32 hash = 0;
  guard([&] {
    hash =
        DatumGetInt32(DirectFunctionCall1(uuid_hash, UUIDPGetDatum(const_cast<pg_uuid_t*>(&org))));
  });
  for (Shard& shard : placement.shards)
    if (hash >= shard.low && hash <= shard.high) return resolve(table, shard.suffix, shard.found);
  throw Error("XX000", "switchboard: no shard covers the organization's hash value");
}

}  // namespace

OrgRelation org_relation(OrgTable table, const pg_uuid_t& org) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    OrgRelation found = relation_for(table, placement_of(table), org);
    if (OidIsValid(found.table) && OidIsValid(found.index)) return found;
    clear_placements();  // a shard moved or was split since the placement was read: read it again
  }
  throw Error("0A000", "the organization's rows are on another node",
              std::string("Its rows of table switchboard.") +
                  kNames[static_cast<int>(table)].table + " are on another node.",
              "Call the function through the Citus coordinator, which delegates it to the node "
              "holding the organization.");
}

bool org_rows_here(const pg_uuid_t& org) {
  Placement& placement = placement_of(OrgTable::members);
  if (!placement.hashed) return true;
  OrgRelation found = relation_for(OrgTable::members, placement, org);
  return OidIsValid(found.table) && OidIsValid(found.index);
}

bool table_hashed(OrgTable table) {
  return placement_of(table).hashed;
}

std::vector<Oid> local_shards(OrgTable table) {
  std::vector<Oid> here;
  Placement& placement = placement_of(table);
  if (!placement.hashed) return here;
  for (Shard& shard : placement.shards) {
    OrgRelation& found = resolve(table, shard.suffix, shard.found);
    if (OidIsValid(found.table)) here.push_back(found.table);
  }
  return here;
}

bool citus_internal_backend() {
  return application_name && std::strncmp(application_name, "citus_internal", 14) == 0;
}

const char* carried_caller_role() {
  if (!citus_internal_backend()) return nullptr;
  const char* carried = nullptr;
  guard([&] { carried = GetConfigOption("switchboard.caller_role", true, false); });
  return carried && *carried ? carried : nullptr;
}

const char* shard_table_name(OrgTable table) {
  return kNames[static_cast<int>(table)].table;
}

Oid logical_table(Oid relid) {
  Oid logical = relid;
  guard([&] {
    const char* name = get_rel_name(relid);
    if (!name || get_rel_namespace(relid) != get_namespace_oid("switchboard", true)) return;
    const char* cut = strrchr(name, '_');
    if (!cut || cut[1] == '\0' || strspn(cut + 1, "0123456789") != strlen(cut + 1)) return;
    char* base = pnstrdup(name, cut - name);
    Oid base_relid = get_relname_relid(base, get_rel_namespace(relid));
    if (OidIsValid(base_relid)) logical = base_relid;
  });
  return logical;
}

}  // namespace sb::pg

// switchboard._is_shard(relid oid): whether `relid` is a Citus shard of a switchboard table (the
// one check a trigger makes to tell a shard from its logical table).
SB_FUNCTION(sb_is_shard) {
  Oid relid = PG_GETARG_OID(0);
  return BoolGetDatum(sb::pg::logical_table(relid) != relid);
}

// switchboard._local_shards(tbl regclass): the shards of a hash-distributed switchboard table
// that this node holds (empty on a server without Citus); 22023 for a table the C++ readers do not
// place.
SB_FUNCTION(sb_local_shards) {
  Oid relid = PG_GETARG_OID(0);
  std::string name;
  sb::pg::guard([&] {
    const char* found = get_rel_name(relid);
    if (found) name = found;
  });
  std::vector<Oid> shards;
  bool known = false;
  for (int t = 0; t < static_cast<int>(sb::pg::OrgTable::count) && !known; ++t) {
    if (name != sb::pg::shard_table_name(static_cast<sb::pg::OrgTable>(t))) continue;
    known = true;
    shards = sb::pg::local_shards(static_cast<sb::pg::OrgTable>(t));
  }
  if (!known)
    throw sb::Error("22023", "table has no shard placement in switchboard",
                    "Table with OID " + std::to_string(relid) +
                        " is none of the tables the C++ readers place.");
  std::vector<Datum> items;
  for (Oid shard : shards) items.push_back(ObjectIdGetDatum(shard));
  Datum result = 0;
  sb::pg::guard([&] {
    result = PointerGetDatum(construct_array(items.data(), static_cast<int>(items.size()), OIDOID,
                                             sizeof(Oid), true, TYPALIGN_INT));
  });
  return result;
}
