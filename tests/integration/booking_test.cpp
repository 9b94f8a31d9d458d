// Integration tests of the booking area against a real cluster (SWITCHBOARD_TEST_DSN): many
// clients booking one calendar at once never double-book and always get a clean answer.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "pg.hpp"

using sbtest::Connection;

namespace {

// An organisation with one agent (returned in *agent), made by the superuser.
std::string make_org(Connection& admin, std::string* agent) {
  std::string slug = "bk-" + admin.must("select substr(md5(random()::text), 1, 12)").value();
  std::string org =
      admin
          .must("insert into switchboard.organizations (name, slug) values ('BK', $1) returning id",
                {slug})
          .value();
  *agent = sbtest::new_uuid(admin);
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'agent')",
      {org, *agent});
  return org;
}

// A calendar open around the clock with 15-minute steps and buffers of 5 and 10 minutes.
std::string make_calendar(Connection& admin, const std::string& org) {
  return admin
      .must(R"(select switchboard.create_calendar($1, 'Hot line', 'America/New_York',
        '{"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],
          "fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]}',
        '{"slotMinutes":30,"slotStepMinutes":15,"bufferBeforeMinutes":5,"bufferAfterMinutes":10,"maxDaysAhead":365}'))",
            {org})
      .value();
}

// One booking attempt and what came back.
struct Attempt {
  std::string start;  // timestamptz text
  int minutes = 0;
  bool booked = false;
  std::string reason;
  std::string appointment;
  std::string answered_at;  // server clock when the answer was computed
  std::string error;        // SQLSTATE and message of an error, if any
};

TEST(BookingConcurrency, EightClientsNeverDoubleBook) {
  Connection admin;
  std::string agent;
  std::string org = make_org(admin, &agent);
  std::string cal = make_calendar(admin, org);
  std::string base = admin.must("select date_trunc('day', now()) + interval '30 days'").value();
  constexpr int kClients = 8, kPerClient = 2000, kSlots = 240;  // 60 hours of 15-minute starts
  std::vector<std::vector<Attempt>> attempts(kClients);
  std::vector<std::thread> clients;
  std::atomic<int> ready{0};
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      Connection conn;
      conn.become_user(agent);
      std::mt19937 rng(1234 + c);
      ++ready;
      while (ready < kClients) std::this_thread::yield();
      for (int i = 0; i < kPerClient; ++i) {
        Attempt a;
        a.minutes = 30 * (1 + static_cast<int>(rng() % 3));
        int slot = static_cast<int>(rng() % kSlots);
        auto r = conn.run(
            "select $3::timestamptz + make_interval(mins => $4::int), b ->> 'booked', b ->> "
            "'reason', "
            "b ->> 'appointmentId', clock_timestamp() from switchboard.book_appointment($1, $2, "
            "$3::timestamptz + make_interval(mins => $4::int), $5::int) b",
            {org, cal, base, std::to_string(slot * 15), std::to_string(a.minutes)});
        if (!r.ok()) {
          a.error = r.sqlstate + " " + r.message;
        } else {
          a.start = r.rows[0][0];
          a.booked = r.rows[0][1] == "true";
          a.reason = r.rows[0][2];
          a.appointment = r.rows[0][3];
          a.answered_at = r.rows[0][4];
        }
        attempts[c].push_back(a);
      }
    });
  for (auto& t : clients) t.join();

  // No error and no reason other than the two this workload can produce.
  int booked = 0, refused = 0;
  std::set<std::string> booked_ids;
  for (const auto& list : attempts)
    for (const Attempt& a : list) {
      ASSERT_EQ(a.error, "");
      if (a.booked) {
        EXPECT_EQ(a.reason, "BOOKED");
        EXPECT_TRUE(booked_ids.insert(a.appointment).second) << "one appointment answered twice";
        ++booked;
      } else {
        EXPECT_EQ(a.reason, "SLOT_TAKEN");
        ++refused;
      }
    }
  EXPECT_EQ(booked + refused, kClients * kPerClient);
  EXPECT_GT(booked, 20);
  EXPECT_GT(refused, kClients * kPerClient / 2);  // many collided

  // No two active appointments overlap, padded ranges included.
  EXPECT_EQ(
      admin
          .must(R"(select count(*) from switchboard.appointments a join switchboard.appointments b
        on a.org_id = b.org_id and a.calendar_id = b.calendar_id and a.id < b.id
       and tstzrange(a.block_start, a.block_end) && tstzrange(b.block_start, b.block_end)
     where a.calendar_id = $1 and a.status in ('held', 'confirmed') and b.status in ('held', 'confirmed'))",
                {cal})
          .value(),
      "0");

  // Every booked:true answer is exactly one row with the times asked for, and there are no others.
  EXPECT_EQ(
      admin.must("select count(*) from switchboard.appointments where calendar_id = $1", {cal})
          .value(),
      std::to_string(booked));
  for (const auto& list : attempts)
    for (const Attempt& a : list) {
      if (!a.booked) continue;
      auto row = admin.must(
          "select count(*) from switchboard.appointments where id = $1 and starts_at = "
          "$2::timestamptz "
          "and ends_at = starts_at + make_interval(mins => $3::int) and status = 'confirmed' "
          "and block_start = starts_at - interval '5 minutes' and block_end = ends_at + interval "
          "'10 minutes'",
          {a.appointment, a.start, std::to_string(a.minutes)});
      EXPECT_EQ(row.value(), "1") << a.appointment;
    }

  // Every refusal really conflicted: an appointment created before the answer overlaps its block.
  for (const auto& list : attempts)
    for (const Attempt& a : list) {
      if (a.booked) continue;
      auto row = admin.must(
          "select count(*) from switchboard.appointments where calendar_id = $1 "
          "and created_at <= $4::timestamptz and tstzrange(block_start, block_end) && "
          "tstzrange($2::timestamptz - interval '5 minutes', $2::timestamptz + make_interval(mins "
          "=> $3::int + 10))",
          {cal, a.start, std::to_string(a.minutes), a.answered_at});
      EXPECT_NE(row.value(), "0") << "refused without a conflict: " << a.start;
    }
}

