// Reads one organisation's entitlement rows straight through their indexes (no SPI, no planner):
// the cold path of the entitlement cache, which a pooled backend takes once per organisation.
#pragma once

#include <string_view>

#include "pg/base/base_store.hpp"

#include "core/base/base_uuid.hpp"

namespace sb::pg {

// The rows of the organisation as text, in the shape of one 9-column result:
//   ('o', timezone, tier, status, trial_ends_at, period_start, period_end, billing_cycle, NULL)
//   ('e', bit, ...)                                    one per feature bit of effective_features
//   ('l', feature, limit, period, mode, ...)           one per grant in effective_limits
//   ('v', feature, enabled, usage_limit, limit_mode, expires_at, source, ...)  one per override
// Times are Unix microseconds. No 'o' row when the organisation does not exist. Read with a
// snapshot taken now, after pending invalidations were processed.
TextRows read_org_rows(const Uuid& org);

// The usage counter (used, reserved, overage) of one organisation, feature and period start
// (Unix microseconds), read through its unique index with the statement's snapshot; false when
// there is no counter yet.
bool read_usage_row(const Uuid& org, std::string_view feature, int64_t period_start,
                    int64_t out[3]);

}  // namespace sb::pg
