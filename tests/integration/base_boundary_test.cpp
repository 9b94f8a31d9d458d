// Integration tests of the C++/PostgreSQL boundary against a real cluster (SWITCHBOARD_TEST_DSN): a
// cancel stops a long slot search inside the C++ generator, failures injected into every kind of
// callback never restart the cluster while other clients work, and a failed _PG_init is an error.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "pg.hpp"

using sbtest::Connection;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// An organisation with one agent (returned in *agent) and a calendar open around the clock.
std::string make_org_and_calendar(Connection& admin, std::string* agent, std::string* cal) {
  std::string slug = "bd-" + admin.must("select substr(md5(random()::text), 1, 12)").value();
  std::string org =
      admin
          .must("insert into switchboard.organizations (name, slug) values ('BD', $1) returning id",
                {slug})
          .value();
  *agent = sbtest::new_uuid(admin);
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'agent')",
      {org, *agent});
  *cal = admin
             .must(R"(select switchboard.create_calendar($1, 'Always', 'UTC',
        '{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],
          "fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}',
        '{"slotMinutes":15,"maxDaysAhead":365}'))",
                   {org})
             .value();
  return org;
}

// Fills temp table long_search with a calendar and two million appointments (one a day since
// 1900): a slot search over them takes seconds, nearly all of it in the C++ generator.
void make_long_search(Connection& c) {
  c.must(R"(create temp table long_search as
    select jsonb_populate_record(null::switchboard.calendars, '{"time_zone": "UTC", "daily_cap": 1000,
             "max_days_ahead": 3650, "slot_minutes": 1, "slot_step_minutes": 1, "business_hours":
             {"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]],
              "thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]],
              "sun": [["00:00", "24:00"]]}}') as cal,
           array_agg(t order by t) as starts, array_agg(t order by t) as block_starts,
           array_agg(t + interval '1 minute' order by t) as block_ends
      from (select timestamptz '1900-01-01' + i * interval '1 day' as t
              from generate_series(1, 2000000) i) days)");
}

constexpr const char* kLongSearch =
    "select count(*) from long_search l, switchboard._booking_slots(l.cal, l.starts, "
    "l.block_starts, l.block_ends, '2026-03-01', '2026-05-31', 1, '2026-01-01')";

std::string postmaster_started(Connection& c) {
  return c.must("select pg_postmaster_start_time()::text").value();
}

}  // namespace

TEST(BoundaryCancel, LongSlotSearchStopsOnTimeoutAndCancelAndTheSessionGoesOn) {
  Connection searcher, other;
  std::string started = postmaster_started(other);
  make_long_search(searcher);
  Clock::time_point t0 = Clock::now();
  sbtest::Result full = searcher.run(kLongSearch);
  double full_seconds = seconds_since(t0);
  ASSERT_TRUE(full.ok()) << full.message;
  EXPECT_GT(std::stoi(full.value()), 100000);

  searcher.must("set statement_timeout = '100ms'");
  t0 = Clock::now();
  sbtest::Result timed_out = searcher.run(kLongSearch);
  double timeout_seconds = seconds_since(t0);
  searcher.must("reset statement_timeout");
  EXPECT_EQ(timed_out.sqlstate, "57014") << timed_out.message;
  EXPECT_LT(timeout_seconds, 1.0) << "the full search took " << full_seconds << " s";

  std::string pid = searcher.must("select pg_backend_pid()").value();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    other.must("select pg_cancel_backend($1::int)", {pid});
  });
  t0 = Clock::now();
  sbtest::Result cancelled = searcher.run(kLongSearch);
  double cancel_seconds = seconds_since(t0);
  canceller.join();
  EXPECT_EQ(cancelled.sqlstate, "57014") << cancelled.message;
  EXPECT_LT(cancel_seconds, 1.0) << "the full search took " << full_seconds << " s";

  EXPECT_EQ(searcher.must("select 'alive'").value(), "alive");
  EXPECT_EQ(searcher.must("select pg_backend_pid()").value(), pid);
  EXPECT_EQ(postmaster_started(other), started);
}

