#include "pool.hpp"

#include <libpq-fe.h>
#include <poll.h>

namespace shim {
namespace {

// Whether the request's role may execute the called function ($2 = 0: not checked). It runs after
// the settings statements, in the request's transaction.
const std::string kMayExecuteSql =
    "SELECT CASE WHEN $2::oid = 0 THEN NULL "
    "ELSE pg_catalog.has_function_privilege($1::text::name, $2::oid, 'EXECUTE') END";
constexpr int kMayExecuteParams = 2;

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

// One field of an error result, or "".
std::string field(const PGresult* r, int code) {
  const char* value = PQresultErrorField(r, code);
  return value ? value : "";
}

// The error of a failed result.
DbError error_of(const PGresult* r, const PGconn* conn) {
  DbError e;
  e.sqlstate = field(r, PG_DIAG_SQLSTATE);
  e.message = field(r, PG_DIAG_MESSAGE_PRIMARY);
  e.detail = field(r, PG_DIAG_MESSAGE_DETAIL);
  e.hint = field(r, PG_DIAG_MESSAGE_HINT);
  e.connection_failed = PQstatus(conn) != CONNECTION_OK || e.sqlstate.rfind("08", 0) == 0;
  if (e.message.empty()) e.message = PQerrorMessage(conn);
  return e;
}

// An error of reaching the database.
DbError connection_error(const std::string& message) {
  DbError e;
  e.message = message;
  e.connection_failed = true;
  return e;
}

// True for a result that carries an error.
bool failed(const PGresult* r) {
  ExecStatusType s = PQresultStatus(r);
  return s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_PIPELINE_ABORTED;
}

// The error of the first failed statement among `results`.
std::optional<DbError> first_error(const std::vector<Result>& results, const PGconn* conn) {
  for (const auto& r : results)
    if (failed(r.get())) return error_of(r.get(), conn);
  return std::nullopt;
}

// Every result of the pipeline up to its Sync, in order; `synced` tells whether the Sync came.
std::vector<Result> read_pipeline(PGconn* conn, bool& synced) {
  std::vector<Result> results;
  synced = false;
  int empty_in_a_row = 0;
  while (true) {
    PGresult* r = PQgetResult(conn);
    if (!r) {
      if (PQstatus(conn) != CONNECTION_OK || ++empty_in_a_row > 1) break;
      continue;
    }
    empty_in_a_row = 0;
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      synced = true;
      break;
    }
    results.emplace_back(r, PQclear);
  }
  return results;
}

// Fills `out` from the privilege check's and the call's results (privilege, first row).
void read_results(const PGresult* check, const PGresult* call, CallResult& out) {
  out.settings_ok = PQresultStatus(check) == PGRES_TUPLES_OK;
  if (out.settings_ok && !PQgetisnull(check, 0, 0))
    out.may_execute = PQgetvalue(check, 0, 0)[0] == 't';
  if (PQresultStatus(call) != PGRES_TUPLES_OK || PQntuples(call) == 0) return;
  for (int column = 0; column < PQnfields(call); ++column) {
    std::optional<std::string> value;
    if (!PQgetisnull(call, 0, column))
      value = std::string(PQgetvalue(call, 0, column),
                          static_cast<std::size_t>(PQgetlength(call, 0, column)));
    if (column == 0)
      out.value = std::move(value);
    else
      out.more.push_back(std::move(value));
  }
}

// Queues a statement without parameters or preparing (BEGIN, SET LOCAL, COMMIT, ROLLBACK).
bool queue_plain(PGconn* conn, const std::string& sql) {
  return PQsendQueryParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
}

// `SET LOCAL name = 'value'` with the value escaped for this connection; nullopt when libpq refuses
// the value (not valid in the connection's encoding).
std::optional<std::string> set_local(PGconn* conn, const char* name, const std::string& value) {
  char* literal = PQescapeLiteral(conn, value.data(), value.size());
  if (!literal) return std::nullopt;
  std::string sql = std::string("SET LOCAL ") + name + " = " + literal;
  PQfreemem(literal);
  return sql;
}

// The request's settings of tenancy.md, the statement timeout and (read-only requests) the
// transaction's access mode, as the statements that begin its transaction. SET LOCAL and SET
// TRANSACTION, not set_config(): Citus sends these on to every node the transaction reaches (a
// delegated call's worker included) when citus.propagate_set_commands is 'local'; all of them end
// with the transaction, so a transaction-mode pooler may hand the next one another connection.
std::optional<std::vector<std::string>> settings_statements(PGconn* conn, const RequestContext& ctx,
                                                            std::chrono::milliseconds timeout) {
  std::vector<std::string> out{"BEGIN"};
  if (ctx.read_only) out.emplace_back("SET TRANSACTION READ ONLY");
  const std::pair<const char*, const std::string*> settings[] = {
      {"role", &ctx.role},
      {"request.jwt.claims", &ctx.claims_json},
      {"request.method", &ctx.method},
      {"request.path", &ctx.path},
      {"request.headers", &ctx.headers_json}};
  for (const auto& [name, value] : settings) {
    auto sql = set_local(conn, name, *value);
    if (!sql) return std::nullopt;
    out.push_back(std::move(*sql));
  }
  out.push_back("SET LOCAL statement_timeout = " + std::to_string(timeout.count()));
  return out;
}

}  // namespace

