// Backend-local caches of switchboard tables, and reading those tables as their owner.
//
// A cache registers the tables it is built from. When any of them changes - in this session or,
// once committed, in any other - every backend clears the cache (relcache invalidation messages),
// so the next read sees the change. Loads read with a fresh snapshot taken after pending
// invalidations were processed, and a load that raced with an invalidation is not kept.
#pragma once

#include "pg/base/base_postgres.hpp"

#include "core/base/base_error.hpp"

extern "C" {
#include "executor/spi.h"
}

namespace sb::pg {

using CacheClear = void (*)() noexcept;

// Registers a cache built from `tables` (names in schema switchboard); returns its id.
int register_cache(std::initializer_list<const char*> tables, CacheClear clear);

// Bumped on every clear of cache `id`: compare before and after a load to know if it may be kept.
uint64_t cache_generation(int id);

// Processes pending invalidations and resolves the cache's table names (call before loading).
void prepare_cache_load(int id);

// Runs `load()` for cache `id` after pending invalidations; `*keep` is false when an invalidation
// raced with the load (then use the value once, but do not keep it).
template <typename Load>
auto load_for_cache(int id, Load load, bool* keep) -> decltype(load()) {
  prepare_cache_load(id);
  uint64_t before = cache_generation(id);
  auto value = load();
  *keep = cache_generation(id) == before;
  return value;
}

// Clears every cache built from relation `relid` here and, at commit, in every backend.
void invalidate_table(Oid relid);

// Registers the invalidation callbacks; called once from _PG_init.
void init_store();

// A statement run through SPI, prepared on first use and kept for the backend's life.
struct Query {
  const char* sql;
  int nargs;
  Oid types[16];
  SPIPlanPtr plan = nullptr;
};

// Query results as C strings (nullptr for SQL NULL), palloc'd in the caller's memory context.
struct TextRows {
  uint64 count = 0;
  int columns = 0;
  char** cells = nullptr;  // row-major
  const char* at(uint64 row, int column) const {
    if (row >= count || column >= columns)
      throw Error("XX000", "switchboard: query result too short");
    return cells[row * columns + column];
  }
};

enum class ReadMode {
  fresh,      // read-only, with a snapshot taken now (cache loads)
  current,    // read-only, with the calling statement's snapshot
  read_write  // an ordinary statement that may write
};

// Runs `query` as the owner of schema switchboard (no RLS), in a security-restricted operation
// with search_path = pg_catalog, pg_temp: its SQL must still qualify every name it uses.
// PostgreSQL errors become PgError.
TextRows spi_query(Query& query, const Datum* args, const char* nulls, ReadMode mode);

}  // namespace sb::pg
