// A probe for tests/bench/booking_json.sh (superusers only): reads one jsonb many times with each
// way of turning it into a plain Json, so that the benchmark compares them side by side.
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"

#include <string>

#include "core/base/base_json.hpp"

extern "C" {
#include "utils/jsonb.h"
#include "utils/memutils.h"
}

namespace {

// The number of values in `v` (so that no reading can be skipped).
int64_t values_in(const sb::Json& v) {
  int64_t n = 1;
  for (const sb::Json& item : v.items) n += values_in(item);
  for (const auto& member : v.members) n += values_in(member.second);
  return n;
}

// jsonb's text output (PostgreSQL memory).
const char* jsonb_text_of(Datum value) {
  const char* text = nullptr;
  sb::pg::guard([&] {
    Jsonb* jb = DatumGetJsonbP(value);
    text = JsonbToCString(nullptr, &jb->root, VARSIZE(jb));
  });
  return text;
}

// Ensures: `value` read once by `reader`: "jsonb" (PostgreSQL's jsonb API, what the extension
// uses) or "text" (jsonb's text output read by nlohmann-json).
sb::Json read_with(const std::string& reader, Datum value) {
  if (reader == "jsonb") return sb::pg::jsonb_value(value);
  if (reader == "text") return sb::read_json(jsonb_text_of(value));
  throw sb::Error("22023", "unknown json reader", "Reader \"" + reader + "\" is not a json reader.",
                  "Use jsonb or text.");
}

}  // namespace

// Ensures: the values read in total after reading argument 0 `rounds` times with reader argument 1.
SB_FUNCTION(sb_selftest_json_read) {
  std::string reader(sb::pg::text_arg(fcinfo, 1));
  int32 rounds = PG_GETARG_INT32(2);
  MemoryContext scratch = nullptr, caller = CurrentMemoryContext;
  sb::pg::guard([&] {
    scratch = AllocSetContextCreate(caller, "switchboard json bench", ALLOCSET_DEFAULT_SIZES);
    MemoryContextSwitchTo(scratch);
  });
  int64_t values = 0;
  for (int32 i = 0; i < rounds; ++i) {
    sb::pg::check_for_interrupts();
    values += values_in(read_with(reader, PG_GETARG_DATUM(0)));
    sb::pg::guard([&] { MemoryContextReset(scratch); });
  }
  sb::pg::guard([&] {
    MemoryContextSwitchTo(caller);
    MemoryContextDelete(scratch);
  });
  PG_RETURN_INT64(values);
}
