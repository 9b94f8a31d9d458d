#include "pg/booking/booking_store.hpp"

#include <algorithm>
#include <unordered_map>

#include "pg/booking/booking_changes.hpp"
#include "pg/base/base_boundary.hpp"
#include "pg/base/base_datums.hpp"
#include "pg/base/base_shards.hpp"
#include "pg/base/base_store.hpp"
#include "pg/base/base_time.hpp"

#include "core/booking/booking_hours.hpp"

extern "C" {
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "pgtime.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
}

namespace sb::pg {
namespace {

namespace bk = sb::booking;
using bk::Micros;

constexpr std::size_t kCachedCalendars = 10000;

struct CalendarKey {
  Uuid org;
  Uuid id;
  bool operator==(const CalendarKey& other) const noexcept {
    return org == other.org && id == other.id;
  }
};

struct CalendarKeyHash {
  std::size_t operator()(const CalendarKey& k) const noexcept {
    return UuidHash{}(k.org) * 31 + UuidHash{}(k.id);
  }
};

using CalendarMap =
    std::unordered_map<CalendarKey, std::shared_ptr<const Calendar>, CalendarKeyHash>;

CalendarMap cached_calendars;
int calendar_cache_id = -1;

// A calendar row as a heap tuple of its relation.
struct StoredRow {
  HeapTuple tuple;
  Relation rel;
};

Datum stored_column(void* row, const char* name, bool* isnull) {
  auto* r = static_cast<StoredRow*>(row);
  return heap_getattr(r->tuple, get_attnum(RelationGetRelid(r->rel), name),
                      RelationGetDescr(r->rel), isnull);
}

// Reads the row of calendar (org, id) through the primary key with a snapshot taken now; *found
// says whether there is one.
void read_calendar_row(OrgRelation where, pg_uuid_t* org, pg_uuid_t* id, CalendarColumns* out,
                       bool* found) {
  CommandCounterIncrement();
  Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
  Relation rel = table_open(where.table, AccessShareLock);
  ScanKeyData keys[2];
  ScanKeyInit(&keys[0], get_attnum(RelationGetRelid(rel), "org_id"), BTEqualStrategyNumber,
              F_UUID_EQ, UUIDPGetDatum(org));
  ScanKeyInit(&keys[1], get_attnum(RelationGetRelid(rel), "id"), BTEqualStrategyNumber, F_UUID_EQ,
              UUIDPGetDatum(id));
  SysScanDesc scan = systable_beginscan(rel, where.index, true, snapshot, 2, keys);
  HeapTuple tuple = systable_getnext(scan);
  *found = HeapTupleIsValid(tuple);
  StoredRow row{tuple, rel};
  if (*found) read_calendar_columns(stored_column, &row, out);
  systable_endscan(scan);
  table_close(rel, AccessShareLock);
  UnregisterSnapshot(snapshot);
}

std::shared_ptr<const Calendar> load_calendar(const Uuid& org, const Uuid& id) {
  pg_uuid_t org_key, id_key;
  memcpy(org_key.data, org.bytes.data(), 16);
  memcpy(id_key.data, id.bytes.data(), 16);
  CalendarColumns columns;
  bool found = false;
  OrgRelation where = org_relation(OrgTable::calendars, org_key);
  guard([&] { read_calendar_row(where, &org_key, &id_key, &columns, &found); });
  if (!found) return nullptr;
  return std::make_shared<const Calendar>(calendar_from(columns));
}

AttrNumber attnum(Oid relid, const char* name) {
  AttrNumber n = get_attnum(relid, name);
  if (n == InvalidAttrNumber) elog(ERROR, "switchboard: column %s is missing", name);
  return n;
}

Oid enum_value(Oid type, const char* label) {
  return DatumGetObjectId(
      DirectFunctionCall2(enum_in, CStringGetDatum(label), ObjectIdGetDatum(type)));
}

// One appointment row occupying its block as read, in PostgreSQL's time representation.
struct RawBooking {
  TimestampTz start, block_start, block_end, expires;
  bool held;
};

// Rows collected in PostgreSQL memory (no C++ allocation while PostgreSQL may raise errors).
struct RawBookings {
  RawBooking* rows = nullptr;
  int count = 0;
  int capacity = 0;

