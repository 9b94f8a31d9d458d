// Who may act on an organisation: members by role, and the service role.
#pragma once

#include "core/tenancy/tenancy_roles.hpp"
#include "core/base/base_uuid.hpp"

namespace sb::pg {

// True when the current role (SET ROLE, not a SECURITY DEFINER owner) is a superuser or has the
// privileges of service_role; in a session Citus opened, also the caller's role carried as
// switchboard.caller_role (base_routing), when set.
bool caller_is_service_role();

// Ensures the caller is the service role or a member of `org` with at least `min_role`; raises
// 42501 otherwise. The one authorisation of every area (SQL: switchboard.assert_role), with one
// wording: "permission denied for this organization", the detail naming the organisation, the
// role needed and what the caller lacks.
void require_role(const Uuid& org, Role min_role);

// Ensures: require_role, and for a caller who is not a member (the service role) that the
// organisation exists (P0002 otherwise): switchboard.assert_role.
void assert_role(const Uuid& org, Role min_role);

}  // namespace sb::pg
