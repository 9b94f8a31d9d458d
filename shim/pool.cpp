#include "pool.hpp"

#include <libpq-fe.h>
#include <poll.h>

namespace shim {
namespace {

// The per-request settings of tenancy.md and the statement timeout, all bound and
// transaction-local (nothing stays on the session: a transaction-mode pooler may hand the next
// transaction another server connection), and whether the role may execute the called function;
// the read-only variant also makes the transaction read-only.
const std::string kSettingsSql =
    "SELECT pg_catalog.set_config('role', $1::text, true), "
    "pg_catalog.set_config('request.jwt.claims', $2::text, true), "
    "pg_catalog.set_config('request.method', $3::text, true), "
    "pg_catalog.set_config('request.path', $4::text, true), "
    "pg_catalog.set_config('request.headers', $5::text, true), "
    "CASE WHEN $6::oid = 0 THEN NULL "
    "ELSE pg_catalog.has_function_privilege($1::text::name, $6::oid, 'EXECUTE') END, "
    "pg_catalog.set_config('statement_timeout', $7::text, true)";
const std::string kReadOnlySettingsSql =
    kSettingsSql + ", pg_catalog.set_config('transaction_read_only', 'on', true)";
constexpr int kSettingsParams = 7;
constexpr int kMayExecuteColumn = 5;

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

// Fills `out` from the settings and call results (privilege check, first row).
void read_results(const PGresult* settings, const PGresult* call, CallResult& out) {
  out.settings_ok = PQresultStatus(settings) == PGRES_TUPLES_OK;
  if (out.settings_ok && !PQgetisnull(settings, 0, kMayExecuteColumn))
    out.may_execute = PQgetvalue(settings, 0, kMayExecuteColumn)[0] == 't';
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

// Queues a statement without parameters or preparing (BEGIN, ROLLBACK).
bool queue_plain(PGconn* conn, const char* sql) {
  return PQsendQueryParams(conn, sql, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
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

CallResult Connection::call(const RequestContext& ctx, const std::string& sql,
                            const std::vector<std::string>& params, TxEnd end) {
  CallResult out;
  if (!ready(out.error)) return out;
  std::string oid = std::to_string(ctx.function_oid);
  std::string timeout = std::to_string(timeout_.count());
  const char* settings[] = {ctx.role.c_str(), ctx.claims_json.c_str(),  ctx.method.c_str(),
                            ctx.path.c_str(), ctx.headers_json.c_str(), oid.c_str(),
                            timeout.c_str()};
  std::vector<const char*> call_args;
  for (const auto& p : params) call_args.push_back(p.c_str());
  int call_params = static_cast<int>(params.size());
  const std::string& settings_sql = ctx.read_only ? kReadOnlySettingsSql : kSettingsSql;
  bool explicit_tx = end != TxEnd::commit;
  bool new_settings = false, new_call = false;
  // The call is parsed after the settings ran: name lookup happens as the request's role.
  bool sent = PQenterPipelineMode(conn_) == 1 && (!explicit_tx || queue_plain(conn_, "BEGIN")) &&
              queue(settings_sql, kSettingsParams, settings, new_settings) &&
              queue(sql, call_params, call_args.data(), new_call) &&
              (end != TxEnd::rollback || queue_plain(conn_, "ROLLBACK")) &&
              PQpipelineSync(conn_) == 1;
  bool synced = false;
  std::vector<Result> results;
  if (sent) results = read_pipeline(conn_, synced);
  // Results in order: [BEGIN] [prepare settings] settings [prepare call] call [ROLLBACK].
  std::size_t settings_at = (explicit_tx ? 1 : 0) + (new_settings ? 1 : 0);
  std::size_t call_at = settings_at + (new_call ? 2 : 1);
  std::size_t count = call_at + 1 + (end == TxEnd::rollback ? 1 : 0);
  PGTransactionStatusType after = PQtransactionStatus(conn_);
  bool tx_as_expected =
      after == PQTRANS_IDLE || (explicit_tx && after != PQTRANS_ACTIVE && after != PQTRANS_UNKNOWN);
  if (!synced || results.size() != count || PQexitPipelineMode(conn_) != 1 || !tx_as_expected) {
    out.error = first_error(results, conn_).value_or(connection_error(PQerrorMessage(conn_)));
    out.error.connection_failed = true;
    drop();
    return out;
  }
  if (new_settings && PQresultStatus(results[settings_at - 1].get()) != PGRES_COMMAND_OK)
    prepared_.erase(settings_sql);
  if (new_call && PQresultStatus(results[call_at - 1].get()) != PGRES_COMMAND_OK)
    prepared_.erase(sql);
  read_results(results[settings_at].get(), results[call_at].get(), out);
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
