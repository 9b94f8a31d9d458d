// What row-level security costs a member: the same queries run by a member of an organisation
// (RLS policies from switchboard.protect()) and by the table's owner with an explicit
// WHERE org_id = $1, measured side by side in one run and printed as a table of medians.
//
// Usage: rls_bench [conninfo] [--iterations N] [--warmup N] [--seed N]
//   conninfo defaults to $SWITCHBOARD_BENCH_DSN; it must name a superuser of a database loaded by
//   tests/bench/rls.sh (bench.items protected by switchboard.protect(), one single-organisation
//   member per organisation).
//
// Method:
//   * One connection, one backend for both sides, so both run on the same process, CPU and caches
//     (with two connections, where the OS places each backend biased one side by up to 1.5x from
//     run to run). Before each owner statement it switches to the table's owner
//     (set_config('role', <owner>, false): owners bypass RLS); before each member statement to
//     the member, as a pooled PostgREST connection does per request: select set_config('role',
//     'authenticated', false), set_config('request.jwt.claims', '{"sub":...,"role":
//     "authenticated"}', false).
//   * Every statement is prepared (PQprepare) and run with PQexecPrepared; only that call (round
//     trip included) is timed, with a steady clock. The switches are NOT part of either side's
//     time: the comparison is the query statement alone. The member switch's cost is reported on
//     a separate line. Switching means each timed member statement is the first one under new
//     claims, so it pays the claims parsing and the membership lookup (member_org_ids, served by
//     the extension's per-backend cache) of a fresh request.
//   * Owner and member run interleaved, one after the other for the same organisation, and which
//     of the two goes first alternates, so machine noise and cache warming hit both equally.
//   * Organisations are visited in shuffled rounds over all of them (fixed seed). A warm-up round
//     visits every organisation once, unmeasured, so the per-backend membership cache and the
//     buffer cache are in their steady state.
//   * Every iteration compares the owner's and the member's result (all rows, all columns) and
//     stops the program with exit status 1 when they differ.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "rls_bench: %s\n", message.c_str());
  std::exit(1);
}

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// One libpq connection whose statements must succeed (any failure ends the program).
class Connection {
 public:
  Connection(const std::string& conninfo, const char* label)
      : conn_(PQconnectdb(conninfo.c_str()), PQfinish), label_(label) {
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      fail(label_ + ": connect failed: " + PQerrorMessage(conn_.get()));
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
  }

  Result exec(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values = c_strings(params);
    return check(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0),
                 sql);
  }

  void prepare(const std::string& name, const std::string& sql, int params) {
    check(PQprepare(conn_.get(), name.c_str(), sql.c_str(), params, nullptr), sql);
  }

  Result run_prepared(const std::string& name, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values = c_strings(params);
    return check(PQexecPrepared(conn_.get(), name.c_str(), static_cast<int>(values.size()),
                                values.data(), nullptr, nullptr, 0),
                 "execute " + name);
  }

  std::string value(const std::string& sql, const std::vector<std::string>& params = {}) {
    Result r = exec(sql, params);
    if (PQntuples(r.get()) != 1) fail(label_ + ": expected one row from: " + sql);
    return PQgetvalue(r.get(), 0, 0);
  }

  std::string literal(const std::string& text) { return escaped(text, PQescapeLiteral); }

 private:
  static std::vector<const char*> c_strings(const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    return values;
  }

  Result check(PGresult* raw, const std::string& what) {
    Result r(raw, PQclear);
    ExecStatusType status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK)
      fail(label_ + ": " + what + ": " +
           (r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get())));
    return r;
  }

  std::string escaped(const std::string& text, char* (*escape)(PGconn*, const char*, size_t)) {
    char* out = escape(conn_.get(), text.c_str(), text.size());
    if (!out) fail(label_ + ": escaping failed: " + PQerrorMessage(conn_.get()));
    std::string copy(out);
    PQfreemem(out);
    return copy;
  }

  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
  std::string label_;
};

// All rows of a result as one string, for comparing two results exactly.
std::string fingerprint(const PGresult* r) {
  std::string out;
  for (int row = 0; row < PQntuples(r); ++row) {
    for (int col = 0; col < PQnfields(r); ++col) {
      out += PQgetisnull(r, row, col) ? "\\N" : PQgetvalue(r, row, col);
      out += '\x1f';
    }
    out += '\x1e';
  }
  return out;
}

