// The caller's memberships, read from switchboard.organization_members and cached per backend
// until a membership change (in any session) invalidates them.
#pragma once

#include "core/tenancy/tenancy_membership.hpp"

namespace sb::pg {

// The current caller's memberships; empty when the request carries no user.
const Memberships& caller_memberships();

// The current caller's role in organisation `org`, none when not a member. Where
// organization_members is distributed (Citus) and the caller's memberships are not cached, it reads
// only the membership in `org`: a delegated call reaches only the organisation's own shard.
std::optional<Role> caller_role_in(const Uuid& org);

// The caller's default organisation: in a session Citus opened, the one the client's node carried
// (switchboard.default_org: it sees every membership, this node only its own shards'), else
// default_org(list).
std::optional<Uuid> caller_default_org(const Memberships& list);

// Registers the cache and the default organisation Citus nodes carry; called once from _PG_init.
void init_membership_store();

}  // namespace sb::pg
