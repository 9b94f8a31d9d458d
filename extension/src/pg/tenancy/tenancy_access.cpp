#include "pg/tenancy/tenancy_access.hpp"

#include "pg/base/base_boundary.hpp"
#include "pg/base/base_shards.hpp"
#include "pg/tenancy/tenancy_claims.hpp"
#include "pg/tenancy/tenancy_membership_store.hpp"

extern "C" {
#include "utils/acl.h"
#include "utils/guc.h"
}

namespace sb::pg {

namespace {

// Whether role `who` is a superuser or has the privileges of service_role.
bool service_privileges(Oid who) {
  Oid role = get_role_oid("service_role", true);
  return superuser_arg(who) || (OidIsValid(role) && has_privs_of_role(who, role));
}

}  // namespace

bool caller_is_service_role() {
  bool service = false;
  guard([&] {
    service = service_privileges(GetOuterUserId());
    // In a session Citus opened for another node's transaction the current user is whoever
    // Citus connected as: inside a SECURITY DEFINER function, its owner. The caller's own role came
    // along as switchboard.caller_role (base_routing): it can only take the service role away.
    const char* carried = carried_caller_role();
    if (service && carried) {
      Oid caller = get_role_oid(carried, true);
      service = OidIsValid(caller) && service_privileges(caller);
    }
  });
  return service;
}

void require_role(const Uuid& org, Role min_role) {
  std::optional<Role> role = caller_role_in(org);
  if (role && role_at_least(*role, min_role)) return;
  if (caller_is_service_role()) return;
  std::string needed = "Role " + std::string(role_name(min_role)) + " or above in organization " +
                       to_string(org) + " is required; ";
  std::string caller = !caller_user() ? "the request has no signed-in user (no sub claim)."
                       : !role        ? "the caller is not a member."
                               : "the caller's role is " + std::string(role_name(*role)) + ".";
  throw Error("42501", "permission denied for this organization", needed + caller,
              "Use the token of a member with that role or above, or the service role.");
}

}  // namespace sb::pg
