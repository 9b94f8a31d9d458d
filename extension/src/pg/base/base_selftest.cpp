// Probes of the C++/PostgreSQL boundary, used by the regression suite (not granted to clients).
// They keep the rules they demonstrate: every PostgreSQL call made while a C++ object is alive
// goes through guard().
#include "pg/base/base_boundary.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_datums.hpp"

extern "C" {
#include "executor/spi.h"
#include "postmaster/bgworker.h"
}

namespace {

int destructor_runs = 0;

// Counts its own destruction, to show which C++ objects were unwound.
struct Counted {
  ~Counted() { ++destructor_runs; }
};

// Runs `sql` through SPI; an error leaves SPI to the abort that follows it.
void run_sql(const char* sql) {
  sb::pg::guard([&] {
    SPI_connect();
    SPI_execute(sql, false, 0);
    SPI_finish();
  });
}

}  // namespace

// Ensures: 'ok' for mode 'ok'; a C++ exception for 'cpp_error', 'sb_error' and 'bad_alloc'; and for
// 'pg_error' a PostgreSQL error raised under guard() while C++ objects are alive.
SB_FUNCTION(sb_selftest_boundary) {
  std::string mode(sb::pg::text_arg(fcinfo, 0));
  Counted alive;
  if (mode == "cpp_error") throw std::runtime_error("selftest: c++ exception");
  if (mode == "sb_error")
    throw sb::Error("22023", "selftest: invalid parameter", "Detail from C++.", "Hint from C++.");
  if (mode == "bad_alloc") throw std::bad_alloc();
  if (mode == "pg_error") {
    std::vector<std::string> more_objects(3, "alive");
    Counted inner;
    run_sql("select 1/0");
  }
  if (mode != "ok")
    throw sb::Error("22023", "unknown selftest mode",
                    "Mode \"" + mode + "\" is not a selftest mode.");
  return sb::pg::text_datum("ok");
}

// Ensures: how many Counted objects this backend has destroyed so far.
SB_FUNCTION(sb_selftest_destructor_runs) {
  PG_RETURN_INT32(destructor_runs);
}

// Ensures: this backend's boundary counts: {pgCallsWhileUnwinding, pgErrorsCaught,
// pgErrorsRaised, pgErrorsSwallowed} (swallowed: caught and never raised again).
SB_FUNCTION(sb_selftest_boundary_counts) {
  const sb::pg::BoundaryCounts& c = sb::pg::boundary_counts();
  sb::JsonWriter json;
  json.begin_object()
      .key("pgCallsWhileUnwinding")
      .number(static_cast<int64_t>(c.pg_calls_while_unwinding))
      .key("pgErrorsCaught")
      .number(static_cast<int64_t>(c.pg_errors_caught))
      .key("pgErrorsRaised")
      .number(static_cast<int64_t>(c.pg_errors_raised))
      .key("pgErrorsSwallowed")
      .number(static_cast<int64_t>(c.pg_errors_caught - c.pg_errors_raised))
      .end_object();
  return sb::pg::jsonb_datum(json.text());
}

// Ensures: the handlers of the one callback chain in calling order, with what they did in this
// backend: [{name, kind, calls, failures}].
SB_FUNCTION(sb_selftest_callbacks) {
  sb::JsonWriter json;
  json.begin_array();
  for (const sb::pg::HandlerCounts& h : sb::pg::handler_counts())
    json.begin_object()
        .field("name", std::string_view(h.name))
        .field("kind", std::string_view(h.kind))
        .key("calls")
        .number(static_cast<int64_t>(h.calls))
        .key("failures")
        .number(static_cast<int64_t>(h.failures))
        .end_object();
  return sb::pg::jsonb_datum(json.end_array().text());
}

// A background worker whose C++ main fails (main_arg 1) or returns (0).
SB_WORKER_MAIN(sb_selftest_worker_main) {
  if (DatumGetInt32(main_arg) == 1) throw std::runtime_error("selftest worker: c++ exception");
}

// Ensures: 'stopped' once a worker running sb_selftest_worker_main in mode 'fail' or 'ok' has
// exited (a failure ends the worker, never the cluster); 'not started' when none was free.
SB_FUNCTION(sb_selftest_worker) {
  std::string mode(sb::pg::text_arg(fcinfo, 0));
  if (mode != "fail" && mode != "ok")
    throw sb::Error("22023", "unknown selftest worker mode",
                    "Mode \"" + mode + "\" is not a selftest worker mode.");
  bool stopped = false;
  sb::pg::guard([&] {
    BackgroundWorker worker;
    memset(&worker, 0, sizeof worker);
    worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
    worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
    worker.bgw_restart_time = BGW_NEVER_RESTART;
    strlcpy(worker.bgw_library_name, "switchboard", BGW_MAXLEN);
    strlcpy(worker.bgw_function_name, "sb_selftest_worker_main", BGW_MAXLEN);
    strlcpy(worker.bgw_name, "switchboard selftest worker", BGW_MAXLEN);
    strlcpy(worker.bgw_type, "switchboard selftest worker", BGW_MAXLEN);
    worker.bgw_main_arg = Int32GetDatum(mode == "fail" ? 1 : 0);
    worker.bgw_notify_pid = MyProcPid;
    BackgroundWorkerHandle* handle = nullptr;
    if (RegisterDynamicBackgroundWorker(&worker, &handle))
      stopped = WaitForBackgroundWorkerShutdown(handle) == BGWH_STOPPED;
  });
  return sb::pg::text_datum(stopped ? "stopped" : "not started");
}
