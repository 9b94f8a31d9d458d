// Unit tests of the tenancy core: member roles and the membership cache. No server needed.
#include <gtest/gtest.h>

#include "core/base/base_uuid.hpp"
#include "core/tenancy/tenancy_membership.hpp"
#include "core/tenancy/tenancy_roles.hpp"

namespace {

sb::Uuid uuid(const char* text) {
  return *sb::parse_uuid(text);
}

TEST(Roles, ParseKnownNamesOnly) {
  EXPECT_EQ(sb::parse_role("viewer"), sb::Role::viewer);
  EXPECT_EQ(sb::parse_role("owner"), sb::Role::owner);
  EXPECT_FALSE(sb::parse_role("Owner").has_value());
  EXPECT_FALSE(sb::parse_role("superadmin").has_value());
  EXPECT_FALSE(sb::parse_role("").has_value());
}

TEST(Roles, OrderedViewerToOwner) {
  const char* names[] = {"viewer", "agent", "manager", "admin", "owner"};
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      EXPECT_EQ(sb::role_at_least(*sb::parse_role(names[i]), *sb::parse_role(names[j])), i >= j);
  EXPECT_EQ(sb::role_name(sb::Role::manager), "manager");
}

TEST(Membership, RoleInAndOrgsAtLeast) {
  sb::Uuid a = uuid("00000000-0000-4000-8000-00000000000a");
  sb::Uuid b = uuid("00000000-0000-4000-8000-00000000000b");
  sb::Uuid c = uuid("00000000-0000-4000-8000-00000000000c");
  sb::Memberships list = {{a, sb::Role::agent}, {b, sb::Role::owner}};
  EXPECT_EQ(sb::role_in(list, a), sb::Role::agent);
  EXPECT_FALSE(sb::role_in(list, c).has_value());
  EXPECT_EQ(sb::orgs_at_least(list, sb::Role::viewer).size(), 2u);
  ASSERT_EQ(sb::orgs_at_least(list, sb::Role::manager).size(), 1u);
  EXPECT_EQ(sb::orgs_at_least(list, sb::Role::manager)[0], b);
  EXPECT_TRUE(sb::orgs_at_least({}, sb::Role::viewer).empty());
}

// The default: the chosen one wherever it is in the list, else the oldest (the list's first).
TEST(Membership, DefaultOrgIsTheChosenOneElseTheOldest) {
  sb::Uuid a = uuid("00000000-0000-4000-8000-00000000000a");
  sb::Uuid b = uuid("00000000-0000-4000-8000-00000000000b");
  EXPECT_FALSE(sb::default_org({}).has_value());
  EXPECT_EQ(sb::default_org({{a, sb::Role::viewer, false}, {b, sb::Role::owner, false}}), a);
  EXPECT_EQ(sb::default_org({{a, sb::Role::viewer, false}, {b, sb::Role::owner, true}}), b);
}

TEST(Membership, CacheIsBoundedAndClears) {
  sb::MembershipCache cache(2);
  sb::Uuid u1 = uuid("00000000-0000-4000-8000-000000000001");
  sb::Uuid u2 = uuid("00000000-0000-4000-8000-000000000002");
  sb::Uuid u3 = uuid("00000000-0000-4000-8000-000000000003");
  EXPECT_EQ(cache.find(u1), nullptr);
  cache.store(u1, {{u2, sb::Role::admin}});
  cache.store(u2, {});
  ASSERT_NE(cache.find(u1), nullptr);
  EXPECT_EQ(cache.find(u1)->size(), 1u);
  cache.store(u1, {});  // replacing an entry does not evict
  EXPECT_EQ(cache.size(), 2u);
  cache.store(u3, {});  // full: starts afresh
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find(u1), nullptr);
  cache.clear();
  EXPECT_EQ(cache.find(u3), nullptr);
}

}  // namespace
