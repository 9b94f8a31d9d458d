#include "pg/base/base_routing.hpp"

#include <cstring>
#include <string>
#include <unordered_map>

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_shards.hpp"

extern "C" {
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

// How a function is routed: not at all, as a tenant-scoped function, or as a routed helper.
enum class Scope { none, tenant, tenant_set, helper };

// Whether each function called so far is tenant-scoped (looked up once per backend: a function's
// arguments do not change under a running backend without a new OID).
std::unordered_map<Oid, Scope> tenant_scoped;

// The `_` helpers distribute() distributes too (switchboard.distribution_functions lists them):
// checks a SECURITY DEFINER function makes as its owner, which read the organisation's rows. They
// check no permission themselves, so they are re-issued as the owner, the user the calling
// function's own statements reach the other node as.
constexpr const char* kRoutedHelpers[] = {"_assert_narrowing_override"};

bool routed_helper(const char* name) {
  for (const char* helper : kRoutedHelpers)
    if (std::strcmp(name, helper) == 0) return true;
  return false;
}

// True while a re-issued call runs: a call that reaches this node again runs here.
bool routing = false;

struct RoutingFlag {
  RoutingFlag() noexcept { routing = true; }
  ~RoutingFlag() { routing = false; }
  RoutingFlag(const RoutingFlag&) = delete;
  RoutingFlag& operator=(const RoutingFlag&) = delete;
};

// Ensures: whether function `fn` is in schema switchboard and its first argument is org_id of type
// uuid: tenant when its name does not start with _ (tenant_set when it returns a set), helper when
// it is one of kRoutedHelpers (one value).
Scope lookup_tenant_scoped(Oid fn) {
  Scope scoped = Scope::none;
  guard([&] {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));
    if (!HeapTupleIsValid(tuple)) return;
    auto* proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
    Oid* types = nullptr;
    char** names = nullptr;
    char* modes = nullptr;
    int nargs = get_func_arg_info(tuple, &types, &names, &modes);
    const char* name = NameStr(proc->proname);
    if (proc->pronamespace == get_namespace_oid("switchboard", true) && nargs > 0 &&
        types[0] == UUIDOID && names && names[0] && std::strcmp(names[0], "org_id") == 0) {
      if (name[0] != '_')
        scoped = proc->proretset ? Scope::tenant_set : Scope::tenant;
      else if (!proc->proretset && routed_helper(name))
        scoped = Scope::helper;
    }
    ReleaseSysCache(tuple);
  });
  return scoped;
}

Scope scope_of(Oid fn) {
  auto found = tenant_scoped.find(fn);
  if (found != tenant_scoped.end()) return found->second;
  Scope scoped = lookup_tenant_scoped(fn);
  tenant_scoped.emplace(fn, scoped);
  return scoped;
}

