// Integration tests of caller-ID verification against a real cluster (SWITCHBOARD_TEST_DSN): 8
// clients guessing the code of one verification at once. Checks are counted under the row lock:
// exactly the allowed number is counted, and no guess after the last one is accepted, even the
// right code.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>

#include "pg.hpp"

using sbtest::Connection;
using sbtest::run_clients;

namespace {

const char* kSecret = "telephony-integration-secret-0123456789abcdef";

struct Org {
  std::string id;
  std::string admin;  // user id of an admin member
};

Org make_org(Connection& su) {
  Org org;
  org.id = su.must(
                 "insert into switchboard.organizations (name, slug) values ('IT telephony', "
                 "'it-tel-' || replace(gen_random_uuid()::text, '-', '')) returning id")
               .value();
  org.admin = sbtest::new_uuid(su);
  su.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'admin')",
      {org.id, org.admin});
  return org;
}

// A connection with the code secret, acting as the organisation's admin.
void as_admin(Connection& c, const Org& org) {
  c.must("select set_config('switchboard.caller_id_secret', $1, false)", {kSecret});
  c.become_user(org.admin);
}

// Starts a verification of `phone` as superuser (the service role's view): {id, code}.
std::pair<std::string, std::string> start(Connection& su, const Org& org,
                                          const std::string& phone) {
  auto r = su.must(
      "select s ->> 'verificationId', s ->> 'code' "
      "from switchboard.start_caller_id_verification($1, $2) s",
      {org.id, phone});
  return {r.rows.at(0).at(0), r.rows.at(0).at(1)};
}

// A 6-digit code other than `code`.
std::string wrong_code(const std::string& code, int k) {
  std::string out = std::to_string((std::stoi(code) + 1 + k) % 1000000);
  out = std::string(6 - out.size(), '0') + out;
  return out == code ? wrong_code(code, k + 1) : out;
}

// The answer's reason, with LOCKED split into the check that locked and a check refused because
// the number was already locked.
std::string outcome(Connection& c, const Org& org, const std::string& id, const std::string& code) {
  auto r = c.run(
      "select a ->> 'reason', a ->> 'error' "
      "from switchboard.confirm_caller_id_verification($1, $2, $3) a",
      {org.id, id, code});
  if (!r.ok()) return "error " + r.sqlstate + ": " + r.message;
  const std::string& reason = r.rows.at(0).at(0);
  if (reason == "LOCKED" && r.rows.at(0).at(1).find("No attempts remaining") != std::string::npos)
    return "LOCKED_BY_THIS_CHECK";
  return reason;
}

// 8 clients send 10 wrong codes each at once: 2 WRONG_CODE answers, 1 check that locks, 77
// refusals; then all 8 send the right code at once: every one is refused, the number stays locked.
TEST(TelephonyConcurrency, ExactlyTheAllowedChecksAreCounted) {
  Connection su;
  su.must("select set_config('switchboard.caller_id_secret', $1, false)", {kSecret});
  Org org = make_org(su);
  auto [id, code] = start(su, org, "+12125550142");
  std::mutex mu;
  std::map<std::string, int> answers;
  run_clients(8, [&](int client) {
    Connection c;
    as_admin(c, org);
    std::map<std::string, int> mine;
    for (int k = 0; k < 10; ++k) ++mine[outcome(c, org, id, wrong_code(code, client * 10 + k))];
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [reason, n] : mine) answers[reason] += n;
  });
  EXPECT_EQ(answers["WRONG_CODE"], 2);
  EXPECT_EQ(answers["LOCKED_BY_THIS_CHECK"], 1);
  EXPECT_EQ(answers["LOCKED"], 77);
  EXPECT_EQ(answers.size(), 3u);
  std::map<std::string, int> right;
  run_clients(8, [&](int) {
    Connection c;
    as_admin(c, org);
    std::string reason = outcome(c, org, id, code);
    std::lock_guard<std::mutex> lock(mu);
    ++right[reason];
  });
  EXPECT_EQ(right["LOCKED"], 8);
  auto row =
      su.must("select status, checks from switchboard.caller_id_verifications where id = $1", {id});
  EXPECT_EQ(row.rows.at(0).at(0), "failed");
  EXPECT_EQ(row.rows.at(0).at(1), "3");
}

// 30 verifications, each guessed once by 8 clients at once, one of them with the right code: the
// checks counted are the answers that say so (at most 3); the right code verifies only when it
// was among the first 3 counted; after the lock or the verification nothing more is counted.
TEST(TelephonyConcurrency, TheRightCodeCountsOnlyWithinTheLimit) {
  Connection su;
  su.must("select set_config('switchboard.caller_id_secret', $1, false)", {kSecret});
  su.must("set switchboard.caller_id_org_sends_per_hour = 10000");
  Org org = make_org(su);
  int verified = 0, locked = 0;
  for (int trial = 0; trial < 30; ++trial) {
    auto [id, code] = start(su, org, "+1212555" + std::to_string(1000 + trial));
    std::mutex mu;
    std::map<std::string, int> answers;
    run_clients(8, [&](int client) {
      Connection c;
      as_admin(c, org);
      std::string guess = client == trial % 8 ? code : wrong_code(code, client);
      std::string reason = outcome(c, org, id, guess);
      std::lock_guard<std::mutex> lock(mu);
      ++answers[reason];
    });
    int counted = answers["WRONG_CODE"] + answers["LOCKED_BY_THIS_CHECK"] + answers["VERIFIED"];
    auto row = su.must(
        "select status, checks from switchboard.caller_id_verifications where id = $1", {id});
    EXPECT_EQ(std::to_string(counted), row.rows.at(0).at(1)) << "trial " << trial;
    EXPECT_LE(counted, 3);
    if (answers["VERIFIED"] == 1) {
      ++verified;
      EXPECT_EQ(row.rows.at(0).at(0), "verified");
      EXPECT_EQ(answers["LOCKED_BY_THIS_CHECK"], 0);
      EXPECT_EQ(answers["ALREADY_VERIFIED"] + counted, 8);
    } else {
      ++locked;
      EXPECT_EQ(answers["VERIFIED"], 0);
      EXPECT_EQ(row.rows.at(0).at(0), "failed");
      EXPECT_EQ(counted, 3);
      EXPECT_EQ(answers["LOCKED"] + counted, 8);
    }
  }
  EXPECT_EQ(verified + locked, 30);
}

}  // namespace
