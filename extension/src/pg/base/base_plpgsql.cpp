// PL/pgSQL's plugin hook on a Citus node: a tenant-scoped PL/pgSQL function (set_subscription,
// add_member and the like) inside a query Citus pushed to a shard runs its statements on the node
// holding its organisation, as a C++ one does (allow_nested_here in the boundary's call_body).
#include "pg/base/base_plpgsql.hpp"

#include <cstdint>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_routing.hpp"
#include "pg/base/base_shards.hpp"

extern "C" {
#include "fmgr.h"
#include "plpgsql.h"
#include "utils/guc.h"
}

namespace sb::pg {
namespace {

PLpgSQL_plugin plugin{};

// Ensures: a tenant-scoped function whose organisation's rows are on this node (first argument,
// already assigned) runs with Citus's nested execution allowed; the level is kept in the
// execution's plugin_info for func_end (an error unwinds it with its (sub)transaction instead).
void function_begins(PLpgSQL_execstate* estate, PLpgSQL_function* func) {
  estate->plugin_info = nullptr;
  if (func->fn_nargs == 0) return;
  auto* first = reinterpret_cast<PLpgSQL_var*>(estate->datums[func->fn_argvarnos[0]]);
  if (first->dtype != PLPGSQL_DTYPE_VAR || first->isnull || !first->datatype ||
      first->datatype->typoid != UUIDOID)
    return;
  Oid fn = func->fn_oid;
  const pg_uuid_t* org = DatumGetUUIDP(first->value);
  int level = 0;
  callback("plpgsql nested execution", ERROR, [&] { level = allow_nested_for(fn, *org); });
  if (level > 0) estate->plugin_info = reinterpret_cast<void*>(static_cast<intptr_t>(level));
}

void function_ends(PLpgSQL_execstate* estate, PLpgSQL_function*) {
  if (!estate->plugin_info) return;
  int level = static_cast<int>(reinterpret_cast<intptr_t>(estate->plugin_info));
  estate->plugin_info = nullptr;
  callback("plpgsql nested execution end", ERROR, [level] { end_nested_here(level); });
}

// Only in a session Citus opened: a client's own statements never need it.
void plpgsql_begins(PLpgSQL_execstate* estate, PLpgSQL_function* func) {
  if (citus_internal_backend())
    function_begins(estate, func);
  else
    estate->plugin_info = nullptr;
}

}  // namespace

void init_plpgsql_plugin() {
  // Only where Citus is loaded (first in shared_preload_libraries), and only when no other plugin
  // (a debugger, a profiler) took PL/pgSQL's one plugin slot.
  if (!GetConfigOption("citus.propagate_set_commands", true, false)) return;
  auto** slot = reinterpret_cast<PLpgSQL_plugin**>(find_rendezvous_variable("PLpgSQL_plugin"));
  if (*slot) return;
  plugin.func_beg = plpgsql_begins;
  plugin.func_end = function_ends;
  *slot = &plugin;
}

}  // namespace sb::pg
