#include "pg/base/base_boundary.hpp"

#include <cstring>

#include "pg/base/base_routing.hpp"

extern "C" {
#include "utils/guc.h"
}

namespace sb::pg {
namespace {

BoundaryCounts counts;
char* test_fault = nullptr;  // switchboard.test_fault

// What went wrong in a C++ body, in plain memory that survives the end of the catch block.
struct Failure {
  ErrorData* pg_error = nullptr;
  int sqlstate = ERRCODE_INTERNAL_ERROR;
  char message[1024] = "";
  char detail[1024] = "";
  char hint[512] = "";
};

void copy_text(char* out, size_t size, const char* text) noexcept {
  std::strncpy(out, text, size - 1);
  out[size - 1] = '\0';
}

int sqlstate_code(const char* s) noexcept {
  return MAKE_SQLSTATE(s[0], s[1], s[2], s[3], s[4]);
}

// Runs fn(arg), leaving a Failure when it threw; no exception escapes.
bool run_cpp(void (*fn)(void*), void* arg, Failure* failure) noexcept {
  try {
    fn(arg);
    return true;
  } catch (const PgError& e) {
    failure->pg_error = e.data();
  } catch (const sb::Error& e) {
    failure->sqlstate = sqlstate_code(e.sqlstate());
    copy_text(failure->message, sizeof failure->message, e.what());
    copy_text(failure->detail, sizeof failure->detail, e.detail().c_str());
    copy_text(failure->hint, sizeof failure->hint, e.hint().c_str());
  } catch (const std::bad_alloc&) {
    failure->sqlstate = ERRCODE_OUT_OF_MEMORY;
    copy_text(failure->message, sizeof failure->message, "out of memory in switchboard");
  } catch (const std::exception& e) {
    copy_text(failure->message, sizeof failure->message, e.what());
  } catch (...) {
    copy_text(failure->message, sizeof failure->message, "unknown c++ exception in switchboard");
  }
  return false;
}

// Reports the failure at `elevel`; `where` (a callback's name, or nullptr) and its `phase` become
// its context.
void report(const Failure& f, int elevel, const char* where, const char* phase) {
  if (f.pg_error) {
    ++counts.pg_errors_raised;
    if (elevel == ERROR && !where) ReThrowError(f.pg_error);
    ErrorData* e = f.pg_error;
    ereport(elevel, (errcode(e->sqlerrcode), errmsg_internal("%s", e->message),
                     e->detail ? errdetail_internal("%s", e->detail) : 0,
                     e->hint ? errhint("%s", e->hint) : 0,
                     where ? errcontext("switchboard callback %s%s%s", where, phase ? " at " : "",
                                        phase ? phase : "")
                           : 0));
    FreeErrorData(e);
    return;
  }
  ereport(elevel, (errcode(f.sqlstate), errmsg_internal("%s", f.message),
                   f.detail[0] ? errdetail_internal("%s", f.detail) : 0,
                   f.hint[0] ? errhint("%s", f.hint) : 0,
                   where ? errcontext("switchboard callback %s%s%s", where, phase ? " at " : "",
                                      phase ? phase : "")
                         : 0));
}

// The SQL function body and its result, for run_cpp.
struct FunctionCall {
  Body body;
  FunctionCallInfo fcinfo;
  Datum result;
};

// Runs the body here (with Citus's nested execution allowed when its organisation's rows are
// here), or on the Citus node holding the call's organisation (base_routing).
void call_body(void* p) {
  auto* call = static_cast<FunctionCall*>(p);
  if (route_to_owner(call->fcinfo, &call->result)) return;
  int nested = allow_nested_here(call->fcinfo);
  call->result = call->body(call->fcinfo);
  end_nested_here(nested);
}

// A callback's work, preceded by the test switch.
struct CallbackCall {
  const char* name;
  const char* phase;
  void (*fn)(void*);
  void* arg;
};

void call_callback(void* p) {
  auto* call = static_cast<CallbackCall*>(p);
  fail_if_testing(call->name, call->phase);
  call->fn(call->arg);
}

}  // namespace

const char* PgError::what() const noexcept {
  return data_ && data_->message ? data_->message : "postgresql error";
}

ErrorData* run_pg(void (*fn)(void*), void* arg) noexcept {
  if (std::uncaught_exceptions() > 0) ++counts.pg_calls_while_unwinding;
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile error = nullptr;
  PG_TRY();
  { fn(arg); }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    error = CopyErrorData();
    FlushErrorState();
    ++counts.pg_errors_caught;
  }
  PG_END_TRY();
  return error;
}

