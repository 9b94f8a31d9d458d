// The extension's shared memory, one registry for every area: areas register a piece (name, size,
// attach function) from _PG_init, and one shmem_request_hook and one shmem_startup_hook (both
// through sb::pg::callback, FATAL on failure, as PostgreSQL fails its own start-up) reserve and
// attach one segment, "switchboard", for all of them. Without shared_preload_libraries there is
// no segment: no attach function is ever called and each area falls back (see its header).
#pragma once

#include "pg/base/base_postgres.hpp"

namespace sb::pg {

// Called once per start-up of shared memory with the piece (zeroed when `fresh`; it is never
// fresh again after a backend attached) - from the postmaster, before any backend exists.
using ShmemAttach = void (*)(void* piece, bool fresh);

// Registers a piece of `size` bytes for `attach` (from _PG_init; a no-op unless preloading).
void register_shmem(const char* name, Size size, ShmemAttach attach);

// Ensures: true when the library is being preloaded, so the registered pieces will exist.
bool shmem_enabled();

// Installs the request and start-up hooks once (from _PG_init, after the areas registered).
void init_shmem();

}  // namespace sb::pg