  void add(const RawBooking& b) {
    if (count == capacity) {
      capacity = capacity ? capacity * 2 : 64;
      size_t bytes = sizeof(RawBooking) * capacity;
      rows = static_cast<RawBooking*>(rows ? repalloc(rows, bytes) : palloc(bytes));
    }
    rows[count++] = b;
  }
};

// The window being read: the calendar's keys and the range of padded blocks that meet it.
struct BusyWindow {
  const pg_uuid_t* org;
  const pg_uuid_t* calendar;
  TimestampTz from, to;
};

bool same_uuid(TupleTableSlot* slot, AttrNumber column, const pg_uuid_t* expected) {
  return !slot->tts_isnull[column - 1] &&
         memcmp(DatumGetUUIDP(slot->tts_values[column - 1])->data, expected->data, UUID_LEN) == 0;
}

TimestampTz time_column(TupleTableSlot* slot, AttrNumber column) {
  return slot->tts_isnull[column - 1] ? 0 : DatumGetTimestampTz(slot->tts_values[column - 1]);
}

enum class Collected { added, outside, inactive };

// Adds the slot's appointment when it occupies its block (any status but cancelled) and the block
// meets the window (the tuple is the truth: the index holds every status).
Collected collect(TupleTableSlot* slot, const AppointmentColumns& c, const BusyWindow& w,
                  RawBookings* out) {
  slot_getsomeattrs(slot, c.last);
  if (!same_uuid(slot, c.org, w.org) || !same_uuid(slot, c.calendar, w.calendar))
    return Collected::inactive;
  Oid status = DatumGetObjectId(slot->tts_values[c.status - 1]);
  if (slot->tts_isnull[c.status - 1] || status == c.cancelled) return Collected::inactive;
  RawBooking b{time_column(slot, c.starts), time_column(slot, c.block_start),
               time_column(slot, c.block_end), time_column(slot, c.expires), status == c.held};
  if (b.block_start >= w.to || b.block_end <= w.from) return Collected::outside;
  out->add(b);
  return Collected::added;
}

}  // namespace

// What a reader keeps open between its reads (in PostgreSQL memory).
struct ReaderState {
  Snapshot snapshot;
  Relation heap;
  Relation index;
  IndexScanDesc scan;  // on appointments_calendar_starts_idx
  TupleTableSlot* slot;
  const AppointmentColumns* columns;
};

namespace {

void open_reader(ReaderState* st, OrgRelation where) {
  CommandCounterIncrement();
  st->snapshot = RegisterSnapshot(GetTransactionSnapshot());
  st->heap = table_open(where.table, AccessShareLock);
  st->index = index_open(where.index, AccessShareLock);
  if (IndexRelationGetNumberOfKeyAttributes(st->index) != 3)
    elog(ERROR, "switchboard: appointments_calendar_starts_idx is not the expected index");
  st->columns = &appointment_columns(st->heap);
  st->scan = index_beginscan(st->heap, st->index, st->snapshot, 4, 0);
  st->slot = table_slot_create(st->heap, nullptr);
}

void close_reader(ReaderState* st) {
  if (st->slot) ExecDropSingleTupleTableSlot(st->slot);
  if (st->scan) index_endscan(st->scan);
  if (st->index) index_close(st->index, AccessShareLock);
  if (st->heap) table_close(st->heap, AccessShareLock);
  if (st->snapshot) UnregisterSnapshot(st->snapshot);
}

// Positions the scan on the calendar's appointments starting in [from, to).
void rescan(ReaderState* st, const BusyWindow& w, TimestampTz from, TimestampTz to) {
  ScanKeyData keys[4];
  ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(w.org));
  ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(w.calendar));
  ScanKeyInit(&keys[2], 3, BTGreaterEqualStrategyNumber, F_TIMESTAMPTZ_GE,
              TimestampTzGetDatum(from));
  ScanKeyInit(&keys[3], 3, BTLessStrategyNumber, F_TIMESTAMPTZ_LT, TimestampTzGetDatum(to));
  index_rescan(st->scan, keys, 4, nullptr, 0);
}

// Ensures: the next tuple of the scan in `direction` is in the reader's slot, or false at the end.
// Call inside sb::pg::guard: a cancel raises, and so does the reader's test fault once a tuple is
// held (the PostgreSQL work failing mid-way).
bool next_tuple(ReaderState* st, ScanDirection direction) {
  CHECK_FOR_INTERRUPTS();
  if (!index_getnext_slot(st->scan, direction, st->slot)) return false;
  if (test_fault_is("appointment reader"))
    elog(ERROR, "switchboard test fault: appointment reader");
  return true;
}

