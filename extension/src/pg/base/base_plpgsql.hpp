// Tenant-scoped PL/pgSQL functions inside a query Citus pushed to a shard (base_plpgsql.cpp).
#pragma once

namespace sb::pg {

// Ensures: on a Citus node, a tenant-scoped PL/pgSQL function called where Citus pushed a query to
// the node holding its organisation (a call per row of a distributed table) runs its statements
// there, as a C++ one does, instead of Citus's "cannot execute a distributed query from a query on
// a shard"; nothing without Citus, or when another PL/pgSQL plugin is loaded. From _PG_init.
void init_plpgsql_plugin();

}  // namespace sb::pg
