// The caller's memberships, read from switchboard.organization_members and cached per backend
// until a membership change (in any session) invalidates them.
#pragma once

#include "../core/membership.hpp"

namespace sb::pg {

// The current caller's memberships; empty when the request carries no user.
const Memberships& caller_memberships();

// Forgets every cached membership in this backend.
void forget_memberships() noexcept;

// Registers the invalidation callbacks; called once from _PG_init.
void init_membership_store();

}  // namespace sb::pg
