// One transaction, subtransaction and relcache-invalidation callback for the whole extension, like
// base_shmem's one shared-memory registry: areas register a handler from _PG_init, the first
// registration of each kind registers the one PostgreSQL callback, and that callback calls every
// handler in registration order (the order of _PG_init's steps), each through the boundary
// wrapper (xact_callback, subxact_callback, callback at WARNING) named after the handler - which
// is also its switchboard.test_fault point. A failure before the point of no return is an ERROR
// (the handlers after it are not called; the abort that follows reaches all of them); a failure
// reported as a WARNING runs the handler's `recover` and the chain goes on.
#pragma once

#include <cstdint>
#include <vector>

#include "pg/base/base_postgres.hpp"

extern "C" {
#include "access/xact.h"
}

namespace sb::pg {

// What an area does at an event, and what it does instead when that failed with a WARNING
// (noexcept in effect: no allocation, no PostgreSQL call).
using XactWork = void (*)(XactEvent event);
using SubXactWork = void (*)(SubXactEvent event);
using RelcacheWork = void (*)(Oid relid);  // InvalidOid: every relation

// Ensures: `work` runs at every (sub)transaction event or relcache invalidation from now on, after
// the handlers registered before it. Registering the same `work` again changes nothing (a retried
// _PG_init); call from _PG_init only.
void register_xact_handler(const char* name, XactWork work, XactWork recover);
void register_subxact_handler(const char* name, SubXactWork work, SubXactWork recover);
void register_relcache_handler(const char* name, RelcacheWork work, RelcacheWork recover);

// One handler as the callbacks ran it in this backend, for tests.
struct HandlerCounts {
  const char* name;
  const char* kind;   // "xact", "subxact" or "relcache"
  uint64_t calls;     // events it was called for
  uint64_t failures;  // of those, how many failed (an ERROR or a WARNING)
};

// Ensures: every registered handler, each kind in calling order (xact, subxact, relcache).
std::vector<HandlerCounts> handler_counts();

}  // namespace sb::pg
