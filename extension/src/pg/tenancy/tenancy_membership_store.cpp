#include "pg/tenancy/tenancy_membership_store.hpp"

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_routing.hpp"
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
  static int id = register_cache({"organization_members", "member_defaults"}, clear_cache);
  return id;
}

// The caller's memberships, oldest first, each marked when it is the chosen default ($2).
Query membership_query = {
    "select org_id, role::pg_catalog.text, id OPERATOR(pg_catalog.=) $2 "
    "from switchboard.organization_members "
    "where user_id OPERATOR(pg_catalog.=) $1 order by created_at, org_id",
    2,
    {UUIDOID, UUIDOID}};

// The membership the user chose as their default (set_default_org), if any: a reference table on
// Citus, read on the node running the call.
Query chosen_default_query = {
    "select membership_id, org_id from switchboard.member_defaults "
    "where user_id OPERATOR(pg_catalog.=) $1",
    1,
    {UUIDOID}};

Query org_membership_query = {
    "select role::pg_catalog.text, id from switchboard.organization_members "
    "where org_id OPERATOR(pg_catalog.=) $2 and user_id OPERATOR(pg_catalog.=) $1",
    2,
    {UUIDOID, UUIDOID}};

// The statement of text `sql` with the uuid parameters $1 .. $nargs, kept (with its plan) for the
// backend's life: the texts name this node's shards, so there are few.
Query& kept_query(const std::string& sql, int nargs) {
  static std::unordered_map<std::string, Query> by_text;
  auto found = by_text.find(sql);
  if (found == by_text.end()) {
    Query query{nullptr, nargs, {}};
    for (int i = 0; i < nargs; ++i) query.types[i] = UUIDOID;
    found = by_text.emplace(sql, query).first;
    found->second.sql = found->first.c_str();
  }
  return found->second;
}

// The membership query over the shards of organization_members on this node (none: nothing).
Query* local_membership_query() {
  std::string sql;
  guard([&] {
    for (Oid shard : local_shards(OrgTable::members))
      sql += std::string(sql.empty() ? "" : " union all ") +
             "select org_id, role, id OPERATOR(pg_catalog.=) $2 AS chosen, created_at from "
             "switchboard." +
             quote_identifier(get_rel_name(shard)) + " where user_id OPERATOR(pg_catalog.=) $1";
  });
  if (sql.empty()) return nullptr;
  return &kept_query("select org_id, role::pg_catalog.text, chosen from (" + sql +
                         ") m order by created_at, org_id",
                     2);
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
TextRows read_sequentially(Query& query, const Datum* args, const char* nulls) {
  int nest_level = 0;
  guard([&] {
    nest_level = NewGUCNestLevel();
    set_config_option("citus.multi_shard_modify_mode", "sequential", PGC_USERSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
  });
  TextRows rows;
  try {
    rows = spi_query(query, args, nulls, ReadMode::fresh);
  } catch (...) {
    guard([&] { AtEOXact_GUC(false, nest_level); });
    throw;
  }
  guard([&] { AtEOXact_GUC(true, nest_level); });
  return rows;
}

// The chosen-default query: in a session Citus opened (a delegated call, a shard's part of a
// distributed statement) over this node's placement of the member_defaults reference table, since
// Citus refuses a distributed query inside a shard's statement.
Query& chosen_default_query_here() {
  if (!citus_internal_backend()) return chosen_default_query;
  Oid placement = org_relation(OrgTable::member_defaults, pg_uuid_t{}).table;
  std::string sql;
  guard([&] {
    sql = std::string("select membership_id, org_id from switchboard.") +
          quote_identifier(get_rel_name(placement)) + " where user_id OPERATOR(pg_catalog.=) $1";
  });
  return kept_query(sql, 1);
}

// The membership a user chose as their default, and its organisation.
struct Chosen {
  Uuid membership;
  Uuid org;
};

// Ensures: the membership `user` chose as their default, if any.
std::optional<Chosen> chosen_default(const pg_uuid_t& user) {
  Datum args[1] = {UUIDPGetDatum(&user)};
  TextRows rows = spi_query(chosen_default_query_here(), args, nullptr, ReadMode::fresh);
  if (rows.count == 0) return std::nullopt;
  std::optional<Uuid> membership = parse_uuid(rows.at(0, 0)), org = parse_uuid(rows.at(0, 1));
  if (!membership || !org) return std::nullopt;
  return Chosen{*membership, *org};
}

Memberships load_memberships(const Uuid& user) {
  pg_uuid_t key;
  memcpy(key.data, user.bytes.data(), 16);
  Query* query = membership_query_here();
  if (!query) return {};
  std::optional<Chosen> chosen = chosen_default(key);
  pg_uuid_t chosen_key{};
  if (chosen) memcpy(chosen_key.data, chosen->membership.bytes.data(), 16);
  Datum args[2] = {UUIDPGetDatum(&key), UUIDPGetDatum(&chosen_key)};
  const char nulls[3] = {' ', chosen ? ' ' : 'n', '\0'};
  TextRows rows = query == &membership_query && table_hashed(OrgTable::members)
                      ? read_sequentially(*query, args, nulls)
                      : spi_query(*query, args, nulls, ReadMode::fresh);
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

std::optional<Uuid> caller_default_org(const Memberships& list) {
  if (citus_internal_backend()) {
    const char* carried = GetConfigOption("switchboard.default_org", true, false);
    if (carried && *carried) return parse_uuid(carried);
  }
  return default_org(list);
}

namespace {

// Ensures: the organisation of the membership `user` chose as their default while that membership
// lasts (one read of the member_defaults reference table and one of the organisation's shard).
std::optional<Uuid> lasting_choice(const Uuid& user) {
  pg_uuid_t keys[2];
  memcpy(keys[0].data, user.bytes.data(), 16);
  std::optional<Chosen> chosen = chosen_default(keys[0]);
  if (!chosen) return std::nullopt;
  memcpy(keys[1].data, chosen->org.bytes.data(), 16);
  Datum args[2] = {UUIDPGetDatum(&keys[0]), UUIDPGetDatum(&keys[1])};
  TextRows rows = spi_query(org_membership_query, args, nullptr, ReadMode::fresh);
  if (rows.count == 0 || parse_uuid(rows.at(0, 1)) != chosen->membership) return std::nullopt;
  return chosen->org;
}

// Ensures: the caller's default organisation as this node reads it, for the Citus nodes the
// transaction reaches, which see only their own shards' memberships: "" when the request names
// its organisation (app_metadata.org_id), or without a signed-in user or readable claims (each
// node then answers for itself). A lasting choice costs two single-row reads; without one, the
// caller's memberships are read over every node.
std::string default_org_to_carry() {
  try {
    if (caller_org()) return "";
    std::optional<Uuid> user = caller_user();
    if (!user) return "";
    std::optional<Uuid> org = lasting_choice(*user);
    if (!org) org = default_org(caller_memberships());
    return org ? to_string(*org) : "";
  } catch (const Error&) {
    return "";
  }
}

}  // namespace

void init_membership_store() {
  cache_id();
  carry_default_org(default_org_to_carry);
}

}  // namespace sb::pg
