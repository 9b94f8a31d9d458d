#include "pg/tenancy/tenancy_access.hpp"

#include "pg/base/base_boundary.hpp"
#include "pg/tenancy/tenancy_claims.hpp"
#include "pg/tenancy/tenancy_membership_store.hpp"

extern "C" {
#include "utils/acl.h"
}

namespace sb::pg {

bool caller_is_service_role() {
  bool service = false;
  guard([&] {
    Oid outer = GetOuterUserId();
    Oid role = get_role_oid("service_role", true);
    service = superuser_arg(outer) || (OidIsValid(role) && has_privs_of_role(outer, role));
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