Datum call_cpp(Body body, FunctionCallInfo fcinfo) {
  FunctionCall call{body, fcinfo, 0};
  Failure failure;
  if (run_cpp(call_body, &call, &failure)) return call.result;
  report(failure, ERROR, nullptr, nullptr);
  pg_unreachable();
}

bool run_callback(const char* name, const char* phase, int elevel, void (*fn)(void*), void* arg) {
  CallbackCall call{name, phase, fn, arg};
  Failure failure;
  if (run_cpp(call_callback, &call, &failure)) return true;
  report(failure, elevel, name, phase);
  return false;
}

int xact_failure_level(XactEvent event) noexcept {
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PARALLEL_PRE_COMMIT:
    case XACT_EVENT_PRE_PREPARE:
      return ERROR;
    default:
      return WARNING;
  }
}

int subxact_failure_level(SubXactEvent event) noexcept {
  return event == SUBXACT_EVENT_START_SUB || event == SUBXACT_EVENT_PRE_COMMIT_SUB ? ERROR
                                                                                   : WARNING;
}

const char* xact_event_name(XactEvent event) noexcept {
  switch (event) {
    case XACT_EVENT_COMMIT:
      return "commit";
    case XACT_EVENT_PARALLEL_COMMIT:
      return "parallel-commit";
    case XACT_EVENT_ABORT:
      return "abort";
    case XACT_EVENT_PARALLEL_ABORT:
      return "parallel-abort";
    case XACT_EVENT_PREPARE:
      return "prepare";
    case XACT_EVENT_PRE_COMMIT:
      return "pre-commit";
    case XACT_EVENT_PARALLEL_PRE_COMMIT:
      return "parallel-pre-commit";
    case XACT_EVENT_PRE_PREPARE:
      return "pre-prepare";
  }
  return "unknown";
}

const char* subxact_event_name(SubXactEvent event) noexcept {
  switch (event) {
    case SUBXACT_EVENT_START_SUB:
      return "start";
    case SUBXACT_EVENT_COMMIT_SUB:
      return "commit";
    case SUBXACT_EVENT_ABORT_SUB:
      return "abort";
    case SUBXACT_EVENT_PRE_COMMIT_SUB:
      return "pre-commit";
  }
  return "unknown";
}

bool test_fault_is(const char* point, const char* phase) noexcept {
  if (likely(!test_fault || !test_fault[0])) return false;
  size_t n = std::strlen(point);
  if (std::strncmp(test_fault, point, n) != 0) return false;
  return test_fault[n] == '\0' ||
         (phase && test_fault[n] == ':' && std::strcmp(test_fault + n + 1, phase) == 0);
}

void fail_if_testing(const char* point, const char* phase) {
  if (test_fault_is(point, phase)) throw std::bad_alloc();
}

void define_boundary_settings() {
  static bool defined = false;
  if (defined) return;
  DefineCustomStringVariable(
      "switchboard.test_fault",
      "Tests only: the callback or reader that fails as if out of memory (superusers only).",
      nullptr, &test_fault, "", PGC_SUSET, GUC_NOT_IN_SAMPLE, nullptr, nullptr, nullptr);
  defined = true;
}

const BoundaryCounts& boundary_counts() noexcept {
  return counts;
}

}  // namespace sb::pg
