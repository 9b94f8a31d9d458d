// The caller's memberships, read from switchboard.organization_members and cached per backend
// until a membership change (in any session) invalidates them.
#pragma once

#include "core/tenancy/tenancy_membership.hpp"

namespace sb::pg {

// The current caller's memberships; empty when the request carries no user.
const Memberships& caller_memberships();

// Registers the cache; called once from _PG_init.
void init_membership_store();

}  // namespace sb::pg
