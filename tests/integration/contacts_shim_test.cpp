// Contacts and calls over real HTTP through switchboard-shim: the routes of
// extension/sql/70_contacts/routes.sql with tokens of every role, another organisation's agent,
// and bad input (status codes and SQLSTATEs as the shim maps them).
#include <gtest/gtest.h>

#include "shim_fixtures.hpp"

namespace {

using nlohmann::json;
using sbtest::bearer;
using sbtest::Connection;
using sbtest::Shim;

class ShimContacts : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { sbtest::ensure_shim_fixtures(); }
};

// Sends `method` to `path` with a JSON body; returns the status and the parsed body.
std::pair<int, json> call(Shim& shim, const std::string& method, const std::string& path,
                          const std::string& token, const std::string& body = "{}") {
  auto client = shim.client();
  httplib::Headers headers = bearer(token);
  httplib::Result res = method == "PUT"   ? client.Put(path, headers, body, "application/json")
                        : method == "GET" ? client.Get(path, headers)
                                          : client.Post(path, headers, body, "application/json");
  if (!res) return {0, json()};
  return {res->status, res->body.empty() ? json() : json::parse(res->body)};
}

// An organisation with one member of each role below owner; the members' tokens by role.
struct Org {
  std::string id;
  std::map<std::string, std::string> tokens;
};

Org new_org(Connection& admin) {
  Org org;
  std::string owner = sbtest::new_uuid(admin);
  org.id = sbtest::new_org(admin, owner);
  org.tokens["owner"] = sbtest::token(owner, org.id);
  for (const char* role : {"manager", "agent", "viewer"}) {
    std::string user = sbtest::new_uuid(admin);
    admin.must(
        "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, $3)",
        {org.id, user, role});
    org.tokens[role] = sbtest::token(user, org.id);
  }
  return org;
}

TEST_F(ShimContacts, ContactsCallsNotesDispositionsAndDashboard) {
  Shim shim;
  Connection admin;
  Org a = new_org(admin), b = new_org(admin);
  const std::string& agent = a.tokens["agent"];

  // Contacts: an agent creates one (a national number is normalised, its zone derived), a viewer
  // cannot, a bad number is refused.
  auto [status, body] = call(shim, "POST", "/api/contacts", agent,
                             R"({"contact": {"phone": "(212) 736-5000", "firstName": "Ada"}})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["reason"], "INSERTED");
  std::string contact = body["contactId"];
  EXPECT_EQ(admin
                .must("select phone || ' ' || timezone from switchboard.contacts where id = $1",
                      {contact})
                .value(),
            "+12127365000 America/New_York");
  std::tie(status, body) = call(shim, "POST", "/api/contacts", a.tokens["viewer"],
                                R"({"contact": {"phone": "+12125550143"}})");
  EXPECT_EQ(status, 403) << body.dump();
  EXPECT_EQ(body["code"], "42501");
  std::tie(status, body) =
      call(shim, "POST", "/api/contacts", agent, R"({"contact": {"phone": "12"}})");
  EXPECT_EQ(status, 400) << body.dump();
  EXPECT_EQ(body["code"], "22023");

  // Import: per-row rejections, merges on phone.
  std::tie(status, body) = call(shim, "POST", "/api/contacts/import", agent,
                                R"({"rows": [{"phone": "+12127365000", "lastName": "Lovelace"},
                                             {"phone": "+12125550144"}, {"phone": "nope"}]})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["inserted"], 1);
  EXPECT_EQ(body["merged"], 1);
  EXPECT_EQ(body["rejected"], json::parse(R"([{"row": 2, "reason": "PHONE_INVALID"}])"));

  // A call from provider events, outbound to the contact: linked to it.
  std::tie(status, body) =
      call(shim, "POST", "/api/calls/events", agent,
           R"({"provider": "twilio", "event": {"CallSid": "CAhttp", "CallStatus": "completed",
          "SequenceNumber": "3", "Direction": "outbound-api", "To": "+12127365000",
          "AnsweredBy": "human", "Timestamp": "Sat, 05 Dec 2026 10:02:09 +0000"}})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["outcome"], "connected");
  EXPECT_EQ(body["contactId"], contact);
  std::string call_id = body["callId"];
  std::tie(status, body) = call(shim, "POST", "/api/calls/events", agent,
                                R"({"provider": "twilio", "event": {"CallStatus": "ringing"}})");
  EXPECT_EQ(status, 400) << body.dump();

  // Notes: 500 characters at most; another organisation's agent does not find the call.
  std::tie(status, body) = call(shim, "POST", "/api/calls/" + call_id + "/notes", agent,
                                R"({"note": "Wants a callback on Monday"})");
  ASSERT_EQ(status, 200) << body.dump();
  std::tie(status, body) = call(shim, "POST", "/api/calls/" + call_id + "/notes", agent,
                                json{{"note", std::string(501, 'x')}}.dump());
  EXPECT_EQ(status, 400) << body.dump();
  std::tie(status, body) =
      call(shim, "GET", "/api/calls/" + call_id + "/notes", a.tokens["viewer"]);
  ASSERT_EQ(status, 200) << body.dump();
  ASSERT_EQ(body.size(), 1u) << body.dump();
  EXPECT_EQ(body[0]["note"], "Wants a callback on Monday");
  for (const char* role : {"owner", "manager", "agent", "viewer"}) {
    std::tie(status, body) = call(shim, "GET", "/api/calls/" + call_id + "/notes", b.tokens[role]);
    EXPECT_EQ(status, 404) << role << " " << body.dump();
    std::tie(status, body) = call(shim, "POST", "/api/calls/" + call_id + "/notes", b.tokens[role],
                                  R"({"note": "not mine"})");
    EXPECT_NE(status, 200) << role << " " << body.dump();
  }

  // Dispositions: a manager configures one, an agent sets it (the contact moves), an unknown one
  // is refused with its reason.
  std::tie(status, body) = call(
      shim, "PUT", "/api/dispositions/interested", a.tokens["manager"],
      R"({"settings": {"stage": "Qualified", "createMissingStage": true, "contactStatus": "qualified"}})");
  ASSERT_EQ(status, 200) << body.dump();
  std::tie(status, body) = call(shim, "PUT", "/api/calls/" + call_id + "/disposition", agent,
                                R"({"disposition": "interested", "options": {"notes": "keen"}})");
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["reason"], "SET");
  EXPECT_EQ(admin.must("select status from switchboard.contacts where id = $1", {contact}).value(),
            "qualified");
  std::tie(status, body) = call(shim, "PUT", "/api/calls/" + call_id + "/disposition", agent,
                                R"({"disposition": "nope"})");
  EXPECT_EQ(body["reason"], "DISPOSITION_NOT_FOUND") << body.dump();
  std::tie(status, body) = call(shim, "PUT", "/api/calls/" + call_id + "/disposition",
                                a.tokens["viewer"], R"({"disposition": "interested"})");
  EXPECT_EQ(status, 403) << body.dump();

  // The dashboard: a viewer reads it; the connected call is counted.
  std::tie(status, body) = call(
      shim, "GET",
      "/api/metrics/dashboard?from=2026-12-01T00:00:00Z&to=2026-12-31T00:00:00Z&granularity=day",
      a.tokens["viewer"]);
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["callsByOutcome"]["connected"], 1) << body.dump();
}

}  // namespace
