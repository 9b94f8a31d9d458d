// Integration tests of the entitlements area against a real cluster (SWITCHBOARD_TEST_DSN):
// concurrent consumption never passes a hard limit, idempotent replays count once, mixed
// reservations keep the books straight, committed changes are seen by the next check of every
// other session, and a member of one organisation is refused everything on another.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "entitlements_util.hpp"

using enttest::Answer;
using enttest::Org;
using sbtest::Connection;

namespace {

using sbtest::run_clients;

// Hard limit of 1,000 calls (an override: hard, 1,000), 8 agents making 4,000 attempts of one
// call each: exactly 1,000 succeed, each success reports a distinct count 1..1,000, every failure
// is LIMIT_EXCEEDED, and the counter reads 1,000.
TEST(EntitlementsConcurrency, HardLimitIsNeverExceeded) {
  Connection admin;
  Org org = enttest::make_org(admin);
  admin.must("select switchboard.set_feature_override($1, 'calls', true, 1000, 'hard')", {org.id});
  constexpr int kClients = 8, kAttempts = 500;
  std::mutex mu;
  std::vector<long long> used_seen;
  std::map<std::string, int> failures;  // reason or SQLSTATE -> count
  run_clients(kClients, [&](int) {
    Connection c;
    c.become_user(org.user("agent"));
    std::vector<long long> mine;
    std::map<std::string, int> my_failures;
    for (int k = 0; k < kAttempts; ++k) {
      Answer a = enttest::consume(c, org.id, "calls");
      if (!a.ok())
        ++my_failures["error " + a.sqlstate + ": " + a.message];
      else if (a["ok"] == "true")
        mine.push_back(a.num("used"));
      else
        ++my_failures[a["reason"]];
    }
    std::lock_guard<std::mutex> lock(mu);
    used_seen.insert(used_seen.end(), mine.begin(), mine.end());
    for (auto& [k, v] : my_failures) failures[k] += v;
  });
  EXPECT_EQ(used_seen.size(), 1000u);
  std::sort(used_seen.begin(), used_seen.end());
  bool permutation = used_seen.size() == 1000u;
  for (size_t i = 0; permutation && i < used_seen.size(); ++i)
    permutation = used_seen[i] == static_cast<long long>(i + 1);
  EXPECT_TRUE(permutation) << "successful answers must report used = 1..1000 exactly once";
  EXPECT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures["LIMIT_EXCEEDED"], kClients * kAttempts - 1000);
  for (auto& [reason, count] : failures)
    if (reason != "LIMIT_EXCEEDED") ADD_FAILURE() << count << " x " << reason;
  auto [used, reserved] = enttest::counter(admin, org.id, "calls");
  EXPECT_EQ(used, 1000);
  EXPECT_EQ(reserved, 0);
  Answer after = enttest::check(admin, org.id, "calls");
  EXPECT_EQ(after["reason"], "LIMIT_EXCEEDED");
  EXPECT_EQ(after["remaining"], "0");
}

// The answer text without its "replayed": true; `replayed` says whether it was there.
std::string first_answer_of(std::string text, bool* replayed) {
  const std::string flag = ", \"replayed\": true";
  auto at = text.find(flag);
  *replayed = at != std::string::npos;
  if (*replayed) text.erase(at, flag.size());
  return text;
}

