// The C++/PostgreSQL boundary: every SQL-callable entry point goes through SB_FUNCTION, and every
// PostgreSQL call that may raise an error while C++ objects are alive goes through sb::pg::guard.
#pragma once

#include "pg/base/base_postgres.hpp"

#include "core/base/base_error.hpp"

namespace sb::pg {

// A PostgreSQL error caught by guard(), carried through C++ frames as an exception.
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
  auto trampoline = [](void* p) { (*static_cast<F*>(p))(); };
  if (ErrorData* e = run_pg(trampoline, &f)) throw PgError(e);
}

using Body = Datum (*)(FunctionCallInfo);

// Calls `body`; any C++ exception is turned into ereport(ERROR) after every C++ object is gone.
Datum call_cpp(Body body, FunctionCallInfo fcinfo);

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
