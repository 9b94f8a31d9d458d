// SQL functions of the tenancy area: who the caller is and what they may do in an organisation.
#include "pg/tenancy/tenancy_access.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/tenancy/tenancy_claims.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_shards.hpp"
#include "pg/entitlements/entitlements_store.hpp"
#include "pg/tenancy/tenancy_membership_store.hpp"
#include "pg/tenancy/tenancy_org_versions.hpp"
#include "pg/base/base_store.hpp"

extern "C" {
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
}

namespace {

using sb::pg::uuid_arg;
using sb::pg::uuid_datum;

// The enum value OIDs of switchboard.member_role, by rank, for the enum type `type`.
struct RoleOids {
  Oid type = InvalidOid;
  Oid by_rank[6] = {};
};

const RoleOids& role_oids(Oid type) {
  static RoleOids oids;
  if (oids.type == type) return oids;
  oids.type = InvalidOid;
  sb::pg::guard([&] {
    for (int rank = 1; rank <= 5; ++rank) {
      const char* name = sb::role_name(static_cast<sb::Role>(rank)).data();
      oids.by_rank[rank] = DatumGetObjectId(
          DirectFunctionCall2(enum_in, CStringGetDatum(name), ObjectIdGetDatum(type)));
    }
  });
  oids.type = type;
  return oids;
}

sb::Role role_arg(FunctionCallInfo fcinfo, int n) {
  Oid value = PG_GETARG_OID(n);
  const RoleOids& oids = role_oids(get_fn_expr_argtype(fcinfo->flinfo, n));
  for (int rank = 1; rank <= 5; ++rank)
    if (oids.by_rank[rank] == value) return static_cast<sb::Role>(rank);
  throw sb::Error("22023", "unknown member role",
                  "No member role has the enum value oid " + std::to_string(value) + ".");
}

}  // namespace

// Ensures: the caller's user id from the JWT claims, or NULL when there is none.
SB_FUNCTION(sb_current_user_id) {
  std::optional<sb::Uuid> user = sb::pg::caller_user();
  if (!user) PG_RETURN_NULL();
  return uuid_datum(*user);
}

// Ensures: the organisation named by the JWT's app_metadata.org_id, or NULL.
SB_FUNCTION(sb_current_org_id) {
  std::optional<sb::Uuid> org = sb::pg::caller_org();
  if (!org) PG_RETURN_NULL();
  return uuid_datum(*org);
}

// Ensures: the request's JWT claims as jsonb; an empty object when there are none.
SB_FUNCTION(sb_current_claims) {
  const char* text = sb::pg::current_claims_text();
  Datum result = 0;
  sb::pg::guard(
      [&] { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(text ? text : "{}")); });
  return result;
}

// Ensures: the caller's role in the organisation, NULL when not a member.
SB_FUNCTION(sb_member_role) {
  std::optional<sb::Role> role = sb::pg::caller_role_in(uuid_arg(fcinfo, 0));
  if (!role) PG_RETURN_NULL();
  Oid type = get_fn_expr_rettype(fcinfo->flinfo);
  return ObjectIdGetDatum(role_oids(type).by_rank[static_cast<int>(*role)]);
}

// Ensures: true when the caller is a member of the organisation with at least the given role.
SB_FUNCTION(sb_has_role_at_least) {
  sb::Role wanted = role_arg(fcinfo, 1);
  std::optional<sb::Role> role = sb::pg::caller_role_in(uuid_arg(fcinfo, 0));
  PG_RETURN_BOOL(role && sb::role_at_least(*role, wanted));
}

// Ensures: true when the caller is a member of the organisation.
SB_FUNCTION(sb_is_member) {
  PG_RETURN_BOOL(sb::pg::caller_role_in(uuid_arg(fcinfo, 0)).has_value());
}

// Ensures: the organisations where the caller holds at least the given role (for RLS policies).
SB_FUNCTION(sb_member_org_ids) {
  std::vector<sb::Uuid> orgs = sb::orgs_at_least(sb::pg::caller_memberships(), role_arg(fcinfo, 0));
  std::vector<Datum> items;
  for (const sb::Uuid& org : orgs) items.push_back(uuid_datum(org));
  ArrayType* array = nullptr;
  sb::pg::guard([&] {
    array = construct_array(items.data(), static_cast<int>(items.size()), UUIDOID, 16, false,
                            TYPALIGN_CHAR);
  });
  PG_RETURN_ARRAYTYPE_P(array);
}

