// Booking benchmark: switchboard.book_appointment next to a naive check-then-insert (no lock) and
// an exclusion-constraint-only insert, same workload, same server, one run in alternating rounds
// (rates are medians over the rounds); then the commands on existing appointments (confirm,
// reschedule, cancel) and available_slots latency. Prints markdown tables. Needs
// SWITCHBOARD_BENCH_DSN (tests/bench/booking.sh sets it).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../integration/pg.hpp"

using sbtest::Connection;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kClients = 4;
constexpr int kAttemptsPerClient = 2500;
constexpr int kStarts = 60 * 96;  // 60 days of 15-minute starts
constexpr int kCalendars = 1000;
constexpr size_t kRound = 100;  // attempts per client per round: 25 rounds per workload

// One request of the workload: which calendar, which start (minutes after the base), how long.
struct Request {
  int calendar;
  int offset_minutes;
  int minutes;
};

// What a variant answered over a whole run: its rates round by round, and what went wrong.
struct Outcome {
  std::vector<double> attempt_rates;  // attempts/s of each round
  std::vector<double> booking_rates;  // bookings/s of each round
  long errors = 0;
  long double_bookings = 0;
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * (v.size() - 1))];
}

double median(const std::vector<double>& v) {
  return percentile(v, 0.5);
}

std::vector<std::vector<Request>> workload(int calendars, unsigned seed) {
  std::vector<std::vector<Request>> per_client(kClients);
  for (int c = 0; c < kClients; ++c) {
    std::mt19937 rng(seed + c);
    for (int i = 0; i < kAttemptsPerClient; ++i)
      per_client[c].push_back({static_cast<int>(rng() % calendars),
                               static_cast<int>(rng() % kStarts) * 15,
                               30 * (1 + static_cast<int>(rng() % 3))});
  }
  return per_client;
}

// Runs `attempt` for requests [from, to) of every client on its own connection, in parallel, and
// adds the round's rates and errors to *out; `attempt` returns 1 (booked), 0 (refused) or -1
// (error).
void run_clients(std::vector<std::unique_ptr<Connection>>& conns,
                 const std::vector<std::vector<Request>>& requests, size_t from, size_t to,
                 const std::function<int(Connection&, const Request&)>& attempt, Outcome* out) {
  std::atomic<long> booked{0}, errors{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  Clock::time_point start;
  std::atomic<bool> go{false};
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      Connection& conn = *conns[c];
      ++ready;
      while (!go) std::this_thread::yield();
      for (size_t i = from; i < to; ++i) {
        int result = attempt(conn, requests[c][i]);
        if (result > 0) ++booked;
        if (result < 0) ++errors;
      }
    });
  while (ready < kClients) std::this_thread::yield();
  start = Clock::now();
  go = true;
  for (auto& t : clients) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  long attempts = static_cast<long>(kClients) * static_cast<long>(to - from);
  out->errors += errors;
  out->attempt_rates.push_back(attempts / seconds);
  out->booking_rates.push_back(booked / seconds);
}

// Overlapping pairs of padded blocks among the rows of `table` matching `filter` (each a double
// booking).
long overlaps(Connection& admin, const std::string& table, const std::string& filter) {
  return std::stol(admin
                       .must("with x as (select * from " + table + " where " + filter +
                             ") select count(*) from x a join x b on a.calendar_id = b.calendar_id "
                             "and a.id < b.id and tstzrange(a.block_start, a.block_end) && "
                             "tstzrange(b.block_start, b.block_end)")
                       .value());
}

struct Setup {
  std::string org, agent, base;
  std::vector<std::string> calendars;  // [0] is the hot calendar
  std::string reference_org;           // a second organisation for the bare-insert reference
  std::vector<std::string> reference_calendars;
};

const char* kHours =
    R"({"mon":[["00:00","24:00"]],"tue":[["00:00","24:00"]],"wed":[["00:00","24:00"]],"thu":[["00:00","24:00"]],)"
    R"("fri":[["00:00","24:00"]],"sat":[["00:00","24:00"]],"sun":[["00:00","24:00"]]})";
const char* kOptions =
    R"({"slotMinutes":30,"slotStepMinutes":15,"bufferBeforeMinutes":5,"bufferAfterMinutes":10,"maxDaysAhead":365})";