// 8 clients each send the same 200 idempotency keys (quantity 1) in their own shuffled order:
// each key counts once (the counter reads 200), every answer for a key is the first one (7 of
// the 8 marked replayed: true), and the first answers report used = 1..200 exactly once.
TEST(EntitlementsConcurrency, IdempotentReplaysCountOnce) {
  Connection admin;
  Org org = enttest::make_org(admin);
  constexpr int kClients = 8, kKeys = 200;
  std::string prefix = "it-" + enttest::random_hex(admin) + "-";
  std::mutex mu;
  std::map<int, std::set<std::string>> answers;  // key -> distinct answers, without "replayed"
  std::map<int, int> replays;                    // key -> answers marked replayed
  std::vector<std::string> errors;
  run_clients(kClients, [&](int client) {
    Connection c;
    c.become_user(org.user("agent"));
    std::vector<int> order(kKeys);
    for (int k = 0; k < kKeys; ++k) order[k] = k;
    std::mt19937 rng(static_cast<unsigned>(client * 7919 + 17));
    std::shuffle(order.begin(), order.end(), rng);
    std::map<int, std::string> mine;
    std::vector<std::string> my_errors;
    for (int k : order) {
      Answer a = enttest::consume(c, org.id, "calls", 1, prefix + std::to_string(k));
      if (!a.ok())
        my_errors.push_back(a.sqlstate + ": " + a.message);
      else
        mine[k] = a.text;
    }
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [k, text] : mine) {
      bool replayed = false;
      answers[k].insert(first_answer_of(text, &replayed));
      replays[k] += replayed;
    }
    errors.insert(errors.end(), my_errors.begin(), my_errors.end());
  });
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << errors.front();
  ASSERT_EQ(answers.size(), static_cast<size_t>(kKeys));
  std::set<long long> used_values;
  for (auto& [k, texts] : answers) {
    EXPECT_EQ(texts.size(), 1u) << "key " << k << " got different answers";
    EXPECT_EQ(replays[k], kClients - 1) << "key " << k;
    Answer a = enttest::answer(admin, "to_jsonb($1::jsonb)", {*texts.begin()}, {"ok", "used"});
    EXPECT_EQ(a["ok"], "true") << *texts.begin();
    used_values.insert(a.num("used"));
  }
  EXPECT_EQ(used_values.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(*used_values.begin(), 1);
  EXPECT_EQ(*used_values.rbegin(), kKeys);
  EXPECT_EQ(enttest::counter(admin, org.id, "calls").first, kKeys);
  EXPECT_EQ(admin
                .must("select count(*) from switchboard.usage_events where org_id = $1 and "
                      "idempotency_key like $2 || '%'",
                      {org.id, prefix})
                .value(),
            std::to_string(kKeys));
}

// The same key sent at once with different quantities: one request wins, every other answer is
// either the winner's answer (same quantity) or 23505; one unit counted per key.
TEST(EntitlementsConcurrency, ConflictingReplaysAreRefused) {
  Connection admin;
  Org org = enttest::make_org(admin);
  std::string key = "it-conflict-" + enttest::random_hex(admin);
  std::mutex mu;
  std::vector<Answer> got(8);
  run_clients(8, [&](int client) {
    Connection c;
    c.become_user(org.user("agent"));
    Answer a = enttest::consume(c, org.id, "calls", client % 2 == 0 ? 1 : 2, key);
    std::lock_guard<std::mutex> lock(mu);
    got[client] = a;
  });
  std::set<std::string> winners;
  int refused = 0;
  long long winner_quantity = 0;
  for (int i = 0; i < 8; ++i) {
    if (got[i].ok()) {
      bool replayed = false;
      winners.insert(first_answer_of(got[i].text, &replayed));
      winner_quantity = i % 2 == 0 ? 1 : 2;
    } else {
      EXPECT_EQ(got[i].sqlstate, "23505") << got[i].message;
      ++refused;
    }
  }
  EXPECT_EQ(winners.size(), 1u);
  EXPECT_EQ(refused, 4);
  EXPECT_EQ(enttest::counter(admin, org.id, "calls").first, winner_quantity);
}

