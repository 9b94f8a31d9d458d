// The telephony REST routes over real HTTP (switchboard-shim against the test cluster): seed 004's
// 8 endpoints under /api/telephony with its request names and statuses (409 already verified, 410
// expired, 429 locked or rate limited, 400 wrong code or bad input, 404 not found), the code only
// in the service role's answer, members and other tenants refused, and the phone_numbers CRUD.
// The cluster's switchboard.caller_id_secret comes from the tools (extension/tools/lib.sh).
#include <gtest/gtest.h>

#include <regex>

#include "shim_fixtures.hpp"

namespace {

using nlohmann::json;
using sbtest::bearer;
using sbtest::Connection;
using sbtest::Shim;

struct Answer {
  int status = 0;
  json body;
};

// Sends `method path` with `body` (JSON) as the bearer of `token` (none when empty).
Answer send(Shim& shim, const std::string& method, const std::string& path,
            const std::string& token, const json& body = json()) {
  auto client = shim.client();
  httplib::Headers headers = token.empty() ? httplib::Headers{} : bearer(token);
  std::string text = body.is_null() ? "" : body.dump();
  httplib::Result res =
      method == "GET"      ? client.Get(path.c_str(), headers)
      : method == "DELETE" ? client.Delete(path.c_str(), headers, text, "application/json")
      : method == "PATCH"  ? client.Patch(path.c_str(), headers, text, "application/json")
                           : client.Post(path.c_str(), headers, text, "application/json");
  if (!res) return {};
  return {res->status, json::parse(res->body, nullptr, false)};
}

// Expects the HTTP status and the answer's reason.
void expect(const Answer& a, int status, const std::string& reason) {
  EXPECT_EQ(a.status, status) << a.body;
  EXPECT_EQ(a.body.value("reason", ""), reason) << a.body;
  if (a.status != status) FAIL();
}

// True when `text` is a time as every answer writes it: ISO 8601 to the second in UTC.
bool answer_time(const json& text) {
  static const std::regex form(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)");
  return text.is_string() && std::regex_match(text.get<std::string>(), form);
}

// Two organisations: A with an owner, an admin and an agent; B with an owner.
class ShimTelephony : public ::testing::Test {
 protected:
  void SetUp() override {
    org_a = sbtest::new_org(su, owner_a);
    org_b = sbtest::new_org(su, owner_b);
    su.must(
        "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
        "'admin'), ($1, $3, 'agent')",
        {org_a, admin_a, agent_a});
  }

  // A fresh US number of the 650 area (valid for libphonenumber), different in every call.
  std::string new_number() {
    return "+1650253" +
           su.must("select lpad((floor(random() * 10000))::int::text, 4, '0')").value();
  }

  std::string admin() const { return sbtest::token(admin_a, org_a); }
  std::string agent() const { return sbtest::token(agent_a, org_a); }
  std::string owner_of_b() const { return sbtest::token(owner_b, org_b); }
  static std::string service() { return sbtest::token("", "", "service_role"); }

  // Starts a verification of `phone` as the platform's backend: {verificationId, code}.
  std::pair<std::string, std::string> start(const std::string& phone) {
    Answer a = send(shim, "POST", "/api/telephony/verify-caller-id/initiate", service(),
                    {{"org_id", org_a}, {"phoneNumber", phone}});
    EXPECT_EQ(a.status, 200) << a.body;
    return {a.body.value("verificationId", ""), a.body.value("code", "")};
  }

  Answer confirm(const std::string& token, const std::string& id, const std::string& code) {
    return send(shim, "POST", "/api/telephony/verify-caller-id/confirm", token,
                {{"verificationId", id}, {"verificationCode", code}});
  }

