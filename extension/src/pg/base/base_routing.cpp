#include "pg/base/base_routing.hpp"

#include <cstring>
#include <string>
#include <unordered_map>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_shards.hpp"

extern "C" {
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

// Whether each function called so far is tenant-scoped (looked up once per backend: a function's
// arguments do not change under a running backend without a new OID).
std::unordered_map<Oid, bool> tenant_scoped;

// True while a re-issued call runs: a call that reaches this node again runs here.
bool routing = false;

struct RoutingFlag {
  RoutingFlag() noexcept { routing = true; }
  ~RoutingFlag() { routing = false; }
  RoutingFlag(const RoutingFlag&) = delete;
  RoutingFlag& operator=(const RoutingFlag&) = delete;
};

// Ensures: whether function `fn` is in schema switchboard, returns one value, its name does not
// start with _ and its first argument is org_id of type uuid.
bool lookup_tenant_scoped(Oid fn) {
  bool scoped = false;
  guard([&] {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
    if (!HeapTupleIsValid(tuple)) return;
    auto* proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
    Oid* types = nullptr;
    char** names = nullptr;
    char* modes = nullptr;
    int nargs = get_func_arg_info(tuple, &types, &names, &modes);
    scoped = proc->pronamespace == get_namespace_oid("switchboard", true) && !proc->proretset &&
             NameStr(proc->proname)[0] != '_' && nargs > 0 && types[0] == UUIDOID && names &&
             names[0] && std::strcmp(names[0], "org_id") == 0;
    ReleaseSysCache(tuple);
  });
  return scoped;
}

bool is_tenant_scoped(Oid fn) {
  auto found = tenant_scoped.find(fn);
  if (found != tenant_scoped.end()) return found->second;
  bool scoped = lookup_tenant_scoped(fn);
  tenant_scoped.emplace(fn, scoped);
  return scoped;
}

// Ensures: `SELECT r FROM switchboard.f(<arg>::<type>, ...) AS r` for fcinfo's call, every
// argument a typed literal (so Citus sees constants) and every name qualified.
void append_call(StringInfo sql, FunctionCallInfo fcinfo, Form_pg_proc proc) {
  appendStringInfo(sql, "SELECT r FROM %s.%s(",
                   quote_identifier(get_namespace_name(proc->pronamespace)),
                   quote_identifier(NameStr(proc->proname)));
  for (int i = 0; i < fcinfo->nargs; ++i) {
    Oid type = proc->proargtypes.values[i];
    if (i > 0) appendStringInfoString(sql, ", ");
    if (fcinfo->args[i].isnull) {
      appendStringInfoString(sql, "NULL");
    } else {
      Oid output = InvalidOid;
      bool varlena = false;
      getTypeOutputInfo(type, &output, &varlena);
      appendStringInfoString(
          sql, quote_literal_cstr(OidOutputFunctionCall(output, fcinfo->args[i].value)));
    }
    appendStringInfo(sql, "::%s", format_type_be_qualified(type));
  }
  appendStringInfoString(sql, ") AS r");
}

// Runs one utility statement through SPI (connected); an error is raised as PostgreSQL's.
void spi_utility(const char* sql) {
  if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
    elog(ERROR, "switchboard: \"%s\" did not run as a utility statement", sql);
}

// The claims this transaction last set again with SET LOCAL ("" when none, or when a rolled back
// subtransaction may have undone it).
std::string carried_claims;

// Ensures: the caller's JWT claims to carry, or nullptr when there are none or they were carried
// already in this transaction.
const char* claims_to_carry() {
  const char* claims = GetConfigOption("request.jwt.claims", true, false);
  if (!claims || !*claims || carried_claims == claims) return nullptr;
  return claims;
}

// Ensures: the caller's JWT claims travel with what this transaction sends to other Citus nodes
// (a delegated or re-issued call), also when the caller set them with set_config(), which Citus
// does not send on: they are set again with SET LOCAL, which Citus sends, for this transaction.
// SPI is connected; only PostgreSQL is called (under guard()): remember_carried() follows.
void carry_claims() {
  const char* claims = claims_to_carry();
  if (!claims) return;
  spi_utility("SET LOCAL citus.propagate_set_commands = 'local'");
  StringInfoData sql;
  initStringInfo(&sql);
  appendStringInfo(&sql, "SET LOCAL request.jwt.claims = %s", quote_literal_cstr(claims));
  spi_utility(sql.data);
}

// Ensures: the claims carried by carry_claims() are not set again in this transaction.
void remember_carried() {
  const char* claims = GetConfigOption("request.jwt.claims", true, false);
  carried_claims = claims ? claims : "";
}

// Ensures: the next transaction, or the statement after a rolled back subtransaction, carries its
// claims again.
void forget_carried(XactEvent) {
  carried_claims.clear();
}
void forget_carried_sub(SubXactEvent event) {
  if (event == SUBXACT_EVENT_ABORT_SUB) carried_claims.clear();
}

ExecutorStart_hook_type previous_executor_start = nullptr;

// ExecutorStart hook: on a Citus node, in a session a client opened, a statement starts with the
// caller's claims carried (before Citus begins its transactions on other nodes).
void carry_claims_at_start(QueryDesc* query, int eflags) {
  if (!citus_internal_backend() &&
      GetConfigOption("citus.propagate_set_commands", true, false) != nullptr &&
      claims_to_carry() != nullptr) {
    callback("routing claims", ERROR, [] {
      guard([] {
        SPI_connect();
        carry_claims();
        SPI_finish();
      });
      remember_carried();
    });
  }
  if (previous_executor_start)
    previous_executor_start(query, eflags);
  else
    standard_ExecutorStart(query, eflags);
}

// Ensures: fcinfo's call ran as a statement of its own, as the caller with the caller's claims, in
// the caller's transaction; its
// one value is returned in the caller's memory (*isnull when NULL).
Datum run_as_statement(FunctionCallInfo fcinfo, bool* isnull) {
  Datum value = 0;
  bool null = true;
  guard([&] {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
    if (!HeapTupleIsValid(tuple))
      elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
    auto* proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
    StringInfoData sql;
    initStringInfo(&sql);
    append_call(&sql, fcinfo, proc);
    int16 length = 0;
    bool by_value = false;
    get_typlenbyval(proc->prorettype, &length, &by_value);
    ReleaseSysCache(tuple);
    SPI_connect();
    carry_claims();
    int rc = SPI_execute(sql.data, false, 2);
    if (rc != SPI_OK_SELECT || SPI_processed != 1)
      elog(ERROR, "switchboard: a routed call answered %d with %lu rows", rc,
           static_cast<unsigned long>(SPI_processed));
    value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null);
    if (!null) value = SPI_datumTransfer(value, by_value, length);
    SPI_finish();
  });
  remember_carried();
  *isnull = null;
  return value;
}

}  // namespace

void init_routing() {
  register_xact_handler("routing claims", forget_carried, forget_carried);
  register_subxact_handler("routing claims subxact", forget_carried_sub, forget_carried_sub);
  previous_executor_start = ExecutorStart_hook;
  ExecutorStart_hook = carry_claims_at_start;
}

bool route_to_owner(FunctionCallInfo fcinfo, Datum* result) {
  if (routing || !fcinfo->flinfo || fcinfo->nargs == 0 || fcinfo->args[0].isnull) return false;
  if (!is_tenant_scoped(fcinfo->flinfo->fn_oid)) return false;
  // Not inside a SECURITY DEFINER function (the current user is not the caller's role): Citus would
  // open the other node's connection as the function's owner, who passes every permission check
  // there, and the owner's own queries later in the transaction would meet placements another
  // user touched. The call runs here, where a check reads the organisation through Citus.
  if (GetUserId() != GetOuterUserId()) return false;
  if (org_rows_here(*DatumGetUUIDP(fcinfo->args[0].value))) return false;
  RoutingFlag flag;
  bool isnull = true;
  *result = run_as_statement(fcinfo, &isnull);
  fcinfo->isnull = isnull;
  return true;
}

}  // namespace sb::pg
