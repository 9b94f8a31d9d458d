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

namespace {

// A member of several organisations reaches, per request, only the organisation its JWT names.
TEST(ActiveOrganization, MultiOrganizationUserReachesOnlyTheRequestsOrganization) {
  Connection admin, user;
  std::string owner = sbtest::new_uuid(admin), both = sbtest::new_uuid(admin),
              only_a = sbtest::new_uuid(admin);
  std::string a = make_org(admin, owner), b = make_org(admin, owner), c = make_org(admin, owner);
  add(admin, a, both, "agent");
  add(admin, b, both, "viewer");
  add(admin, a, only_a, "viewer");
  admin.must(
      "create table if not exists public.it_items (org_id uuid not null, id serial, "
      "primary key (org_id, id))");
  admin.must("select switchboard.protect('public.it_items')");
  admin.must("grant select, insert on public.it_items to authenticated");
  admin.must("grant usage on sequence public.it_items_id_seq to authenticated");
  admin.must("insert into public.it_items (org_id) select $1 from generate_series(1, 3)", {a});
  admin.must("insert into public.it_items (org_id) select $1 from generate_series(1, 2)", {b});
  auto count_as = [&](const std::string& who, const std::string& org) {
    std::string claims = R"({"sub":")" + who + R"(")" +
                         (org.empty() ? "" : R"(,"app_metadata":{"org_id":")" + org + R"("})") +
                         "}";
    user.must("reset role");
    user.must("select set_config('request.jwt.claims', $1, false)", {claims});
    user.must("set role authenticated");
    return user.must("select count(*) from public.it_items").value();
  };
  EXPECT_EQ(count_as(both, ""), "3");  // none named: the default, the first membership (A)
  EXPECT_EQ(count_as(both, a), "3");
  EXPECT_EQ(count_as(both, b), "2");
  EXPECT_EQ(count_as(both, c), "0");     // not a member of the named organisation
  EXPECT_EQ(count_as(only_a, ""), "3");  // one organisation: it is the active one
  EXPECT_EQ(count_as(only_a, b), "0");
  // Writing needs the role in the active organisation: agent in A cannot insert (manager+).
  count_as(both, a);
  EXPECT_EQ(user.run("insert into public.it_items (org_id) values ($1)", {a}).sqlstate, "42501");
}

// Being added to another organisation by its admin never changes where a user's requests act
// (before: active_org_id() became NULL); a default the user chooses in one session is seen by the
// next statement of another session whose membership cache was warm.
TEST(DefaultOrganization, ChangesOnlyByTheUserAndReachEveryBackend) {
  Connection admin, reader, writer;
  std::string user = sbtest::new_uuid(admin), other = sbtest::new_uuid(admin);
  std::string a = make_org(admin, sbtest::new_uuid(admin));
  std::string b = make_org(admin, other);
  add(admin, a, user, "agent");
  reader.become_user(user);
  writer.become_user(user);
  auto active = [&] { return reader.must("select switchboard.active_org_id()").value(); };
  EXPECT_EQ(active(), a);
  Connection b_owner;
  b_owner.become_user(other);
  b_owner.must("select switchboard.add_member($1, $2, 'viewer')", {b, user});
  EXPECT_EQ(active(), a);  // the first membership stays the default
  EXPECT_EQ(active(), a);
  writer.must("select switchboard.set_default_org($1)", {b});
  EXPECT_EQ(active(), b);  // the next statement of the other session
  EXPECT_EQ(reader.must("select switchboard.default_org_id()").value(), b);
  writer.must("begin");
  writer.must("select switchboard.set_default_org($1)", {a});
  EXPECT_EQ(active(), b);  // not before it commits
  writer.must("commit");
  EXPECT_EQ(active(), a);
  b_owner.must("select switchboard.set_member_role($1, $2, 'agent')", {b, user});
  EXPECT_EQ(active(), a);
}

// Eight sessions of one user choose defaults at once, each a different organisation, many times:
// the user always ends with exactly one chosen default, the one every session then reads.
TEST(DefaultOrganization, ParallelChoicesLeaveOneDefault) {
  Connection admin;
  std::string user = sbtest::new_uuid(admin);
  std::vector<std::string> orgs;
  for (int i = 0; i < 8; ++i) {
    orgs.push_back(make_org(admin, sbtest::new_uuid(admin)));
    add(admin, orgs.back(), user, "viewer");
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i)
    clients.emplace_back([&, i] {
      Connection c;
      c.become_user(user);
      for (int k = 0; k < 20; ++k)
        if (!c.run("select switchboard.set_default_org($1)", {orgs[(i + k) % 8]}).ok()) ++failures;
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto chosen =
      admin.must("select org_id from switchboard.member_defaults where user_id = $1", {user});
  ASSERT_EQ(chosen.rows.size(), 1u);
  Connection reader;
  reader.become_user(user);
  EXPECT_EQ(reader.must("select switchboard.active_org_id()").value(), chosen.value());
}

}  // namespace
