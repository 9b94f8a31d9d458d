// Latency of switchboard.confirm_caller_id_verification under concurrent clients, as the REST
// route runs it: each client is an admin of its own organisation (role authenticated with JWT
// claims) confirming the verifications tests/bench/telephony_confirm.sh started for it.
//
// Usage: telephony_confirm CONNINFO [--clients N] [--rounds N]
//
// Method:
//   * The table bench_codes(client, round, seq, org_id, user_id, verification_id, code, wrong)
//     holds the verifications, their right code and a wrong one, per client and round.
//   * Each round starts CLIENTS threads at once, one connection each (set up before the clock
//     starts). Each client works through its verifications: three in four get a wrong code and then
//     the right one (WRONG_CODE, VERIFIED); every fourth gets wrong codes until it locks
//     (WRONG_CODE, WRONG_CODE, LOCKED with the default of 3 checks).
//   * Every call is a prepared statement; its round trip is timed with a steady clock. The reason
//     of every answer is checked: a wrong one ends the program with exit status 1.
//   * Printed per round and as the median over rounds: p50, p95, p99 and max of all calls, the p99
//     of each kind, and calls per second (all calls over the round's wall time).
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "telephony_confirm: %s\n", message.c_str());
  std::exit(1);
}

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;
using Clock = std::chrono::steady_clock;

// One verification a client confirms.
struct Verification {
  std::string org_id, verification_id, code, wrong;
  bool locks = false;
};

// One timed call: its kind (0 wrong code, 1 right code, 2 last wrong code) and milliseconds.
struct Sample {
  int kind;
  double ms;
};

const char* const kKinds[] = {"wrong code, attempts left", "right code", "last wrong code (locks)"};
const char* const kReasons[] = {"WRONG_CODE", "VERIFIED", "LOCKED"};

// One libpq connection whose statements must succeed.
class Connection {
 public:
  explicit Connection(const std::string& conninfo)
      : conn_(PQconnectdb(conninfo.c_str()), PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      fail(std::string("connect failed: ") + PQerrorMessage(conn_.get()));
  }

  Result exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    return check(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0),
                 sql);
  }

  void prepare(const std::string& name, const std::string& sql, int params) {
    check(PQprepare(conn_.get(), name.c_str(), sql.c_str(), params, nullptr), sql);
  }

  // Ensures: the single text value of the prepared statement `name` run with `params`.
  std::string run(const std::string& name, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    Result r = check(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(values.size()),
                                    values.data(), nullptr, nullptr, 0),
                     name);
    if (PQntuples(r.get()) != 1) fail(name + ": expected one row");
    return PQgetvalue(r.get(), 0, 0);
  }

 private:
  Result check(PGresult* raw, const std::string& what) {
    Result r(raw, PQclear);
    ExecStatusType status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
      fail(what + ": " + (r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get())));
    return r;
  }

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// Ensures: the p-th percentile (0..100, nearest rank) of `ms`, sorted here.
double percentile(std::vector<double> ms, double p) {
  if (ms.empty()) return 0;
  std::sort(ms.begin(), ms.end());
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(ms.size()) + 0.999999);
  return ms[std::min(ms.size(), std::max<size_t>(rank, 1)) - 1];
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n == 0 ? 0 : n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// One client of one round: its connection (as its organisation's admin) and its verifications.
class Client {
 public:
  Client(const std::string& conninfo, const std::string& user_id, std::vector<Verification> work)
      : conn_(conninfo), work_(std::move(work)) {
    conn_.exec(
        "select set_config('role', 'authenticated', false), "
        "set_config('request.jwt.claims', $1, false)",
        {"{\"sub\":\"" + user_id + "\",\"role\":\"authenticated\"}"});
    conn_.prepare("confirm",
                  "select switchboard.confirm_caller_id_verification($1, $2, $3) ->> 'reason'", 3);
  }

  // Ensures: every verification confirmed as the method says, each call timed into samples().
  void run() {
    for (const Verification& v : work_) {
      if (v.locks) {
        call(v, v.wrong, 0);
        call(v, v.wrong, 0);
        call(v, v.wrong, 2);
      } else {
        call(v, v.wrong, 0);
        call(v, v.code, 1);
      }
    }
  }

  const std::vector<Sample>& samples() const { return samples_; }

