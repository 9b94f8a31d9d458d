// The entitlement data each backend keeps in memory: the catalog, kill switches and, per
// organisation, its subscription and overrides. Each is rebuilt after its tables change.
#pragma once

#include <memory>

#include "core/entitlements/entitlements.hpp"
#include "core/base/base_uuid.hpp"

namespace sb::pg {

// Each answer is shared: it stays valid while held, even if the cache is cleared meanwhile
// (any PostgreSQL call may process invalidations).
std::shared_ptr<const ent::Catalog> catalog();
std::shared_ptr<const ent::KillSwitches> kill_switches();

// The organisation's state; raises P0002 when the organisation does not exist.
std::shared_ptr<const ent::OrgState> org_state(const Uuid& org);

// Drops this backend's cached state of the organisation and, once this transaction commits, every
// other backend's (a row trigger calls it for each changed subscription, override or organisation).
void organization_changed(const Uuid& org);

// Drops the cached catalog of this backend (the next read reloads it).
void forget_catalog() noexcept;

// Registers the caches; called once from _PG_init.
void init_entitlement_store();

}  // namespace sb::pg