// Ensures: `SELECT r FROM switchboard.f(<arg>::<type>, ...) AS r` for fcinfo's call (`SELECT *
// FROM switchboard.f(...)` for a set), every argument a typed literal (so Citus sees constants)
// and every name qualified.
void append_call(StringInfo sql, FunctionCallInfo fcinfo, Form_pg_proc proc) {
  appendStringInfo(sql, proc->proretset ? "SELECT * FROM %s.%s(" : "SELECT r FROM %s.%s(",
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
  appendStringInfoString(sql, proc->proretset ? ")" : ") AS r");
}

// Runs one utility statement through SPI (connected); an error is raised as PostgreSQL's.
void spi_utility(const char* sql) {
  if (SPI_execute(sql, false, 0) != SPI_OK_UTILITY)
    elog(ERROR, "switchboard: \"%s\" did not run as a utility statement", sql);
}

// What this transaction last set again with SET LOCAL: the claims and the caller's role, as
// carried_key() spells them ("" when nothing, or when a rolled back subtransaction may have undone
// it).
std::string carried;

// The caller's role as carried: the SET ROLE role (not a SECURITY DEFINER function's owner), or ""
// for a superuser (who is the service role on every node anyway).
std::string caller_role_to_carry() {
  std::string role;
  guard([&] {
    Oid outer = GetOuterUserId();
    if (!superuser_arg(outer)) role = GetUserNameFromId(outer, false);
  });
  return role;
}

// The settings a caller's identity is read from (tenancy_claims): the JWT claims, and the legacy
// request.jwt.claim.sub and request.jwt.claim.
constexpr const char* kClaimSettings[] = {"request.jwt.claims", "request.jwt.claim.sub",
                                          "request.jwt.claim"};

// kClaimSettings and switchboard.caller_role set again with SET LOCAL from their current values,
// in a DO block (see carry_claims()).
constexpr const char* kCarryBlock =
    "DO $carry$ DECLARE n text; v text; BEGIN "
    "FOREACH n IN ARRAY ARRAY['request.jwt.claims', 'request.jwt.claim.sub', "
    "'request.jwt.claim', 'switchboard.caller_role', 'switchboard.default_org'] LOOP "
    "v := pg_catalog.current_setting(n, true); "
    "IF v IS NOT NULL THEN EXECUTE pg_catalog.format('SET LOCAL %s = %L', n, v); END IF; "
    "END LOOP; END $carry$";

// The caller's claims and role as one key ("" when there is nothing to carry).
std::string carried_key(const std::string& role) {
  std::string key;
  for (const char* name : kClaimSettings) {
    const char* value = GetConfigOption(name, true, false);
    if (value && *value) key += std::string(name) + '=' + value;
    key += '\n';
  }
  if (role.empty() && key.find_first_not_of('\n') == std::string::npos) return "";
  return role + '\n' + key;
}

// Ensures: whether the caller's claims and role differ from what this transaction carried (also
// when they are gone since: a superuser's statement after a member's is carried as nobody's).
bool to_carry() {
  return carried_key(caller_role_to_carry()) != carried;
}

// Ensures: Citus opens a transaction block on every node this transaction reaches from now on,
// also for a statement outside BEGIN ... COMMIT (Citus's UseCoordinatedTransaction, looked up once
// per backend): the SET LOCAL commands it propagates go with that block's BEGIN only, so without
// one an autocommit call Citus delegates (a client's session-level set_config() claims, then
// SELECT switchboard.f(...)) reached its node without the caller's claims. Under guard().
void use_coordinated_transaction() {
  using Fn = void (*)();
  static Fn use = nullptr;
  static bool looked_up = false;
  if (!looked_up) {
    use = reinterpret_cast<Fn>(
        load_external_function("$libdir/citus", "UseCoordinatedTransaction", false, nullptr));
    looked_up = true;
  }
  if (use) use();
}

// The setting computed on the client's node and carried with the claims (carry_default_org),
// and its computation (nullptr: none registered; then carried as "").
constexpr const char* kComputedSetting = "switchboard.default_org";
std::string (*compute_setting)() = nullptr;

// True while carry_all() runs statements of its own (they start the executor too). A plain
// flag, not an object: carry_claims() runs where a PostgreSQL error may longjmp; an error aborts
// the (sub)transaction, whose end clears it (forget_carried).
bool carrying = false;

// Ensures: the caller's JWT claims and role travel with what this transaction sends to other Citus
// nodes (a delegated or re-issued call), also when the caller set the claims with set_config(),
// which Citus does not send on: they are set again with SET LOCAL (the role as
// switchboard.caller_role), which Citus sends while citus.propagate_set_commands is 'local', for
// this transaction. Only these: the setting is then put back, so a SET LOCAL ROLE is not sent
// (a SECURITY DEFINER function's own queries on other nodes would run as the caller). There Citus
// connects as the current user, which inside a SECURITY DEFINER function is its owner:
// switchboard.caller_role is what caller_is_service_role() reads there, so a trigger on a shard
// does not take the owner for the caller. The computed setting (kComputedSetting) goes with them.
// SPI is connected; only PostgreSQL is called (under guard()): remember_carried() follows.
void carry_claims(const std::string& computed) {
  std::string role = caller_role_to_carry();
  const char* before = GetConfigOption("citus.propagate_set_commands", true, false);
  StringInfoData put_back;
  initStringInfo(&put_back);
  if (before && std::strcmp(before, "local") != 0)
    appendStringInfo(&put_back, "SET LOCAL citus.propagate_set_commands = %s",
                     quote_literal_cstr(before));
  spi_utility("SET LOCAL citus.propagate_set_commands = 'local'");
  if (IsTransactionBlock()) {
    for (const char* name : kClaimSettings) {
      const char* value = GetConfigOption(name, true, false);
      if (!value) continue;  // never set in this session: absent on every node
      StringInfoData set;
      initStringInfo(&set);
      appendStringInfo(&set, "SET LOCAL %s = %s", name, quote_literal_cstr(value));
      spi_utility(set.data);
    }
    StringInfoData set_role;
    initStringInfo(&set_role);
    appendStringInfo(&set_role, "SET LOCAL switchboard.caller_role = %s",
                     quote_literal_cstr(role.c_str()));
    spi_utility(set_role.data);
    StringInfoData set_computed;
    initStringInfo(&set_computed);
    appendStringInfo(&set_computed, "SET LOCAL %s = %s", kComputedSetting,
                     quote_literal_cstr(computed.c_str()));
    spi_utility(set_computed.data);
  } else {
    // Outside BEGIN ... COMMIT Citus keeps a SET LOCAL for its nodes only inside a function or a
    // DO block: the same settings set again from their current values (nothing of the caller's
    // is part of the block's text).
    StringInfoData set_role;
    initStringInfo(&set_role);
    appendStringInfo(&set_role,
                     "SELECT pg_catalog.set_config('switchboard.caller_role', %s, true), "
                     "pg_catalog.set_config('%s', %s, true)",
                     quote_literal_cstr(role.c_str()), kComputedSetting,
                     quote_literal_cstr(computed.c_str()));
    if (SPI_execute(set_role.data, false, 0) != SPI_OK_SELECT)
      elog(ERROR, "switchboard: setting the caller's role to carry failed");
    spi_utility(kCarryBlock);
  }
  if (put_back.len > 0) spi_utility(put_back.data);
  use_coordinated_transaction();
}

// Ensures: whether the session has JWT claims set (kClaimSettings).
bool claims_present() {
  bool claims = false;
  guard([&] {
    for (const char* name : kClaimSettings) {
      const char* value = GetConfigOption(name, true, false);
      if (value && *value) claims = true;
    }
  });
  return claims;
}

// Ensures: the computed setting's value for the caller: "" without claims (nothing to compute
// for) or without a computation registered.
std::string computed_value() {
  return compute_setting && claims_present() ? compute_setting() : "";
}

// Whether this transaction carried the computed setting for the claims it carried last.
bool computed_carried = false;

// Ensures: the caller's claims, role and computed setting are carried (carry_claims()) when the
// claims changed since this transaction carried them, or `with_computed` and the setting was not
// computed for them yet (else "" goes with new claims: nodes compute it themselves). The
// computation runs first, as C++ (its statements start the executor too: `carrying` keeps them
// from carrying).
void carry_all(bool with_computed) {
  if (carrying) return;
  bool claims_changed = to_carry();
  with_computed = with_computed && (claims_changed || !computed_carried);
  if (!claims_changed && !with_computed) return;
  carrying = true;
  std::string computed = with_computed ? computed_value() : "";
  guard([&] {
    SPI_connect();
    carry_claims(computed);
    SPI_finish();
  });
  computed_carried = with_computed;
  carrying = false;
}

// Ensures: whether the statement is the caller's own (not one of a SECURITY DEFINER function or a
// reader of ours running as the owner, where row-level security does not apply) and reads a table
// with row-level security, whose policies a Citus worker evaluates, comparing with the caller's
// organisation.
bool reads_protected_table(QueryDesc* query) {
  bool found = false;
  guard([&] {
    if (InSecurityRestrictedOperation() || GetUserId() != GetOuterUserId()) return;
    ListCell* cell = nullptr;
    // The range table, not relationOids: Citus's plans keep the statement's tables there only.
    foreach (cell, query->plannedstmt->rtable) {
      auto* entry = static_cast<RangeTblEntry*>(lfirst(cell));
      if (entry->rtekind != RTE_RELATION) continue;
      HeapTuple tuple = SearchSysCache1(RELOID, ObjectIdGetDatum(entry->relid));
      if (!HeapTupleIsValid(tuple)) continue;
      found = found || reinterpret_cast<Form_pg_class>(GETSTRUCT(tuple))->relrowsecurity;
      ReleaseSysCache(tuple);
    }
  });
  return found;
}

// Ensures: the claims and role carried by carry_claims() are not set again in this transaction.
void remember_carried() {
  carried = carried_key(caller_role_to_carry());
}

// Ensures: the next transaction, or the statement after a rolled back subtransaction, carries its
// claims again.
void forget_carried(XactEvent) {
  carried.clear();
  carrying = false;
  computed_carried = false;
}
void forget_carried_sub(SubXactEvent event) {
  if (event != SUBXACT_EVENT_ABORT_SUB) return;
  carried.clear();
  carrying = false;
  computed_carried = false;
}

ExecutorStart_hook_type previous_executor_start = nullptr;

// ExecutorStart hook: on a Citus node, in a session a client opened, a statement starts with the
// caller's claims carried (before Citus begins its transactions on other nodes), and a statement
// reading a table with row-level security with the computed setting too (the caller's default
// organisation, which the workers' policies need and cannot read from their own shards).
void carry_claims_at_start(QueryDesc* query, int eflags) {
  if (!carrying && !citus_internal_backend() &&
      GetConfigOption("citus.propagate_set_commands", true, false) != nullptr) {
    callback("routing claims", ERROR, [query] {
      bool with_computed =
          compute_setting && !computed_carried && claims_present() && reads_protected_table(query);
      if (!with_computed && !to_carry()) return;
      carry_all(with_computed);
      remember_carried();
    });
  }
  if (previous_executor_start)
    previous_executor_start(query, eflags);
  else
    standard_ExecutorStart(query, eflags);
}

// Ensures: SPI's rows are fcinfo's set result (materialize mode), in the caller's memory.
void return_rows(FunctionCallInfo fcinfo) {
  InitMaterializedSRF(fcinfo, 0);
  auto* rsinfo = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
  for (uint64 i = 0; i < SPI_processed; ++i)
    tuplestore_puttuple(rsinfo->setResult, SPI_tuptable->vals[i]);
}

// Ensures: fcinfo's call ran as a statement of its own, as the caller with the caller's claims, in
// the caller's transaction; its one value is returned in the caller's memory (*isnull when NULL),
// or, for a set-returning function, its rows are fcinfo's set result.
Datum run_as_statement(FunctionCallInfo fcinfo, bool* isnull) {
  Datum value = 0;
  bool null = true;
  carry_all(false);
  guard([&] {
    HeapTuple tuple = SearchSysCache1(PROCOID, ObjectIdGetDatum(fcinfo->flinfo->fn_oid));
    if (!HeapTupleIsValid(tuple))
      elog(ERROR, "cache lookup failed for function %u", fcinfo->flinfo->fn_oid);
    auto* proc = reinterpret_cast<Form_pg_proc>(GETSTRUCT(tuple));
    StringInfoData sql;
    initStringInfo(&sql);
    append_call(&sql, fcinfo, proc);
    bool set = proc->proretset;
    int16 length = 0;
    bool by_value = false;
    get_typlenbyval(proc->prorettype, &length, &by_value);
    ReleaseSysCache(tuple);
    SPI_connect();
    int rc = SPI_execute(sql.data, false, set ? 0 : 2);
    if (rc != SPI_OK_SELECT || (!set && SPI_processed != 1))
      elog(ERROR, "switchboard: a routed call answered %d with %lu rows", rc,
           static_cast<unsigned long>(SPI_processed));
    if (set) {
      return_rows(fcinfo);
      null = false;
    } else {
      value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &null);
      if (!null) value = SPI_datumTransfer(value, by_value, length);
    }
    SPI_finish();
  });
  remember_carried();
  *isnull = null;
  return value;
}

}  // namespace

