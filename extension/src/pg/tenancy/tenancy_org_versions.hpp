// Per-organisation change counters in shared memory, so a committed change to one organisation's
// subscription, overrides or settings makes every backend reload that organisation only.
// Needs shared_preload_libraries; without it, callers fall back to whole-table invalidation.
#pragma once

#include <cstdint>

#include "core/base/base_uuid.hpp"

namespace sb::pg {

// True when the counters exist (the library was preloaded).
bool org_versions_available();

// The organisation's current counter (0 when unavailable). Read it before loading the state.
uint64_t org_version(const Uuid& org);

// Records that this transaction changed the organisation: its counter moves once the transaction
// commits (after the change is visible to new snapshots).
void note_org_change(const Uuid& org);

// Registers the shared memory piece (used when preloading) and the commit callback (from _PG_init).
void init_org_versions();

}  // namespace sb::pg
