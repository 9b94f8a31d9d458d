// Which weeks of which calendars have appointments that changed, so that a backend may keep what it
// read of a week and know when it no longer matches what a fresh snapshot would see.
//
// Shared memory holds two counters per hashed (org, calendar, week): `begun` is bumped by every
// transaction that changed appointments there just before its commit becomes visible, `ended`
// right after it became visible (or when it aborted). When `ended` equals `begun`, no such
// transaction is between the two; a version read then, before a snapshot is taken, stays current
// exactly as long as `begun` does not move. Hash collisions only cost spurious changes. Without
// shared_preload_libraries there is no shared memory and no week is ever stable.
#pragma once

#include <cstdint>
#include <optional>

#include "pg/base/base_postgres.hpp"

#include "core/booking/booking_slots.hpp"
#include "core/base/base_uuid.hpp"

extern "C" {
#include "access/htup.h"
#include "utils/relcache.h"
}

namespace sb::pg {

constexpr booking::Micros kWeek = 7 * booking::kDay;

// A week of one calendar's appointments: the blocks meeting [index * kWeek, (index + 1) * kWeek).
struct CalendarWeek {
  Uuid org;
  Uuid calendar;
  int64_t index;
};

// Ensures: the index of the week holding `t` (whole weeks since 1970-01-01 00:00 UTC).
int64_t week_index(booking::Micros t);

// Ensures: the week's version when no transaction that changed it is committing and this
// transaction has not changed it; nothing otherwise, when change tracking is off, or when the
// transaction reads one snapshot throughout (repeatable read, serializable: it reads afresh).
std::optional<uint64_t> stable_version(const CalendarWeek& week);

// Ensures: the weeks the padded block of appointment row `tuple` meets count as changed by this
// transaction (until it ends, and for other sessions until it has committed).
void record_change(HeapTuple tuple, Relation rel);

// Requests the shared memory (from _PG_init while shared_preload_libraries are loaded) and
// registers the transaction callbacks.
void init_booking_changes();

}  // namespace sb::pg
