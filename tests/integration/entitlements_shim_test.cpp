// Billing facts come from billing, over real HTTP through switchboard-shim: the tenant's REST
// routes and /rpc calls cannot grant, raise a limit or set a subscription; an owner asks for a
// plan change through its route and the billing backend (a service_role token) sees it pending.
#include <gtest/gtest.h>

#include "shim_fixtures.hpp"

namespace {

using nlohmann::json;
using sbtest::bearer;
using sbtest::Connection;
using sbtest::Shim;

class ShimBilling : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sbtest::ensure_shim_fixtures(); }
};

// Sends `method` to `path` with a JSON body; returns the status and the parsed body.
std::pair<int, json> call(Shim& shim, const std::string& method, const std::string& path,
                          const std::string& token, const std::string& body = "{}") {
  auto client = shim.client();
  httplib::Headers headers = token.empty() ? httplib::Headers{} : bearer(token);
  httplib::Result res = method == "PUT"      ? client.Put(path, headers, body, "application/json")
                        : method == "DELETE" ? client.Delete(path, headers)
                                             : client.Post(path, headers, body, "application/json");
  if (!res) return {0, json()};
  return {res->status, res->body.empty() ? json() : json::parse(res->body)};
}

TEST_F(ShimBilling, TenantsNarrowAndAskBillingDecides) {
  Shim shim;
  Connection admin;
  std::string owner = sbtest::new_uuid(admin), tenant_admin = sbtest::new_uuid(admin);
  std::string org = sbtest::new_org(admin, owner);
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'admin')",
      {org, tenant_admin});
  admin.must("select switchboard.set_subscription($1, 'smart_broadcast_pro')", {org});
  std::string owner_token = sbtest::token(owner, org),
              admin_token = sbtest::token(tenant_admin, org);
  std::string billing_token = sbtest::token("", "", "service_role");

  // The reproductions, over HTTP: no subscription, no grant, no raised limit for tenants.
  for (const std::string& token : {owner_token, admin_token}) {
    auto [status, body] = call(shim, "POST", "/rpc/set_subscription", token,
                               json{{"org_id", org}, {"tier", "white_label"}}.dump());
    EXPECT_EQ(status, 403) << body.dump();
    EXPECT_EQ(body["code"], "42501");
    std::tie(status, body) =
        call(shim, "PUT", "/api/features/api_access", token, R"({"enabled": true})");
    EXPECT_EQ(status, 403) << body.dump();
    std::tie(status, body) = call(shim, "PUT", "/api/features/calls", token,
                                  R"({"enabled": true, "usage_limit": 100000000})");
    EXPECT_EQ(status, 403) << body.dump();
    EXPECT_EQ(body["message"], "a tenant override cannot raise a limit");
  }
  // Anonymous: anon may not execute set_subscription (it does not exist for anon: 404), and the
  // route acts for the caller's organisation (a token is needed: 401); nothing runs.
  auto [status, body] = call(shim, "POST", "/rpc/set_subscription", "",
                             json{{"org_id", org}, {"tier", "white_label"}}.dump());
  EXPECT_EQ(status, 404) << body.dump();
  std::tie(status, body) = call(shim, "PUT", "/api/features/calls", "",
                                R"({"enabled": true, "usage_limit": 100000000})");
  EXPECT_EQ(status, 401) << body.dump();
  EXPECT_EQ(
      admin.must("select tier from switchboard.subscriptions where org_id = $1", {org}).value(),
      "smart_broadcast_pro");

  // Narrowing works: the admin caps calls and removes the cap again.
  std::tie(status, body) = call(shim, "PUT", "/api/features/calls", admin_token,
                                R"({"enabled": true, "usage_limit": 100})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["source"], "tenant");
  std::tie(status, body) =
      call(shim, "POST", "/api/features/check", owner_token, R"({"feature": "calls"})");
  EXPECT_EQ(body["limit"], 100);
  std::tie(status, body) = call(shim, "DELETE", "/api/features/calls", admin_token);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["reason"], "CLEARED");

  // The owner asks for white_label through the route; the admin may not; billing sees it pending
  // and nothing is granted until billing applies it.
  std::tie(status, body) =
      call(shim, "POST", "/api/plan-change-requests", admin_token, R"({"tier": "white_label"})");
  EXPECT_EQ(status, 403) << body.dump();
  std::tie(status, body) =
      call(shim, "POST", "/api/plan-change-requests", owner_token, R"({"tier": "platinum"})");
  EXPECT_EQ(status, 400) << body.dump();
  EXPECT_EQ(body["code"], "22023");
  std::tie(status, body) =
      call(shim, "POST", "/api/plan-change-requests", owner_token, R"({"tier": "white_label"})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["status"], "pending");
  EXPECT_EQ(body["reason"], "REQUESTED");
  std::string request = body["requestId"];
  std::tie(status, body) = call(shim, "POST", "/api/features/check", owner_token,
                                R"({"feature": "white_label_capabilities"})");
  EXPECT_EQ(body["reason"], "NOT_IN_PLAN");
  std::tie(status, body) =
      call(shim, "POST", "/rpc/pending_plan_changes", owner_token, json{{"org_id", org}}.dump());
  EXPECT_EQ(status, 404) << body.dump();  // tenants may not execute it
  std::tie(status, body) =
      call(shim, "POST", "/rpc/pending_plan_changes", billing_token, json{{"org_id", org}}.dump());
  ASSERT_EQ(status, 200) << body.dump();
  ASSERT_EQ(body.size(), 1u);
  EXPECT_EQ(body[0]["id"], request);
  std::tie(status, body) = call(shim, "POST", "/rpc/set_subscription", billing_token,
                                json{{"org_id", org}, {"tier", "white_label"}}.dump());
  ASSERT_EQ(status, 200) << body.dump();
  std::tie(status, body) = call(shim, "POST", "/api/features/check", owner_token,
                                R"({"feature": "white_label_capabilities"})");
  EXPECT_EQ(body["reason"], "PLAN");
  EXPECT_EQ(
      admin.must("select status from switchboard.plan_change_requests where id = $1", {request})
          .value(),
      "applied");
}

}  // namespace
