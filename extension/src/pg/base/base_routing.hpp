// Calls Citus did not delegate. Citus sends a distributed function's call to the node holding its
// organisation only when the call stands alone in its statement (SELECT f(...) or SELECT ... FROM
// f(...), constant arguments); anywhere else (inside an expression, a CTE, a WHERE clause) the
// function runs where it was called, usually the coordinator, which holds none of the
// organisation's rows. There a tenant-scoped C++ function re-issues itself as a standalone
// statement, which Citus then delegates, and answers what the owning node answered.
#pragma once

#include <string>

#include "pg/base/base_postgres.hpp"

extern "C" {
#include "utils/uuid.h"
}

namespace sb::pg {

// Ensures: when fcinfo's function is a tenant-scoped function of schema switchboard (first
// argument org_id uuid) and its organisation's rows are on another Citus node, the call was run
// through Citus as the caller and *result (and fcinfo->isnull) is its answer, or, for a
// set-returning function, its rows are fcinfo's set result;
// false, with nothing done, when the call is to run here (every call on a server without Citus).
bool route_to_owner(FunctionCallInfo fcinfo, Datum* result);

// Ensures: when fcinfo's function is tenant-scoped (as for route_to_owner) and runs on the Citus
// node holding its organisation's rows in a session Citus opened (citus_internal_backend()),
// Citus's nested distributed execution is allowed until
// end_nested_here(level) with the level returned (0, with nothing done, otherwise: always on a
// server without Citus). There the function's org-scoped statements are router queries on this
// node's shards (and reads of reference tables' local copies); inside a query Citus pushed to a
// shard (a call per row of a distributed table, or from a function Citus did not delegate) Citus
// otherwise refuses each of them ("cannot execute a distributed query from a query on a shard").
int allow_nested_here(FunctionCallInfo fcinfo);

// Ensures: as allow_nested_here(), for function `fn` called for organisation `org`.
int allow_nested_for(Oid fn, const pg_uuid_t& org);

// Ensures: the setting allow_nested_here() changed at `level` is back to what it was (nothing for
// 0). An error before it is called ends the (sub)transaction, which puts it back too.
void end_nested_here(int level);

// Ensures: from now on, on a Citus node, a statement of a client's session carries the caller's JWT
// claims to the other nodes it reaches, however the caller set them (from _PG_init).

// Ensures: on a Citus node, switchboard.default_org travels with the caller's claims, its value
// computed by `compute` on the client's node when they are carried ("" without claims); from
// _PG_init. Under callback(): `compute` may throw.
void carry_default_org(std::string (*compute)());
void init_routing();

}  // namespace sb::pg
