// A small libpq wrapper for the integration tests: one connection, queries that return text.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sbtest {

// The outcome of one statement: rows as text, or the SQLSTATE and message of its error.
struct Result {
  std::vector<std::vector<std::string>> rows;
  std::string sqlstate;  // empty on success
  std::string message;
  bool ok() const { return sqlstate.empty(); }
  const std::string& value() const { return rows.at(0).at(0); }
};

// The superuser connection string of the test cluster (SWITCHBOARD_TEST_DSN).
inline std::string test_dsn() {
  const char* dsn = std::getenv("SWITCHBOARD_TEST_DSN");
  if (!dsn || !*dsn) throw std::runtime_error("SWITCHBOARD_TEST_DSN is not set");
  return dsn;
}

class Connection {
 public:
  explicit Connection(const std::string& dsn = test_dsn())
      : conn_(PQconnectdb(dsn.c_str()), PQfinish) {
    if (PQstatus(conn_.get()) != CONNECTION_OK)
      throw std::runtime_error(std::string("connect failed: ") + PQerrorMessage(conn_.get()));
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);
  }

  // Runs `sql` with text parameters; never throws for SQL errors.
  Result run(const std::string& sql, const std::vector<std::string>& params = {}) {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    std::unique_ptr<PGresult, decltype(&PQclear)> res(
        PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                     values.data(), nullptr, nullptr, 0),
        PQclear);
    Result out;
    ExecStatusType status = PQresultStatus(res.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(res.get(), PG_DIAG_SQLSTATE);
      out.sqlstate = state ? state : "?????";
      out.message = PQresultErrorMessage(res.get());
      return out;
    }
    for (int r = 0; r < PQntuples(res.get()); ++r) {
      out.rows.emplace_back();
      for (int c = 0; c < PQnfields(res.get()); ++c)
        out.rows.back().push_back(PQgetisnull(res.get(), r, c) ? "<null>"
                                                               : PQgetvalue(res.get(), r, c));
    }
    return out;
  }

  // Runs `sql` and throws when it fails (for set-up steps).
  Result must(const std::string& sql, const std::vector<std::string>& params = {}) {
    Result r = run(sql, params);
    if (!r.ok()) throw std::runtime_error(sql + ": " + r.message);
    return r;
  }

  // Acts as an authenticated user from now on (session-level settings, like a pooled request).
  void become_user(const std::string& user_id) {
    must("select set_config('request.jwt.claims', $1, false)",
         {R"({"role":"authenticated","sub":")" + user_id + R"("})"});
    must("set role authenticated");
  }

  bool alive() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// A fresh random uuid (from the server, to avoid a second source of randomness).
inline std::string new_uuid(Connection& c) {
  return c.must("select gen_random_uuid()").value();
}

// Starts `n` clients running `body(index)` at the same moment and waits for all of them.
template <typename Body>
void run_clients(int n, Body body) {
  std::atomic<int> ready{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < n; ++i)
    clients.emplace_back([&, i] {
      ++ready;
      while (ready.load() < n) std::this_thread::yield();
      body(i);
    });
  for (auto& t : clients) t.join();
}

}  // namespace sbtest