  Connection su;
  std::string owner_a = sbtest::new_uuid(su), admin_a = sbtest::new_uuid(su),
              agent_a = sbtest::new_uuid(su), owner_b = sbtest::new_uuid(su);
  std::string org_a, org_b;
  Shim shim;
};

// A 6-digit code other than `code`.
std::string wrong(const std::string& code) {
  return code == "000000" ? "000001" : "000000";
}

TEST_F(ShimTelephony, VerificationStatusesAndWhoSeesTheCode) {
  std::string phone = new_number();
  Answer a = send(shim, "POST", "/api/telephony/verify-caller-id/initiate", agent(),
                  {{"phoneNumber", phone}});
  EXPECT_EQ(a.status, 403) << a.body;  // a member below admin may not start one
  a = send(shim, "POST", "/api/telephony/verify-caller-id/initiate", "", {{"phoneNumber", phone}});
  EXPECT_EQ(a.status, 401) << a.body;
  a = send(shim, "POST", "/api/telephony/verify-caller-id/initiate", admin(),
           {{"phoneNumber", phone}, {"friendlyName", "Front desk"}});
  ASSERT_NO_FATAL_FAILURE(expect(a, 200, "STARTED"));
  EXPECT_FALSE(a.body.contains("code")) << "a member must never see the code: " << a.body;
  EXPECT_TRUE(answer_time(a.body["expiresAt"])) << a.body;
  auto [id, code] = start(phone);  // the service role's resend: the code is in its answer only
  ASSERT_EQ(code.size(), 6u);
  EXPECT_EQ(id, a.body["verificationId"]);

  a = send(shim, "POST", "/api/telephony/verify-caller-id/initiate", admin(),
           {{"phoneNumber", "12"}});
  expect(a, 400, "INVALID_PHONE");

  // Another tenant: B's owner confirms in B (404), and a token naming A without membership is 403.
  a = confirm(owner_of_b(), id, code);
  expect(a, 404, "NOT_FOUND");
  a = send(shim, "POST", "/api/telephony/verify-caller-id/confirm", owner_of_b(),
           {{"org_id", org_a}, {"verificationId", id}, {"verificationCode", code}});
  EXPECT_EQ(a.status, 404) << "the JWT's organisation wins over the body's: " << a.body;
  a = confirm(sbtest::token(owner_b, org_a), id, code);
  EXPECT_EQ(a.status, 403) << a.body;
  a = confirm(agent(), id, code);
  EXPECT_EQ(a.status, 403) << a.body;

  a = confirm(admin(), id, wrong(code));
  expect(a, 400, "WRONG_CODE");
  EXPECT_EQ(a.body["attemptsRemaining"], 2);
  a = confirm(admin(), id, "12ab");
  EXPECT_EQ(a.status, 400) << a.body;  // 22023, not counted
  EXPECT_EQ(a.body["code"], "22023");
  a = confirm(admin(), "not-a-uuid", code);
  EXPECT_EQ(a.status, 400) << a.body;
  a = confirm(admin(), sbtest::new_uuid(su), code);
  EXPECT_EQ(a.status, 404) << a.body;
  a = confirm(admin(), id, code);
  ASSERT_NO_FATAL_FAILURE(expect(a, 200, "VERIFIED"));
  a = confirm(admin(), id, code);
  expect(a, 409, "ALREADY_VERIFIED");
  a = send(shim, "POST", "/api/telephony/verify-caller-id/initiate", admin(),
           {{"phoneNumber", phone}});
  EXPECT_EQ(a.status, 409) << a.body;

  a = send(shim, "GET", "/api/telephony/verified-numbers", agent());
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.body["numbers"].size(), 1u) << a.body;
  EXPECT_EQ(a.body["numbers"][0]["phoneNumber"], phone);
  EXPECT_TRUE(answer_time(a.body["numbers"][0]["verifiedAt"])) << a.body;
  EXPECT_EQ(a.body.dump().find("\"code\""), std::string::npos);
  a = send(shim, "GET", "/api/telephony/verified-numbers", owner_of_b());
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_TRUE(a.body["numbers"].empty()) << a.body;

  a = send(shim, "DELETE", "/api/telephony/verified-numbers/" + id, owner_of_b());
  EXPECT_EQ(a.status, 404) << a.body;
  a = send(shim, "DELETE", "/api/telephony/verified-numbers/" + id, agent());
  EXPECT_EQ(a.status, 403) << a.body;
  a = send(shim, "DELETE", "/api/telephony/verified-numbers/" + id, admin());
  expect(a, 200, "REMOVED");
  a = send(shim, "DELETE", "/api/telephony/verified-numbers/" + id, admin());
  EXPECT_EQ(a.status, 404) << a.body;
}

TEST_F(ShimTelephony, LockedExpiredAndRateLimitedAre429And410) {
  auto [id, code] = start(new_number());
  EXPECT_EQ(confirm(admin(), id, wrong(code)).status, 400);
  EXPECT_EQ(confirm(admin(), id, wrong(code)).status, 400);
  Answer a = confirm(admin(), id, wrong(code));
  EXPECT_EQ(a.status, 429) << a.body;  // the last check failed: locked for an hour
  EXPECT_EQ(a.body["reason"], "LOCKED");
  EXPECT_TRUE(answer_time(a.body["lockedUntil"])) << a.body;
  a = confirm(admin(), id, code);
  EXPECT_EQ(a.status, 429) << "no guess after the limit, even the right one: " << a.body;

  std::string phone = new_number();
  auto started = start(phone);
  su.must(
      "update switchboard.caller_id_verifications set code_expires_at = now() - interval '1 s' "
      "where id = $1",
      {started.first});
  a = confirm(admin(), started.first, started.second);
  expect(a, 410, "EXPIRED");

  start(phone);
  start(phone);  // the third send of the hour
  a = send(shim, "POST", "/api/telephony/verify-caller-id/initiate", admin(),
           {{"phoneNumber", phone}});
  expect(a, 429, "RATE_LIMITED");
}