 private:
  void call(const Verification& v, const std::string& code, int kind) {
    auto started = Clock::now();
    std::string reason = conn_.run("confirm", {v.org_id, v.verification_id, code});
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    if (reason != kReasons[kind])
      fail("verification " + v.verification_id + ": expected " + kReasons[kind] + ", got " +
           reason);
    samples_.push_back({kind, ms});
  }

  Connection conn_;
  std::vector<Verification> work_;
  std::vector<Sample> samples_;
};

// What one round measured.
struct RoundResult {
  double p50, p95, p99, max, per_second;
  double kind_p99[3];
  size_t calls;
};

// Ensures: one round of `clients` clients run at once over bench_codes' rows of `round`.
RoundResult run_round(const std::string& conninfo, int clients, int round) {
  Connection setup(conninfo);
  std::vector<std::unique_ptr<Client>> pool;
  for (int c = 0; c < clients; ++c) {
    Result rows = setup.exec(
        "select org_id, user_id, verification_id, code, wrong, seq % 4 = 3 from bench_codes "
        "where client = $1 and round = $2 order by seq",
        {std::to_string(c), std::to_string(round)});
    if (PQntuples(rows.get()) == 0) fail("no verifications for client " + std::to_string(c));
    std::vector<Verification> work;
    for (int i = 0; i < PQntuples(rows.get()); ++i)
      work.push_back({PQgetvalue(rows.get(), i, 0), PQgetvalue(rows.get(), i, 2),
                      PQgetvalue(rows.get(), i, 3), PQgetvalue(rows.get(), i, 4),
                      PQgetvalue(rows.get(), i, 5)[0] == 't'});
    pool.push_back(std::make_unique<Client>(conninfo, PQgetvalue(rows.get(), 0, 1), work));
  }
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  auto started = Clock::now();
  for (auto& client : pool)
    threads.emplace_back([&client, &ready, clients] {
      ready.fetch_add(1);
      while (ready.load() < clients) std::this_thread::yield();
      client->run();
    });
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  std::vector<double> all, kinds[3];
  for (auto& client : pool)
    for (const Sample& s : client->samples()) {
      all.push_back(s.ms);
      kinds[s.kind].push_back(s.ms);
    }
  RoundResult r{percentile(all, 50),
                percentile(all, 95),
                percentile(all, 99),
                percentile(all, 100),
                static_cast<double>(all.size()) / seconds,
                {},
                all.size()};
  for (int k = 0; k < 3; ++k) r.kind_p99[k] = percentile(kinds[k], 99);
  return r;
}

void print_row(const std::string& label, const RoundResult& r) {
  std::printf("| %s | %zu | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f |\n",
              label.c_str(), r.calls, r.p50, r.p95, r.p99, r.max, r.kind_p99[0], r.kind_p99[1],
              r.kind_p99[2], r.per_second);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: telephony_confirm CONNINFO [--clients N] [--rounds N]");
  std::string conninfo = argv[1];
  int clients = 8, rounds = 2;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--clients")
      clients = std::atoi(argv[i + 1]);
    else if (flag == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else
      fail("unknown option " + flag);
  }
  std::printf(
      "| round | calls | p50 ms | p95 ms | p99 ms | max ms | p99 %s | p99 %s | p99 %s | calls/s "
      "|\n",
      kKinds[0], kKinds[1], kKinds[2]);
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  std::vector<RoundResult> results;
  for (int round = 0; round < rounds; ++round) {
    results.push_back(run_round(conninfo, clients, round));
    print_row(std::to_string(round + 1), results.back());
  }
  auto med = [&](auto field) {
    std::vector<double> values;
    for (const auto& r : results) values.push_back(field(r));
    return median(values);
  };
  RoundResult m{med([](const RoundResult& r) { return r.p50; }),
                med([](const RoundResult& r) { return r.p95; }),
                med([](const RoundResult& r) { return r.p99; }),
                med([](const RoundResult& r) { return r.max; }),
                med([](const RoundResult& r) { return r.per_second; }),
                {},
                results.front().calls};
  for (int k = 0; k < 3; ++k)
    m.kind_p99[k] = med([k](const RoundResult& r) { return r.kind_p99[k]; });
  print_row("median", m);
  return 0;
}
