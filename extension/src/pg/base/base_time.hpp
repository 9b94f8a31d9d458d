// Converting PostgreSQL timestamps, and the usage periods of metered features.
#pragma once

#include "pg/base/base_postgres.hpp"

#include "core/entitlements/entitlements.hpp"

extern "C" {
#include "utils/timestamp.h"
}

namespace sb::pg {

constexpr int64 kUnixEpochOffset = int64(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;

inline ent::Micros to_unix(TimestampTz t) {
  return t + kUnixEpochOffset;
}
inline TimestampTz from_unix(ent::Micros t) {
  return t - kUnixEpochOffset;
}

// The current transaction's start time, in Unix microseconds.
ent::Micros transaction_now();

struct Window {
  ent::Micros start = 0;
  ent::Micros end = 0;
};

// The usage period containing `now`: a calendar day or month in the organisation's time zone, or
// the subscription's billing period (rolled forward by its cycle; a month without subscription).
Window usage_window(ent::Period period, const ent::OrgState& org, ent::Micros now);

}  // namespace sb::pg
