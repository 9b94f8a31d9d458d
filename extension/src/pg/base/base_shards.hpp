// Where an organisation's rows of a switchboard table are on this node. On a server without Citus,
// and for a table Citus leaves alone, the table itself holds them. On a Citus node the table is an
// empty shell: the rows of a distributed table are in the shard whose hash range holds the
// organisation, those of a reference table or a Citus local table in its one shard, each named
// <table>_<shardid> with indexes <index>_<shardid>, in schema switchboard of the node holding it.
#pragma once

#include <vector>

#include "pg/base/base_postgres.hpp"

extern "C" {
#include "utils/uuid.h"
}

namespace sb::pg {

struct OrgRelation {
  Oid table;
  Oid index;
};

// The tables the C++ readers open directly, each with the one index they read it through.
enum class OrgTable {
  organizations,      // organizations_pkey
  subscriptions,      // subscriptions_one_per_org
  feature_overrides,  // feature_overrides_one_per_feature
  feature_usage,      // feature_usage_period_key
  calendars,          // calendars_pkey
  appointments,       // appointments_calendar_starts_idx
  members,            // organization_members, organization_members_user_key
  member_defaults,    // member_defaults_pkey (a reference table on Citus)
  count
};

// The relation holding organisation `org`'s rows of `table` on this node and its index there,
// found once per backend and placement (no catalog lookup on later calls). Raises 0A000 when those
// rows are in a shard on another node (the call was not delegated to the node holding the
// organisation).
OrgRelation org_relation(OrgTable table, const pg_uuid_t& org);

// Whether organisation `org`'s rows are on this node: always on a server without Citus, on a Citus
// node when the shard of organization_members (the colocation group's anchor) holding them is here.
bool org_rows_here(const pg_uuid_t& org);

// Whether switchboard.`table` is distributed by hash on this Citus node (its rows are spread over
// shards on several nodes); false on a server without Citus.
bool table_hashed(OrgTable table);

// The shards of `table` on this node when Citus distributes it by hash (empty otherwise): in a
// call Citus delegated, the only ones a query may read.
std::vector<Oid> local_shards(OrgTable table);

// Whether this backend runs statements a Citus node sent for one of its transactions (Citus names
// those connections "citus_internal ..."): a delegated call, a shard's part of a distributed
// statement. Their timestamps come from that node's clock and transaction.
bool citus_internal_backend();

// The caller's role that the node running the client's statement carried along
// (switchboard.caller_role, base_routing: the SET ROLE role, not a SECURITY DEFINER function's
// owner), when this backend is a citus_internal_backend(); nullptr otherwise, or when there is none
// (a superuser caller). Inside a SECURITY DEFINER function run on another node, Citus connects here
// as the function's owner, so the current user and role here are not the caller's.
const char* carried_caller_role();

// The name of `table` in schema switchboard.
const char* shard_table_name(OrgTable table);

// The switchboard table whose shard is `relid` (`relid` itself when it is no shard of one).
Oid logical_table(Oid relid);

}  // namespace sb::pg