// A new organisation with `count` calendars open around the clock; returns its id.
std::string make_org(Connection& admin, const char* name, int count,
                     std::vector<std::string>* calendars) {
  std::string org = admin
                        .must(
                            "insert into switchboard.organizations (name, slug) values ($1, "
                            "'bench-' || substr(md5(random()::text), 1, 8)) returning id",
                            {std::string(name)})
                        .value();
  auto rows = admin.must(
      "select switchboard.create_calendar($1, 'cal ' || g, 'America/New_York', $2, $3) "
      "from generate_series(1, $4::int) g",
      {org, kHours, kOptions, std::to_string(count)});
  for (auto& row : rows.rows) calendars->push_back(row[0]);
  return org;
}

// The tables of the variants. naive and exclusion have the shape of switchboard.appointments
// (its columns and defaults, the tenancy primary key and the foreign key to the calendar that
// every tenant table has) without its CHECKs, indexes, trigger and lock: naive adds the index its
// overlap check needs, exclusion the exclusion constraint. thin is the naive variant on a
// 7-column table with no tenancy key and no foreign key, kept as a reference.
const char* const kBenchSchema[] = {
    R"(drop schema if exists bench cascade)",
    R"(create schema bench)",
    R"(create table bench.naive (like switchboard.appointments including defaults,
      primary key (org_id, id),
      foreign key (org_id, calendar_id) references switchboard.calendars (org_id, id) on delete cascade))",
    R"(create index on bench.naive using gist (calendar_id, tstzrange(block_start, block_end, '[)')))",
    R"(create table bench.exclusion (like switchboard.appointments including defaults,
      primary key (org_id, id),
      foreign key (org_id, calendar_id) references switchboard.calendars (org_id, id) on delete cascade,
      exclude using gist (calendar_id with =, org_id with =, tstzrange(block_start, block_end, '[)') with &&)
        where (status <> 'cancelled')))",
    R"(create table bench.thin (id bigint generated always as identity primary key, calendar_id uuid not null,
      starts_at timestamptz not null, ends_at timestamptz not null, block_start timestamptz not null,
      block_end timestamptz not null, status text not null default 'confirmed'))",
    R"(create index on bench.thin using gist (calendar_id, tstzrange(block_start, block_end, '[)')))"};

// The naive booking function `name`(params) on `table`: false when a padded block of the calendar
// `cal` overlaps, else an insert of `columns` and `values` (no lock: it can double-book).
std::string naive_function(const std::string& name, const std::string& params,
                           const std::string& table, const std::string& columns,
                           const std::string& values) {
  return "create function bench." + name + "(" + params +
         ", start timestamptz, minutes int) returns boolean language plpgsql as $$ begin\n"
         "  if exists (select 1 from bench." +
         table +
         " n where n.calendar_id = cal and tstzrange(n.block_start, n.block_end, '[)') && "
         "tstzrange(start - interval '5 minutes', start + make_interval(mins => minutes + 10), "
         "'[)')) then\n    return false;\n  end if;\n"
         "  insert into bench." +
         table + " (" + columns + ", starts_at, ends_at, block_start, block_end) values (" +
         values +
         ", start, start + make_interval(mins => minutes), start - interval '5 minutes', "
         "start + make_interval(mins => minutes + 10));\n  return true;\nend $$";
}

Setup set_up(Connection& admin) {
  Setup s;
  s.org = make_org(admin, "Bench", kCalendars + 1, &s.calendars);
  s.reference_org = make_org(admin, "Bench reference", kCalendars + 1, &s.reference_calendars);
  s.agent = sbtest::new_uuid(admin);
  admin.must(
      "insert into switchboard.organization_members (org_id, user_id, role) values ($1, $2, "
      "'agent')",
      {s.org, s.agent});
  s.base = admin.must("select date_trunc('day', now()) + interval '2 days'").value();
  for (const char* sql : kBenchSchema) admin.must(sql);
  admin.must(naive_function("naive_book", "org uuid, cal uuid", "naive",
                            "org_id, calendar_id, status, confirmed_at",
                            "org, cal, 'confirmed', now()"));
  admin.must(naive_function("thin_book", "cal uuid", "thin", "calendar_id", "cal"));
  return s;
}

