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
  std::optional<Role> role = role_in(caller_memberships(), org);
  if (role && role_at_least(*role, min_role)) return;
  if (caller_is_service_role()) return;
  if (!caller_user())
    throw Error("42501", "this action needs a signed-in user",
                "request.jwt.claims carries no sub claim", "send a jwt whose sub is a member");
  if (!role)
    throw Error("42501", "not a member of this organization", "org_id: " + to_string(org),
                "use a token of a member of this organization, or the service role");
  throw Error(
      "42501",
      "role " + std::string(role_name(min_role)) + " or above is required in this organization",
      "your role: " + std::string(role_name(*role)));
}

}  // namespace sb::pg
