// A fixed-size pool of libpq connections, and the one-transaction-per-request call: a pipeline of
// BEGIN, the settings as SET LOCAL statements (role, claims, method, path, headers, read-only; the
// form Citus carries to the node a call runs on), the privilege check, the call and COMMIT, sent
// in one round trip. Each transaction has the request timeout as statement_timeout. Broken
// connections are replaced on their next use, and a connection the server has closed while it sat
// in the pool (a database restart, a terminated backend) is replaced before the request is sent on
// it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

struct pg_conn;

namespace shim {

// What a request runs as and reports to the database (request.* settings).
struct RequestContext {
  std::string role;
  std::string claims_json;
  std::string method;
  std::string path;
  std::string headers_json;
  bool read_only = false;
  std::uint32_t function_oid = 0;  // has_function_privilege is checked for it (0: not checked)
};

// An error of the database, or of reaching it (connection_failed, sqlstate empty or 08xxx).
struct DbError {
  std::string sqlstate;
  std::string message;
  std::string detail;
  std::string hint;
  bool connection_failed = false;
};

// The outcome of one call: its first text value (nullopt for SQL NULL) and the other values of its
// first row, or an error; and whether the role may execute the function (nullopt when unknown).
struct CallResult {
  bool ok = false;
  bool settings_ok = false;  // the settings statement ran (its privilege check is meaningful)
  std::optional<std::string> value;
  std::vector<std::optional<std::string>> more;  // the row's second and later columns
  std::optional<bool> may_execute;
  DbError error;
};

// How a call's transaction ends: committed at once, rolled back at once (Prefer: tx=rollback), or
// left open for Connection::finish to decide once the answer has been seen.
enum class TxEnd { commit, rollback, decide };

// One libpq connection with its prepared statements (none behind a transaction-mode pooler:
// `named_statements` false sends every statement as the unnamed one).
class Connection {
 public:
  Connection(std::string conninfo, std::chrono::milliseconds statement_timeout,
             bool named_statements = true)
      : conninfo_(std::move(conninfo)),
        timeout_(statement_timeout),
        named_statements_(named_statements) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs `sql` (one text parameter, $1) after the settings of `ctx`, in one transaction.
  CallResult call(const RequestContext& ctx, const std::string& sql, const std::string& arg);
  // Runs `sql` with `params` ($1 is text, the others take the type their use gives them) after the
  // settings of `ctx`, in one transaction that ends as `end` says (a failed call always rolls
  // back).
  CallResult call(const RequestContext& ctx, const std::string& sql,
                  const std::vector<std::string>& params, TxEnd end);
  // Ends the transaction a TxEnd::decide call left open: commits or rolls back; the error when
  // the commit failed (a deferred constraint, a lost connection).
  std::optional<DbError> finish(bool commit);
  bool healthy() const;

 private:
  bool ensure_connected(DbError& error);
  // True when the server sent something to the idle connection: a connection the server closes
  // (restart, terminated backend) receives an error and the end of the stream.
  bool spoke_while_idle() const;
  bool ready(DbError& error);
  // Where the results of one request's pipeline are, in the order they come back.
  struct Positions {
    std::size_t count = 0;
    std::size_t check = 0;
    std::size_t call = 0;
    bool new_check = false;  // a Prepare result comes just before the check's
    bool new_call = false;
  };
  // Queues the request's pipeline (the `begin` statements, privilege check, call, transaction end)
  // and its Sync; false when libpq refused to queue something.
  bool send(const std::vector<std::string>& begin, const RequestContext& ctx,
            const std::string& sql, const std::vector<std::string>& params, TxEnd end,
            Positions& at);
  // Queues the prepared statement of `sql` (preparing it first when new) in the pipeline.
  bool queue(const std::string& sql, int n_params, const char* const* values, bool& prepared_now);
  // Ensures: no transaction is left open (rolled back, or the connection replaced).
  void close_transaction();
  void drop();

  std::string conninfo_;
  std::chrono::milliseconds timeout_;
  bool named_statements_;
  pg_conn* conn_ = nullptr;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
};

// The pool's connections by state: in_use + idle + unconnected = size.
struct PoolStats {
  int size = 0;
  int in_use = 0;
  int idle = 0;         // free and connected
  int unconnected = 0;  // free, to be connected on first use
};

class Pool {
 public:
  Pool(const std::string& conninfo, int size, std::chrono::milliseconds statement_timeout,
       bool named_statements = true);

  // A connection lent for one request; returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(Pool* pool, Connection* conn) : pool_(pool), conn_(conn) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(other.conn_) {
      other.conn_ = nullptr;
    }
    Lease(const Lease&) = delete;
    ~Lease();
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_; }

   private:
    Pool* pool_;
    Connection* conn_;
  };

  // A free connection, waiting up to `wait`; nothing when none became free in time.
  std::optional<Lease> acquire(std::chrono::milliseconds wait);
  PoolStats stats() const;

 private:
  void give_back(Connection* conn);

  std::vector<std::unique_ptr<Connection>> all_;
  std::vector<Connection*> free_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
};

}  // namespace shim