// Collects the appointments occupying blocks that meet the window. Those never overlap (the
// exclusion constraint), so in order of start they are in order of block too: of those starting
// before the window only the last can reach into it, and those starting later meet it until the
// first whose block starts at its end (at most a day later: buffers are at most 1440 minutes).
// Other statuses are skipped. Call inside sb::pg::guard.
void scan_window(ReaderState* st, const BusyWindow& w, RawBookings* out) {
  rescan(st, w, DT_NOBEGIN, w.from);
  while (next_tuple(st, BackwardScanDirection))
    if (collect(st->slot, *st->columns, w, out) != Collected::inactive) break;
  rescan(st, w, w.from, w.to + USECS_PER_DAY);
  while (next_tuple(st, ForwardScanDirection))
    if (collect(st->slot, *st->columns, w, out) == Collected::outside) break;
}

pg_tz* time_zone(const std::string& name) {
  pg_tz* tz = nullptr;
  guard([&] { tz = pg_tzset(name.c_str()); });
  if (!tz || !pg_tz_acceptable(tz))
    throw Error("22023", "unknown time zone",
                "Time zone \"" + name + "\" is not in the time zone database.",
                "Use an IANA time zone name such as America/New_York.");
  return tz;
}

std::optional<int> int_column(ColumnReader read, void* row, const char* name) {
  bool isnull = false;
  Datum value = read(row, name, &isnull);
  if (isnull) return std::nullopt;
  return DatumGetInt32(value);
}

const char* text_column(ColumnReader read, void* row, const char* name) {
  bool isnull = false;
  Datum value = read(row, name, &isnull);
  return isnull ? nullptr : TextDatumGetCString(value);
}

Jsonb* jsonb_column(ColumnReader read, void* row, const char* name) {
  bool isnull = false;
  Datum value = read(row, name, &isnull);
  return isnull ? nullptr : DatumGetJsonbPCopy(value);
}

// The rules in `value`; an empty object for NULL.
sb::Json rules_value(Jsonb* value) {
  if (!value) return sb::Json{sb::Json::Kind::object};
  return jsonb_value(JsonbPGetDatum(value));
}

bool by_block_start(const BookingRow& a, const BookingRow& b) {
  return a.block_start < b.block_start;
}

bool same_row(const BookingRow& a, const BookingRow& b) {
  return a.start == b.start && a.block_start == b.block_start && a.block_end == b.block_end;
}

// The rows of a week of one calendar, and the version of the week they were read at.
struct WeekRows {
  uint64_t version = 0;
  std::vector<BookingRow> rows;  // by block start
};

struct WeekKey {
  Uuid org;
  Uuid calendar;
  int64_t index;
  bool operator==(const WeekKey& o) const noexcept {
    return org == o.org && calendar == o.calendar && index == o.index;
  }
};

struct WeekKeyHash {
  std::size_t operator()(const WeekKey& k) const noexcept {
    return (UuidHash{}(k.org) * 31 + UuidHash{}(k.calendar)) * 31 + std::hash<int64_t>{}(k.index);
  }
};

// The weeks kept: at most this many rows in all (a few MB); when full, keeping starts afresh.
constexpr std::size_t kCachedRows = 100000;
std::unordered_map<WeekKey, std::shared_ptr<const WeekRows>, WeekKeyHash> cached_weeks;
std::size_t cached_rows = 0;

void forget_weeks() noexcept {
  cached_weeks.clear();
  cached_rows = 0;
}

int week_cache_id = -1;

// Ensures: the week's rows as committed now, nullptr when `kept_only` and they are not kept and
// current; rows read are kept when no change to the week was committing meanwhile (its version
// was the same, and stable, before and after).
std::shared_ptr<const WeekRows> week_rows(const CalendarWeek& week, bool kept_only) {
  WeekKey key{week.org, week.calendar, week.index};
  std::optional<uint64_t> before = stable_version(week);
  if (auto it = cached_weeks.find(key);
      before && it != cached_weeks.end() && it->second->version == *before)
    return it->second;
  if (kept_only) return nullptr;
  prepare_cache_load(week_cache_id);
  uint64_t generation = cache_generation(week_cache_id);
  before = stable_version(week);
  auto fresh = std::make_shared<WeekRows>();
  fresh->version = before.value_or(0);
  AppointmentReader reader(week.org, week.calendar);
  fresh->rows = reader.rows({week.index * kWeek, (week.index + 1) * kWeek});
  reader.close();
  if (before && stable_version(week) == before && cache_generation(week_cache_id) == generation) {
    if (cached_rows + fresh->rows.size() + 1 > kCachedRows) forget_weeks();
    std::shared_ptr<const WeekRows>& slot = cached_weeks[key];
    cached_rows += fresh->rows.size() + 1 - (slot ? slot->rows.size() + 1 : 0);
    slot = fresh;
  }
  return fresh;
}

}  // namespace