// Eight clients send the same idempotency key at once, six of them with the same parameters and
// two with another start: one row; every client whose parameters match the row's gets that
// appointment, every other gets 23505 (never a second appointment, never another's answer).
TEST(BookingConcurrency, SameIdempotencyKeyYieldsOneAppointment) {
  Connection admin;
  std::string agent;
  std::string org = make_org(admin, &agent);
  std::string cal = make_calendar(admin, org);
  std::string start =
      admin.must("select date_trunc('day', now()) + interval '40 days 10 hours'").value();
  std::vector<int> offsets = {0, 0, 0, 15, 0, 0, 30, 0};
  std::vector<std::string> ids(8);
  std::vector<std::thread> clients;
  std::atomic<int> ready{0};
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      Connection conn;
      conn.become_user(agent);
      ++ready;
      while (ready < 8) std::this_thread::yield();
      auto r = conn.run(
          "select switchboard.book_appointment($1, $2, $3::timestamptz + make_interval(mins => "
          "$4::int), 30, "
          "idempotency_key => 'call-7') ->> 'appointmentId'",
          {org, cal, start, std::to_string(offsets[c])});
      ids[c] = r.ok() ? r.value() : r.sqlstate;
    });
  for (auto& t : clients) t.join();
  auto row = admin.must(
      "select id, round(extract(epoch from starts_at - $2::timestamptz) / 60) from "
      "switchboard.appointments where org_id = $1",
      {org, start});
  ASSERT_EQ(row.rows.size(), 1u);
  int winner = std::stoi(row.rows[0][1]);
  for (int c = 0; c < 8; ++c)
    EXPECT_EQ(ids[c], offsets[c] == winner ? row.rows[0][0] : "23505") << "client " << c;
}

