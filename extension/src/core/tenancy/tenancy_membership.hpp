// Which organisations a user belongs to, and a bounded per-process cache of those answers.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/tenancy/tenancy_roles.hpp"
#include "core/base/base_uuid.hpp"

namespace sb {

struct Membership {
  Uuid org;
  Role role;
  bool is_default = false;  // the user chose this organisation as their default
};

// A user's memberships, oldest first.
using Memberships = std::vector<Membership>;

// The user's default organisation: the one they chose, else their oldest membership (the first
// they got); nothing without memberships. Memberships added later never change it.
std::optional<Uuid> default_org(const Memberships& list) noexcept;

// The role held in `org`, or nothing when `list` has no membership there.
std::optional<Role> role_in(const Memberships& list, const Uuid& org) noexcept;

// The organisations of `list` where the role is at least `min_role`, in list order.
std::vector<Uuid> orgs_at_least(const Memberships& list, Role min_role);

// Memberships by user id. Holds at most `capacity` users; when full, storing starts afresh.
// Every answer stays valid until clear(): the owner clears it whenever memberships may change.
class MembershipCache {
 public:
  explicit MembershipCache(std::size_t capacity) : capacity_(capacity) {}

  // The cached memberships of `user`, or nullptr when not cached.
  const Memberships* find(const Uuid& user) const noexcept;

  // Caches `list` for `user` and returns the cached copy.
  const Memberships& store(const Uuid& user, Memberships list);

  void clear() noexcept { users_.clear(); }
  std::size_t size() const noexcept { return users_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_map<Uuid, Memberships, UuidHash> users_;
};

}  // namespace sb