// Eight clients: four book with a callback failing on purpose (every kind, in turn), four book
// normally meanwhile. No failure restarts the cluster (which would end every connection), a
// failure before the commit rolls the booking back, and the bystanders never see an error.
TEST(BoundaryCallbacks, InjectedOutOfMemoryNeverRestartsTheClusterWhileOthersWork) {
  Connection admin;
  std::string started = postmaster_started(admin);
  std::string agent, cal;
  std::string org = make_org_and_calendar(admin, &agent, &cal);
  std::string base = admin.must("select date_trunc('day', now()) + interval '20 days'").value();
  const std::vector<std::string> faults = {
      "booking changes:pre-commit", "booking changes:commit", "booking changes:abort",
      "store xact:pre-commit",      "store xact:abort",       "store relcache",
      "org versions:commit",        "appointment reader",     "store subxact"};
  constexpr int kFaulty = 4, kBystanders = 4, kRounds = 60;
  std::atomic<int> bystander_errors{0}, injected_errors{0}, other_errors{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kFaulty + kBystanders; ++c)
    clients.emplace_back([&, c] {
      Connection conn;
      conn.become_user(agent);
      conn.must("reset role");  // superuser again (the switch is superuser-only), claims kept
      bool faulty = c < kFaulty;
      for (int i = 0; i < kRounds; ++i) {
        std::string minutes = std::to_string(15 * (c * kRounds + i));
        std::string book =
            "select switchboard.book_appointment($1, $2, $3::timestamptz + "
            "make_interval(mins => $4::int), 15) ->> 'reason'";
        if (!faulty) {
          sbtest::Result r = conn.run(book, {org, cal, base, minutes});
          if (!r.ok() || r.value() != "BOOKED") ++bystander_errors;
          continue;
        }
        const std::string& fault = faults[(c + i) % faults.size()];
        conn.must("begin");
        conn.must("select set_config('switchboard.test_fault', $1, true)", {fault});
        sbtest::Result r = conn.run(book, {org, cal, base, minutes});
        sbtest::Result end = r.ok() ? conn.run("commit") : conn.run("rollback");
        sbtest::Result& failed = r.ok() ? end : r;
        if (failed.ok()) continue;
        if (failed.sqlstate == "53200" || failed.message.find("test fault") != std::string::npos)
          ++injected_errors;
        else
          ++other_errors;
      }
      EXPECT_EQ(conn.must("select 'alive'").value(), "alive");
    });
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(bystander_errors.load(), 0);
  EXPECT_EQ(other_errors.load(), 0);
  EXPECT_GT(injected_errors.load(), 0);
  EXPECT_EQ(postmaster_started(admin), started);
  // Every booking whose commit failed is gone; every other one is there exactly once.
  EXPECT_EQ(admin
                .must("select count(*) from (select starts_at from switchboard.appointments "
                      "where org_id = $1 group by starts_at having count(*) > 1) twice",
                      {org})
                .value(),
            "0");
  EXPECT_EQ(
      admin.must("select count(*) from switchboard.appointments where org_id = $1", {org}).value(),
      std::to_string(kFaulty * kRounds + kBystanders * kRounds - injected_errors.load()));
}

// Without shared_preload_libraries the library loads on first use: a failing _PG_init is an
// ERROR in that session only, and the next use (the switch cleared) loads it completely.
TEST(BoundaryInit, FailedPgInitIsAnErrorAndTheNextLoadSucceeds) {
  Connection probe;
  if (probe.must("select current_setting('shared_preload_libraries')")
          .value()
          .find("switchboard") != std::string::npos)
    GTEST_SKIP() << "the library is preloaded here; the run without preloading covers this";
  std::string started = postmaster_started(probe);
  Connection conn(sbtest::test_dsn() + " options='-c switchboard.test_fault=_PG_init'");
  sbtest::Result failed = conn.run("select switchboard.current_user_id()");
  EXPECT_EQ(failed.sqlstate, "53200") << failed.message;
  EXPECT_NE(failed.message.find("out of memory in switchboard"), std::string::npos);
  conn.must("set switchboard.test_fault = ''");  // (RESET would restore the connection's value)
  EXPECT_EQ(conn.must("select coalesce(switchboard.current_user_id()::text, 'none')").value(),
            "none");
  EXPECT_EQ(conn.must("select count(*) from switchboard._selftest_boundary('ok')").value(), "1");
  EXPECT_EQ(postmaster_started(probe), started);
}
