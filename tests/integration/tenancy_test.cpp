// Integration tests of the tenancy area against a real cluster (SWITCHBOARD_TEST_DSN).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pg.hpp"

using sbtest::Connection;

namespace {

// An organisation with an owner, made by the superuser; returns its id.
std::string make_org(Connection& admin, const std::string& owner) {
  std::string slug = "it-" + admin.must("select substr(md5(random()::text), 1, 12)").value();
  std::string org =
      admin
          .must("insert into switchboard.organizations (name, slug) values ('IT', $1) returning id",
                {slug})
          .value();
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'owner')",
      {org, owner});
  return org;
}

void add(Connection& admin, const std::string& org, const std::string& user,
         const std::string& role) {
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, $3)",
      {org, user, role});
}

TEST(Boundary, CppExceptionLeavesConnectionUsable) {
  Connection c;
  auto r = c.run("select switchboard._selftest_boundary('cpp_error')");
  EXPECT_EQ(r.sqlstate, "XX000");
  EXPECT_NE(r.message.find("selftest: c++ exception"), std::string::npos);
  EXPECT_TRUE(c.alive());
  EXPECT_EQ(c.must("select 41 + 1").value(), "42");
  auto s = c.run("select switchboard._selftest_boundary('sb_error')");
  EXPECT_EQ(s.sqlstate, "22023");
  EXPECT_EQ(c.must("select switchboard._selftest_boundary('ok')").value(), "ok");
}

TEST(Boundary, PgErrorUnwindsDestructorsAndKeepsItsSqlstate) {
  Connection c;
  int before = std::stoi(c.must("select switchboard._selftest_destructor_runs()").value());
  auto r = c.run("select switchboard._selftest_boundary('pg_error')");
  EXPECT_EQ(r.sqlstate, "22012");  // division_by_zero, as raised by PostgreSQL
  EXPECT_NE(r.message.find("division by zero"), std::string::npos);
  int after = std::stoi(c.must("select switchboard._selftest_destructor_runs()").value());
  EXPECT_EQ(after - before, 2);  // both Counted objects alive at the error were destroyed
  EXPECT_EQ(c.must("select 1").value(), "1");
}

TEST(Membership, RemovalIsSeenByTheNextStatementOfAnotherSession) {
  Connection admin, member;
  std::string owner = sbtest::new_uuid(admin), agent = sbtest::new_uuid(admin);
  std::string org = make_org(admin, owner);
  add(admin, org, agent, "agent");
  member.become_user(agent);
  EXPECT_EQ(member.must("select switchboard.is_member($1)", {org}).value(), "t");
  EXPECT_EQ(
      member.must("select count(*) from switchboard.organizations where id = $1", {org}).value(),
      "1");
  admin.must("delete from switchboard.organization_members where org_id = $1 and user_id = $2",
             {org, agent});
  EXPECT_EQ(member.must("select switchboard.is_member($1)", {org}).value(), "f");
  EXPECT_EQ(
      member.must("select count(*) from switchboard.organizations where id = $1", {org}).value(),
      "0");
  add(admin, org, agent, "manager");
  EXPECT_EQ(member.must("select switchboard.member_role($1::uuid)", {org}).value(), "manager");
}

TEST(Membership, RolledBackChangeIsNotCached) {
  Connection admin, member;
  std::string owner = sbtest::new_uuid(admin), user = sbtest::new_uuid(admin);
  std::string org = make_org(admin, owner);
  member.must("begin");
  member.must("select set_config('request.jwt.claims', $1, true)",
              {R"({"sub":")" + user + R"("})"});
  add(member, org, user, "admin");
  EXPECT_EQ(member.must("select switchboard.member_role($1::uuid)", {org}).value(), "admin");
  member.must("rollback");
  member.must("select set_config('request.jwt.claims', $1, false)",
              {R"({"sub":")" + user + R"("})"});
  EXPECT_EQ(member.must("select switchboard.member_role($1::uuid)", {org}).value(), "<null>");
}

// Two owners demote each other at the same moment, many times: an owner always remains.
TEST(Membership, ConcurrentDemotionsNeverLeaveAnOrganizationWithoutOwner) {
  Connection admin;
  for (int round = 0; round < 20; ++round) {
    std::string a = sbtest::new_uuid(admin), b = sbtest::new_uuid(admin);
    std::string org = make_org(admin, a);
    add(admin, org, b, "owner");
    std::atomic<int> ready{0};
    std::atomic<int> refused{0};
    auto demote = [&](const std::string& actor, const std::string& target) {
      Connection c;
      c.become_user(actor);
      ++ready;
      while (ready < 2) std::this_thread::yield();
      auto r = c.run("select switchboard.set_member_role($1, $2, 'admin')", {org, target});
      if (!r.ok()) {
        EXPECT_EQ(r.sqlstate, "42501") << r.message;
        ++refused;
      }
    };
    std::thread t1(demote, a, b), t2(demote, b, a);
    t1.join();
    t2.join();
    EXPECT_EQ(refused.load(), 1);
    EXPECT_EQ(admin
                  .must("select count(*) from switchboard.organization_members "
                        "where org_id = $1 and role = 'owner'",
                        {org})
                  .value(),
              "1");
  }
}

// Eight clients add members to one organisation at once: every add lands exactly once.
TEST(Membership, ParallelAddsAllLand) {
  Connection admin;
  std::string owner = sbtest::new_uuid(admin);
  std::string org = make_org(admin, owner);
  std::vector<std::thread> clients;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&] {
      Connection c;
      c.become_user(owner);
      for (int k = 0; k < 25; ++k)
        if (!c.run("select switchboard.add_member($1, gen_random_uuid(), 'agent')", {org}).ok())
          ++failures;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(
      admin.must("select count(*) from switchboard.organization_members where org_id = $1", {org})
          .value(),
      "201");
}

}  // namespace
