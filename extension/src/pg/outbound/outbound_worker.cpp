#include "pg/outbound/outbound_worker.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstdint>
#include <ctime>
#include <map>
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
};

Shared* shared = nullptr;
bool wake_at_commit = false;  // this transaction queued deliveries

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
    shared->database[i] = shared->requested[i] = InvalidOid, shared->latch[i] = nullptr;
}

// Ensures: the database is in the launcher's requests (under the mutex).
void request_worker(Oid database) {
  int free_slot = -1;
  for (int i = 0; i < kSlots; ++i) {
    if (shared->requested[i] == database) return;
    if (shared->requested[i] == InvalidOid && free_slot < 0) free_slot = i;
  }
  if (free_slot >= 0) shared->requested[free_slot] = database;
}

// Sets the latch of this database's worker (else the launcher's) once the transaction committed.
void wake_on_commit(XactEvent event) noexcept {
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

Query claim_query = {
    "select c.org_id::pg_catalog.text, c.message_id, c.endpoint_id::pg_catalog.text, c.url, c.body,"
    " pg_catalog.array_to_string(c.secrets, ' '), c.max_concurrency, c.rate_limit"
    " from switchboard._claim_deliveries(CASE WHEN"
    " (SELECT s.paused FROM switchboard.outbound_state s) THEN 0 ELSE $1 END, $2,"
    " $3::pg_catalog.uuid[], $4::pg_catalog.int4[]) c",
    4,
    {INT4OID, INT4OID, TEXTOID, TEXTOID}};
Query record_query = {
    "select switchboard._record_attempt($1::pg_catalog.uuid, $2, $3::pg_catalog.uuid, $4, $5, $6,"
    " $7, $8, $9)",
    9,
    {TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, INT4OID, INT4OID, TIMESTAMPTZOID}};
Query next_query = {"select switchboard._next_delivery_in()", 0, {}};
Query prune_query = {
    "select CASE WHEN (SELECT s.paused FROM switchboard.outbound_state s) THEN 0"
    " ELSE switchboard._prune_webhooks($1) END",
    1,
    {INT4OID}};
constexpr int kPruneBatch = 1000;
constexpr std::size_t kMaxStoredBody = 20000;  // bytes of a response body kept
constexpr int kPruneBatchesAtOnce = 20;
constexpr long kPruneEverySeconds = 60;
constexpr std::int64_t kBusyClaimEveryMs = 250;

// A claimed delivery while its request runs.
struct Claimed {
  std::string org_id, message_id, endpoint_id;
  TimestampTz started_at;
};

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

// The caps of a claimed row's endpoint (columns 6 and 7: max_concurrency, rate_limit).
ob::EndpointCaps caps_of(const char* const* row) {
  ob::EndpointCaps caps;
  caps.max_concurrency = row[6] ? std::atoi(row[6]) : 10;
  if (row[7]) caps.rate_limit = std::atoi(row[7]);
  return caps;
}

// The request of a claimed delivery, signed now with every active secret.
ob::Request request_of(std::uint64_t token, const char* const* row) {
  std::string id = row[1], body = row[4], ts = std::to_string(std::time(nullptr));
  std::vector<std::string> secrets;
  for (std::string s = row[5] ? row[5] : ""; !s.empty();) {
    size_t space = s.find(' ');
    secrets.push_back(s.substr(0, space));
    s = space == std::string::npos ? "" : s.substr(space + 1);
  }
  ob::Request r;
  r.token = token;
  r.url = row[3];
  r.body = body;
  r.headers = {"content-type: application/json", "webhook-id: " + id, "webhook-timestamp: " + ts,
               "webhook-signature: " + ob::signature_header(secrets, id, ts, body)};
  return r;
}

class Deliverer {
 public:
  Deliverer() : sender_(options()), limits_(breaker()) {}

  // Ensures: up to `room` due deliveries are claimed (each endpoint within its pacing) and their
  // requests started; how many.
  size_t claim(int room) {
    size_t n = 0;
    auto [ids, rooms] = room_arrays(limits_);
    in_transaction([&] {
      Datum args[4] = {Int32GetDatum(room), Int32GetDatum(timeout_ms / 1000 + 60), text_datum(ids),
                       text_datum(rooms)};
      TextRows rows = spi_query(claim_query, args, nullptr, ReadMode::read_write);
      for (uint64 r = 0; r < rows.count; ++r) {
        const char* cells[8];
        for (int c = 0; c < 8; ++c) cells[c] = rows.at(r, c);
        std::uint64_t token = ++next_token_;
        claimed_[token] = {cells[0], cells[1], cells[2], GetCurrentTimestamp()};
        limits_.started(cells[2], caps_of(cells), now_ms());
        sender_.start(request_of(token, cells));
        ++n;
      }
    });
    return n;
  }

  // Ensures: the finished requests' outcomes are recorded (one short transaction); how many.
  size_t collect(int wait_ms) {
    std::vector<ob::Result> done = sender_.wait(wait_ms);
    if (done.empty()) return 0;
    in_transaction([&] {
      for (const ob::Result& r : done) record(r);
    });
    return done.size();
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

  void record(const ob::Result& r) {
    auto it = claimed_.find(r.token);
    if (it == claimed_.end()) return;
    Claimed c = it->second;
    claimed_.erase(it);
    limits_.finished(c.endpoint_id, ob::breaker_failure(r.status, r.outcome == "success"),
                     now_ms());
    std::string body = ob::stored_response_body(r.body.empty() ? r.error : r.body, kMaxStoredBody);
    Datum args[9];
    char nulls[9] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    args[0] = text_datum(c.org_id);
    args[1] = text_datum(c.message_id);
    args[2] = text_datum(c.endpoint_id);
    args[3] = Int32GetDatum(static_cast<int32>(r.status));
    if (r.status == 0) nulls[3] = 'n';
    args[4] = text_datum(r.outcome);
    args[5] = text_datum(body);
    args[6] = Int32GetDatum(static_cast<int32>(r.duration_ms));
    args[7] = Int32GetDatum(static_cast<int32>(r.retry_after.value_or(0)));
    if (!r.retry_after) nulls[7] = 'n';
    args[8] = TimestampTzGetDatum(c.started_at);
    spi_query(record_query, args, nulls, ReadMode::read_write);
  }

  ob::Sender sender_;
  ob::EndpointLimits limits_;
  std::map<std::uint64_t, Claimed> claimed_;
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

// True when extension switchboard is installed in this database, in a version with webhooks.
bool extension_installed() {
  bool installed = false;
  in_transaction([&] {
    installed = !plain_rows(
                     "select 1 from pg_catalog.pg_extension where extname = 'switchboard'"
                     " and pg_catalog.to_regprocedure('switchboard._next_delivery_in()')"
                     " is not null")
                     .empty();
  });
  return installed;
}

// Ensures: this database's deliveries are made until none is queued or the worker is asked to
// stop.
void deliver_until_shutdown() {
  Deliverer d;
  bool claim_now = true;  // a first pass: what was queued (or in flight) before this start
  std::int64_t claim_again_ms = 0;  // the latest time of the next claim
  std::time_t pruned_at = 0;
  while (!ShutdownRequestPending) {
    if (reload_if_asked()) d.reconfigure();
    if (std::time(nullptr) - pruned_at >= kPruneEverySeconds) {
      prune_old_messages();
      pruned_at = std::time(nullptr);
    }
    bool room = static_cast<int>(d.in_flight()) < batch_size;
    if (claim_now && room) {
      claim_now = d.claim(batch_size - static_cast<int>(d.in_flight())) > 0;
      claim_again_ms = d.next_claim_ms();
    }
    if (!PostmasterIsAlive()) guard([] { proc_exit(1); });  // WaitLatch is not reached below
    if (d.in_flight() > 0) {
      long wait = room ? std::clamp<long>(claim_again_ms - now_ms(), 0, 100) : 100;
      if (d.collect(wait) > 0) claim_now = true;
      if (MyLatch->is_set) guard([] { ResetLatch(MyLatch); }), claim_now = true;
      if (now_ms() >= claim_again_ms) claim_now = true;
      check_for_interrupts();
      continue;
    }
    if (claim_now) continue;
    double due = d.next_due();
    if (due < 0) {
      // Nothing queued: leave (a connected worker would block DROP DATABASE); a commit queuing
      // deliveries from now on asks the launcher for a new worker. Looked at once more after
      // unpublishing, so that a commit in between is not missed.
      unpublish_latch(0, 0);
      if (d.next_due() < 0) return;
      publish_latch(MyDatabaseId);
      claim_now = true;
      continue;
    }
    if (due == 0) {
      // due but not claimable yet: held back by its endpoint's pacing, or locked by another
      // transaction
      wait_for_latch(std::clamp<long>(d.next_claim_ms() - now_ms(), 1, 100));
    } else {
      wait_for_latch(static_cast<long>(std::min(due, 60.0) * 1000) + 1);
    }
    claim_now = true;
  }
}

}  // namespace

void init_outbound() {
  define_settings();
  register_shmem("outbound", sizeof(Shared), attach);
  register_xact_handler("outbound wake", wake_on_commit, wake_on_commit);
  if (process_shared_preload_libraries_in_progress) register_launcher();
}

}  // namespace sb::pg

// switchboard._outbound_wake(): this transaction's worker is woken when it commits.
SB_FUNCTION(sb_outbound_wake) {
  sb::pg::wake_at_commit = true;
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
    std::vector<Oid> kept;
    for (Oid db : wanted) {
      auto it = workers.find(db);
      if (it != workers.end() && it->second && sb::pg::worker_alive(it->second)) {
        kept.push_back(db);
        continue;
      }
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
  if (!sb::pg::extension_installed()) return;
  sb::pg::publish_latch(database);
  sb::pg::guard([] { on_shmem_exit(sb::pg::unpublish_latch, 0); });
  sb::pg::deliver_until_shutdown();
}
