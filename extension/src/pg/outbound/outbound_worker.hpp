// The outbound webhook delivery workers: a launcher (connected to database postgres) starts one
// worker per database, which delivers that database's outbox when switchboard is installed there.
// A transaction that queued deliveries wakes its database's worker at commit (no polling).
#pragma once

namespace sb::pg {

// Defines the settings, the shared memory, the commit wake-up and the launcher (from _PG_init).
void init_outbound();

}  // namespace sb::pg