TEST_F(ShimTelephony, PhoneNumbersAndForwarding) {
  Answer a = send(shim, "POST", "/api/phone-numbers", agent(),
                  {{"phone_number", "(650) 253-0001"}, {"provider", "twilio"}});
  EXPECT_EQ(a.status, 403) << a.body;
  a = send(shim, "POST", "/api/phone-numbers", admin(),
           {{"phone_number", "(650) 253-0001"}, {"provider", "twilio"}, {"sms", true}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["phone_number"], "+16502530001");
  EXPECT_TRUE(answer_time(a.body["created_at"])) << a.body;
  std::string number_id = a.body["id"];
  a = send(shim, "POST", "/api/phone-numbers", admin(),
           {{"phone_number", "+16502530001"}, {"provider", "twilio"}});
  EXPECT_EQ(a.status, 409) << a.body;
  a = send(shim, "POST", "/api/phone-numbers", admin(),
           {{"phone_number", "not a number"}, {"provider", "twilio"}});
  EXPECT_EQ(a.status, 400) << a.body;
  a = send(shim, "GET", "/api/phone-numbers", agent());
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.body.size(), 1u);
  EXPECT_TRUE(answer_time(a.body[0]["updated_at"])) << a.body;
  a = send(shim, "GET", "/api/phone-numbers", owner_of_b());
  EXPECT_TRUE(a.body.empty()) << a.body;
  a = send(shim, "GET", "/api/phone-numbers?select=id", agent());
  EXPECT_EQ(a.status, 404) << "PostgREST modifiers are /rpc's, not a route's: " << a.body;
  EXPECT_EQ(a.body["code"], "PGRST202");
  a = send(shim, "PATCH", "/api/phone-numbers/" + number_id, owner_of_b(),
           {{"friendly_name", "Theirs"}});
  EXPECT_EQ(a.status, 404) << a.body;
  a = send(shim, "PATCH", "/api/phone-numbers/" + number_id, admin(),
           {{"friendly_name", "AI line"}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["friendly_name"], "AI line");

  auto [id, code] = start(new_number());
  ASSERT_EQ(confirm(admin(), id, code).status, 200);
  json config = {{"verifiedCallerId", id},
                 {"forwardingType", "safety_net"},
                 {"carrier", "tmobile"},
                 {"ringTimeSeconds", 25}};
  a = send(shim, "POST", "/api/telephony/forwarding-config", agent(), config);
  EXPECT_EQ(a.status, 403) << a.body;
  config["ringTimeSeconds"] = 7;
  a = send(shim, "POST", "/api/telephony/forwarding-config", admin(), config);
  EXPECT_EQ(a.status, 400) << a.body;  // 5 to 30 seconds in steps of 5
  config["ringTimeSeconds"] = 25;
  a = send(shim, "POST", "/api/telephony/forwarding-config", admin(), config);
  ASSERT_NO_FATAL_FAILURE(expect(a, 201, "CREATED"));
  EXPECT_EQ(a.body["config"]["generatedActivationCode"], "**004*16502530001*11*25#");
  std::string config_id = a.body["config"]["id"];
  a = send(shim, "GET", "/api/telephony/forwarding-config?verifiedCallerId=" + id, agent());
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["config"]["status"], "pending_setup");
  a = send(shim, "GET", "/api/telephony/forwarding-config?verifiedCallerId=" + id, owner_of_b());
  EXPECT_EQ(a.status, 404) << a.body;
  a = send(shim, "POST", "/api/telephony/forwarding-config/confirm", admin(),
           {{"forwardingConfigId", config_id}});
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["status"], "active");
  a = send(shim, "GET", "/api/telephony/forwarding-config?verifiedCallerId=" + id, agent());
  EXPECT_TRUE(answer_time(a.body["config"]["confirmedAt"])) << a.body;
  a = send(shim, "DELETE", "/api/telephony/forwarding-config/" + config_id, owner_of_b());
  EXPECT_EQ(a.status, 404) << a.body;
  a = send(shim, "DELETE", "/api/telephony/forwarding-config/" + config_id, admin());
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body["deactivationCode"], "##004#");
  a = send(shim, "POST", "/api/telephony/forwarding-config/confirm", admin(),
           {{"forwardingConfigId", config_id}});
  expect(a, 409, "DISABLED");

  a = send(shim, "DELETE", "/api/phone-numbers/" + number_id, owner_of_b());
  EXPECT_EQ(a.status, 404) << a.body;
  a = send(shim, "DELETE", "/api/phone-numbers/" + number_id, admin());
  expect(a, 200, "REMOVED");
}

// /openapi.json documents each route's answer statuses with the answer's schema.
TEST_F(ShimTelephony, OpenApiListsTheAnswerStatuses) {
  auto res = shim.client().Get("/openapi.json", bearer(admin()));
  ASSERT_TRUE(res);
  json doc = json::parse(res->body);
  json responses = doc["paths"]["/api/telephony/verify-caller-id/confirm"]["post"]["responses"];
  for (const char* status : {"200", "400", "404", "409", "410", "429"})
    EXPECT_TRUE(responses.contains(status)) << status << ": " << responses;
  EXPECT_EQ(responses["410"]["description"], "answer reason EXPIRED");
  EXPECT_TRUE(
      doc["paths"]["/api/telephony/forwarding-config"]["post"]["responses"].contains("201"));
}

}  // namespace
