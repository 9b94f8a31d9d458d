#include "pg/booking/booking_changes.hpp"

#include <unordered_set>

#include "pg/booking/booking_store.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_callbacks.hpp"
#include "pg/base/base_shmem.hpp"
#include "pg/base/base_time.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "port/atomics.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

constexpr uint32_t kSlots = 1 << 16;
constexpr uint32_t kEverything = kSlots;  // one more pair: a change too wide to spread over weeks
constexpr int64_t kWidestChange = 520;    // weeks a change may touch before it is `kEverything`

struct Counters {
  pg_atomic_uint64 begun;
  pg_atomic_uint64 ended;
};

Counters* shared = nullptr;  // kSlots + 1 pairs; nullptr when change tracking is off

// The slots this transaction changed, and whether their `begun` was bumped at pre-commit.
std::unordered_set<uint32_t>& touched() {
  static std::unordered_set<uint32_t> slots;
  return slots;
}
bool begun_here = false;

uint32_t slot_of(const Uuid& org, const Uuid& calendar, int64_t week) noexcept {
  uint64_t a = UuidHash{}(org), b = UuidHash{}(calendar);
  uint64_t h =
      ((a * 0x9E3779B97F4A7C15ULL) ^ b ^ static_cast<uint64_t>(week)) * 0xBF58476D1CE4E5B9ULL;
  return static_cast<uint32_t>((h ^ (h >> 31)) % kSlots);
}

Size shared_size() {
  return sizeof(Counters) * (kSlots + 1);
}

void attach(void* piece, bool fresh) {
  auto* counters = static_cast<Counters*>(piece);
  for (uint32_t i = 0; fresh && i <= kSlots; ++i) {
    pg_atomic_init_u64(&counters[i].begun, 0);
    pg_atomic_init_u64(&counters[i].ended, 0);
  }
  shared = counters;
}

void bump(bool begun) noexcept {
  if (!shared) return;
  for (uint32_t slot : touched())
    pg_atomic_fetch_add_u64(begun ? &shared[slot].begun : &shared[slot].ended, 1);
}

// Pre-commit (before the changes become visible): `begun`; at the end: `ended`. A prepared
// transaction commits elsewhere later, so its slots stay unstable for good (safe, just uncached).
void track(XactEvent event) noexcept {
  if (touched().empty()) return;
  switch (event) {
    case XACT_EVENT_PRE_COMMIT:
    case XACT_EVENT_PRE_PREPARE:
      bump(true);
      begun_here = event == XACT_EVENT_PRE_COMMIT;
      return;
    case XACT_EVENT_COMMIT:
    case XACT_EVENT_ABORT:
    case XACT_EVENT_PREPARE:
      if (begun_here) bump(false);
      begun_here = false;
      touched().clear();
      return;
    default:
      return;
  }
}

bool stable(uint32_t slot, uint64_t* version) noexcept {
  pg_memory_barrier();
  uint64_t ended = pg_atomic_read_u64(&shared[slot].ended);
  pg_memory_barrier();
  uint64_t begun = pg_atomic_read_u64(&shared[slot].begun);
  *version = begun;
  return ended == begun;
}

// A changed row: its calendar and the span of its padded block.
struct ChangedRow {
  pg_uuid_t org, calendar;
  TimestampTz block_start, block_end;
};

void read_row(HeapTuple tuple, Relation rel, ChangedRow* out) {
  const AppointmentColumns& c = appointment_columns(rel);
  TupleDesc desc = RelationGetDescr(rel);
  bool isnull = false;
  out->org = *DatumGetUUIDP(heap_getattr(tuple, c.org, desc, &isnull));
  out->calendar = *DatumGetUUIDP(heap_getattr(tuple, c.calendar, desc, &isnull));
  out->block_start = DatumGetTimestampTz(heap_getattr(tuple, c.block_start, desc, &isnull));
  out->block_end = DatumGetTimestampTz(heap_getattr(tuple, c.block_end, desc, &isnull));
}

}  // namespace

// Records the weeks the row's block meets as changed by this transaction.
void record_change(HeapTuple tuple, Relation rel) {
  ChangedRow row;
  guard([&] { read_row(tuple, rel, &row); });
  Uuid org = Uuid::from_raw(row.org.data), calendar = Uuid::from_raw(row.calendar.data);
  int64_t first = week_index(to_unix(row.block_start)), last = week_index(to_unix(row.block_end));
  if (TIMESTAMP_NOT_FINITE(row.block_start) || TIMESTAMP_NOT_FINITE(row.block_end) ||
      last - first > kWidestChange) {
    touched().insert(kEverything);
    return;
  }
  for (int64_t week = first; week <= last; ++week) touched().insert(slot_of(org, calendar, week));
}

int64_t week_index(booking::Micros t) {
  return t / kWeek - (t % kWeek < 0 ? 1 : 0);
}

std::optional<uint64_t> stable_version(const CalendarWeek& week) {
  if (!shared || IsolationUsesXactSnapshot()) return std::nullopt;
  uint32_t slot = slot_of(week.org, week.calendar, week.index);
  if (touched().count(slot) || touched().count(kEverything)) return std::nullopt;
  uint64_t version = 0, everything = 0;
  if (!stable(kEverything, &everything) || !stable(slot, &version)) return std::nullopt;
  return version + everything;  // both only grow: the sum moves when either does
}

void init_booking_changes() {
  register_shmem("booking changes", shared_size(), attach);
  // A failure before the commit is an ERROR (the transaction aborts, and its abort ends what it
  // began); after it, or while aborting, tracking still ends (noexcept): a slot left between
  // `begun` and `ended` would only stay uncached, a stale `touched` set would leak into the next
  // transaction.
  register_xact_handler("booking changes", track, track);
}

}  // namespace sb::pg

// Ensures: the weeks of the old and new rows' blocks count as changed by this transaction (AFTER
// ROW trigger on switchboard.appointments, fired also under session_replication_role = replica).
SB_FUNCTION(sb_appointments_changed) {
  if (!CALLED_AS_TRIGGER(fcinfo))
    throw sb::Error("39P01", "_booking_appointments_changed() must be called as a trigger");
  auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
  if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event))
    sb::pg::record_change(trigger->tg_newtuple, trigger->tg_relation);
  sb::pg::record_change(trigger->tg_trigtuple, trigger->tg_relation);
  return PointerGetDatum(nullptr);
}