struct Member {
  std::string org;
  std::string user;
  std::string role;
};

// A query measured both ways: owner_sql takes the organisation as $1, member_sql relies on RLS
// (and takes the organisation as $1 too when member_takes_org).
struct Query {
  std::string label;
  std::string owner_sql;
  std::string member_sql;
  bool rows_are_count = false;    // the result is one count(*) value rather than rows
  bool member_takes_org = false;  // a diagnostic: the member filters explicitly too
  std::vector<double> owner_ms, member_ms;
  long long owner_rows = 0, member_rows = 0;
  long long identical = 0;
};

Query make_query(const char* label, const std::string& owner_sql, const std::string& member_sql,
                 bool rows_are_count, bool member_takes_org) {
  Query q;
  q.label = label;
  q.owner_sql = owner_sql;
  q.member_sql = member_sql;
  q.rows_are_count = rows_are_count;
  q.member_takes_org = member_takes_org;
  return q;
}

struct Options {
  std::string conninfo;
  int iterations = 5000;
  int warmup = -1;  // -1: one round over every organisation
  unsigned seed = 20240601;
};

int positive(const char* text, const char* what) {
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  if (!end || *end || n < 0 || n > 100000000) fail(std::string("invalid ") + what + ": " + text);
  return static_cast<int>(n);
}

Options parse_options(int argc, char** argv) {
  Options o;
  if (const char* dsn = std::getenv("SWITCHBOARD_BENCH_DSN")) o.conninfo = dsn;
  if (const char* n = std::getenv("SWITCHBOARD_BENCH_ITERATIONS"))
    o.iterations = positive(n, "SWITCHBOARD_BENCH_ITERATIONS");
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&](const char* what) {
      if (i + 1 >= argc) fail(std::string("missing value for ") + what);
      return positive(argv[++i], what);
    };
    if (arg == "--iterations") {
      o.iterations = next("--iterations");
    } else if (arg == "--warmup") {
      o.warmup = next("--warmup");
    } else if (arg == "--seed") {
      o.seed = static_cast<unsigned>(next("--seed"));
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: rls_bench [conninfo] [--iterations N] [--warmup N] [--seed N]\n");
      std::exit(0);
    } else if (!arg.empty() && arg[0] != '-') {
      o.conninfo = arg;
    } else {
      fail("unknown argument: " + arg);
    }
  }
  if (o.conninfo.empty()) fail("no conninfo: pass one or set SWITCHBOARD_BENCH_DSN");
  if (o.iterations < 1) fail("--iterations must be at least 1");
  return o;
}

// One member per organisation, each a member of that organisation only (so that what RLS shows
// them is exactly what the owner's WHERE org_id = ... shows). Lowest role first.
std::vector<Member> load_members(Connection& admin) {
  Result r = admin.exec(R"(
    select distinct on (m.org_id) m.org_id::text, m.user_id::text, m.role::text
      from switchboard.organization_members m
     where (select count(*) from switchboard.organization_members x where x.user_id = m.user_id) = 1
       and exists (select 1 from bench.items i where i.org_id = m.org_id)
     order by m.org_id, m.role, m.user_id)");
  std::vector<Member> members;
  for (int i = 0; i < PQntuples(r.get()); ++i)
    members.push_back(
        {PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1), PQgetvalue(r.get(), i, 2)});
  if (members.empty())
    fail("no single-organisation members with rows in bench.items: load it first");
  return members;
}

std::string claims_of(const Member& m) {
  return R"({"sub":")" + m.user + R"(","role":"authenticated"})";
}