// Holds and bookings race for the same slots: exactly one of them gets each slot.
TEST(BookingConcurrency, HoldsAndBookingsShareOneInvariant) {
  Connection admin;
  std::string agent;
  std::string org = make_org(admin, &agent);
  std::string cal = make_calendar(admin, org);
  std::string base = admin.must("select date_trunc('day', now()) + interval '50 days'").value();
  std::atomic<int> winners{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 6; ++c)
    clients.emplace_back([&, c] {
      Connection conn;
      conn.become_user(agent);
      for (int slot = 0; slot < 40; ++slot) {
        const char* fn = c % 2 ? "switchboard.hold_slot" : "switchboard.book_appointment";
        auto r = conn.run(std::string("select coalesce(x ->> 'booked', x ->> 'held') from ") + fn +
                              "($1, $2, $3::timestamptz + make_interval(mins => $4::int), 30) x",
                          {org, cal, base, std::to_string(slot * 60)});
        ASSERT_TRUE(r.ok()) << r.message;
        if (r.value() == "true") ++winners;
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(winners.load(), 40);
  EXPECT_EQ(
      admin.must("select count(*) from switchboard.appointments where calendar_id = $1", {cal})
          .value(),
      "40");
}

// Eight clients hold, book, confirm, move and cancel their own appointments on one calendar at
// once, through every booking command: no call fails (no constraint error leaks out), blocks never
// overlap, and every appointment is where and in the state its client's last accepted answer
// said (a refused move or confirm leaves it as it was).
TEST(BookingConcurrency, MovesConfirmsAndCancelsOnOneCalendarStayClean) {
  Connection admin;
  std::string agent;
  std::string org = make_org(admin, &agent);
  std::string cal = make_calendar(admin, org);
  std::string base = admin.must("select date_trunc('day', now()) + interval '40 days'").value();
  std::vector<std::map<std::string, std::pair<std::string, std::string>>> known(
      8);  // start, status
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c)
    clients.emplace_back([&, c] {
      Connection conn;
      conn.become_user(agent);
      std::mt19937 rng(100 + c);
      auto start = [&] { return std::to_string(static_cast<int>(rng() % (3 * 96)) * 15); };
      auto& mine = known[c];
      for (int i = 0; i < 60; ++i) {
        int op = mine.empty() ? 0 : static_cast<int>(rng() % 4);
        auto pick =
            std::next(mine.begin(), static_cast<long>(rng() % std::max<size_t>(1, mine.size())));
        sbtest::Result r;
        if (op == 0)
          r = conn.run(
              "select coalesce(x ->> 'booked', x ->> 'held')::boolean, x ->> 'appointmentId', "
              "(x ->> 'startsAt')::timestamptz, x ->> 'status' from " +
                  std::string(rng() % 2 ? "switchboard.hold_slot"
                                        : "switchboard.book_appointment") +
                  "($1, $2, $3::timestamptz + make_interval(mins => $4::int), 30) x",
              {org, cal, base, start()});
        else if (op == 1)
          r = conn.run(
              "select (x ->> 'confirmed')::boolean, x ->> 'appointmentId', "
              "(x ->> 'startsAt')::timestamptz, x ->> 'status' "
              "from switchboard.confirm_appointment($1, $2) x",
              {org, pick->first});
        else if (op == 2)
          r = conn.run(
              "select (x ->> 'rescheduled')::boolean, x ->> 'appointmentId', "
              "(x ->> 'startsAt')::timestamptz, x ->> 'status' from "
              "switchboard.reschedule_appointment($1, $2, $3::timestamptz + "
              "make_interval(mins => $4::int)) x",
              {org, pick->first, base, start()});
        else
          r = conn.run(
              "select (x ->> 'cancelled')::boolean, x ->> 'appointmentId', "
              "(x ->> 'startsAt')::timestamptz, x ->> 'status' "
              "from switchboard.cancel_appointment($1, $2) x",
              {org, pick->first});
        ASSERT_TRUE(r.ok()) << r.message;
        if (r.rows[0][0] == "t") mine[r.rows[0][1]] = {r.rows[0][2], r.rows[0][3]};
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_EQ(
      admin
          .must("select count(*) from switchboard.appointments a join "
                "switchboard.appointments b on a.calendar_id = b.calendar_id and a.id < b.id "
                "and a.status <> 'cancelled' and b.status <> 'cancelled' and "
                "tstzrange(a.block_start, a.block_end) && tstzrange(b.block_start, b.block_end) "
                "where a.calendar_id = $1",
                {cal})
          .value(),
      "0");
  size_t checked = 0;
  for (const auto& mine : known)
    for (const auto& [id, last] : mine) {
      auto row = admin.must(
          "select starts_at = $2::timestamptz, status::text from switchboard.appointments "
          "where id = $1",
          {id, last.first});
      EXPECT_EQ(row.rows[0][0], "t") << id;
      // A hold that expired meanwhile may have been released by a later booking; it is never
      // anywhere else.
      if (!(last.second == "held" && row.rows[0][1] == "cancelled")) {
        EXPECT_EQ(row.rows[0][1], last.second) << id;
      }
      ++checked;
    }
  EXPECT_GT(checked, 50u);
}

}  // namespace

namespace {

// What book_appointment answered: booked or not, the reason, and the alternatives as UTC times.
struct Answer {
  bool booked = false;
  std::string reason;
  std::set<std::string> alternatives;
  std::string appointment;
};

Answer book(Connection& c, const std::string& org, const std::string& cal, const std::string& start,
            int minutes = 60) {
  auto r = c.must(
      "select b ->> 'booked', b ->> 'reason', b ->> 'appointmentId', "
      "(select string_agg((x::timestamptz at time zone 'UTC')::text, ',') "
      "from jsonb_array_elements_text(b -> 'alternatives') x) "
      "from switchboard.book_appointment($1, $2, $3::timestamptz, $4::int) b",
      {org, cal, start, std::to_string(minutes)});
  Answer a;
  a.booked = r.rows[0][0] == "true";
  a.reason = r.rows[0][1];
  a.appointment = r.rows[0][2];
  std::string list = r.rows[0][3] == "<null>" ? "" : r.rows[0][3];
  for (size_t from = 0; from < list.size();) {
    size_t comma = list.find(',', from);
    if (comma == std::string::npos) comma = list.size();
    a.alternatives.insert(list.substr(from, comma - from));
    from = comma + 1;
  }
  return a;
}

// A calendar whose day `day` (UTC) the superuser booked for 45 minutes at 09:00, 10:00, 12:15 and
// 13:15: with the buffers (5 before, 10 after) the hours nearest 10:00 are at 11:00, 07:45, 07:30.
struct CrowdedDay {
  std::string org, agent, cal, day;
};

// The time `clock` of the day as timestamptz text, and as the alternatives list it.
std::string at_utc(const CrowdedDay& d, const char* clock) {
  return d.day + " " + clock + "+00";
}
std::string listed(const CrowdedDay& d, const char* clock) {
  return d.day + " " + clock + ":00";
}

CrowdedDay crowded_day(Connection& admin) {
  CrowdedDay d;
  d.org = make_org(admin, &d.agent);
  d.cal = make_calendar(admin, d.org);
  d.day = admin.must("select (current_date + 20)::text").value();
  for (const char* at : {"09:00", "10:00", "12:15", "13:15"})
    EXPECT_TRUE(book(admin, d.org, d.cal, at_utc(d, at), 45).booked) << at;
  return d;
}

}  // namespace

// Another session's committed changes reach a session that keeps the calendar's weeks at once:
// a cancellation frees the slot for it, a booking takes an alternative away from it.
TEST(BookingCaches, OtherSessionsChangesAreSeenAtOnce) {
  Connection admin, a, b;
  CrowdedDay d = crowded_day(admin);
  a.become_user(d.agent);
  b.become_user(d.agent);
  std::string taken = at_utc(d, "10:00");
  Answer first = book(a, d.org, d.cal, taken);  // refused; the session now keeps these weeks
  ASSERT_FALSE(first.booked);
  ASSERT_EQ(first.reason, "SLOT_TAKEN");
  ASSERT_EQ(first.alternatives,
            (std::set<std::string>{listed(d, "07:30"), listed(d, "07:45"), listed(d, "11:00")}));
  EXPECT_TRUE(book(b, d.org, d.cal, at_utc(d, "11:00")).booked);  // takes that alternative
  Answer second = book(a, d.org, d.cal, taken);
  EXPECT_FALSE(second.booked);
  EXPECT_EQ(second.alternatives.count(listed(d, "11:00")), 0u);
  std::string blocker = admin
                            .must(
                                "select id from switchboard.appointments where calendar_id = $1 "
                                "and starts_at = $2::timestamptz",
                                {d.cal, taken})
                            .value();
  b.must("select switchboard.cancel_appointment($1, $2)", {d.org, blocker});
  EXPECT_TRUE(book(a, d.org, d.cal, taken, 45).booked);
}

// Writes that bypass the booking functions (a superuser's UPDATE) count as changes too.
TEST(BookingCaches, DirectWritesAreSeen) {
  Connection admin, a;
  CrowdedDay d = crowded_day(admin);
  a.become_user(d.agent);
  std::string taken = at_utc(d, "12:15");
  ASSERT_FALSE(book(a, d.org, d.cal, taken, 45).booked);
  admin.must(
      "update switchboard.appointments set status = 'cancelled', cancelled_at = now(), "
      "cancel_kind = 'requested' where calendar_id = $1 and starts_at = $2::timestamptz",
      {d.cal, taken});
  EXPECT_TRUE(book(a, d.org, d.cal, taken, 45).booked);
}

// A transaction's own uncommitted bookings shape its later answers (never what it kept before).
TEST(BookingCaches, OwnUncommittedChangesAreSeen) {
  Connection admin, a;
  CrowdedDay d = crowded_day(admin);
  a.become_user(d.agent);
  std::string taken = at_utc(d, "10:00"), alternative = listed(d, "11:00");
  ASSERT_EQ(book(a, d.org, d.cal, taken).alternatives.count(alternative), 1u);
  a.must("begin");
  EXPECT_TRUE(book(a, d.org, d.cal, at_utc(d, "11:00")).booked);
  EXPECT_EQ(book(a, d.org, d.cal, taken).alternatives.count(alternative), 0u);
  a.must("rollback");
  EXPECT_EQ(book(a, d.org, d.cal, taken).alternatives.count(alternative), 1u);
}