void carry_default_org(std::string (*compute)()) {
  compute_setting = compute;
}

void init_routing() {
  register_xact_handler("routing claims", forget_carried, forget_carried);
  register_subxact_handler("routing claims subxact", forget_carried_sub, forget_carried_sub);
  previous_executor_start = ExecutorStart_hook;
  ExecutorStart_hook = carry_claims_at_start;
}

int allow_nested_here(FunctionCallInfo fcinfo) {
  // Only in a session Citus opened (a query it pushed here, a delegated call): setting the GUC
  // costs about 0.5 us a call (AtEOXact_GUC walks every setting), twice a has_feature's own cost
  // in a client's session on the node holding the organisation.
  if (!citus_internal_backend()) return 0;
  if (!fcinfo->flinfo || fcinfo->nargs == 0 || fcinfo->args[0].isnull) return 0;
  return allow_nested_for(fcinfo->flinfo->fn_oid, *DatumGetUUIDP(fcinfo->args[0].value));
}

int allow_nested_for(Oid fn, const pg_uuid_t& org) {
  if (!citus_internal_backend()) return 0;
  if (scope_of(fn) == Scope::none || !table_hashed(OrgTable::members)) return 0;
  if (!org_rows_here(org)) return 0;
  int level = 0;
  guard([&] {
    level = NewGUCNestLevel();
    (void)set_config_option("citus.allow_nested_distributed_execution", "on", PGC_USERSET,
                            PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
  });
  return level;
}

void end_nested_here(int level) {
  if (level > 0) guard([level] { AtEOXact_GUC(true, level); });
}

bool route_to_owner(FunctionCallInfo fcinfo, Datum* result) {
  if (routing || !fcinfo->flinfo || fcinfo->nargs == 0 || fcinfo->args[0].isnull) return false;
  Scope scope = scope_of(fcinfo->flinfo->fn_oid);
  if (scope == Scope::none) return false;
  // Not inside a SECURITY DEFINER function (the current user is not the caller's role): Citus would
  // open the other node's connection as the function's owner, who passes every permission check
  // there, and the owner's own queries later in the transaction would meet placements another
  // user touched. The call runs here, where a check reads the organisation through Citus. A routed
  // helper (kRoutedHelpers) checks no permission and is called as the owner: it is re-issued.
  if (scope != Scope::helper && GetUserId() != GetOuterUserId()) return false;
  if (org_rows_here(*DatumGetUUIDP(fcinfo->args[0].value))) return false;
  RoutingFlag flag;
  bool isnull = true;
  *result = run_as_statement(fcinfo, &isnull);
  fcinfo->isnull = isnull;
  return true;
}

}  // namespace sb::pg