// Organisation indexes in shuffled rounds, each round visiting every organisation once.
std::vector<std::size_t> schedule(std::size_t orgs, int length, std::mt19937& rng) {
  std::vector<std::size_t> out, round(orgs);
  for (std::size_t i = 0; i < orgs; ++i) round[i] = i;
  while (out.size() < static_cast<std::size_t>(length)) {
    std::shuffle(round.begin(), round.end(), rng);
    out.insert(out.end(), round.begin(), round.end());
  }
  out.resize(static_cast<std::size_t>(length));
  return out;
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

// The timing table of the queries whose member_takes_org equals `diagnostic`.
void print_timings(const std::vector<Query>& queries, bool diagnostic) {
  std::printf("| %-10s | %14s | %15s | %9s | %14s | %15s | %9s | %-6s |\n", "query",
              "owner p50 (ms)", "member p50 (ms)", "ratio p50", "owner p99 (ms)", "member p99 (ms)",
              "ratio p99", "<=1.2x");
  std::printf(
      "|------------|----------------|-----------------|-----------|----------------|"
      "-----------------|-----------|--------|\n");
  for (const Query& q : queries) {
    if (q.member_takes_org != diagnostic) continue;
    double o50 = percentile(q.owner_ms, 0.5), m50 = percentile(q.member_ms, 0.5);
    double o99 = percentile(q.owner_ms, 0.99), m99 = percentile(q.member_ms, 0.99);
    std::printf("| %-10s | %14.3f | %15.3f | %8.2fx | %14.3f | %15.3f | %8.2fx | %-6s |\n",
                q.label.c_str(), o50, m50, m50 / o50, o99, m99, m99 / o99,
                m50 / o50 <= 1.2 ? "yes" : "NO");
  }
}

long long rows_seen(const PGresult* r, bool rows_are_count) {
  return rows_are_count ? std::atoll(PQgetvalue(r, 0, 0)) : PQntuples(r);
}

void print_plan(Connection& c, const std::string& statement) {
  Result r = c.exec("explain (analyze, buffers, costs off, timing off, summary off) " + statement);
  for (int i = 0; i < PQntuples(r.get()); ++i) std::printf("    %s\n", PQgetvalue(r.get(), i, 0));
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_options(argc, argv);
  Connection db(opt.conninfo, "bench");

  std::vector<Member> members = load_members(db);
  std::string table_owner = db.value(
      "select pg_get_userbyid(relowner) from pg_class where oid = 'bench.items'::regclass");
  long long table_rows = std::atoll(db.value("select count(*) from bench.items").c_str());
  std::string server = db.value("show server_version");

  // The untimed switches between the two sides (set_config('role', ...) is SET ROLE).
  db.prepare("as_owner", "select set_config('role', $1, false)", 1);
  db.prepare("as_member",
             "select set_config('role', 'authenticated', false), "
             "set_config('request.jwt.claims', $1, false)",
             1);
  auto as_owner = [&] { db.run_prepared("as_owner", {table_owner}); };
  auto as_member = [&](const Member& m) { db.run_prepared("as_member", {claims_of(m)}); };

  // Both sides must be what they claim to be: RLS off for the owner, on for the member.
  as_owner();
  if (db.value("select row_security_active('bench.items')") != "f")
    fail("row security is active for the owner " + table_owner + ": is the table FORCEd?");
  as_member(members[0]);
  if (db.value("select row_security_active('bench.items')") != "t")
    fail("row security is not active for the member: is bench.items protected?");
  if (db.value("select switchboard.current_user_id()::text") != members[0].user)
    fail("the member does not see its claims");

  const std::string page_where =
      "select * from bench.items where org_id = $1 order by created_at desc, id limit 50";
  std::vector<Query> queries = {
      make_query("count(*)", "select count(*) from bench.items where org_id = $1",
                 "select count(*) from bench.items", true, false),
      make_query("page of 50", page_where,
                 "select * from bench.items order by created_at desc, id limit 50", false, false),
      // Diagnostic: the member sends the owner's query (PostgREST: ?org_id=eq.<id>).
      make_query("page+where", page_where, page_where, false, true),
  };
  for (std::size_t q = 0; q < queries.size(); ++q) {
    as_owner();
    db.prepare("owner_" + std::to_string(q), queries[q].owner_sql, 1);
    as_member(members[0]);
    db.prepare("member_" + std::to_string(q), queries[q].member_sql,
               queries[q].member_takes_org ? 1 : 0);
  }

  std::mt19937 rng(opt.seed);
  int warmup = opt.warmup < 0 ? static_cast<int>(members.size()) : opt.warmup;
  std::vector<std::vector<std::size_t>> plan;
  for (std::size_t q = 0; q < queries.size(); ++q)
    plan.push_back(schedule(members.size(), warmup + opt.iterations, rng));
  std::vector<double> switch_ms;
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };

  for (int i = 0; i < warmup + opt.iterations; ++i) {
    bool measured = i >= warmup;
    for (std::size_t q = 0; q < queries.size(); ++q) {
      Query& query = queries[q];
      const Member& m = members[plan[q][static_cast<std::size_t>(i)]];
      Result owner_result(nullptr, PQclear), member_result(nullptr, PQclear);
      double owner_time = 0, member_time = 0;
      auto run_owner = [&] {
        as_owner();
        Clock::time_point t = Clock::now();
        owner_result = db.run_prepared("owner_" + std::to_string(q), {m.org});
        owner_time = ms_since(t);
      };
      auto run_member = [&] {
        Clock::time_point start = Clock::now();
        as_member(m);
        if (measured) switch_ms.push_back(ms_since(start));
        Clock::time_point t = Clock::now();
        member_result = db.run_prepared(
            "member_" + std::to_string(q),
            query.member_takes_org ? std::vector<std::string>{m.org} : std::vector<std::string>{});
        member_time = ms_since(t);
      };
      if ((i + static_cast<int>(q)) % 2 == 0) {
        run_owner();
        run_member();
      } else {
        run_member();
        run_owner();
      }

      if (fingerprint(owner_result.get()) != fingerprint(member_result.get()))
        fail(query.label + ": the member " + m.user + " and the owner saw different rows of " +
             m.org +
             " (owner: " + std::to_string(rows_seen(owner_result.get(), query.rows_are_count)) +
             ", member: " + std::to_string(rows_seen(member_result.get(), query.rows_are_count)) +
             " rows)");
      if (!measured) continue;
      query.owner_ms.push_back(owner_time);
      query.member_ms.push_back(member_time);
      query.owner_rows += rows_seen(owner_result.get(), query.rows_are_count);
      query.member_rows += rows_seen(member_result.get(), query.rows_are_count);
      ++query.identical;
    }
  }

  std::printf("\nRLS cost: bench.items, %lld rows over %zu organisations (PostgreSQL %s)\n",
              table_rows, members.size(), server.c_str());
  std::printf(
      "owner = %s with WHERE org_id = $1; member = SET ROLE authenticated + JWT claims, "
      "no WHERE (RLS)\n",
      table_owner.c_str());
  std::printf("%d measured iterations per query after %d warm-up, owner/member interleaved\n\n",
              opt.iterations, warmup);
  print_timings(queries, false);
  std::printf(
      "\nDiagnostic, not the target: the member also sends the owner's WHERE org_id = $1\n");
  print_timings(queries, true);
  std::printf(
      "\nmember switch (select set_config('role', ...), set_config('request.jwt.claims', ...); "
      "not included above): "
      "p50 %.3f ms, p99 %.3f ms\n\n",
      percentile(switch_ms, 0.5), percentile(switch_ms, 0.99));

  std::printf("| %-10s | %10s | %18s | %19s | %17s |\n", "query", "iterations",
              "owner rows (total)", "member rows (total)", "identical results");
  std::printf(
      "|------------|------------|--------------------|---------------------|"
      "-------------------|\n");
  for (const Query& q : queries)
    std::printf("| %-10s | %10zu | %18lld | %19lld | %8lld of %-6zu |\n", q.label.c_str(),
                q.owner_ms.size(), q.owner_rows, q.member_rows, q.identical, q.owner_ms.size());
  std::printf("(count(*) rows = the counts returned; page rows = the rows returned)\n");

  // The plans, for one organisation, from the same prepared statements that were measured.
  const Member& shown = members[plan[0].back()];
  std::printf("\nPlans for organisation %s (member %s, role %s):\n", shown.org.c_str(),
              shown.user.c_str(), shown.role.c_str());
  std::string org_arg = "(" + db.literal(shown.org) + ")";
  for (std::size_t q = 0; q < queries.size(); ++q) {
    const Query& query = queries[q];
    if (!query.member_takes_org) {
      std::printf("\n  %s, owner: %s\n", query.label.c_str(), query.owner_sql.c_str());
      as_owner();
      print_plan(db, "execute owner_" + std::to_string(q) + org_arg);
    }
    std::printf("  %s, member: %s\n", query.label.c_str(), query.member_sql.c_str());
    as_member(shown);
    print_plan(db, "execute member_" + std::to_string(q) + (query.member_takes_org ? org_arg : ""));
  }
  return 0;
}