// Reservations, settlements, releases, abandoned (expiring) reservations and plain consumption
// from 8 clients against a hard limit of 200: no answer ever shows more than the limit taken,
// settling never passes it, every refusal is LIMIT_EXCEEDED, and at the end the counter equals
// the units consumed plus the quantities settled, with nothing left reserved.
TEST(EntitlementsConcurrency, MixedReservationsNeverExceedTheLimit) {
  Connection admin;
  Org org = enttest::make_org(admin);
  constexpr long long kLimit = 200;
  admin.must("select switchboard.set_feature_override($1, 'calls', true, 200, 'hard')", {org.id});
  std::atomic<long long> consumed{0}, settled{0};
  std::mutex mu;
  std::vector<std::string> problems;
  run_clients(8, [&](int client) {
    Connection c;
    c.become_user(org.user("agent"));
    std::mt19937 rng(static_cast<unsigned>(client * 104729 + 3));
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    std::vector<std::string> mine;
    auto note = [&](const std::string& what, const Answer& a) {
      mine.push_back(what + ": " + (a.ok() ? a.text : a.sqlstate + " " + a.message));
    };
    for (int k = 0; k < 120; ++k) {
      int op = pick(0, 3);
      if (op == 0) {
        int q = pick(1, 3);
        Answer a = enttest::consume(c, org.id, "calls", q);
        if (!a.ok() || (a["ok"] != "true" && a["reason"] != "LIMIT_EXCEEDED"))
          note("consume", a);
        else if (a["ok"] == "true") {
          consumed += q;
          if (a.num("used") + a.num("reserved") > kLimit) note("consume over the limit", a);
        }
        continue;
      }
      int q = pick(1, 6);
      Answer r =
          enttest::answer(c, "switchboard.reserve_feature($1, 'calls', $2, $3::interval)",
                          {org.id, std::to_string(q), op == 3 ? "30 milliseconds" : "10 minutes"},
                          {"ok", "reason", "used", "reserved", "reservationId"});
      if (!r.ok() || (r["ok"] != "true" && r["reason"] != "LIMIT_EXCEEDED")) {
        note("reserve", r);
        continue;
      }
      if (r["ok"] != "true") continue;
      if (r.num("used") + r.num("reserved") > kLimit) note("reserve over the limit", r);
      if (op == 3) continue;  // abandoned: it expires and gives its quantity back
      if (op == 1) {
        int actual = pick(0, q);
        Answer s = enttest::answer(c, "switchboard.settle_reservation($1, $2, $3)",
                                   {org.id, r["reservationId"], std::to_string(actual)},
                                   {"ok", "reason", "used", "limitExceeded"});
        if (!s.ok() || s["reason"] != "SETTLED" || s["limitExceeded"] != "false" ||
            s.num("used") > kLimit)
          note("settle", s);
        else
          settled += actual;
      } else {
        Answer s = enttest::answer(c, "switchboard.release_reservation($1, $2)",
                                   {org.id, r["reservationId"]}, {"released", "quantity"});
        if (!s.ok() || s["released"] != "true" || s.num("quantity") != q) note("release", s);
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    problems.insert(problems.end(), mine.begin(), mine.end());
  });
  for (const std::string& p : problems) ADD_FAILURE() << p;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // abandoned reservations expire
  Answer left = enttest::check(admin, org.id, "calls");
  auto [used, reserved] = enttest::counter(admin, org.id, "calls");
  EXPECT_EQ(used, consumed.load() + settled.load());
  EXPECT_LE(used, kLimit);
  EXPECT_EQ(left.num("remaining"), kLimit - used)
      << left.text << " (stored reserved " << reserved << ")";
  // The next write gives the expired reservations back to the counter.
  Answer r = enttest::answer(admin, "switchboard.reserve_feature($1, 'calls', 1)", {org.id},
                             {"ok", "reservationId"});
  if (r["ok"] == "true")
    admin.must("select switchboard.release_reservation($1, $2)", {org.id, r["reservationId"]});
  EXPECT_EQ(enttest::counter(admin, org.id, "calls").second, 0);
  EXPECT_EQ(admin
                .must("select count(*) from switchboard.feature_reservations where org_id = $1 and "
                      "status = 'active' and expires_at > now()",
                      {org.id})
                .value(),
            "0");
}

// A committed change in one session is seen by the very next check of another session whose
// caches are warm: overrides, subscription changes, kill switches, catalog rows, grant limits
// and a tier's overage rate; each flipped several times.
class EntitlementsFreshness : public ::testing::Test {
 protected:
  void SetUp() override {
    org = enttest::make_org(admin);
    reader.become_user(org.user("viewer"));
    tag = enttest::random_hex(admin, 10);
  }
  void TearDown() override {
    if (!feature.empty()) admin.run("delete from switchboard.features where key = $1", {feature});
    if (!tier.empty()) {
      admin.run("select switchboard.set_subscription($1, 'broadcast_starter')", {org.id});
      admin.run("delete from switchboard.plan_tiers where key = $1", {tier});
    }
  }
  std::string reason(const std::string& f) { return enttest::check(reader, org.id, f)["reason"]; }

  Connection admin, reader;
  Org org;
  std::string tag, feature, tier;
};

// The billing backend's overrides (service role) and the organisation's own narrowing ones (its
// admin) are both seen by the next check of another session.
TEST_F(EntitlementsFreshness, Overrides) {
  Connection billing, admin_user;
  billing.must("set role service_role");
  admin_user.become_user(org.user("admin"));
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(reason("predictive_dialing"), "NOT_IN_PLAN");
    billing.must("select switchboard.set_feature_override($1, 'predictive_dialing', true)",
                 {org.id});
    EXPECT_EQ(reason("predictive_dialing"), "OVERRIDE") << "round " << i;
    billing.must("select switchboard.set_feature_override($1, 'predictive_dialing', false)",
                 {org.id});
    EXPECT_EQ(reason("predictive_dialing"), "OVERRIDE_DISABLED") << "round " << i;
    billing.must("select switchboard.clear_feature_override($1, 'predictive_dialing')", {org.id});
    ASSERT_EQ(reason("voice_broadcast"), "PLAN");
    admin_user.must("select switchboard.set_feature_override($1, 'voice_broadcast', false)",
                    {org.id});
    EXPECT_EQ(reason("voice_broadcast"), "OVERRIDE_DISABLED") << "round " << i;
    admin_user.must("select switchboard.clear_feature_override($1, 'voice_broadcast')", {org.id});
  }
  // A limit the organisation's admin lowers is seen at once too.
  admin_user.must("select switchboard.set_feature_override($1, 'calls', true, 7, 'hard')",
                  {org.id});
  EXPECT_EQ(enttest::check(reader, org.id, "calls")["limit"], "7");
}

TEST_F(EntitlementsFreshness, SubscriptionChanges) {
  Connection billing;
  billing.must("set role service_role");
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(reason("predictive_dialing"), "NOT_IN_PLAN");
    billing.must("select switchboard.set_subscription($1, 'ai_powered_elite')", {org.id});
    EXPECT_EQ(reason("predictive_dialing"), "PLAN") << "round " << i;
    EXPECT_EQ(enttest::check(reader, org.id, "calls")["limit"], "7500");
    billing.must("select switchboard.set_subscription($1, 'ai_powered_elite', 'suspended')",
                 {org.id});
    EXPECT_EQ(reason("predictive_dialing"), "NO_SUBSCRIPTION") << "round " << i;
    billing.must("select switchboard.set_subscription($1, 'broadcast_starter')", {org.id});
    EXPECT_EQ(enttest::check(reader, org.id, "calls")["limit"], "1000");
  }
}