// The variants on one workload (with the bare-insert reference when `reference`); the tables are
// emptied first.
std::vector<Outcome> compare(const std::string& dsn, Connection& admin, const Setup& s,
                             int calendars, unsigned seed, bool reference) {
  admin.must("truncate bench.naive, bench.exclusion, bench.thin");
  admin.must("delete from switchboard.appointments where org_id in ($1, $2)",
             {s.org, s.reference_org});
  admin.must("vacuum analyze bench.naive, bench.exclusion, bench.thin, switchboard.appointments");
  auto requests = workload(calendars, seed);
  auto args = [&](const Request& r) {
    return std::vector<std::string>{s.calendars[r.calendar], s.base,
                                    std::to_string(r.offset_minutes), std::to_string(r.minutes)};
  };
  const std::string start = "$2::timestamptz + make_interval(mins => $3::int)";
  auto with_org = [&](const Request& r) {
    std::vector<std::string> a = args(r);
    a.insert(a.begin(), s.org);
    return a;
  };
  auto naive = [&](Connection& c, const Request& r) {
    auto res = c.run(
        "select bench.naive_book($1, $2, $3::timestamptz + make_interval(mins => $4::int), "
        "$5::int)",
        with_org(r));
    return !res.ok() ? -1 : res.value() == "t" ? 1 : 0;
  };
  auto exclusion = [&](Connection& c, const Request& r) {
    auto res = c.run(
        "insert into bench.exclusion (org_id, calendar_id, starts_at, ends_at, block_start, "
        "block_end, status, confirmed_at) select $1, $2, t, t + make_interval(mins => $5::int), "
        "t - interval '5 minutes', t + make_interval(mins => $5::int + 10), 'confirmed', now() "
        "from (select $3::timestamptz + make_interval(mins => $4::int) as t) x",
        with_org(r));
    return res.ok() ? 1 : -1;
  };
  auto thin = [&](Connection& c, const Request& r) {
    auto res = c.run("select bench.thin_book($1, " + start + ", $4::int)", args(r));
    return !res.ok() ? -1 : res.value() == "t" ? 1 : 0;
  };
  auto ours = [&](Connection& c, const Request& r) {
    auto res = c.run(
        "select switchboard.book_appointment($1, $2, $3::timestamptz + make_interval(mins => "
        "$4::int), "
        "$5::int) ->> 'booked'",
        with_org(r));
    return !res.ok() ? -1 : res.value() == "true" ? 1 : 0;
  };
  // What book_appointment writes, inserted alone (no check, no lock), into the real table.
  auto bare = [&](Connection& c, const Request& r) {
    auto res = c.run(
        "insert into switchboard.appointments (org_id, calendar_id, starts_at, ends_at, "
        "block_start, block_end, status, confirmed_at) select $1, $2, t, t + make_interval(mins "
        "=> $5::int), t - interval '5 minutes', t + make_interval(mins => $5::int + 10), "
        "'confirmed', now() from (select $3::timestamptz + make_interval(mins => $4::int) as t) x",
        {s.reference_org, s.reference_calendars[r.calendar], s.base,
         std::to_string(r.offset_minutes), std::to_string(r.minutes)});
    return res.ok() ? 1 : -1;
  };
  const size_t n = reference ? 5 : 4;
  std::vector<std::vector<std::unique_ptr<Connection>>> conns(n);
  for (size_t v = 0; v < n; ++v)
    for (int c = 0; c < kClients; ++c) {
      conns[v].push_back(std::make_unique<Connection>(dsn));
      // The naive variant's table starts empty and analyzed, so its cached EXISTS plan would be
      // a sequential scan that slows down as the table fills: give it its index, as statistics
      // would in production, so that it is compared at its best.
      if (v == 0 || v == 3) conns[v].back()->must("set enable_seqscan = off");
      if (v == 2) conns[v].back()->become_user(s.agent);
    }
  std::vector<Outcome> out(n);
  const std::function<int(Connection&, const Request&)> variants[] = {naive, exclusion, ours, thin,
                                                                      bare};
  // Rounds of 100 attempts per client, the variants taking turns in an order that rotates every
  // round, so that load from elsewhere on the machine falls on all of them alike; rates are the
  // medians over the rounds.
  for (size_t round = 0, from = 0; from < kAttemptsPerClient; ++round, from += kRound) {
    size_t to = std::min<size_t>(from + kRound, kAttemptsPerClient);
    for (size_t k = 0; k < n; ++k) {
      size_t v = (round + k) % n;
      run_clients(conns[v], requests, from, to, variants[v], &out[v]);
    }
  }
  out[0].double_bookings = overlaps(admin, "bench.naive", "status = 'confirmed'");
  out[1].double_bookings = overlaps(admin, "bench.exclusion", "status = 'confirmed'");
  out[2].double_bookings = overlaps(admin, "switchboard.appointments",
                                    "status in ('held', 'confirmed') and org_id = '" + s.org + "'");
  out[3].double_bookings = overlaps(admin, "bench.thin", "status = 'confirmed'");
  if (reference)
    out[4].double_bookings =
        overlaps(admin, "switchboard.appointments",
                 "status in ('held', 'confirmed') and org_id = '" + s.reference_org + "'");
  return out;
}

