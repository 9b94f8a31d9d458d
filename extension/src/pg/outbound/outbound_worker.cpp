#include "pg/outbound/outbound_worker.hpp"

#include "pg/outbound/outbound_emit.hpp"

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/outbound/outbound_limits.hpp"
#include "core/outbound/outbound_sender.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_shmem.hpp"
#include "pg/base/base_store.hpp"

extern "C" {
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "access/tableam.h"
#include "catalog/pg_database.h"
#include "catalog/pg_type.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "storage/spin.h"
#include "tcop/utility.h"
#include "utils/array.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"
}

namespace sb::pg {
namespace {

namespace ob = sb::outbound;

constexpr int kSlots = 64;  // databases served at once

// The latches to set when a transaction queued deliveries: the worker of each database, and the
// launcher for databases whose worker is not running yet.
struct Shared {
  slock_t mutex;
  Latch* launcher;
  Oid database[kSlots];
  Latch* latch[kSlots];
  Oid requested[kSlots];  // databases with queued deliveries and no worker: the launcher starts one
  // databases a DROP, RENAME or ALTER DATABASE (or a CREATE DATABASE copying them) needs without
  // connections: their workers leave and none starts until that statement's transaction ends
  Oid released[kSlots];
};

Shared* shared = nullptr;
bool wake_at_commit = false;  // this transaction queued deliveries
// A transaction this session prepared (two-phase commit, as Citus commits on its nodes) and not
// yet committed, and whether it queued deliveries: its COMMIT PREPARED wakes the worker then.
bool prepared_here = false;
bool prepared_wakes = false;

char* allow_networks = nullptr;
bool allow_http = false;
char* retry_schedule = nullptr;
int timeout_ms = 15000;
int batch_size = 200;
int retention_s = 30 * 24 * 3600;
int breaker_failures = 5;
int breaker_cooldown_ms = 30000;

void attach(void* piece, bool fresh) {
  shared = static_cast<Shared*>(piece);
  if (!fresh) return;
  SpinLockInit(&shared->mutex);
  shared->launcher = nullptr;
  for (int i = 0; i < kSlots; ++i)
    shared->database[i] = shared->requested[i] = shared->released[i] = InvalidOid,
    shared->latch[i] = nullptr;
}

// True when a utility statement has released the database (under the mutex).
bool is_released(Oid database) {
  for (int i = 0; i < kSlots; ++i)
    if (shared->released[i] == database) return true;
  return false;
}

// Ensures: the database is in the launcher's requests (under the mutex).
void request_worker(Oid database) {
  int free_slot = -1;
  for (int i = 0; i < kSlots; ++i) {
    if (shared->requested[i] == database) return;
    if (shared->requested[i] == InvalidOid && free_slot < 0) free_slot = i;
  }
  if (free_slot >= 0 && !is_released(database)) shared->requested[free_slot] = database;
}

// True when a utility statement has released the database (takes the mutex).
bool released(Oid database) {
  SpinLockAcquire(&shared->mutex);
  bool leave = is_released(database);
  SpinLockRelease(&shared->mutex);
  return leave;
}

// True when this worker's database is released and the worker should leave.
bool asked_to_leave() {
  return released(MyDatabaseId);
}

Oid released_here = InvalidOid;  // the database this backend's utility statement released
bool released_for_drop = false;
bool released_was_served = false;  // it had a worker (or one was asked for)

// Ensures: the database's worker is asked to leave and none starts for it until this transaction
// ends (PostgreSQL's own wait for other sessions then sees it go).
void release_database(Oid database, bool drop) {
  if (!shared || database == InvalidOid) return;
  Latch* latch = nullptr;
  bool served = false;
  SpinLockAcquire(&shared->mutex);
  for (int i = 0; i < kSlots; ++i) {
    if (shared->requested[i] == database) shared->requested[i] = InvalidOid, served = true;
    if (shared->database[i] == database) latch = shared->latch[i], served = true;
  }
  bool listed = is_released(database);
  for (int i = 0; i < kSlots && !listed; ++i)
    if (shared->released[i] == InvalidOid) shared->released[i] = database, listed = true;
  SpinLockRelease(&shared->mutex);
  released_here = database;
  released_for_drop = drop;
  released_was_served = served;
  if (latch) SetLatch(latch);
}

// At the end of the transaction that released a database: a database that had a worker is served
// again (unless it was dropped).
void end_release(XactEvent event) noexcept {
  bool commit = event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT;
  bool end = commit || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT;
  if (!end || released_here == InvalidOid || !shared) return;
  Oid database = released_here;
  released_here = InvalidOid;
  SpinLockAcquire(&shared->mutex);
  for (int i = 0; i < kSlots; ++i)
    if (shared->released[i] == database) shared->released[i] = InvalidOid;
  if (released_was_served && !(commit && released_for_drop)) request_worker(database);
  Latch* launcher = shared->launcher;
  SpinLockRelease(&shared->mutex);
  if (launcher) SetLatch(launcher);
}

// The database a utility statement needs without other sessions (InvalidOid: none): DROP,
// RENAME, ALTER DATABASE ... SET TABLESPACE, and the template of CREATE DATABASE.
Oid database_needed_alone(Node* stmt, bool* drop) {
  *drop = IsA(stmt, DropdbStmt);
  const char* name = nullptr;
  if (IsA(stmt, DropdbStmt)) name = castNode(DropdbStmt, stmt)->dbname;
  if (IsA(stmt, RenameStmt) && castNode(RenameStmt, stmt)->renameType == OBJECT_DATABASE)
    name = castNode(RenameStmt, stmt)->subname;
  if (IsA(stmt, AlterDatabaseStmt)) name = castNode(AlterDatabaseStmt, stmt)->dbname;
  if (IsA(stmt, CreatedbStmt)) {
    ListCell* cell;
    foreach (cell, castNode(CreatedbStmt, stmt)->options) {
      DefElem* option = lfirst_node(DefElem, cell);
      if (strcmp(option->defname, "template") == 0) name = defGetString(option);
    }
  }
  return name ? get_database_oid(name, true) : InvalidOid;
}

// Ensures: a COMMIT PREPARED wakes the worker when it commits, unless this session prepared
// that transaction and it queued nothing (one prepared elsewhere, as Citus's recovery commits
// them, might have).
void note_prepared_commit(Node* stmt) {
  if (!IsA(stmt, TransactionStmt)) return;
  TransactionStmtKind kind = castNode(TransactionStmt, stmt)->kind;
  if (kind != TRANS_STMT_COMMIT_PREPARED && kind != TRANS_STMT_ROLLBACK_PREPARED) return;
  if (kind == TRANS_STMT_COMMIT_PREPARED && (!prepared_here || prepared_wakes))
    wake_at_commit = true;
  prepared_here = prepared_wakes = false;
}

ProcessUtility_hook_type previous_utility = nullptr;

// ProcessUtility hook: before a statement that needs a database without other sessions, that
// database's delivery worker is asked to leave. Holds no C++ object while PostgreSQL runs the
// statement.
void release_before_utility(PlannedStmt* pstmt, const char* query, bool read_only_tree,
                            ProcessUtilityContext context, ParamListInfo params,
                            QueryEnvironment* env, DestReceiver* dest, QueryCompletion* qc) {
  Node* stmt = pstmt->utilityStmt;
  callback("outbound release", ERROR, [stmt] {
    bool drop = false;
    Oid database = InvalidOid;
    guard([&] { database = database_needed_alone(stmt, &drop); });
    release_database(database, drop);
    note_prepared_commit(stmt);
  });
  if (previous_utility)
    previous_utility(pstmt, query, read_only_tree, context, params, env, dest, qc);
  else
    standard_ProcessUtility(pstmt, query, read_only_tree, context, params, env, dest, qc);
}

// Sets the latch of this database's worker (else the launcher's) once the transaction committed.
void wake_on_commit(XactEvent event) noexcept {
  if (event == XACT_EVENT_PREPARE) {
    prepared_here = true;
    prepared_wakes = wake_at_commit;
    wake_at_commit = false;
    return;
  }
  bool commit = event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT;
  bool end = commit || event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT;
  if (!end) return;
  bool wake = commit && wake_at_commit && shared;
  wake_at_commit = false;
  if (!wake) return;
  Latch* latch = nullptr;
  SpinLockAcquire(&shared->mutex);
  for (int i = 0; i < kSlots && !latch; ++i)
    if (shared->database[i] == MyDatabaseId) latch = shared->latch[i];
  if (!latch) {
    request_worker(MyDatabaseId);
    latch = shared->launcher;
  }
  SpinLockRelease(&shared->mutex);
  if (latch) SetLatch(latch);
}

// Ensures: this process's latch is published for its database (InvalidOid: as the launcher).
void publish_latch(Oid database) {
  SpinLockAcquire(&shared->mutex);
  if (database == InvalidOid) {
    shared->launcher = MyLatch;
  } else {
    for (int i = 0; i < kSlots; ++i)
      if (shared->database[i] == InvalidOid || shared->database[i] == database) {
        shared->database[i] = database;
        shared->latch[i] = MyLatch;
        break;
      }
  }
  SpinLockRelease(&shared->mutex);
}

// on_shmem_exit: this process's latch is no longer published.
void unpublish_latch(int, Datum) {
  SpinLockAcquire(&shared->mutex);
  if (shared->launcher == MyLatch) shared->launcher = nullptr;
  for (int i = 0; i < kSlots; ++i)
    if (shared->latch[i] == MyLatch) shared->database[i] = InvalidOid, shared->latch[i] = nullptr;
  SpinLockRelease(&shared->mutex);
}

// The databases the launcher was asked to serve since the last call (the requests are cleared).
std::vector<Oid> take_requests() {
  std::vector<Oid> out;
  SpinLockAcquire(&shared->mutex);
  for (int i = 0; i < kSlots; ++i)
    if (shared->requested[i] != InvalidOid) {
      out.push_back(shared->requested[i]);
      shared->requested[i] = InvalidOid;
    }
  SpinLockRelease(&shared->mutex);
  return out;
}

void define_settings() {
  DefineCustomStringVariable(
      "switchboard.outbound_allow_networks",
      "Reserved networks (CIDR list) outbound webhooks may connect to all the same.", nullptr,
      &allow_networks, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomBoolVariable("switchboard.outbound_allow_http",
                           "Whether webhook endpoints may use plain http.", nullptr, &allow_http,
                           false, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomStringVariable("switchboard.retry_schedule",
                             "Delays in seconds between webhook delivery attempts (empty: "
                             "5,300,1800,7200,18000,36000,36000).",
                             nullptr, &retry_schedule, "", PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("switchboard.outbound_timeout", "Webhook connect and total timeout.",
                          nullptr, &timeout_ms, 15000, 100, 300000, PGC_SUSET, GUC_UNIT_MS, nullptr,
                          nullptr, nullptr);
  DefineCustomIntVariable("switchboard.outbound_batch",
                          "Webhook deliveries in flight at once per database.", nullptr,
                          &batch_size, 200, 1, 10000, PGC_SUSET, 0, nullptr, nullptr, nullptr);
  DefineCustomIntVariable("switchboard.outbound_breaker_failures",
                          "Consecutive failures of an endpoint that open its circuit breaker "
                          "(0: never).",
                          nullptr, &breaker_failures, 5, 0, 1000, PGC_SUSET, 0, nullptr, nullptr,
                          nullptr);
  DefineCustomIntVariable("switchboard.outbound_breaker_cooldown",
                          "How long an open circuit breaker waits before its first probe.", nullptr,
                          &breaker_cooldown_ms, 30000, 100, 3600000, PGC_SUSET, GUC_UNIT_MS,
                          nullptr, nullptr, nullptr);
  DefineCustomIntVariable("switchboard.outbound_retention",
                          "How long webhook messages and their attempts are kept.", nullptr,
                          &retention_s, 30 * 24 * 3600, 1, INT_MAX, PGC_SUSET, GUC_UNIT_S, nullptr,
                          nullptr, nullptr);
}

// Ensures: the launcher is registered to start with the cluster (preloading only).
void register_launcher() {
  BackgroundWorker worker;
  memset(&worker, 0, sizeof worker);
  worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
  worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
  worker.bgw_restart_time = 5;
  strlcpy(worker.bgw_library_name, "switchboard", BGW_MAXLEN);
  strlcpy(worker.bgw_function_name, "sb_outbound_launcher_main", BGW_MAXLEN);
  strlcpy(worker.bgw_name, "switchboard webhook launcher", BGW_MAXLEN);
  strlcpy(worker.bgw_type, "switchboard webhook launcher", BGW_MAXLEN);
  RegisterBackgroundWorker(&worker);
}

// Runs `work` in a transaction of its own with a snapshot; statistics are reported after it.
template <typename F>
void in_transaction(F&& work) {
  guard([] {
    SetCurrentStatementStartTimestamp();
    StartTransactionCommand();
    PushActiveSnapshot(GetTransactionSnapshot());
  });
  work();
  guard([] {
    PopActiveSnapshot();
    CommitTransactionCommand();
    pgstat_report_stat(false);
  });
}

// Ensures: the worker's signal handlers are in place and signals are unblocked.
void set_up_signals() {
  pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
  pqsignal(SIGHUP, SignalHandlerForConfigReload);
  BackgroundWorkerUnblockSignals();
}

// Ensures: a changed configuration file is read (after SIGHUP); true when it was.
bool reload_if_asked() {
  if (!ConfigReloadPending) return false;
  ConfigReloadPending = false;
  guard([] { ProcessConfigFile(PGC_SIGHUP); });
  return true;
}

// Waits for the latch, at most timeout_ms (-1: no limit); the latch is reset afterwards.
void wait_for_latch(long timeout) {
  int events = WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | (timeout >= 0 ? WL_TIMEOUT : 0);
  guard([&] {
    (void)WaitLatch(MyLatch, events, timeout, PG_WAIT_EXTENSION);
    ResetLatch(MyLatch);
  });
  check_for_interrupts();
}

// The rows of a query run through SPI in the current transaction, as strings.
std::vector<std::vector<std::string>> plain_rows(const char* sql) {
  std::vector<std::vector<std::string>> out;
  guard([&] {
    SPI_connect();
    SPI_execute(sql, true, 0);
    for (uint64 r = 0; r < SPI_processed; ++r) {
      std::vector<std::string> row;
      for (int c = 1; c <= SPI_tuptable->tupdesc->natts; ++c) {
        char* v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c);
        row.emplace_back(v ? v : "");
      }
      out.push_back(std::move(row));
    }
    SPI_finish();
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The per-database worker.

// The claim and record statements over each set of outbox tables here (one server's tables; on
// a Citus node each set of colocated shards it holds).
Query statements_query = {
    "select s.claim, s.record from switchboard._outbox_statements() s", 0, {}};
// Which sets of outbox tables are here (empty on one server).
Query shards_query = {
    "select coalesce(pg_catalog.string_agg(s.deliveries::pg_catalog.text, ' '), '')"
    " from switchboard._outbox_shards() s",
    0,
    {}};
Query next_query = {"select switchboard._next_delivery_in()", 0, {}};
Query stats_query = {"select switchboard._refresh_outbox_stats()", 0, {}};
Query prune_query = {
    "select CASE WHEN (SELECT s.paused FROM switchboard.outbound_state s) THEN 0"
    " ELSE switchboard._prune_webhooks($1) END",
    1,
    {INT4OID}};
constexpr int kPruneBatch = 1000;
constexpr std::size_t kMaxStoredBody = 20000;  // bytes of a response body kept
constexpr int kPruneBatchesAtOnce = 20;
constexpr long kPruneEverySeconds = 60;
constexpr int kPollMs = 5;               // the longest a wake-up waits while requests run
constexpr long kIdleLingerSeconds = 60;  // an idle worker stays this long for the next commit
constexpr std::int64_t kBusyClaimEveryMs = 250;
constexpr std::size_t kRecordBatch = 50;           // results recorded together at the latest
constexpr std::int64_t kRecordWaitMs = 10;         // the longest a result waits to be recorded
constexpr std::int64_t kStatsCheckEveryMs = 1000;  // a look at the outbox's statistics

// A claimed delivery while its request runs, and the set of outbox tables it was claimed from.
struct Claimed {
  std::string org_id, message_id, endpoint_id;
  TimestampTz started_at;
  std::size_t tables;
};

// One set of outbox tables with the worker's statements over it, each prepared on first use and
// its plan kept: the claim takes max_count, lease, the paced endpoints and their rooms (text
// arrays), and whether the delivery switch holds it back; the record takes one batch of results
// (org ids, message ids, endpoint ids, status codes, outcomes, response bodies, durations,
// Retry-After seconds, start times: text arrays, cast there).
struct OutboxTables {
  OutboxTables(std::string claim_text, std::string record_text)
      : claim_sql(std::move(claim_text)), record_sql(std::move(record_text)) {
    claim.sql = claim_sql.c_str();
    record.sql = record_sql.c_str();
  }
  OutboxTables(const OutboxTables&) = delete;
  OutboxTables& operator=(const OutboxTables&) = delete;
  std::string claim_sql, record_sql;
  Query claim = {nullptr, 5, {INT4OID, INT4OID, TEXTOID, TEXTOID, BOOLOID}};
  Query record = {nullptr,
                  9,
                  {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
                   TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID}};
};

// Ensures: until this transaction ends, plans look each row up by its key (a batch is small
// against the queue: never hash or merge-join the queue) and a prepared statement keeps one
// generic plan (made again only when its tables' statistics or definitions change).
void plan_for_batches() {
  guard([] {
    const char* settings[][2] = {{"enable_hashjoin", "off"},
                                 {"enable_mergejoin", "off"},
                                 {"plan_cache_mode", "force_generic_plan"}};
    for (const auto& setting : settings)
      (void)set_config_option(setting[0], setting[1], PGC_USERSET, PGC_S_SESSION, GUC_ACTION_LOCAL,
                              true, 0, false);
  });
}

// One column of a batch of results: values, or nothing for SQL NULL.
using Column = std::vector<std::optional<std::string>>;

// The text of a timestamptz (read back by the record statement).
std::string timestamp_text(TimestampTz t) {
  const char* text = nullptr;
  guard([&] { text = timestamptz_to_str(t); });
  return text;
}

// A text[] Datum of the column (valid until the transaction ends).
Datum text_array(const Column& column) {
  std::vector<Datum> items(column.size());
  std::vector<char> item_nulls(column.size());  // bool storage for construct_md_array
  for (size_t i = 0; i < column.size(); ++i) {
    item_nulls[i] = !column[i];
    if (column[i]) items[i] = text_datum(*column[i]);
  }
  Datum out = 0;
  guard([&] {
    int dims[1] = {static_cast<int>(column.size())}, lower[1] = {1};
    out =
        PointerGetDatum(construct_md_array(items.data(), reinterpret_cast<bool*>(item_nulls.data()),
                                           1, dims, lower, TEXTOID, -1, false, TYPALIGN_INT));
  });
  return out;
}

// Microseconds of the monotonic clock (the timing of the worker's phases).
std::int64_t now_us() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1000000 + t.tv_nsec / 1000;
}

// Milliseconds of the monotonic clock (the pacing of endpoints).
std::int64_t now_ms() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

// The endpoints with pacing state and their rooms, as two array literals for the claim.
std::pair<std::string, std::string> room_arrays(ob::EndpointLimits& limits) {
  std::string ids = "{", rooms = "{";
  for (const auto& [endpoint, room] : limits.rooms(now_ms())) {
    if (ids.size() > 1) ids += ',', rooms += ',';
    ids += endpoint;
    rooms += std::to_string(room);
  }
  return {ids + "}", rooms + "}"};
}

// The columns of a claimed row (see _outbox_statements).
enum ClaimColumn {
  kOrg,
  kMessage,
  kEndpoint,
  kAttempt,
  kUrl,
  kBody,
  kSecrets,
  kCreated,
  kMaxConcurrency,
  kRateLimit,
  kClaimColumns
};

// The caps of a claimed row's endpoint.
ob::EndpointCaps caps_of(const char* const* row) {
  ob::EndpointCaps caps;
  caps.max_concurrency = row[kMaxConcurrency] ? std::atoi(row[kMaxConcurrency]) : 10;
  if (row[kRateLimit]) caps.rate_limit = std::atoi(row[kRateLimit]);
  return caps;
}

// The items of a text[] in its text form, {a,b} (signing secrets: whsec_ or whsk_ and base64,
// never quoted).
std::vector<std::string> array_items(const char* text) {
  std::vector<std::string> out;
  std::string s = text ? text : "";
  if (s.size() < 2) return out;
  s = s.substr(1, s.size() - 2);
  for (size_t start = 0; start < s.size();) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The request of a claimed delivery, signed now with every active secret.
ob::Request request_of(std::uint64_t token, const char* const* row) {
  std::string id = row[kMessage], body = row[kBody], ts = std::to_string(std::time(nullptr));
  std::vector<std::string> secrets = array_items(row[kSecrets]);
  ob::Request r;
  r.token = token;
  r.url = row[kUrl];
  r.body = body;
  r.headers = {"content-type: application/json", "webhook-id: " + id, "webhook-timestamp: " + ts,
               "webhook-signature: " + ob::signature_header(secrets, id, ts, body)};
  return r;
}

class Deliverer {
 public:
  Deliverer() : sender_(options()), limits_(breaker()) {}

  // Ensures: up to `room` due deliveries are claimed (each endpoint within its pacing) and their
  // requests started; how many. Each set of outbox tables in turn, the first one rotating.
  size_t claim(int room) {
    size_t n = 0;
    std::int64_t started = now_us();
    auto [ids, rooms] = room_arrays(limits_);
    in_transaction([&] {
      if (tables_.empty()) load_tables();
      plan_for_batches();
      Datum ids_datum = text_datum(ids), rooms_datum = text_datum(rooms);
      for (size_t k = 0; k < tables_.size() && static_cast<int>(n) < room; ++k) {
        size_t t = (next_tables_ + k) % tables_.size();
        Datum args[5] = {Int32GetDatum(room - static_cast<int>(n)),
                         Int32GetDatum(timeout_ms / 1000 + 60), ids_datum, rooms_datum,
                         BoolGetDatum(true)};
        TextRows rows = spi_query(tables_[t]->claim, args, nullptr, ReadMode::read_write);
        for (uint64 r = 0; r < rows.count; ++r) {
          const char* cells[kClaimColumns];
          for (int c = 0; c < kClaimColumns; ++c) cells[c] = rows.at(r, c);
          std::uint64_t token = ++next_token_;
          claimed_[token] = {cells[kOrg], cells[kMessage], cells[kEndpoint], GetCurrentTimestamp(),
                             t};
          limits_.started(cells[kEndpoint], caps_of(cells), now_ms());
          sender_.start(request_of(token, cells));
          ++n;
        }
      }
      if (!tables_.empty()) next_tables_ = (next_tables_ + 1) % tables_.size();
    });
    timing_.claim_us += now_us() - started;
    ++timing_.claims;
    if (n > 0) refresh_stats();
    return n;
  }

  // Ensures: the finished requests' outcomes are recorded (one statement in one short
  // transaction); how many.
  // Results are gathered (their endpoints' pacing updated at once) and recorded when
  // kRecordBatch are waiting, when nothing else is in flight, or when the first has waited
  // kRecordWaitMs: fewer, larger transactions.
  size_t collect(int wait_ms) {
    for (ob::Result& r : sender_.wait(wait_ms)) finish(std::move(r));
    if (finished_.empty()) return 0;
    bool due = finished_.size() >= kRecordBatch || sender_.in_flight() == 0 ||
               now_ms() - first_finished_ms_ >= kRecordWaitMs;
    return due ? record_finished() : 0;
  }

  // Ensures: every gathered result is recorded (one statement in one short transaction); how
  // many.
  size_t record_finished() {
    if (finished_.empty()) return 0;
    std::int64_t started = now_us();
    in_transaction([&] { record(finished_); });
    size_t n = finished_.size();
    finished_.clear();
    timing_.record_us += now_us() - started;
    timing_.recorded += n;
    return n;
  }

  // Ensures: at DEBUG1, every 10 s of work, where the time went (claims, recording) and how
  // many deliveries that covered.
  void log_timing() {
    std::int64_t now = now_us();
    if (timing_.since == 0) timing_.since = now;
    if (now - timing_.since < 10000000 || timing_.recorded == 0) return;
    Timing t = timing_;
    timing_ = Timing{};
    timing_.since = now;
    guard([&] {
      elog(DEBUG1,
           "switchboard webhooks: %ld deliveries in %.1f s: %ld claims %.1f ms, recording %.1f ms",
           static_cast<long>(t.recorded), (now - t.since) / 1e6, static_cast<long>(t.claims),
           t.claim_us / 1e3, t.record_us / 1e3);
    });
  }

  size_t in_flight() const { return sender_.in_flight(); }

  // When to claim again at the latest while requests are in flight: when a paced endpoint gets
  // room back, and at most kBusyClaimEveryMs from now (a retry coming due, or another endpoint's
  // message, never waits for a slow request to finish).
  std::int64_t next_claim_ms() {
    std::int64_t now = now_ms(), poll = now + kBusyClaimEveryMs;
    std::int64_t pace = limits_.next_room_ms(now);
    return pace < 0 ? poll : std::min(pace, poll);
  }

  // Ensures: the settings as they now are apply to the next connections.
  void reconfigure() {
    sender_.set_options(options());
    limits_.set_breaker(breaker());
  }

  // Seconds until the next delivery is due (<= 0: now), or -1 when none is queued.
  double next_due() {
    double in = -1;
    in_transaction([&] {
      TextRows rows = spi_query(next_query, nullptr, nullptr, ReadMode::read_write);
      const char* v = rows.count ? rows.at(0, 0) : nullptr;
      in = v ? std::max(0.0, std::atof(v)) : -1;
    });
    return in;
  }

 private:
  // Ensures: while deliveries are claimed, the outbox's planner statistics are checked at most
  // every kStatsCheckEveryMs (a look at pg_class), and refreshed when far behind its size (a
  // burst into a young outbox would otherwise run on plans made while it was nearly empty).
  void refresh_stats() {
    std::int64_t now = now_ms();
    if (now - stats_checked_ms_ < kStatsCheckEveryMs) return;
    stats_checked_ms_ = now;
    in_transaction([] { spi_query(stats_query, nullptr, nullptr, ReadMode::read_write); });
  }

  static ob::BreakerSettings breaker() {
    ob::BreakerSettings b;
    b.failures_to_open = breaker_failures;
    b.cooldown_ms = breaker_cooldown_ms;
    return b;
  }

  static ob::SenderOptions options() {
    ob::SenderOptions o;
    o.allowed = ob::parse_networks(allow_networks ? allow_networks : "");
    o.allow_http = allow_http;
    o.connect_timeout_ms = o.timeout_ms = timeout_ms;
    return o;
  }

  // Ensures: the results are recorded by one statement (their pacing state updated first).
  // Ensures: a finished request's endpoint has its pacing updated, and the result waits to be
  // recorded with its claim.
  void finish(ob::Result r) {
    auto it = claimed_.find(r.token);
    if (it == claimed_.end()) return;
    Claimed c = std::move(it->second);
    claimed_.erase(it);
    limits_.finished(c.endpoint_id, ob::breaker_failure(r.status, r.outcome == "success"),
                     now_ms());
    if (finished_.empty()) first_finished_ms_ = now_ms();
    finished_.emplace_back(std::move(c), std::move(r));
  }

  // Ensures: the results are recorded, one statement per set of outbox tables they were claimed
  // from.
  void record(std::vector<std::pair<Claimed, ob::Result>>& done) {
    std::map<std::size_t, std::array<Column, 9>> batches;
    for (auto& [c, r] : done) {
      std::array<Column, 9>& columns = batches[c.tables];
      columns[0].emplace_back(std::move(c.org_id));
      columns[1].emplace_back(std::move(c.message_id));
      columns[2].emplace_back(std::move(c.endpoint_id));
      columns[3].emplace_back(r.status ? std::optional(std::to_string(r.status)) : std::nullopt);
      columns[4].emplace_back(r.outcome);
      columns[5].emplace_back(
          ob::stored_response_body(r.body.empty() ? r.error : r.body, kMaxStoredBody));
      columns[6].emplace_back(std::to_string(r.duration_ms));
      columns[7].emplace_back(r.retry_after ? std::optional(std::to_string(*r.retry_after))
                                            : std::nullopt);
      columns[8].emplace_back(timestamp_text(c.started_at));
    }
    plan_for_batches();
    for (auto& [t, columns] : batches) {
      Datum args[9];
      for (int i = 0; i < 9; ++i) args[i] = text_array(columns[i]);
      spi_query(tables_.at(t)->record, args, nullptr, ReadMode::read_write);
    }
  }

  // Ensures: the statements over each set of outbox tables here are read (prepared on first use).
  void load_tables() {
    tables_key_ = spi_query(shards_query, nullptr, nullptr, ReadMode::read_write).at(0, 0);
    TextRows rows = spi_query(statements_query, nullptr, nullptr, ReadMode::read_write);
    for (uint64 r = 0; r < rows.count; ++r)
      tables_.push_back(std::make_unique<OutboxTables>(rows.at(r, 0), rows.at(r, 1)));
    next_tables_ = 0;
  }

 public:
  // Ensures: when the shards this node holds changed (distribute(), a shard moved), the sets of
  // outbox tables are read again at the next claim, unless results claimed from the old ones are
  // still to be recorded.
  void check_tables() {
    if (tables_.empty() || !claimed_.empty() || !finished_.empty()) return;
    std::string key;
    in_transaction(
        [&] { key = spi_query(shards_query, nullptr, nullptr, ReadMode::read_write).at(0, 0); });
    if (key == tables_key_) return;
    for (auto& t : tables_)
      for (Query* q : {&t->claim, &t->record})
        if (q->plan) guard([&] { SPI_freeplan(q->plan); });
    tables_.clear();
  }

 private:
  // Where the worker's time went since `since` (microseconds), for log_timing.
  struct Timing {
    std::int64_t since = 0, claim_us = 0, record_us = 0, claims = 0, recorded = 0;
  };
  Timing timing_;

  ob::Sender sender_;
  ob::EndpointLimits limits_;
  std::vector<std::unique_ptr<OutboxTables>> tables_;
  std::string tables_key_;       // the shards they are (shards_query)
  std::size_t next_tables_ = 0;  // the set of outbox tables the next claim starts with
  std::map<std::uint64_t, Claimed> claimed_;
  std::vector<std::pair<Claimed, ob::Result>> finished_;  // not yet recorded
  std::int64_t first_finished_ms_ = 0;
  std::int64_t stats_checked_ms_ = 0;
  std::uint64_t next_token_ = 0;
};

// Ensures: messages past their retention are pruned, kPruneBatch per short transaction, at most
// kPruneBatchesAtOnce batches (the rest waits for the next round).
void prune_old_messages() {
  for (int i = 0; i < kPruneBatchesAtOnce && !ShutdownRequestPending; ++i) {
    long deleted = 0;
    in_transaction([&] {
      Datum args[1] = {Int32GetDatum(kPruneBatch)};
      TextRows rows = spi_query(prune_query, args, nullptr, ReadMode::read_write);
      deleted = rows.count && rows.at(0, 0) ? std::atol(rows.at(0, 0)) : 0;
    });
    check_for_interrupts();
    if (deleted < kPruneBatch) return;
  }
}

// How this database is served here: "wake" (woken by commits), "none" (extension switchboard not
// installed, or a Citus node holding no outbox shard).
std::string service_mode() {
  std::string mode = "none";
  in_transaction([&] {
    bool installed = !plain_rows(
                          "select 1 from pg_catalog.pg_extension where extname = 'switchboard'"
                          " and pg_catalog.to_regprocedure('switchboard._outbound_service()')"
                          " is not null")
                          .empty();
    if (installed) mode = plain_rows("select switchboard._outbound_service()")[0][0];
  });
  return mode;
}

// Seconds between prunes: kPruneEverySeconds, or the retention when that is shorter (tests
// compress it).
long prune_every() {
  return std::max(1L, std::min(kPruneEverySeconds, static_cast<long>(retention_s)));
}

// The delivery loop of one database's worker: claims what is due while there is room, follows
// the requests in flight, and between them waits for a commit, a due retry or the next prune.
class DeliveryLoop {
 public:
  // Ensures: this database's deliveries are made until none is queued for kIdleLingerSeconds,
  // the worker is asked to stop, or a utility statement needs its database alone.
  void run() {
    while (!ShutdownRequestPending && !asked_to_leave() && step()) {
    }
    d_.record_finished();  // results gathered but not recorded yet (else they are sent again)
  }

 private:
  // One pass: claims, then follows the requests in flight or waits for what comes next; false
  // when the worker should leave.
  bool step() {
    if (reload_if_asked()) d_.reconfigure();
    prune_if_due();
    bool room = claim_if_room();
    if (!PostmasterIsAlive()) guard([] { proc_exit(1); });  // WaitLatch is not reached below
    if (d_.in_flight() > 0) {
      follow_requests(room);
      return true;
    }
    if (claim_now_) return true;
    double due = d_.next_due();
    if (due < 0) return wait_while_idle();
    idle_since_ = 0;
    wait_until_due(due);
    return true;
  }

  void prune_if_due() {
    if (std::time(nullptr) - pruned_at_ < prune_every()) return;
    prune_old_messages();
    pruned_at_ = std::time(nullptr);
  }

  // Ensures: when a claim is wanted and fewer than batch_size requests run, what is due is
  // claimed; true when there was room.
  bool claim_if_room() {
    bool room = static_cast<int>(d_.in_flight()) < batch_size;
    if (claim_now_ && room) {
      int asked = batch_size - static_cast<int>(d_.in_flight());
      claim_now_ = static_cast<int>(d_.claim(asked)) == asked;  // fewer: nothing more is due now
      claim_again_ms_ = d_.next_claim_ms();
    }
    return room;
  }

  // Ensures: finished requests are gathered (and recorded), waiting at most kPollMs, so a
  // commit's wake-up (the latch) is seen within kPollMs while requests run.
  void follow_requests(bool room) {
    long wait = room ? std::clamp<long>(claim_again_ms_ - now_ms(), 0, kPollMs) : kPollMs;
    if (d_.collect(wait) > 0) claim_now_ = true;
    if (MyLatch->is_set) guard([] { ResetLatch(MyLatch); }), claim_now_ = true;
    if (now_ms() >= claim_again_ms_) claim_now_ = true;
    d_.log_timing();
    check_for_interrupts();
    idle_since_ = 0;
  }

  // Nothing queued: waits for a commit's wake-up, and leaves after kIdleLingerSeconds of it (a
  // DROP DATABASE asks a worker to leave at once). A commit after unpublishing asks the launcher
  // for a new worker; looked at once more after unpublishing, so none is missed. False: leave.
  bool wait_while_idle() {
    if (idle_since_ == 0) idle_since_ = std::time(nullptr);
    if (std::time(nullptr) - idle_since_ >= kIdleLingerSeconds) {
      unpublish_latch(0, 0);
      if (d_.next_due() < 0) return false;
      publish_latch(MyDatabaseId);
    } else {
      wait_for_latch(std::min(kIdleLingerSeconds, prune_every()) * 1000L);
      // distribute() wakes it: from then on it serves this node's outbox shards, if any
      if (service_mode() == "none") return false;
      d_.check_tables();
    }
    claim_now_ = true;
    return true;
  }

  // Ensures: waited until the next delivery is due in `due` seconds (0: due but not claimable
  // yet), and a claim is wanted then.
  void wait_until_due(double due) {
    if (due == 0) {
      // due but not claimable yet: held back by its endpoint's pacing, or locked by another
      // transaction
      wait_for_latch(std::clamp<long>(d_.next_claim_ms() - now_ms(), 1, 100));
    } else {
      // until it is due, but no later than the next prune (a retry due in minutes must not hold
      // back the retention's pruning)
      double until_prune = static_cast<double>(pruned_at_ + prune_every() - std::time(nullptr));
      wait_for_latch(static_cast<long>(std::clamp(std::min(due, until_prune), 0.0, 60.0) * 1000) +
                     1);
    }
    claim_now_ = true;
  }

  Deliverer d_;
  bool claim_now_ = true;  // a first pass: what was queued (or in flight) before this start
  std::int64_t claim_again_ms_ = 0;  // the latest time of the next claim
  std::time_t pruned_at_ = 0, idle_since_ = 0;
};

// Ensures: this database's deliveries are made until none is queued for kIdleLingerSeconds, the
// worker is asked to stop, or a utility statement needs its database alone.
void deliver_until_shutdown() {
  DeliveryLoop().run();
}

}  // namespace

void init_outbound() {
  define_settings();
  register_shmem("outbound", sizeof(Shared), attach);
  register_xact_handler("outbound wake", wake_on_commit, wake_on_commit);
  init_outbound_emit();
  register_xact_handler("outbound release", end_release, end_release);
  previous_utility = ProcessUtility_hook;
  ProcessUtility_hook = release_before_utility;
  if (process_shared_preload_libraries_in_progress) register_launcher();
}

// In a session Citus opened (a delegated call, a trigger on a shard) this node's worker is woken
// too: it serves the organisations whose outbox shards are here; a prepared transaction wakes it
// at its COMMIT PREPARED.
void wake_worker_at_commit() noexcept {
  wake_at_commit = true;
}

}  // namespace sb::pg

// switchboard._outbound_wake(): this transaction's worker is woken when it commits.
SB_FUNCTION(sb_outbound_wake) {
  sb::pg::wake_worker_at_commit();
  PG_RETURN_VOID();
}

namespace sb::pg {
namespace {

// Ensures: a delivery worker for the database is registered (restarted 10 s after a failure).
BackgroundWorkerHandle* start_worker(Oid database) {
  BackgroundWorkerHandle* handle = nullptr;
  guard([&] {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = 10;
    strlcpy(worker.bgw_library_name, "switchboard", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, "sb_outbound_worker_main", BGW_MAXLEN);
    snprintf(worker.bgw_name, BGW_MAXLEN, "switchboard webhooks for database %u", database);
    strlcpy(worker.bgw_type, "switchboard webhooks", BGW_MAXLEN);
    worker.bgw_main_arg = ObjectIdGetDatum(database);
    worker.bgw_notify_pid = MyProcPid;
    if (!RegisterDynamicBackgroundWorker(&worker, &handle)) handle = nullptr;
  });
  return handle;
}

// True while the worker of `handle` is registered (running, starting or waiting to restart).
bool worker_alive(BackgroundWorkerHandle* handle) {
  pid_t pid;
  BgwHandleStatus status = BGWH_STOPPED;
  guard([&] { status = GetBackgroundWorkerPid(handle, &pid); });
  return status != BGWH_STOPPED && status != BGWH_POSTMASTER_DIED;
}

// The databases that accept connections (templates left out, at most kMaxDatabases), read from
// the shared catalog pg_database: the launcher is connected to no database, so it works whichever
// databases exist (a cluster without database postgres included).
constexpr int kMaxDatabases = 1024;
std::vector<Oid> databases() {
  Oid found[kMaxDatabases];
  int n = 0;
  guard([&] {
    StartTransactionCommand();
    Relation rel = table_open(DatabaseRelationId, AccessShareLock);
    TableScanDesc scan = table_beginscan_catalog(rel, 0, nullptr);
    HeapTuple tuple;
    while (n < kMaxDatabases &&
           HeapTupleIsValid(tuple = heap_getnext(scan, ForwardScanDirection))) {
      auto* db = reinterpret_cast<Form_pg_database>(GETSTRUCT(tuple));
      if (db->datallowconn && !db->datistemplate) found[n++] = db->oid;
    }
    table_endscan(scan);
    table_close(rel, AccessShareLock);
    CommitTransactionCommand();
  });
  return std::vector<Oid>(found, found + n);
}

}  // namespace
}  // namespace sb::pg

// The launcher: at start, a worker for every database (each leaves at once when switchboard is
// not there or nothing is queued); afterwards one for each database where a transaction queued
// deliveries while it had no worker.
SB_WORKER_MAIN(sb_outbound_launcher_main) {
  sb::pg::set_up_signals();
  sb::pg::guard([] { BackgroundWorkerInitializeConnection(nullptr, nullptr, 0); });
  sb::pg::publish_latch(InvalidOid);
  sb::pg::guard([] { on_shmem_exit(sb::pg::unpublish_latch, 0); });
  std::map<Oid, BackgroundWorkerHandle*> workers;
  std::vector<Oid> wanted = sb::pg::databases();  // at start: what was queued before it
  while (!ShutdownRequestPending) {
    sb::pg::reload_if_asked();
    // A request meeting a live worker is kept: that worker may be leaving without having seen
    // the commit; its exit wakes this launcher (bgw_notify_pid), which then starts a new one.
    // A released database's request is dropped (its release asks again when it ends), and a
    // worker starts only for a database that still exists.
    std::vector<Oid> kept, existing;
    for (Oid db : wanted) {
      if (sb::pg::released(db)) continue;
      auto it = workers.find(db);
      if (it != workers.end() && it->second && sb::pg::worker_alive(it->second)) {
        kept.push_back(db);
        continue;
      }
      if (existing.empty()) existing = sb::pg::databases();
      if (std::find(existing.begin(), existing.end(), db) == existing.end()) continue;
      workers[db] = sb::pg::start_worker(db);
    }
    sb::pg::wait_for_latch(-1);
    wanted = sb::pg::take_requests();
    for (Oid db : kept)
      if (std::find(wanted.begin(), wanted.end(), db) == wanted.end()) wanted.push_back(db);
  }
}

// A database's delivery worker (main_arg: the database's oid).
SB_WORKER_MAIN(sb_outbound_worker_main) {
  Oid database = DatumGetObjectId(main_arg);
  sb::pg::set_up_signals();
  sb::pg::guard([&] { BackgroundWorkerInitializeConnectionByOid(database, InvalidOid, 0); });
  // The worker's own commits (leases, results) need not wait for the disk: one lost in a crash
  // only sends a delivery again, with the same webhook-id. The messages themselves were made
  // durable by the business transaction that wrote them.
  sb::pg::guard([] { SetConfigOption("synchronous_commit", "off", PGC_SUSET, PGC_S_OVERRIDE); });
  // Its statements are short lookups; a plan whose estimate crossed jit_above_cost (a stale
  // estimate of the pending rows) was compiled on every call: 10 functions per next-due check.
  sb::pg::guard([] { SetConfigOption("jit", "off", PGC_SUSET, PGC_S_OVERRIDE); });
  if (sb::pg::service_mode() == "none") return;
  sb::pg::publish_latch(database);
  sb::pg::guard([] { on_shmem_exit(sb::pg::unpublish_latch, 0); });
  sb::pg::deliver_until_shutdown();
}
