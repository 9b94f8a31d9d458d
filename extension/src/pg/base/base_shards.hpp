// Where an organisation's rows of a switchboard table are on this node. On a server without Citus,
// and for a table Citus leaves alone, the table itself holds them. On a Citus node the table is an
// empty shell: the rows of a distributed table are in the shard whose hash range holds the
// organisation, those of a reference table or a Citus local table in its one shard, each named
// <table>_<shardid> with indexes <index>_<shardid>, in schema switchboard of the node holding it.
#pragma once

#include "pg/base/base_postgres.hpp"

extern "C" {
#include "utils/uuid.h"
}

namespace sb::pg {

struct OrgRelation {
  Oid table;
  Oid index;
};

// The relation holding organisation `org`'s rows of switchboard.`table` on this node and its index
// named `index` there. Raises 0A000 when those rows are in a shard on another node (the call was
// not delegated to the node holding the organisation).
OrgRelation org_relation(const char* table, const char* index, const pg_uuid_t& org);

// Whether switchboard.`table` is distributed by hash on this Citus node (its rows are spread over
// shards on several nodes); false on a server without Citus.
bool table_hashed(const char* table);

// The switchboard table whose shard is `relid` (`relid` itself when it is no shard of one).
Oid logical_table(Oid relid);

}  // namespace sb::pg
