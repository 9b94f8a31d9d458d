#include "core/tenancy/tenancy_membership.hpp"

namespace sb {

std::optional<Role> role_in(const Memberships& list, const Uuid& org) noexcept {
  for (const Membership& m : list)
    if (m.org == org) return m.role;
  return std::nullopt;
}

std::optional<Uuid> default_org(const Memberships& list) noexcept {
  for (const Membership& m : list)
    if (m.is_default) return m.org;
  if (list.empty()) return std::nullopt;
  return list.front().org;
}

std::vector<Uuid> orgs_at_least(const Memberships& list, Role min_role) {
  std::vector<Uuid> orgs;
  for (const Membership& m : list)
    if (role_at_least(m.role, min_role)) orgs.push_back(m.org);
  return orgs;
}

const Memberships* MembershipCache::find(const Uuid& user) const noexcept {
  auto it = users_.find(user);
  return it == users_.end() ? nullptr : &it->second;
}

const Memberships& MembershipCache::store(const Uuid& user, Memberships list) {
  if (users_.size() >= capacity_ && users_.find(user) == users_.end()) users_.clear();
  Memberships& slot = users_[user];
  slot = std::move(list);
  return slot;
}

}  // namespace sb

#include "core/base/base_cpp_only.hpp"  // last: fails the build if a PostgreSQL header came in above