TEST_F(EntitlementsFreshness, KillSwitches) {
  // A feature of this test only (kill switches are global), enabled for the organisation by an
  // override: the kill switch beats it.
  feature = "it_ks_" + tag;
  admin.must(
      "insert into switchboard.features (key, name, category, kind) values ($1, 'IT', 'it', "
      "'boolean')",
      {feature});
  admin.must("select switchboard.set_feature_override($1, $2, true)", {org.id, feature});
  ASSERT_EQ(reason(feature), "OVERRIDE");
  Connection service;
  service.must("set role service_role");
  for (int i = 0; i < 10; ++i) {
    service.must("select switchboard.set_kill_switch($1, false, 'integration test')", {feature});
    EXPECT_EQ(reason(feature), "KILL_SWITCH") << "round " << i;
    service.must("select switchboard.set_kill_switch($1, true, 'integration test over')",
                 {feature});
    EXPECT_EQ(reason(feature), "OVERRIDE") << "round " << i;
  }
}

// New catalog rows: a feature, then its grant to the organisation's tier, then the grant
// withdrawn. The writer session has synced subscriptions of that tier before (warm caches).
TEST_F(EntitlementsFreshness, CatalogRows) {
  feature = "it_cat_" + tag;
  EXPECT_EQ(reason(feature), "UNKNOWN_FEATURE");
  admin.must(
      "insert into switchboard.features (key, name, category, kind) values ($1, 'IT', 'it', "
      "'boolean')",
      {feature});
  EXPECT_EQ(reason(feature), "NOT_IN_PLAN");
  admin.must(
      "insert into switchboard.plan_tier_features (tier, feature) values ('broadcast_starter', $1)",
      {feature});
  EXPECT_EQ(reason(feature), "PLAN");
  admin.must(
      "delete from switchboard.plan_tier_features where tier = 'broadcast_starter' and feature = "
      "$1",
      {feature});
  EXPECT_EQ(reason(feature), "NOT_IN_PLAN");
}

