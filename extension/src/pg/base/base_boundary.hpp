// The C++/PostgreSQL boundary: every SQL-callable entry point goes through SB_FUNCTION, every other
// entry point PostgreSQL calls (_PG_init, hooks, transaction and invalidation callbacks, background
// worker mains) through sb::pg::callback, and every PostgreSQL call that may raise an error while
// C++ objects are alive goes through sb::pg::guard. README.md, "The C++ / PostgreSQL boundary",
// states the rules.
#pragma once

#include <cstdint>
#include <type_traits>

#include "pg/base/base_postgres.hpp"

#include "core/base/base_error.hpp"

extern "C" {
#include "access/xact.h"
#include "storage/ipc.h"
}

namespace sb::pg {

// A PostgreSQL error caught by guard(), carried through C++ frames as an exception. It must end
// in a raised error (SB_FUNCTION and callback() raise it): a PostgreSQL error is never caught and
// continued from outside a subtransaction.
class PgError : public std::exception {
 public:
  explicit PgError(ErrorData* data) noexcept : data_(data) {}
  ErrorData* data() const noexcept { return data_; }
  const char* what() const noexcept override;

 private:
  ErrorData* data_;
};

// Runs `fn(arg)` under PG_TRY; returns the copied error when PostgreSQL raised one, else nullptr.
ErrorData* run_pg(void (*fn)(void*), void* arg) noexcept;

// Runs `f` (which must only call PostgreSQL and hold no C++ objects with destructors) and turns a
// PostgreSQL error into a PgError exception, so C++ destructors on the way out still run.
template <typename F>
void guard(F&& f) {
  auto trampoline = [](void* p) { (*static_cast<std::remove_reference_t<F>*>(p))(); };
  if (ErrorData* e = run_pg(trampoline, &f)) throw PgError(e);
}

// Ensures: a pending cancel, statement timeout or termination is acted on, as a PgError (the
// PostgreSQL side's interrupt check for long loops, also handed to the core as a callback).
inline void check_for_interrupts() {
  if (unlikely(INTERRUPTS_PENDING_CONDITION())) guard([] { ProcessInterrupts(); });
}

using Body = Datum (*)(FunctionCallInfo);

// Calls `body`; any C++ exception is turned into ereport(ERROR) after every C++ object is gone.
Datum call_cpp(Body body, FunctionCallInfo fcinfo);

// Runs `fn(arg)` as callback `name` at `phase` (see callback()); false when it failed and was
// reported.
bool run_callback(const char* name, const char* phase, int elevel, void (*fn)(void*), void* arg);

// Runs `work`, the C++ body of entry point `name` that PostgreSQL calls outside the SQL function
// interface. Nothing escapes into PostgreSQL's C frames: a C++ exception or a PostgreSQL error is
// reported at `elevel` once every C++ object of `work` is gone. ERROR and FATAL do not return;
// WARNING returns false, and the caller then leaves its state safe without PostgreSQL calls.
template <typename F>
bool callback(const char* name, int elevel, F&& work, const char* phase = nullptr) {
  auto trampoline = [](void* p) { (*static_cast<std::remove_reference_t<F>*>(p))(); };
  return run_callback(name, phase, elevel, trampoline, &work);
}

// Ensures: the level a failed transaction callback reports at: ERROR before the point of no return
// (pre-commit, pre-prepare), WARNING once the commit is durable or while aborting (where
// PostgreSQL would turn an ERROR into a PANIC or a recursive abort).
int xact_failure_level(XactEvent event) noexcept;

// Ensures: the same for subtransaction events: ERROR at start and pre-commit, WARNING otherwise.
int subxact_failure_level(SubXactEvent event) noexcept;

// The event's name for reports and the test switch ("pre-commit", "commit", "abort" ...).
const char* xact_event_name(XactEvent event) noexcept;
const char* subxact_event_name(SubXactEvent event) noexcept;

// Runs `work` as transaction callback `name` for `event`, at xact_failure_level(event).
template <typename F>
bool xact_callback(const char* name, XactEvent event, F&& work) {
  return callback(name, xact_failure_level(event), work, xact_event_name(event));
}

// Runs `work` as subtransaction callback `name` for `event`, at subxact_failure_level(event).
template <typename F>
bool subxact_callback(const char* name, SubXactEvent event, F&& work) {
  return callback(name, subxact_failure_level(event), work, subxact_event_name(event));
}

// Ensures: whether superuser-only switchboard.test_fault names `point` (tests make callbacks and
// readers fail on purpose with it): as "point", or as "point:phase" for that phase only.
bool test_fault_is(const char* point, const char* phase = nullptr) noexcept;

// Ensures: std::bad_alloc when test_fault_is(point, phase); nothing otherwise.
void fail_if_testing(const char* point, const char* phase = nullptr);

// Ensures: switchboard.test_fault is defined (once; from _PG_init).
void define_boundary_settings();

// What this backend's boundary counted, so that tests can prove its rules hold.
struct BoundaryCounts {
  uint64_t pg_calls_while_unwinding = 0;  // run_pg/guard called while a C++ exception unwinds
  uint64_t pg_errors_caught = 0;          // PostgreSQL errors caught by run_pg
  uint64_t pg_errors_raised = 0;          // of those, raised again (SB_FUNCTION, callback())
};
const BoundaryCounts& boundary_counts() noexcept;

}  // namespace sb::pg

// Declares a SQL-callable C function whose C++ body follows the macro.
#define SB_FUNCTION(name)                            \
  static Datum name##_body(FunctionCallInfo fcinfo); \
  extern "C" {                                       \
  PG_FUNCTION_INFO_V1(name);                         \
  Datum name(PG_FUNCTION_ARGS) {                     \
    return sb::pg::call_cpp(name##_body, fcinfo);    \
  }                                                  \
  }                                                  \
  static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)

// Declares a background worker's main function (bgw_function_name `name`) whose C++ body follows
// the macro. A failure is an ERROR, after which PostgreSQL ends the worker with exit code 1 and
// starts it again after its bgw_restart_time; the cluster is never restarted.
#define SB_WORKER_MAIN(name)                                               \
  static void name##_body(Datum main_arg);                                 \
  extern "C" PGDLLEXPORT void name(Datum main_arg);                        \
  void name(Datum main_arg) {                                              \
    sb::pg::callback(#name, ERROR, [main_arg] { name##_body(main_arg); }); \
    proc_exit(0);                                                          \
  }                                                                        \
  static void name##_body([[maybe_unused]] Datum main_arg)
