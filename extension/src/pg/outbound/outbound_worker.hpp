// The outbound webhook delivery workers: a launcher (connected to database postgres) starts a
// worker for a database when deliveries are queued there; the worker delivers until nothing is
// queued and leaves (an idle worker would hold the database: DROP DATABASE would fail). A
// transaction that queued deliveries wakes its database's worker at commit (no polling).
#pragma once

namespace sb::pg {

// Defines the settings, the shared memory, the commit wake-up and the launcher (from _PG_init).
void init_outbound();

// Ensures: this database's delivery worker is woken when the current transaction commits.
void wake_worker_at_commit() noexcept;

}  // namespace sb::pg