// The writer session has synced subscriptions of the tier before (warm caches), then changes the
// grant's limit: its subscriptions, and every other session's next check, carry the new limit.
TEST_F(EntitlementsFreshness, GrantLimitChanges) {
  tier = "it_tier_" + tag;
  feature = "it_meter_" + tag;
  admin.must(
      "insert into switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, "
      "overage_rate) values ($1, 100000 + (random() * 1000000)::int, 'IT', 1, 10, 0.5)",
      {tier});
  admin.must(
      "insert into switchboard.features (key, name, category, kind, unit) values ($1, 'IT', 'it', "
      "'metered', 'unit')",
      {feature});
  admin.must(
      "insert into switchboard.plan_tier_features (tier, feature, usage_limit, period, mode) "
      "values ($1, $2, 10, 'month', 'hard')",
      {tier, feature});
  admin.must("select switchboard.set_subscription($1, $2)", {org.id, tier});
  EXPECT_EQ(enttest::check(reader, org.id, feature)["limit"], "10");
  for (int limit : {20, 30, 15}) {
    admin.must(
        "update switchboard.plan_tier_features set usage_limit = $3 where tier = $1 and "
        "feature = $2",
        {tier, feature, std::to_string(limit)});
    EXPECT_EQ(enttest::check(reader, org.id, feature)["limit"], std::to_string(limit));
    EXPECT_EQ(admin
                  .must("select effective_limits -> $2 ->> 'limit' from switchboard.subscriptions "
                        "where org_id = $1",
                        {org.id, feature})
                  .value(),
              std::to_string(limit));
  }
}

// A tier's overage rate changed in one session is reported by the next check of another.
TEST_F(EntitlementsFreshness, OverageRateChanges) {
  tier = "it_tier_" + tag;
  admin.must(
      "insert into switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, "
      "overage_rate) values ($1, 100000 + (random() * 1000000)::int, 'IT', 1, 10, 0.5)",
      {tier});
  admin.must(
      "insert into switchboard.plan_tier_features (tier, feature, usage_limit, period, mode) "
      "values ($1, 'calls', 100, 'billing_period', 'soft')",
      {tier});
  admin.must("select switchboard.set_subscription($1, $2)", {org.id, tier});
  EXPECT_EQ(enttest::check(reader, org.id, "calls")["overageRate"], "0.5000");
  admin.must("update switchboard.plan_tiers set overage_rate = 0.75 where key = $1", {tier});
  EXPECT_EQ(enttest::check(reader, org.id, "calls")["overageRate"], "0.7500");
}

// Overrides that expire while nothing is written are not answered from a warm cache.
TEST_F(EntitlementsFreshness, OverrideExpiry) {
  admin.must(
      "select switchboard.set_feature_override($1, 'api_access', true, expires_at => "
      "clock_timestamp() + interval '300 milliseconds')",
      {org.id});
  EXPECT_EQ(reason("api_access"), "OVERRIDE");
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(reason("api_access"), "NOT_IN_PLAN");
}

