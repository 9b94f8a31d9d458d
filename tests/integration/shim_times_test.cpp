// One time rule for everything the shim returns, over real HTTP: table-shaped results (REST routes
// and /rpc, with and without PostgREST's select/order/filters, the object representation, scalar
// results) write timestamptz as jsonb answers do (switchboard.answer_time: ISO 8601 to the second
// in UTC), while filters and order still compare the times themselves.
#include <gtest/gtest.h>

#include <mutex>
#include <regex>

#include "shim_fixtures.hpp"

namespace {

using nlohmann::json;
using sbtest::bearer;
using sbtest::Connection;
using sbtest::Shim;

// Ensures: switchboard.shimtest_times() (three rows with microseconds, one before 1970) and
// switchboard.shimtest_instant() (one timestamptz) exist for anon and authenticated.
void ensure_time_fixtures() {
  static std::once_flag once;
  std::call_once(once, [] {
    Connection c;
    c.must(R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_times()
      RETURNS TABLE (label text, at timestamptz, day date) LANGUAGE sql STABLE AS $$
        VALUES ('a', '2026-01-02 03:04:05.678901+00'::timestamptz, '2026-01-02'::date),
               ('b', '2026-07-01 12:00:00.5-04', '2026-07-01'),
               ('c', '1969-12-31 23:59:59.25+00', '1969-12-31') $$)SQL");
    c.must(R"SQL(CREATE OR REPLACE FUNCTION switchboard.shimtest_instant() RETURNS timestamptz
      LANGUAGE sql STABLE AS $$ SELECT '2026-03-04 05:06:07.999999+02'::timestamptz $$)SQL");
    c.must(
        "GRANT EXECUTE ON FUNCTION switchboard.shimtest_times(), switchboard.shimtest_instant() "
        "TO anon, authenticated");
  });
}

class ShimTimes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ensure_time_fixtures(); }
};

json get(Shim& shim, const std::string& path, const httplib::Headers& headers = {}) {
  auto res = shim.client().Get(path.c_str(), headers);
  EXPECT_TRUE(res);
  if (!res) return json();
  EXPECT_TRUE(res->status == 200 || res->status == 206) << path << ": " << res->body;
  return json::parse(res->body, nullptr, false);
}

bool answer_time(const json& text) {
  static const std::regex form(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)");
  return text.is_string() && std::regex_match(text.get<std::string>(), form);
}

TEST_F(ShimTimes, RpcRowsAndScalarsWriteTimesAsAnswersDo) {
  Shim shim;
  json rows = get(shim, "/rpc/shimtest_times");
  ASSERT_EQ(rows.size(), 3u) << rows;
  EXPECT_EQ(rows[0]["at"], "2026-01-02T03:04:05Z");
  EXPECT_EQ(rows[1]["at"], "2026-07-01T16:00:00Z");
  EXPECT_EQ(rows[2]["at"], "1969-12-31T23:59:59Z");
  EXPECT_EQ(rows[0]["day"], "2026-01-02");  // dates are not times: as they are
  EXPECT_EQ(get(shim, "/rpc/shimtest_instant"), "2026-03-04T03:06:07Z");
  auto res = shim.client().Post("/rpc/shimtest_times", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)[1]["at"], "2026-07-01T16:00:00Z");
}

TEST_F(ShimTimes, ReadContractComparesTimesAndWritesThemByTheRule) {
  Shim shim;
  json rows = get(shim, "/rpc/shimtest_times?select=when:at,label&order=at.desc");
  ASSERT_EQ(rows.size(), 3u) << rows;
  EXPECT_EQ(rows[0], json({{"when", "2026-07-01T16:00:00Z"}, {"label", "b"}}));
  EXPECT_EQ(rows[2]["when"], "1969-12-31T23:59:59Z");
  // The filter compares timestamps (microseconds included), not the written text.
  rows = get(shim, "/rpc/shimtest_times?at=gt.2026-01-02T03:04:05.5Z&order=at");
  ASSERT_EQ(rows.size(), 2u) << rows;
  EXPECT_EQ(rows[0]["at"], "2026-01-02T03:04:05Z");
  json one = get(shim, "/rpc/shimtest_times?label=eq.c",
                 {{"Accept", "application/vnd.pgrst.object+json"}});
  EXPECT_EQ(one["at"], "1969-12-31T23:59:59Z") << one;
  rows = get(shim, "/rpc/shimtest_times?limit=1&offset=1", {{"Prefer", "count=exact"}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["at"], "2026-07-01T16:00:00Z");
  EXPECT_EQ(get(shim, "/rpc/shimtest_instant?select=shimtest_instant"), "2026-03-04T03:06:07Z");
}

// REST routes over table-shaped functions: members (joined_at), phone numbers (created_at,
// updated_at), and a jsonb answer (expiresAt) all write the same form.
TEST_F(ShimTimes, RoutesOfSeveralAreasFollowTheRule) {
  Shim shim;
  Connection su;
  std::string owner = sbtest::new_uuid(su);
  std::string org = sbtest::new_org(su, owner);
  auto who = bearer(sbtest::token(owner, org));
  json members = get(shim, "/api/organizations/" + org + "/members", who);
  ASSERT_EQ(members.size(), 1u) << members;
  EXPECT_TRUE(answer_time(members[0]["joined_at"])) << members;
  members = get(shim, "/rpc/list_members?org_id=" + org + "&select=joined_at", who);
  EXPECT_TRUE(answer_time(members[0]["joined_at"])) << members;
  auto res = shim.client().Post("/api/phone-numbers", who,
                                R"({"phone_number": "+16502530002", "provider": "twilio"})",
                                "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json number = json::parse(res->body);
  EXPECT_TRUE(answer_time(number["created_at"])) << number;
  json numbers = get(shim, "/api/phone-numbers", who);
  EXPECT_TRUE(answer_time(numbers[0]["updated_at"])) << numbers;
  res = shim.client().Post("/api/telephony/verify-caller-id/initiate", who,
                           R"({"phoneNumber": "+16502530003"})", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_TRUE(answer_time(json::parse(res->body)["expiresAt"])) << res->body;
}

}  // namespace