Connection::~Connection() {
  drop();
}

void Connection::drop() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

bool Connection::healthy() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

bool Connection::ensure_connected(DbError& error) {
  if (healthy()) return true;
  drop();
  const char* keys[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* values[] = {"5", "switchboard-shim", conninfo_.c_str(), nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (healthy()) {
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    return true;
  }
  error = connection_error(conn_ ? PQerrorMessage(conn_) : "out of memory");
  drop();
  return false;
}

bool Connection::spoke_while_idle() const {
  pollfd p{PQsocket(conn_), POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

bool Connection::ready(DbError& error) {
  if (prepared_.size() > 500) drop();  // bounded: forget statements of old schemas
  if (conn_ && PQtransactionStatus(conn_) != PQTRANS_IDLE) drop();  // never reuse an open one
  if (conn_ && spoke_while_idle())
    drop();  // closed by the server: replaced before anything is sent
  return ensure_connected(error);
}

bool Connection::queue(const std::string& sql, int n_params, const char* const* values,
                       bool& prepared_now) {
  if (!named_statements_) {  // the unnamed statement: parsed again each time, kept by no session
    prepared_now = false;
    std::vector<unsigned int> types(static_cast<std::size_t>(n_params), 0);
    if (n_params > 0) types[0] = 25;
    return PQsendQueryParams(conn_, sql.c_str(), n_params, n_params ? types.data() : nullptr,
                             values, nullptr, nullptr, 0) == 1;
  }
  auto it = prepared_.find(sql);
  prepared_now = it == prepared_.end();
  std::string name = prepared_now ? "sb_" + std::to_string(prepared_.size()) : it->second;
  std::vector<unsigned int> types(static_cast<std::size_t>(n_params), 0);
  if (n_params > 0) types[0] = 25;  // $1 is text: declared, so it may go unused
  if (prepared_now &&
      !PQsendPrepare(conn_, name.c_str(), sql.c_str(), n_params, n_params ? types.data() : nullptr))
    return false;
  if (prepared_now) prepared_.emplace(sql, name);  // forgotten again below if the prepare fails
  return PQsendQueryPrepared(conn_, name.c_str(), n_params, values, nullptr, nullptr, 0) == 1;
}

void Connection::close_transaction() {
  if (!conn_ || PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
  Result r(PQexec(conn_, "ROLLBACK"), PQclear);
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) drop();
}

std::optional<DbError> Connection::finish(bool commit) {
  if (!conn_ || PQtransactionStatus(conn_) != PQTRANS_INTRANS) {
    close_transaction();
    if (!commit) return std::nullopt;
    return connection_error("the transaction was lost before its commit");
  }
  Result r(PQexec(conn_, commit ? "COMMIT" : "ROLLBACK"), PQclear);
  std::optional<DbError> error;
  if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) error = error_of(r.get(), conn_);
  if (error || PQtransactionStatus(conn_) != PQTRANS_IDLE) drop();
  return error;
}

CallResult Connection::call(const RequestContext& ctx, const std::string& sql,
                            const std::string& arg) {
  if (sql.find("$1") == std::string::npos) return call(ctx, sql, {}, TxEnd::commit);
  return call(ctx, sql, std::vector<std::string>{arg}, TxEnd::commit);
}

bool Connection::send(const std::vector<std::string>& begin, const RequestContext& ctx,
                      const std::string& sql, const std::vector<std::string>& params, TxEnd end,
                      Positions& at) {
  std::string oid = std::to_string(ctx.function_oid);
  const char* check_args[] = {ctx.role.c_str(), oid.c_str()};
  std::vector<const char*> call_args;
  for (const auto& p : params) call_args.push_back(p.c_str());
  if (PQenterPipelineMode(conn_) != 1) return false;
  for (const auto& statement : begin)
    if (!queue_plain(conn_, statement)) return false;
  at.count = begin.size();
  // The call is parsed after the settings ran: name lookup happens as the request's role.
  if (!queue(kMayExecuteSql, kMayExecuteParams, check_args, at.new_check)) return false;
  at.count += at.new_check ? 2 : 1;
  at.check = at.count - 1;
  if (!queue(sql, static_cast<int>(params.size()), call_args.data(), at.new_call)) return false;
  at.count += at.new_call ? 2 : 1;
  at.call = at.count - 1;
  if (end != TxEnd::decide && !queue_plain(conn_, end == TxEnd::commit ? "COMMIT" : "ROLLBACK"))
    return false;
  at.count += end != TxEnd::decide;
  return PQpipelineSync(conn_) == 1;
}

CallResult Connection::call(const RequestContext& ctx, const std::string& sql,
                            const std::vector<std::string>& params, TxEnd end) {
  CallResult out;
  if (!ready(out.error)) return out;
  auto begin = settings_statements(conn_, ctx, timeout_);
  if (!begin) {
    out.error.sqlstate = "22021";
    out.error.message = PQerrorMessage(conn_);
    return out;
  }
  Positions at;
  bool synced = false;
  std::vector<Result> results;
  if (send(*begin, ctx, sql, params, end, at)) results = read_pipeline(conn_, synced);
  PGTransactionStatusType after = PQtransactionStatus(conn_);
  bool tx_as_expected = after != PQTRANS_ACTIVE && after != PQTRANS_UNKNOWN;
  if (!synced || results.size() != at.count || PQexitPipelineMode(conn_) != 1 || !tx_as_expected) {
    out.error = first_error(results, conn_).value_or(connection_error(PQerrorMessage(conn_)));
    out.error.connection_failed = true;
    drop();
    return out;
  }
  if (at.new_check && PQresultStatus(results[at.check - 1].get()) != PGRES_COMMAND_OK)
    prepared_.erase(kMayExecuteSql);
  if (at.new_call && PQresultStatus(results[at.call - 1].get()) != PGRES_COMMAND_OK)
    prepared_.erase(sql);
  read_results(results[at.check].get(), results[at.call].get(), out);
  auto error = first_error(results, conn_);
  if (error) out.error = *error;
  out.ok = !error;
  if (end != TxEnd::decide || !out.ok) close_transaction();
  return out;
}

Pool::Pool(const std::string& conninfo, int size, std::chrono::milliseconds statement_timeout,
           bool named_statements) {
  for (int i = 0; i < size; ++i) {
    all_.push_back(std::make_unique<Connection>(conninfo, statement_timeout, named_statements));
    free_.push_back(all_.back().get());
  }
}

Pool::Lease::~Lease() {
  if (conn_) pool_->give_back(conn_);
}

std::optional<Pool::Lease> Pool::acquire(std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!available_.wait_for(lock, wait, [this] { return !free_.empty(); })) return std::nullopt;
  Connection* conn = free_.back();
  free_.pop_back();
  return Lease(this, conn);
}

void Pool::give_back(Connection* conn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(conn);
  }
  available_.notify_one();
}

PoolStats Pool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  PoolStats s;
  s.size = static_cast<int>(all_.size());
  s.in_use = s.size - static_cast<int>(free_.size());
  for (Connection* c : free_) s.idle += c->healthy();
  s.unconnected = s.size - s.in_use - s.idle;
  return s;
}

}  // namespace shim