void print_rows(const char* scenario, const std::vector<Outcome>& o) {
  const char* names[] = {"naive check-then-insert (no lock)", "exclusion constraint only",
                         "switchboard.book_appointment",
                         "reference: naive on a 7-column table (no tenancy key, no foreign key)",
                         "reference: its insert alone (no check, no lock)"};
  for (size_t i = 0; i < o.size(); ++i)
    std::printf("| %s | %s | %.0f | %.0f | %ld | %ld |\n", scenario, names[i],
                median(o[i].attempt_rates), median(o[i].booking_rates), o[i].double_bookings,
                o[i].errors);
}

// available_slots over 7-day windows of a calendar holding 500 appointments: p50 and p99 in ms.
std::pair<double, double> slots_latency(const std::string& dsn, Connection& admin, const Setup& s) {
  const std::string& cal = s.calendars[1];
  admin.must("delete from switchboard.appointments where org_id in ($1, $2)",
             {s.org, s.reference_org});
  for (int i = 0, made = 0; made < 500 && i < 5000; ++i) {
    auto r = admin.must(
        "select switchboard.book_appointment($1, $2, $3::timestamptz + make_interval(mins => "
        "$4::int), 30)"
        " ->> 'booked'",
        {s.org, cal, s.base, std::to_string((i * 7919 % (28 * 96)) * 15)});
    if (r.value() == "true") ++made;
  }
  Connection c(dsn);
  c.become_user(s.agent);
  std::vector<double> ms;
  std::mt19937 rng(7);
  for (int i = 0; i < 400; ++i) {
    std::string day = std::to_string(rng() % 21);
    auto t0 = Clock::now();
    auto r = c.must(
        "select count(*) from switchboard.available_slots($1, $2, $3::timestamptz + "
        "make_interval(days => "
        "$4::int), $3::timestamptz + make_interval(days => $4::int + 7))",
        {s.org, cal, s.base, day});
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return {percentile(ms, 0.5), percentile(ms, 0.99)};
}

// What one command on existing appointments did over a workload: its rates round by round, every
// call's latency, and how many calls it refused or failed.
struct CommandOutcome {
  std::vector<double> rates;  // calls/s of each round
  std::vector<double> ms;     // each call
  long refused = 0;
  long errors = 0;
};

// Runs `call(client)` on every client's thread at once; returns the seconds until all are done.
double in_parallel(const std::function<void(int)>& call) {
  std::vector<std::thread> clients;
  auto start = Clock::now();
  for (int c = 0; c < kClients; ++c) clients.emplace_back(call, c);
  for (auto& t : clients) t.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// confirm_appointment, reschedule_appointment and cancel_appointment, in that order, on holds
// each client made (kRound per client per round, untimed) on `calendars` calendars: every client
// confirms its holds, then moves each by a random number of 15-minute steps within 60 days, then
// cancels each. Rates are medians over 10 rounds; latencies cover every call.
std::vector<CommandOutcome> appointment_commands(const std::string& dsn, Connection& admin,
                                                 const Setup& s, int calendars, unsigned seed) {
  admin.must("delete from switchboard.appointments where org_id in ($1, $2)",
             {s.org, s.reference_org});
  admin.must("vacuum analyze switchboard.appointments");
  std::vector<std::unique_ptr<Connection>> conns;
  for (int c = 0; c < kClients; ++c) {
    conns.push_back(std::make_unique<Connection>(dsn));
    conns.back()->become_user(s.agent);
  }
  std::vector<CommandOutcome> out(3);
  std::vector<std::mutex> locks(3);
  for (int round = 0; round < 10; ++round) {
    std::vector<std::vector<std::string>> held(kClients);
    in_parallel([&](int c) {
      std::mt19937 rng(seed + 1000 * round + c);
      for (size_t i = 0; i < kRound; ++i) {
        auto r = conns[c]->run(
            "select switchboard.hold_slot($1, $2, $3::timestamptz + make_interval(mins => "
            "$4::int), "
            "30, hold_seconds => 3600) ->> 'appointmentId'",
            {s.org, s.calendars[rng() % calendars], s.base,
             std::to_string(static_cast<int>(rng() % kStarts) * 15)});
        if (r.ok() && r.value() != "<null>") held[c].push_back(r.value());
      }
    });
    const char* sql[] = {
        "select (switchboard.confirm_appointment($1, $2) ->> 'confirmed')::boolean",
        "select (switchboard.reschedule_appointment($1, $2, $3::timestamptz + make_interval(mins "
        "=> $4::int)) ->> 'rescheduled')::boolean",
        "select (switchboard.cancel_appointment($1, $2, 'bench') ->> 'cancelled')::boolean"};
    for (int k = 0; k < 3; ++k) {
      std::atomic<long> calls{0};
      double seconds = in_parallel([&](int c) {
        std::mt19937 rng(seed + 7 * round + c);
        std::vector<double> ms;
        long refused = 0, errors = 0;
        for (const std::string& id : held[c]) {
          std::vector<std::string> args = {s.org, id};
          if (k == 1) {
            args.push_back(s.base);
            args.push_back(std::to_string(static_cast<int>(rng() % kStarts) * 15));
          }
          auto t0 = Clock::now();
          auto r = conns[c]->run(sql[k], args);
          ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (!r.ok())
            ++errors;
          else if (r.value() != "t")
            ++refused;
        }
        calls += static_cast<long>(held[c].size());
        std::lock_guard<std::mutex> guard(locks[k]);
        out[k].ms.insert(out[k].ms.end(), ms.begin(), ms.end());
        out[k].refused += refused;
        out[k].errors += errors;
      });
      out[k].rates.push_back(calls / seconds);
    }
  }
  return out;
}

void print_commands(const char* scenario, const std::vector<CommandOutcome>& o) {
  const char* names[] = {"confirm_appointment", "reschedule_appointment", "cancel_appointment"};
  for (size_t i = 0; i < o.size(); ++i)
    std::printf("| %s | %s | %.0f | %.3f | %.3f | %ld | %ld |\n", scenario, names[i],
                median(o[i].rates), percentile(o[i].ms, 0.5), percentile(o[i].ms, 0.99),
                o[i].refused, o[i].errors);
}

}  // namespace

int main() {
  const char* dsn_env = std::getenv("SWITCHBOARD_BENCH_DSN");
  if (!dsn_env || !*dsn_env) {
    std::fprintf(stderr, "SWITCHBOARD_BENCH_DSN is not set (run tests/bench/booking.sh)\n");
    return 2;
  }
  std::string dsn = dsn_env;
  Connection admin(dsn);
  Setup s = set_up(admin);
  std::vector<Outcome> hot = compare(dsn, admin, s, 1, 11, false);
  std::vector<Outcome> spread = compare(dsn, admin, s, kCalendars, 23, true);
  std::printf("attempts/s and bookings/s: medians over %zu rounds of %zu attempts per client\n\n",
              (kAttemptsPerClient + kRound - 1) / kRound, kRound);
  std::printf(
      "| workload (%d clients x %d attempts) | variant | attempts/s | bookings/s | double bookings "
      "| "
      "errors |\n|---|---|---|---|---|---|\n",
      kClients, kAttemptsPerClient);

  print_rows("1 hot calendar", hot);
  print_rows("1,000 calendars", spread);
  auto ratio = [](const std::vector<Outcome>& o, size_t baseline) {
    return median(o[2].attempt_rates) / median(o[baseline].attempt_rates);
  };
  std::printf(
      "\nthroughput of switchboard.book_appointment vs naive: %.2fx on 1 hot calendar, %.2fx on "
      "1,000 calendars (vs naive on the 7-column table: %.2fx, %.2fx)\n",
      ratio(hot, 0), ratio(spread, 0), ratio(hot, 3), ratio(spread, 3));
  std::vector<CommandOutcome> commands_hot = appointment_commands(dsn, admin, s, 1, 31);
  std::vector<CommandOutcome> commands_spread = appointment_commands(dsn, admin, s, kCalendars, 37);
  std::printf(
      "\n| workload (%d clients, 10 rounds of %zu holds each) | command | calls/s | p50 (ms) | p99 "
      "(ms) | refused | errors |\n|---|---|---|---|---|---|---|\n",
      kClients, kRound);
  print_commands("1 hot calendar", commands_hot);
  print_commands("1,000 calendars", commands_spread);
  auto [p50, p99] = slots_latency(dsn, admin, s);
  std::printf(
      "available_slots, 7-day window, calendar with 500 appointments (400 calls): p50 %.2f ms, p99 "
      "%.2f "
      "ms\n",
      p50, p99);
  bool clean = hot[2].errors == 0 && hot[2].double_bookings == 0 && spread[2].errors == 0 &&
               spread[2].double_bookings == 0;
  for (const auto* commands : {&commands_hot, &commands_spread})
    for (const CommandOutcome& o : *commands) clean = clean && o.errors == 0;
  return clean ? 0 : 1;
}
