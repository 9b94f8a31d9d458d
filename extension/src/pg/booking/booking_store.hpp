// What booking decisions read, without SPI: calendars (parsed once, then cached per backend until
// switchboard.calendars changes in any session), the appointments of a calendar in a window (read
// straight through the index of their starts, or from weeks of them kept while still current),
// and time zones from the tz database.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pg/base/base_postgres.hpp"

extern "C" {
#include "utils/jsonb.h"
#include "utils/relcache.h"
#include "utils/uuid.h"
}

#include "core/booking/booking_slots.hpp"
#include "core/base/base_uuid.hpp"

namespace sb::pg {

// A calendar's time zone and rules.
struct Calendar {
  std::string time_zone;
  booking::CalendarRules rules;
};

// A calendar row's columns as PostgreSQL returned them (texts live in PostgreSQL memory).
struct CalendarColumns {
  const char* time_zone = nullptr;
  Jsonb* business_hours = nullptr;  // a copy
  Jsonb* exceptions = nullptr;      // a copy
  std::optional<int> slot_minutes, slot_step_minutes, buffer_before_minutes, buffer_after_minutes,
      min_notice_minutes, max_days_ahead, daily_cap;
};

// How to read column `name` of a calendar row (a PostgreSQL call: it may raise errors).
using ColumnReader = Datum (*)(void* row, const char* name, bool* isnull);

// Ensures: the columns of calendar row `row`, in PostgreSQL memory. Call inside sb::pg::guard.
void read_calendar_columns(ColumnReader read, void* row, CalendarColumns* out);

// Ensures: the time zone and parsed rules of the row's columns (defaults for NULLs).
Calendar calendar_from(const CalendarColumns& columns);

// Ensures: the calendar (org, id) as committed when it was read (after pending invalidations were
// processed), from this backend's cache or read through the primary key; nullptr when none.
std::shared_ptr<const Calendar> find_calendar(const Uuid& org, const Uuid& id);

// Where switchboard.appointments keeps what the booking code reads of its rows.
struct AppointmentColumns {
  Oid relid = InvalidOid;
  AttrNumber org, calendar, starts, block_start, block_end, status, expires;
  AttrNumber last;      // the highest of them
  Oid held, cancelled;  // held blocks until its hold expires; cancelled never does
};

// Ensures: the columns of switchboard.appointments `rel` (looked up once per relation). Call inside
// sb::pg::guard.
const AppointmentColumns& appointment_columns(Relation rel);

// An appointment occupying its block (not cancelled) as read: its start, padded block and, when
// held, the hold's end.
struct BookingRow {
  booking::Micros start, block_start, block_end, expires;
  bool held;
};

// What bears on booking decisions, as of `now`.
struct Occupancy {
  std::vector<booking::Booking> active;       // confirmed, and held until their hold expires
  std::vector<booking::Slot> expired_blocks;  // of holds past expiry still marked held

  // Adds the row as active or as an expired hold.
  void add(const BookingRow& row, booking::Micros now);
  // True when an expired hold's block meets [from, to) (the constraint would count it).
  bool expired_hold_meets(booking::Micros from, booking::Micros to) const noexcept;
};

struct ReaderState;

// Reads the appointments occupying blocks (all but cancelled) of one calendar through
// appointments_calendar_starts_idx, every read with the snapshot taken when the reader was made
// (after the transaction's own changes). close() releases what it holds; the destructor makes no
// PostgreSQL call (it may run while a PgError unwinds): when close() was not reached, an error is
// on its way and the transaction's or subtransaction's abort releases the relations, scan and
// snapshot (resource owners).
class AppointmentReader {
 public:
  AppointmentReader(const Uuid& org, const Uuid& calendar);
  AppointmentReader(const AppointmentReader&) = delete;
  AppointmentReader& operator=(const AppointmentReader&) = delete;

  // Ensures: the appointments whose padded blocks meet `window`, by block start.
  std::vector<BookingRow> rows(const booking::Slot& window);

  // Ensures: the relations, scan and snapshot are released (call once, when done reading).
  void close();

 private:
  pg_uuid_t org_;
  pg_uuid_t calendar_;
  ReaderState* state_ = nullptr;  // open relations, scan and snapshot
};

// Ensures: the appointments whose padded blocks meet `window`, as a snapshot taken now would see
// them: the weeks this backend read before and that are still current (booking_changes.hpp) come
// from its cache, the others are read and kept; nothing when `kept_only` and a week is not kept.
std::optional<Occupancy> committed_occupancy(const Uuid& org, const Uuid& calendar,
                                             const booking::Slot& window, booking::Micros now,
                                             bool kept_only = false);

// Ensures: whether every week meeting `window` is kept and still current, so that what
// committed_occupancy answered from them is still what a snapshot taken now would see.
bool kept_current(const Uuid& org, const Uuid& calendar, const booking::Slot& window);

// Ensures: timestamp argument `n` (named `name`) in Unix microseconds; 22007 naming it when it is
// not finite.
booking::Micros time_arg(FunctionCallInfo fcinfo, int n, const char* name);

// Ensures: the offsets of zone `name` over [from, to), as spans from the tz database; 22023 for an
// unknown zone.
booking::Zone zone_between(const std::string& name, booking::Micros from, booking::Micros to);

// Ensures: 22023 naming `name` unless PostgreSQL knows the time zone.
void require_time_zone(const std::string& name);

// Registers the calendar and week caches; called once from _PG_init.
void init_booking_store();

}  // namespace sb::pg