// A member of A, whatever its role, is refused every entitlement call on B over a real
// connection (42501), and B's counters are unchanged.
TEST(EntitlementsTenancy, MembersOfAnotherOrganizationAreRefused) {
  Connection admin;
  Org a = enttest::make_org(admin), b = enttest::make_org(admin);
  enttest::consume(admin, b.id, "calls", 3);
  std::string reservation = enttest::answer(admin, "switchboard.reserve_feature($1, 'minutes', 2)",
                                            {b.id}, {"reservationId"})["reservationId"];
  const std::vector<std::pair<std::string, std::vector<std::string>>> calls = {
      {"select switchboard.check_feature($1, 'calls')", {b.id}},
      {"select switchboard.has_feature($1, 'voice_broadcast')", {b.id}},
      {"select switchboard.is_feature_enabled($1, 'voice_broadcast')", {b.id}},
      {"select switchboard.feature_matrix($1)", {b.id}},
      {"select switchboard.consume_feature($1, 'calls')", {b.id}},
      {"select switchboard.consume_feature($1, 'calls', 1, 'it-key')", {b.id}},
      {"select switchboard.increment_feature_usage($1, 'calls', 1)", {b.id}},
      {"select switchboard.reserve_feature($1, 'minutes', 1)", {b.id}},
      {"select switchboard.settle_reservation($1, $2, 1)", {b.id, reservation}},
      {"select switchboard.release_reservation($1, $2)", {b.id, reservation}},
      {"select switchboard.set_feature_override($1, 'api_access', true)", {b.id}},
      {"select switchboard.clear_feature_override($1, 'api_access')", {b.id}},
      {"select switchboard.set_subscription($1, 'white_label')", {b.id}},
  };
  for (const char* role : {"viewer", "agent", "manager", "admin", "owner"}) {
    Connection c;
    c.become_user(a.user(role));
    for (const auto& [sql, params] : calls) {
      sbtest::Result r = c.run(sql, params);
      EXPECT_EQ(r.sqlstate, "42501") << role << ": " << sql << " -> " << r.message;
    }
    // B's reservation id with A's organisation finds nothing.
    sbtest::Result r =
        c.run("select switchboard.settle_reservation($1, $2, 1)", {a.id, reservation});
    if (std::string(role) != "viewer")
      EXPECT_EQ(r.sqlstate, "P0002") << role << ": " << r.message;
    else
      EXPECT_EQ(r.sqlstate, "42501") << role << ": " << r.message;
  }
  auto [used, reserved] = enttest::counter(admin, b.id, "calls");
  EXPECT_EQ(used, 3);
  EXPECT_EQ(reserved, 0);
  EXPECT_EQ(enttest::counter(admin, b.id, "minutes").second, 2);
  EXPECT_EQ(
      admin.must("select status from switchboard.feature_reservations where id = $1", {reservation})
          .value(),
      "active");
  EXPECT_EQ(
      admin.must("select tier from switchboard.subscriptions where org_id = $1", {b.id}).value(),
      "broadcast_starter");
  EXPECT_EQ(
      admin.must("select count(*) from switchboard.feature_overrides where org_id = $1", {b.id})
          .value(),
      "0");
}

}  // namespace

