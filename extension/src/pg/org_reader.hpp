// Reads one organisation's entitlement rows straight through their indexes (no SPI, no planner):
// the cold path of the entitlement cache, which a pooled backend takes once per organisation.
#pragma once

#include "store.hpp"

#include "../core/uuid.hpp"

namespace sb::pg {

// The rows of the organisation as text, in the shape of one 9-column result:
//   ('o', timezone, tier, status, trial_ends_at, period_start, period_end, billing_cycle, NULL)
//   ('e', feature, limit, period, mode, ...)                   one per effective grant
//   ('v', feature, enabled, usage_limit, limit_mode, expires_at, ...)  one per override
// Times are Unix microseconds. No 'o' row when the organisation does not exist. Read with a
// snapshot taken now, after pending invalidations were processed.
TextRows read_org_rows(const Uuid& org);

}  // namespace sb::pg