const AppointmentColumns& appointment_columns(Relation rel) {
  static AppointmentColumns c;
  Oid relid = RelationGetRelid(rel);
  if (c.relid == relid) return c;
  c.org = attnum(relid, "org_id");
  c.calendar = attnum(relid, "calendar_id");
  c.starts = attnum(relid, "starts_at");
  c.block_start = attnum(relid, "block_start");
  c.block_end = attnum(relid, "block_end");
  c.status = attnum(relid, "status");
  c.expires = attnum(relid, "hold_expires_at");
  c.last = std::max({c.org, c.calendar, c.starts, c.block_start, c.block_end, c.status, c.expires});
  Oid status_type = TupleDescAttr(RelationGetDescr(rel), c.status - 1)->atttypid;
  c.held = enum_value(status_type, "held");
  c.cancelled = enum_value(status_type, "cancelled");
  c.relid = relid;
  return c;
}

void read_calendar_columns(ColumnReader read, void* row, CalendarColumns* out) {
  out->time_zone = text_column(read, row, "time_zone");
  out->business_hours = jsonb_column(read, row, "business_hours");
  out->exceptions = jsonb_column(read, row, "exceptions");
  out->slot_minutes = int_column(read, row, "slot_minutes");
  out->slot_step_minutes = int_column(read, row, "slot_step_minutes");
  out->buffer_before_minutes = int_column(read, row, "buffer_before_minutes");
  out->buffer_after_minutes = int_column(read, row, "buffer_after_minutes");
  out->min_notice_minutes = int_column(read, row, "min_notice_minutes");
  out->max_days_ahead = int_column(read, row, "max_days_ahead");
  out->daily_cap = int_column(read, row, "daily_cap");
}

Calendar calendar_from(const CalendarColumns& c) {
  Calendar cal;
  cal.time_zone = c.time_zone ? c.time_zone : "";
  cal.rules.weekly = bk::parse_weekly(rules_value(c.business_hours));
  cal.rules.exceptions = bk::parse_exceptions(rules_value(c.exceptions));
  cal.rules.slot_minutes = c.slot_minutes.value_or(30);
  cal.rules.slot_step_minutes = c.slot_step_minutes;
  cal.rules.buffer_before_minutes = c.buffer_before_minutes.value_or(0);
  cal.rules.buffer_after_minutes = c.buffer_after_minutes.value_or(0);
  cal.rules.min_notice_minutes = c.min_notice_minutes.value_or(0);
  cal.rules.max_days_ahead = c.max_days_ahead.value_or(90);
  cal.rules.daily_cap = c.daily_cap;
  return cal;
}

std::shared_ptr<const Calendar> find_calendar(const Uuid& org, const Uuid& id) {
  guard([] { AcceptInvalidationMessages(); });
  CalendarKey key{org, id};
  if (auto it = cached_calendars.find(key); it != cached_calendars.end()) return it->second;
  bool keep = false;
  std::shared_ptr<const Calendar> cal = load_for_cache(
      calendar_cache_id, [&] { return load_calendar(org, id); }, &keep);
  if (!cal || !keep) return cal;
  if (cached_calendars.size() >= kCachedCalendars) cached_calendars.clear();
  cached_calendars[key] = cal;
  return cal;
}

bool Occupancy::expired_hold_meets(Micros from, Micros to) const noexcept {
  for (const booking::Slot& b : expired_blocks)
    if (b.start < to && b.end > from) return true;
  return false;
}

AppointmentReader::AppointmentReader(const Uuid& org, const Uuid& calendar) {
  memcpy(org_.data, org.bytes.data(), UUID_LEN);
  memcpy(calendar_.data, calendar.bytes.data(), UUID_LEN);
  OrgRelation where = org_relation(OrgTable::appointments, org_);
  guard([&] {
    state_ = static_cast<ReaderState*>(palloc0(sizeof(ReaderState)));
    open_reader(state_, where);
  });
}