namespace {

// A raw libpq connection LISTENing on switchboard_billing, as a billing backend would.
class BillingListener {
 public:
  BillingListener() : conn_(PQconnectdb(sbtest::test_dsn().c_str()), PQfinish) {
    PQclear(PQexec(conn_.get(), "listen switchboard_billing"));
  }
  // The payloads that arrived within `wait` (each as its text).
  std::vector<std::string> received(
      std::chrono::milliseconds wait = std::chrono::milliseconds(300)) {
    std::vector<std::string> out;
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      PQconsumeInput(conn_.get());
      while (PGnotify* n = PQnotifies(conn_.get())) {
        out.emplace_back(n->extra);
        PQfreemem(n);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// A field of a JSON object given as text (extracted by the server).
std::string json_field(Connection& c, const std::string& json, const std::string& key) {
  return c.must("select $1::jsonb ->> $2", {json, key}).value();
}

}  // namespace

// An owner's plan change request reaches a listening billing backend on switchboard_billing once
// its transaction commits, never when it rolls back, and once per request (asking again for the
// same tier sends nothing); the payload names the organisation, request, tiers and requester.
TEST(EntitlementsPlanChanges, RequestNotifiesBillingOnCommitOnly) {
  Connection admin;
  Org org = enttest::make_org(admin, "smart_broadcast_pro");
  BillingListener billing;
  Connection owner;
  owner.become_user(org.user("owner"));
  owner.must("begin");
  owner.must("select switchboard.request_plan_change($1, 'white_label')", {org.id});
  EXPECT_TRUE(billing.received().empty()) << "delivered before commit";
  owner.must("rollback");
  EXPECT_TRUE(billing.received().empty()) << "delivered after rollback";
  std::string id = owner
                       .must(
                           "select switchboard.request_plan_change($1, 'white_label') ->> "
                           "'requestId'",
                           {org.id})
                       .value();
  std::vector<std::string> events = billing.received();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(json_field(admin, events[0], "event"), "plan_change.requested");
  EXPECT_EQ(json_field(admin, events[0], "orgId"), org.id);
  EXPECT_EQ(json_field(admin, events[0], "requestId"), id);
  EXPECT_EQ(json_field(admin, events[0], "tier"), "white_label");
  EXPECT_EQ(json_field(admin, events[0], "currentTier"), "smart_broadcast_pro");
  EXPECT_EQ(json_field(admin, events[0], "requestedBy"), org.user("owner"));
  EXPECT_EQ(json_field(admin, events[0], "supersedes"), "<null>");
  // The same request again: the pending one, no second event.
  EXPECT_EQ(owner
                .must("select switchboard.request_plan_change($1, 'white_label') ->> 'requestId'",
                      {org.id})
                .value(),
            id);
  EXPECT_TRUE(billing.received().empty());
  // Another tier: a new event that says which request it supersedes.
  owner.must("select switchboard.request_plan_change($1, 'enterprise_pro')", {org.id});
  events = billing.received();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(json_field(admin, events[0], "supersedes"), id);
  // Nothing was granted; billing catches up from pending_plan_changes and applies it.
  EXPECT_EQ(enttest::check(owner, org.id, "api_access")["reason"], "NOT_IN_PLAN");
  Connection service;
  service.must("set role service_role");
  EXPECT_EQ(service.must("select tier from switchboard.pending_plan_changes($1)", {org.id}).value(),
            "enterprise_pro");
  service.must("select switchboard.set_subscription($1, 'enterprise_pro')", {org.id});
  EXPECT_EQ(enttest::check(owner, org.id, "api_access")["reason"], "PLAN");
  EXPECT_EQ(
      service.must("select count(*) from switchboard.pending_plan_changes($1)", {org.id}).value(),
      "0");
}

// 8 owners' sessions ask at once, half for one tier and half for another, 20 times each: no
// error (the one-pending index never fires), exactly one request is pending at the end, every
// other is superseded, and each identical repeat returned the request pending at that moment.
TEST(EntitlementsPlanChanges, ConcurrentRequestsLeaveOnePending) {
  Connection admin;
  Org org = enttest::make_org(admin, "smart_broadcast_pro");
  std::string second_owner = sbtest::new_uuid(admin);
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'owner')",
      {org.id, second_owner});
  constexpr int kClients = 8, kAttempts = 20;
  std::mutex mu;
  std::map<std::string, int> outcomes;  // reason or error -> count
  run_clients(kClients, [&](int i) {
    Connection c;
    c.become_user(i % 2 ? second_owner : org.user("owner"));
    const char* tier = i % 4 < 2 ? "white_label" : "enterprise_pro";
    std::map<std::string, int> mine;
    for (int k = 0; k < kAttempts; ++k) {
      Answer a = enttest::answer(c, "switchboard.request_plan_change($1, $2)", {org.id, tier},
                                 {"reason", "status"});
      ++mine[a.ok() ? a["reason"] + " " + a["status"] : "error " + a.sqlstate + ": " + a.message];
    }
    std::lock_guard<std::mutex> lock(mu);
    for (auto& [k, v] : mine) outcomes[k] += v;
  });
  int total = 0;
  for (auto& [outcome, count] : outcomes) {
    total += count;
    EXPECT_TRUE(outcome == "REQUESTED pending" || outcome == "ALREADY_REQUESTED pending")
        << count << " x " << outcome;
  }
  EXPECT_EQ(total, kClients * kAttempts);
  sbtest::Result rows = admin.must(
      "select count(*) filter (where status = 'pending'), count(*) filter (where status = "
      "'superseded'), count(*) from switchboard.plan_change_requests where org_id = $1",
      {org.id});
  EXPECT_EQ(rows.rows[0][0], "1");
  EXPECT_EQ(std::stoi(rows.rows[0][1]) + 1, std::stoi(rows.rows[0][2]));
  EXPECT_EQ(std::stoi(rows.rows[0][2]), outcomes["REQUESTED pending"]);
}
