#include "pool.hpp"

#include <libpq-fe.h>

namespace shim {
namespace {

// The per-request settings of tenancy.md, all bound and transaction-local, plus the statement
// timeout, the read-only mode and whether the role may execute the called function.
const char* kSettingsSql =
    "SELECT pg_catalog.set_config('role', $1::text, true), "
    "pg_catalog.set_config('request.jwt.claims', $2::text, true), "
    "pg_catalog.set_config('request.method', $3::text, true), "
    "pg_catalog.set_config('request.path', $4::text, true), "
    "pg_catalog.set_config('request.headers', $5::text, true), "
    "pg_catalog.set_config('statement_timeout', $6::text, true), "
    "pg_catalog.set_config('transaction_read_only', $7::text, true), "
    "CASE WHEN $8::oid = 0 THEN NULL "
    "ELSE pg_catalog.has_function_privilege($1::text::name, $8::oid, 'EXECUTE') END";
const char* kSettingsName = "sb_settings";

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string field(const PGresult* r, int code) {
  const char* value = PQresultErrorField(r, code);
  return value ? value : "";
}

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

DbError connection_error(const std::string& message) {
  DbError e;
  e.message = message;
  e.connection_failed = true;
  return e;
}

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

std::string Connection::statement_for(const std::string& sql) {
  auto it = prepared_.find(sql);
  return it == prepared_.end() ? "" : it->second;
}

CallResult Connection::call(const RequestContext& ctx, const std::string& sql,
                            const std::string& arg) {
  CallResult out;
  if (!ensure_connected(out.error)) return out;
  if (prepared_.size() > 500) {  // bounded: forget (and deallocate) statements of old schemas
    drop();
    if (!ensure_connected(out.error)) return out;
  }
  std::string timeout = std::to_string(ctx.timeout.count());
  std::string oid = std::to_string(ctx.function_oid);
  const char* settings[] = {ctx.role.c_str(),
                            ctx.claims_json.c_str(),
                            ctx.method.c_str(),
                            ctx.path.c_str(),
                            ctx.headers_json.c_str(),
                            timeout.c_str(),
                            ctx.read_only ? "on" : "off",
                            oid.c_str()};
  const char* call_args[] = {arg.c_str()};
  int call_params = sql.find("$1") == std::string::npos ? 0 : 1;
  std::string call_name = statement_for(sql);
  bool prepare_settings = statement_for(kSettingsSql).empty();
  bool prepare_call = call_name.empty();
  if (prepare_call) call_name = "sb_" + std::to_string(prepared_.size());
  // The call is parsed after the settings ran: name lookup happens as the request's role.
  bool sent =
      PQenterPipelineMode(conn_) == 1 &&
      (!prepare_settings || PQsendPrepare(conn_, kSettingsName, kSettingsSql, 8, nullptr)) &&
      PQsendQueryPrepared(conn_, kSettingsName, 8, settings, nullptr, nullptr, 0) &&
      (!prepare_call ||
       PQsendPrepare(conn_, call_name.c_str(), sql.c_str(), call_params, nullptr)) &&
      PQsendQueryPrepared(conn_, call_name.c_str(), call_params, call_args, nullptr, nullptr, 0) &&
      PQpipelineSync(conn_);
  bool synced = false;
  std::vector<Result> results;
  if (sent) results = read_pipeline(conn_, synced);
  // Results in order: [prepare settings] settings [prepare call] call.
  std::size_t settings_at = prepare_settings ? 1 : 0;
  std::size_t call_at = settings_at + (prepare_call ? 2 : 1);
  if (!synced || results.size() != call_at + 1 || PQexitPipelineMode(conn_) != 1 ||
      PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    out.error = first_error(results, conn_).value_or(connection_error(PQerrorMessage(conn_)));
    out.error.connection_failed = true;
    drop();
    return out;
  }
  if (prepare_settings && PQresultStatus(results[0].get()) == PGRES_COMMAND_OK)
    prepared_[kSettingsSql] = kSettingsName;
  if (prepare_call && PQresultStatus(results[call_at - 1].get()) == PGRES_COMMAND_OK)
    prepared_[sql] = call_name;
  const PGresult* settings_result = results[settings_at].get();
  out.settings_ok = PQresultStatus(settings_result) == PGRES_TUPLES_OK;
  if (out.settings_ok && !PQgetisnull(settings_result, 0, 7))
    out.may_execute = PQgetvalue(settings_result, 0, 7)[0] == 't';
  if (auto error = first_error(results, conn_)) {
    out.error = *error;
    return out;
  }
  const PGresult* call_result = results[call_at].get();
  out.ok = true;
  if (PQntuples(call_result) > 0 && !PQgetisnull(call_result, 0, 0))
    out.value = std::string(PQgetvalue(call_result, 0, 0),
                            static_cast<std::size_t>(PQgetlength(call_result, 0, 0)));
  return out;
}

Pool::Pool(const std::string& conninfo, int size) {
  for (int i = 0; i < size; ++i) {
    all_.push_back(std::make_unique<Connection>(conninfo));
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
  return s;
}

}  // namespace shim
