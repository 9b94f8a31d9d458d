// Unit tests of the entitlement decisions that keep billing facts with billing: a tenant's
// override only narrows the plan (when written and whenever it is applied), and sums of limits,
// add-ons and usage never leave the int64 range.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "core/entitlements/entitlements.hpp"
#include "core/base/base_error.hpp"

namespace {

using sb::ent::Grant;
using sb::ent::Mode;
using sb::ent::Override;
using sb::ent::Period;
using sb::ent::Reason;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr sb::ent::Micros kNow = 1'800'000'000'000'000;

// A catalog with `calls` (metered, 3,000 soft on tier pro, 1 hard on tier one) and `sms`
// (boolean, on pro).
sb::ent::Catalog catalog() {
  sb::ent::Catalog c;
  c.features["calls"] = sb::ent::Feature{"calls", true, "call", 0};
  c.features["sms"] = sb::ent::Feature{"sms", false, "", 1};
  c.tiers = {sb::ent::Tier{"one", 1, "0.5"}, sb::ent::Tier{"pro", 2, "0.02"}};
  c.grants["pro"]["calls"] = Grant{3000, Period::billing_period, Mode::soft};
  c.grants["pro"]["sms"] = Grant{};
  c.grants["one"]["calls"] = Grant{1, Period::billing_period, Mode::hard};
  return c;
}

// An organisation on `tier` (active) with what the tier grants.
sb::ent::OrgState org_on(const std::string& tier) {
  sb::ent::OrgState org;
  org.timezone = "UTC";
  sb::ent::Subscription s;
  s.tier = tier;
  s.status = "active";
  s.period_start = kNow - 1000;
  s.period_end = kNow + 1000;
  s.effective = catalog().grants.at(tier);
  org.subscription = s;
  return org;
}

Override tenant(bool enabled, std::optional<int64_t> limit = std::nullopt,
                std::optional<Mode> mode = std::nullopt) {
  Override o;
  o.enabled = enabled;
  o.limit = limit;
  o.mode = mode;
  o.tenant = true;
  return o;
}

// The SQLSTATE and message require_narrowing raises, or "ok".
std::string narrowing(const sb::ent::OrgState& org, const std::string& feature, const Override& o) {
  try {
    sb::ent::require_narrowing(catalog(), org, feature, o, kNow);
    return "ok";
  } catch (const sb::Error& e) {
    return std::string(e.sqlstate()) + ": " + e.what();
  }
}

TEST(TenantOverrides, OnlyDisablingOrCappingBelowThePlanIsNarrowing) {
  sb::ent::OrgState pro = org_on("pro");
  EXPECT_EQ(narrowing(pro, "sms", tenant(false)), "ok");
  EXPECT_EQ(narrowing(pro, "calls", tenant(false)), "ok");
  EXPECT_EQ(narrowing(pro, "calls", tenant(true, 100)), "ok");
  EXPECT_EQ(narrowing(pro, "calls", tenant(true, 3000, Mode::hard)), "ok");
  EXPECT_EQ(narrowing(pro, "calls", tenant(true, 3001)),
            "42501: a tenant override cannot raise a limit");
  EXPECT_EQ(narrowing(pro, "calls", tenant(true, kMax)),
            "42501: a tenant override cannot raise a limit");
  EXPECT_EQ(narrowing(pro, "calls", tenant(true, 10, Mode::soft)),
            "42501: a tenant limit is a hard cap");
  EXPECT_EQ(narrowing(pro, "sms", tenant(true)),
            "42501: a tenant override can only disable a feature or lower its limit");
  EXPECT_EQ(narrowing(org_on("one"), "sms", tenant(true)),
            "42501: a tenant override can only disable a feature or lower its limit");
  sb::ent::OrgState suspended = pro;
  suspended.subscription->status = "suspended";
  EXPECT_EQ(narrowing(suspended, "calls", tenant(true, 1)),
            "42501: the plan does not grant this feature");
  EXPECT_EQ(narrowing(suspended, "calls", tenant(false)), "ok");
}

TEST(TenantOverrides, ACapNeverGrantsMoreThanThePlanInForce) {
  sb::ent::Catalog c = catalog();
  sb::ent::OrgState org = org_on("pro");
  org.overrides["calls"] = tenant(true, 2500);
  sb::ent::Decision d = sb::ent::decide(c, org, {}, "calls", kNow);
  EXPECT_EQ(d.reason, Reason::override_grant);
  EXPECT_EQ(d.grant->limit, 2500);
  EXPECT_EQ(d.grant->mode, Mode::hard);
  // Billing moves the organisation down: the plan's 1 call decides, hard.
  sb::ent::OrgState down = org_on("one");
  down.overrides = org.overrides;
  d = sb::ent::decide(c, down, {}, "calls", kNow);
  EXPECT_EQ(d.reason, Reason::plan);
  EXPECT_EQ(d.grant->limit, 1);
  // Suspended: the cap grants nothing.
  org.subscription->status = "suspended";
  EXPECT_EQ(sb::ent::decide(c, org, {}, "calls", kNow).reason, Reason::no_subscription);
  // An "enabled" tenant row without a cap, or for a feature outside the plan, grants nothing.
  sb::ent::OrgState one = org_on("one");
  one.overrides["sms"] = tenant(true);
  EXPECT_EQ(sb::ent::decide(c, one, {}, "sms", kNow).reason, Reason::not_in_plan);
  // A tenant's disable decides; billing's grant still grants.
  one.overrides["calls"] = tenant(false);
  EXPECT_EQ(sb::ent::decide(c, one, {}, "calls", kNow).reason, Reason::override_disabled);
  Override billing;
  billing.enabled = true;
  one.overrides["sms"] = billing;
  EXPECT_EQ(sb::ent::decide(c, one, {}, "sms", kNow).reason, Reason::override_grant);
}

TEST(Overflow, SumsAreExactOrRefusedWith22003) {
  EXPECT_EQ(sb::ent::checked_sum("x", {{"a", kMax - 1}, {"b", 1}}), kMax);
  EXPECT_EQ(sb::ent::checked_sum("x", {{"a", kMax}, {"b", 0}, {"c", 0}}), kMax);
  try {
    sb::ent::checked_sum("usage is out of range for bigint", {{"used", kMax}, {"quantity", 1}},
                         " of feature \"calls\"");
    FAIL() << "no error";
  } catch (const sb::Error& e) {
    EXPECT_STREQ(e.sqlstate(), "22003");
    EXPECT_STREQ(e.what(), "usage is out of range for bigint");
    EXPECT_EQ(e.detail(),
              "The sum of used 9223372036854775807 and quantity 1 of feature \"calls\" is beyond "
              "bigint.");
  }
  // Overflow in the middle of a sum is refused even if a later term would bring it back.
  EXPECT_THROW(sb::ent::checked_sum("x", {{"a", kMax}, {"b", 1}, {"c", -2}}), sb::Error);
}

TEST(Overflow, AddOnsBeyondTheRangeAreRefused) {
  sb::ent::Catalog c = catalog();
  auto limit = [&](const std::string& tier, int64_t units) {
    return sb::ent::effective_grants(c, tier, {{"calls", sb::ent::AddonValue{false, units}}})
        .at("calls")
        .limit;
  };
  EXPECT_EQ(limit("one", kMax - 1), kMax);
  EXPECT_EQ(limit("pro", kMax - 3000), kMax);
  EXPECT_THROW(limit("one", kMax), sb::Error);
  EXPECT_THROW(limit("pro", kMax - 2999), sb::Error);
}

TEST(Catalog, BitmapsNameFeaturesByTheirBits) {
  sb::ent::Catalog c;
  c.features["calls"] = sb::ent::Feature{"calls", true, "call", 0};
  c.features["sms"] = sb::ent::Feature{"sms", false, "", 9};
  c.features["gone"] = sb::ent::Feature{"gone", false, "", -1};
  std::map<std::string, sb::ent::Grant> grants{{"calls", {}}, {"sms", {}}, {"unknown", {}}};
  EXPECT_EQ(c.bitmap_of(grants), std::string("\x01\x02", 2));  // bit 0, bit 9 = byte 1 mask 2
  EXPECT_EQ(c.bitmap_of({}), "");
  ASSERT_NE(c.key_of_bit(9), nullptr);
  EXPECT_EQ(*c.key_of_bit(9), "sms");
  EXPECT_EQ(c.key_of_bit(3), nullptr);
}

}  // namespace
