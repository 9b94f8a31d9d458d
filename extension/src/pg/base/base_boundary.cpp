#include "pg/base/base_boundary.hpp"

#include <cstring>

namespace sb::pg {
namespace {

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

// Runs body, leaving either its result or a Failure; no exception escapes.
bool run_body(Body body, FunctionCallInfo fcinfo, Datum* result, Failure* failure) noexcept {
  try {
    *result = body(fcinfo);
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

[[noreturn]] void raise(const Failure& f) {
  if (f.pg_error) ReThrowError(f.pg_error);
  ereport(ERROR, (errcode(f.sqlstate), errmsg_internal("%s", f.message),
                  f.detail[0] ? errdetail_internal("%s", f.detail) : 0,
                  f.hint[0] ? errhint("%s", f.hint) : 0));
  pg_unreachable();
}

}  // namespace

const char* PgError::what() const noexcept {
  return data_ && data_->message ? data_->message : "postgresql error";
}

ErrorData* run_pg(void (*fn)(void*), void* arg) noexcept {
  MemoryContext caller_context = CurrentMemoryContext;
  ErrorData* volatile error = nullptr;
  PG_TRY();
  { fn(arg); }
  PG_CATCH();
  {
    MemoryContextSwitchTo(caller_context);
    error = CopyErrorData();
    FlushErrorState();
  }
  PG_END_TRY();
  return error;
}

Datum call_cpp(Body body, FunctionCallInfo fcinfo) {
  Datum result = 0;
  Failure failure;
  if (run_body(body, fcinfo, &result, &failure)) return result;
  raise(failure);
}

}  // namespace sb::pg