void AppointmentReader::close() {
  ReaderState* st = state_;
  state_ = nullptr;
  if (st) guard([&] { close_reader(st); });
}

std::vector<BookingRow> AppointmentReader::rows(const bk::Slot& window) {
  BusyWindow w{&org_, &calendar_, from_unix(window.start), from_unix(window.end)};
  RawBookings raw;
  guard([&] { scan_window(state_, w, &raw); });
  std::vector<BookingRow> out;
  out.reserve(raw.count);
  for (int i = 0; i < raw.count; ++i) {
    const RawBooking& b = raw.rows[i];
    out.push_back({to_unix(b.start), to_unix(b.block_start), to_unix(b.block_end),
                   to_unix(b.expires), b.held});
  }
  std::sort(out.begin(), out.end(), by_block_start);
  return out;
}

void Occupancy::add(const BookingRow& row, Micros now) {
  if (row.held && row.expires <= now)
    expired_blocks.push_back({row.block_start, row.block_end});
  else
    active.push_back({row.start, row.block_start, row.block_end});
}

std::optional<Occupancy> committed_occupancy(const Uuid& org, const Uuid& calendar,
                                             const bk::Slot& window, Micros now, bool kept_only) {
  std::vector<BookingRow> rows;
  for (int64_t week = week_index(window.start); week <= week_index(window.end - 1); ++week) {
    check_for_interrupts();
    std::shared_ptr<const WeekRows> kept = week_rows({org, calendar, week}, kept_only);
    if (!kept) return std::nullopt;
    for (const BookingRow& row : kept->rows)
      if (row.block_start < window.end && row.block_end > window.start) rows.push_back(row);
  }
  // A block meeting two weeks came with both. Held and confirmed blocks never overlap, so the
  // rows are in block order already and a repeated block is the same appointment.
  if (!std::is_sorted(rows.begin(), rows.end(), by_block_start))
    std::stable_sort(rows.begin(), rows.end(), by_block_start);
  Occupancy out;
  for (size_t i = 0; i < rows.size(); ++i)
    if (i == 0 || !same_row(rows[i], rows[i - 1])) out.add(rows[i], now);
  return out;
}

bool kept_current(const Uuid& org, const Uuid& calendar, const bk::Slot& window) {
  for (int64_t week = week_index(window.start); week <= week_index(window.end - 1); ++week)
    if (!week_rows({org, calendar, week}, true)) return false;
  return true;
}

Micros time_arg(FunctionCallInfo fcinfo, int n, const char* name) {
  TimestampTz t = PG_GETARG_TIMESTAMPTZ(n);
  if (TIMESTAMP_NOT_FINITE(t))
    throw Error("22007", std::string(name) + " must be a finite timestamp",
                sb::given_detail(name, TIMESTAMP_IS_NOBEGIN(t) ? "-infinity" : "infinity"));
  return to_unix(t);
}

bk::Zone zone_between(const std::string& name, Micros from, Micros to) {
  pg_tz* tz = time_zone(name);
  std::vector<bk::ZoneSpan> spans;
  pg_time_t t = from / bk::kSecond, end = to / bk::kSecond + 1;
  for (int guard_count = 0; guard_count < 10000; ++guard_count) {
    check_for_interrupts();
    long before_off = 0, after_off = 0;
    int before_dst = 0, after_dst = 0, found = 0;
    pg_time_t boundary = 0;
    guard([&] {
      found =
          pg_next_dst_boundary(&t, &before_off, &before_dst, &boundary, &after_off, &after_dst, tz);
    });
    if (found < 0)
      throw Error("22023", "time zone lookup failed",
                  "The lookup in time zone \"" + name + "\" failed.");
    bool last = found == 0 || boundary >= end;
    spans.push_back(
        {t * bk::kSecond, (last ? end : boundary) * bk::kSecond, static_cast<int>(before_off)});
    if (last) break;
    t = boundary;
  }
  return bk::Zone(std::move(spans));
}

void require_time_zone(const std::string& name) {
  time_zone(name);
}

void init_booking_store() {
  calendar_cache_id = register_cache({"calendars"}, []() noexcept { cached_calendars.clear(); });
  week_cache_id = register_cache({"appointments"}, forget_weeks);
}

}  // namespace sb::pg
