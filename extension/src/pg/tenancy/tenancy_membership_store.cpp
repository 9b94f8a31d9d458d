#include "pg/tenancy/tenancy_membership_store.hpp"

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_shards.hpp"
#include "pg/tenancy/tenancy_claims.hpp"
#include "pg/base/base_store.hpp"

#include <string>
#include <unordered_map>

extern "C" {
#include "access/xact.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

constexpr std::size_t kCachedUsers = 1024;

MembershipCache& cache() {
  static MembershipCache instance(kCachedUsers);
  return instance;
}

void clear_cache() noexcept {
  cache().clear();
}

int cache_id() {
  static int id = register_cache({"organization_members"}, clear_cache);
  return id;
}

Query membership_query = {
    "select org_id, role::pg_catalog.text, is_default from switchboard.organization_members "
    "where user_id OPERATOR(pg_catalog.=) $1 order by created_at, org_id",
    1,
    {UUIDOID}};

Query org_membership_query = {
    "select role::pg_catalog.text from switchboard.organization_members "
    "where org_id OPERATOR(pg_catalog.=) $2 and user_id OPERATOR(pg_catalog.=) $1",
    2,
    {UUIDOID, UUIDOID}};

// The membership query over the shards of organization_members on this node (none: nothing).
Query* local_membership_query() {
  static std::unordered_map<std::string, Query> by_shards;  // few: the shards of one node
  std::string sql;
  guard([&] {
    for (Oid shard : local_shards(OrgTable::members))
      sql += std::string(sql.empty() ? "" : " union all ") +
             "select org_id, role, is_default, created_at from switchboard." +
             quote_identifier(get_rel_name(shard)) + " where user_id OPERATOR(pg_catalog.=) $1";
  });
  if (sql.empty()) return nullptr;
  sql = "select org_id, role::pg_catalog.text, is_default from (" + sql +
        ") m order by created_at, org_id";
  auto found = by_shards.find(sql);
  if (found == by_shards.end()) found = by_shards.emplace(sql, Query{nullptr, 1, {UUIDOID}}).first;
  found->second.sql = found->first.c_str();
  return &found->second;
}

// The query reading the caller's memberships: in a session Citus opened for a distributed
// transaction (a delegated call) over this node's shards of organization_members only, since
// Citus refuses a query over every shard there and only this node's changes clear this node's
// cache; nullptr when no shard is here.
Query* membership_query_here() {
  if (citus_internal_backend() && table_hashed(OrgTable::members)) return local_membership_query();
  return &membership_query;
}

// Ensures: the rows of `query` over the shards of a distributed organization_members read over one
// connection per node (citus.multi_shard_modify_mode 'sequential' for the read only). A parallel
// read there would make Citus refuse a later change of `organizations` in the transaction (a
// reference table the tenant tables have foreign keys to: "cannot modify table organizations
// because there was a parallel operation on a distributed table"), such as a member's UPDATE of
// it, whose policies read the caller's memberships first.
TextRows read_sequentially(Query& query, const Datum* args) {
  int nest_level = 0;
  guard([&] {
    nest_level = NewGUCNestLevel();
    set_config_option("citus.multi_shard_modify_mode", "sequential", PGC_USERSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
  });
  TextRows rows;
  try {
    rows = spi_query(query, args, nullptr, ReadMode::fresh);
  } catch (...) {
    guard([&] { AtEOXact_GUC(false, nest_level); });
    throw;
  }
  guard([&] { AtEOXact_GUC(true, nest_level); });
  return rows;
}

Memberships load_memberships(const Uuid& user) {
  pg_uuid_t key;
  memcpy(key.data, user.bytes.data(), 16);
  Datum args[1] = {UUIDPGetDatum(&key)};
  Query* query = membership_query_here();
  if (!query) return {};
  TextRows rows = query == &membership_query && table_hashed(OrgTable::members)
                      ? read_sequentially(*query, args)
                      : spi_query(*query, args, nullptr, ReadMode::fresh);
  Memberships list;
  for (uint64 i = 0; i < rows.count; ++i) {
    std::optional<Uuid> org = parse_uuid(rows.at(i, 0));
    std::optional<Role> role = parse_role(rows.at(i, 1));
    const char* is_default = rows.at(i, 2);
    if (org && role) list.push_back({*org, *role, is_default && is_default[0] == 't'});
  }
  return list;
}

// Ensures: in a client's session on a Citus node (the coordinator), the memberships read are kept
// for the client's statement only. They change on the workers holding the shards, whose
// invalidations never reach this backend: before, a member removed there kept what the policies of
// a coordinator's table gave them for the rest of the session (its pooled connection).
void forget_changed_elsewhere() {
  static TimestampTz read_in = 0;
  if (citus_internal_backend() || !table_hashed(OrgTable::members)) return;
  TimestampTz statement = GetCurrentStatementStartTimestamp();
  if (statement == read_in) return;
  cache().clear();
  read_in = statement;
}

}  // namespace

const Memberships& caller_memberships() {
  static const Memberships none;
  std::optional<Uuid> user = caller_user();
  if (!user) return none;
  forget_changed_elsewhere();
  if (const Memberships* hit = cache().find(*user)) return *hit;
  bool keep = false;
  static Memberships uncached;
  uncached = load_for_cache(
      cache_id(), [&] { return load_memberships(*user); }, &keep);
  if (!keep) return uncached;
  return cache().store(*user, std::move(uncached));
}

std::optional<Role> caller_role_in(const Uuid& org) {
  std::optional<Uuid> user = caller_user();
  if (!user) return std::nullopt;
  forget_changed_elsewhere();
  if (const Memberships* hit = cache().find(*user)) return role_in(*hit, org);
  if (!table_hashed(OrgTable::members)) return role_in(caller_memberships(), org);
  pg_uuid_t keys[2];
  memcpy(keys[0].data, user->bytes.data(), 16);
  memcpy(keys[1].data, org.bytes.data(), 16);
  Datum args[2] = {UUIDPGetDatum(&keys[0]), UUIDPGetDatum(&keys[1])};
  TextRows rows = spi_query(org_membership_query, args, nullptr, ReadMode::fresh);
  return rows.count == 0 ? std::nullopt : parse_role(rows.at(0, 0));
}

void init_membership_store() {
  cache_id();
}

}  // namespace sb::pg
