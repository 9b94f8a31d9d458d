// Probes of the C++/PostgreSQL boundary, used by the regression suite (not granted to clients).
#include "pg/base/base_boundary.hpp"

#include <stdexcept>
#include <string>
#include <vector>

extern "C" {
#include "executor/spi.h"
}

namespace {

int destructor_runs = 0;

// Counts its own destruction, to show which C++ objects were unwound.
struct Counted {
  ~Counted() { ++destructor_runs; }
};

std::string mode_arg(FunctionCallInfo fcinfo) {
  char* value = text_to_cstring(PG_GETARG_TEXT_PP(0));
  std::string mode(value);
  pfree(value);
  return mode;
}

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
  std::string mode = mode_arg(fcinfo);
  Counted alive;
  if (mode == "cpp_error") throw std::runtime_error("selftest: c++ exception");
  if (mode == "sb_error")
    throw sb::Error("22023", "selftest: invalid parameter", "detail from c++", "hint from c++");
  if (mode == "bad_alloc") throw std::bad_alloc();
  if (mode == "pg_error") {
    std::vector<std::string> more_objects(3, "alive");
    Counted inner;
    run_sql("select 1/0");
  }
  if (mode != "ok") throw sb::Error("22023", "unknown selftest mode", "mode: " + mode);
  PG_RETURN_TEXT_P(cstring_to_text("ok"));
}

// Ensures: how many Counted objects this backend has destroyed so far.
SB_FUNCTION(sb_selftest_destructor_runs) {
  PG_RETURN_INT32(destructor_runs);
}