// Ensures: the organisation this request acts in, if the caller holds at least the role there: the
// JWT's app_metadata.org_id when the caller is a member of it, else the caller's default
// organisation; NULL otherwise (what protect() policies compare with, so an index on org_id serves
// them).
SB_FUNCTION(sb_active_org_id) {
  sb::Role wanted = role_arg(fcinfo, 0);
  const sb::Memberships& list = sb::pg::caller_memberships();
  std::optional<sb::Uuid> org = list.empty() ? std::nullopt : sb::pg::caller_org();
  if (!org) org = sb::pg::caller_default_org(list);
  std::optional<sb::Role> role = org ? sb::role_in(list, *org) : std::nullopt;
  if (!role || !sb::role_at_least(*role, wanted)) PG_RETURN_NULL();
  return uuid_datum(*org);
}

// Ensures: the caller's default organisation (chosen with set_default_org, else their oldest
// membership), or NULL without memberships.
SB_FUNCTION(sb_default_org_id) {
  std::optional<sb::Uuid> org = sb::pg::caller_default_org(sb::pg::caller_memberships());
  if (!org) PG_RETURN_NULL();
  return uuid_datum(*org);
}

// Ensures: true when the current role (as set by SET ROLE, not a SECURITY DEFINER owner) is a
// superuser or has the privileges of service_role.
SB_FUNCTION(sb_is_service_role) {
  PG_RETURN_BOOL(sb::pg::caller_is_service_role());
}

// Ensures: every backend drops its caches built from this table once the change commits, and this
// backend at once (statement-level trigger on every cached table).
SB_FUNCTION(sb_invalidate_caches) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw sb::Error("39P01", "invalidate_caches() must be called as a trigger");
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  // Tables whose rows carry per-organisation counters ('per_org') only need this for TRUNCATE.
  bool per_org =
      trigger->tg_trigger->tgnargs > 0 && strcmp(trigger->tg_trigger->tgargs[0], "per_org") == 0;
  if (per_org && sb::pg::org_versions_available() && !TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event))
    return PointerGetDatum(nullptr);
  sb::pg::invalidate_table(RelationGetRelid(trigger->tg_relation));
  return PointerGetDatum(nullptr);
}

namespace sb::pg {
namespace {

Query organization_exists_query = {
    "select 1 from switchboard.organizations o where o.id OPERATOR(pg_catalog.=) $1", 1, {UUIDOID}};

}  // namespace

void assert_role(const Uuid& org, Role min_role) {
  require_role(org, min_role);
  if (caller_role_in(org)) return;
  pg_uuid_t key;
  memcpy(key.data, org.bytes.data(), UUID_LEN);
  if (org_rows_here(key)) {
    org_state(org);  // raises "organization not found"; the state is then cached for the call
    return;
  }
  // The service role in a call that runs on a node without the organisation's shards (inside a
  // SECURITY DEFINER function on a Citus coordinator, which does not re-issue it):
  // `organizations` is a reference table, with a copy here.
  Datum arg = UUIDPGetDatum(&key);
  if (spi_query(organization_exists_query, &arg, nullptr, ReadMode::current).count == 0)
    throw organization_not_found_error(to_string(org));
}

}  // namespace sb::pg

// Ensures: 22023 "<name> must not be null" when the value is NULL (switchboard.require_arg, for
// the SQL functions: the one rule and wording of sb::pg::require_arg).
SB_FUNCTION(sb_require_arg) {
  sb::pg::require_arg(fcinfo, 1, "name");
  std::string name(sb::pg::text_arg(fcinfo, 1));
  sb::pg::require_arg(fcinfo, 0, name.c_str());
  PG_RETURN_VOID();
}

// Ensures: the caller is the service role or a member with at least the role (42501 otherwise);
// for the service role, that the organisation exists (P0002 otherwise).
SB_FUNCTION(sb_assert_role) {
  sb::pg::require_arg(fcinfo, 0, "org_id");
  sb::pg::require_arg(fcinfo, 1, "min_role");
  sb::pg::assert_role(uuid_arg(fcinfo, 0), role_arg(fcinfo, 1));
  PG_RETURN_VOID();
}
