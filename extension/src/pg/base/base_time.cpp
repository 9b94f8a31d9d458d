#include "pg/base/base_time.hpp"

#include "core/base/base_json_writer.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"

extern "C" {
#include "access/xact.h"
#include "datatype/timestamp.h"
}

namespace sb::pg {
namespace {

// Local wall-clock time of `t` in zone `tz`.
Timestamp to_local(TimestampTz t, Datum tz) {
  return DatumGetTimestamp(DirectFunctionCall2(timestamptz_zone, tz, TimestampTzGetDatum(t)));
}

TimestampTz from_local(Timestamp t, Datum tz) {
  return DatumGetTimestampTz(DirectFunctionCall2(timestamp_zone, tz, TimestampGetDatum(t)));
}

Timestamp add(Timestamp t, int32 days, int32 months) {
  Interval step{0, days, months};
  return DatumGetTimestamp(
      DirectFunctionCall2(timestamp_pl_interval, TimestampGetDatum(t), IntervalPGetDatum(&step)));
}

// The calendar day or month containing `now` in zone `tz`.
void calendar_window(const char* unit, Datum tz, TimestampTz now, Window* out) {
  Timestamp local = to_local(now, tz);
  Timestamp start = DatumGetTimestamp(
      DirectFunctionCall2(timestamp_trunc, CStringGetTextDatum(unit), TimestampGetDatum(local)));
  Timestamp end = unit[0] == 'd' ? add(start, 1, 0) : add(start, 0, 1);
  out->start = to_unix(from_local(start, tz));
  out->end = to_unix(from_local(end, tz));
}

// The billing period containing `now`: the stored one, else the cycle anchored on the stored start
// (a period that starts on the 31st ends on the 28th, 30th or 31st, as billing systems count).
void billing_window(const ent::Subscription& s, Datum tz, TimestampTz now, Window* out) {
  int32 months = s.billing_cycle == "annual" ? 12 : 1;
  TimestampTz start = from_unix(s.period_start), end = from_unix(s.period_end);
  Timestamp anchor = to_local(start, tz);
  if (now < start) {  // not started yet: the cycle before it
    end = start;
    start = from_local(add(anchor, 0, -months), tz);
  } else if (now >= end) {
    int32 k = 1;
    while (k < 12000 && from_local(add(anchor, 0, (k + 1) * months), tz) <= now) ++k;
    TimestampTz boundary = from_local(add(anchor, 0, k * months), tz);
    start = boundary > end ? boundary : end;
    end = from_local(add(anchor, 0, (k + 1) * months), tz);
  }
  out->start = to_unix(start);
  out->end = to_unix(end);
}

}  // namespace

ent::Micros transaction_now() {
  return to_unix(GetCurrentTransactionStartTimestamp());
}

Window usage_window(ent::Period period, const ent::OrgState& org, ent::Micros now) {
  Window w;
  const ent::Subscription* sub = org.subscription ? &*org.subscription : nullptr;
  const char* zone = org.timezone.c_str();
  guard([&] {
    Datum tz = CStringGetTextDatum(zone);
    if (period == ent::Period::billing_period && sub)
      billing_window(*sub, tz, from_unix(now), &w);
    else
      calendar_window(period == ent::Period::day ? "day" : "month", tz, from_unix(now), &w);
  });
  return w;
}

}  // namespace sb::pg

// Ensures: the time as command answers write it (sb::answer_time, UTC), for the SQL-written
// answers.
SB_FUNCTION(sb_answer_time) {
  if (PG_ARGISNULL(0)) PG_RETURN_NULL();
  return sb::pg::text_datum(sb::answer_time(sb::pg::to_unix(PG_GETARG_TIMESTAMPTZ(0))));
}
