// Calls Citus did not delegate. Citus sends a distributed function's call to the node holding its
// organisation only when the call stands alone in its statement (SELECT f(...) or SELECT ... FROM
// f(...), constant arguments); anywhere else (inside an expression, a CTE, a WHERE clause) the
// function runs where it was called, usually the coordinator, which holds none of the
// organisation's rows. There a tenant-scoped C++ function re-issues itself as a standalone
// statement, which Citus then delegates, and answers what the owning node answered.
#pragma once

#include <string>

#include "pg/base/base_postgres.hpp"

namespace sb::pg {

// Ensures: when fcinfo's function is a tenant-scoped function of schema switchboard (first
// argument org_id uuid) and its organisation's rows are on another Citus node, the call was run
// through Citus as the caller and *result (and fcinfo->isnull) is its answer, or, for a
// set-returning function, its rows are fcinfo's set result;
// false, with nothing done, when the call is to run here (every call on a server without Citus).
bool route_to_owner(FunctionCallInfo fcinfo, Datum* result);

// Ensures: from now on, on a Citus node, a statement of a client's session carries the caller's JWT
// claims to the other nodes it reaches, however the caller set them (from _PG_init).

// Ensures: on a Citus node, setting `name` (switchboard.default_org, the one such setting) travels
// with the caller's claims, its value computed by `compute` on the client's node when they are
// carried ("" without claims); from _PG_init. Under callback(): `compute` may throw.
void carry_computed_setting(const char* name, std::string (*compute)());
void init_routing();

}  // namespace sb::pg
