#include "pg/base/base_store.hpp"

#include <vector>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_shards.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
}

namespace sb::pg {
namespace {

struct Cache {
  std::vector<const char*> tables;
  std::vector<Oid> relids;
  CacheClear clear;
  uint64_t generation = 0;
};

std::vector<Cache>& caches() {
  static std::vector<Cache> all;
  return all;
}

void clear_cache(Cache& cache) noexcept {
  ++cache.generation;
  cache.clear();
}

bool watches(const Cache& cache, Oid relid) noexcept {
  for (Oid r : cache.relids)
    if (r == relid) return true;
  return false;
}

void clear_all() noexcept {
  for (Cache& cache : caches()) clear_cache(cache);
}

void clear_for(Oid relid) noexcept {
  for (Cache& cache : caches())
    if (relid == InvalidOid || watches(cache, relid)) clear_cache(cache);
}

// Own uncommitted changes may have been cached: forget everything when they roll back.
void forget_on_abort(XactEvent event) noexcept {
  if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT) clear_all();
}

void forget_on_subabort(SubXactEvent event) noexcept {
  if (event == SUBXACT_EVENT_ABORT_SUB) clear_all();
}

// When a callback failed (a WARNING: during abort, or an invalidation), clearing every cache
// keeps the caches from going stale.
template <typename Event>
void clear_after_failure(Event) noexcept {
  clear_all();
}

Oid schema_owner() {
  Oid nsp = get_namespace_oid("switchboard", false);
  HeapTuple tuple = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
  if (!HeapTupleIsValid(tuple)) elog(ERROR, "cache lookup failed for schema switchboard");
  Oid owner = ((Form_pg_namespace)GETSTRUCT(tuple))->nspowner;
  ReleaseSysCache(tuple);
  return owner;
}

// The saved plan of `query` (call inside SPI).
SPIPlanPtr prepared(Query& query) {
  if (query.plan) return query.plan;
  SPIPlanPtr plan = SPI_prepare(query.sql, query.nargs, query.types);
  if (!plan) elog(ERROR, "switchboard: could not prepare: %s", query.sql);
  SPI_keepplan(plan);
  query.plan = plan;
  return plan;
}

// Copies SPI_tuptable into `out` as text, allocated in `context`.
void copy_text_rows(TextRows* out, MemoryContext context) {
  MemoryContext spi_context = MemoryContextSwitchTo(context);
  out->count = SPI_processed;
  out->columns = SPI_tuptable ? SPI_tuptable->tupdesc->natts : 0;
  out->cells = static_cast<char**>(palloc0(sizeof(char*) * (out->count * out->columns + 1)));
  for (uint64 r = 0; r < out->count; ++r)
    for (int c = 0; c < out->columns; ++c)
      out->cells[r * out->columns + c] =
          SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);
  MemoryContextSwitchTo(spi_context);
}

}  // namespace

int register_cache(std::initializer_list<const char*> tables, CacheClear clear) {
  caches().push_back(Cache{std::vector<const char*>(tables),
                           std::vector<Oid>(tables.size(), InvalidOid), clear, 0});
  return static_cast<int>(caches().size() - 1);
}

uint64_t cache_generation(int id) {
  return caches()[id].generation;
}

void prepare_cache_load(int id) {
  Cache& cache = caches()[id];
  guard([&] {
    AcceptInvalidationMessages();
    Oid nsp = get_namespace_oid("switchboard", false);
    for (size_t i = 0; i < cache.tables.size(); ++i) {
      Oid relid = get_relname_relid(cache.tables[i], nsp);
      if (!OidIsValid(relid)) elog(ERROR, "switchboard.%s is missing", cache.tables[i]);
      cache.relids[i] = relid;
    }
  });
}

void invalidate_table(Oid relid) {
  relid = logical_table(relid);  // a Citus shard's changes clear what is built from its table
  for (Cache& cache : caches())
    if (watches(cache, relid)) clear_cache(cache);
  guard([&] { CacheInvalidateRelcacheByRelid(relid); });
}

void init_store() {
  register_xact_handler("store xact", forget_on_abort, clear_after_failure<XactEvent>);
  register_subxact_handler("store subxact", forget_on_subabort, clear_after_failure<SubXactEvent>);
  register_relcache_handler("store relcache", clear_for, clear_after_failure<Oid>);
}

// Executes the prepared plan as `mode` says.
static int execute(SPIPlanPtr plan, const Datum* args, const char* nulls, ReadMode mode) {
  Datum* values = const_cast<Datum*>(args);
  if (mode == ReadMode::fresh)
    return SPI_execute_snapshot(plan, values, nulls, GetLatestSnapshot(), InvalidSnapshot, true,
                                false, 0);
  return SPI_execute_plan(plan, values, nulls, mode == ReadMode::current, 0);
}

// Runs `query` as the schema owner, in a security-restricted operation with search_path pinned to
// pg_catalog, pg_temp; the caller's user, security context and search_path are back however it
// ends.
static void run_as_owner(Query& query, const Datum* args, const char* nulls, ReadMode mode,
                         TextRows* rows, MemoryContext result_context) {
  Oid caller;
  int caller_context;
  GetUserIdAndSecContext(&caller, &caller_context);
  int nest_level = NewGUCNestLevel();
  PG_TRY();
  {
    set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                      GUC_ACTION_SAVE, true, 0, false);
    SetUserIdAndSecContext(schema_owner(), caller_context | SECURITY_LOCAL_USERID_CHANGE |
                                               SECURITY_RESTRICTED_OPERATION);
    SPI_connect();
    int rc = execute(prepared(query), args, nulls, mode);
    if (rc < 0) elog(ERROR, "switchboard: query failed: %s", SPI_result_code_string(rc));
    copy_text_rows(rows, result_context);
    SPI_finish();
  }
  PG_CATCH();
  {
    AtEOXact_GUC(false, nest_level);
    SetUserIdAndSecContext(caller, caller_context);
    PG_RE_THROW();
  }
  PG_END_TRY();
  AtEOXact_GUC(true, nest_level);
  SetUserIdAndSecContext(caller, caller_context);
}

TextRows spi_query(Query& query, const Datum* args, const char* nulls, ReadMode mode) {
  TextRows rows;
  MemoryContext caller_context = CurrentMemoryContext;
  guard([&] { run_as_owner(query, args, nulls, mode, &rows, caller_context); });
  return rows;
}

}  // namespace sb::pg
