-- Booking: the commands, slot search and their checks.
CREATE TRIGGER calendars_touch BEFORE UPDATE ON switchboard.calendars
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER appointments_touch BEFORE UPDATE ON switchboard.appointments
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
-- The booking commands cache each calendar's parsed rules per backend until the calendar changes.
CREATE TRIGGER calendars_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.calendars
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();
-- Ensures: the calendar-weeks the changed appointments' blocks meet count as changed, so that no
-- backend keeps using what it read of them (extension/src/pg/booking_changes.hpp). Fired under
-- session_replication_role = replica too.
CREATE FUNCTION switchboard._booking_appointments_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'sb_appointments_changed';
CREATE TRIGGER appointments_changed
  AFTER INSERT OR DELETE
     OR UPDATE OF org_id, calendar_id, starts_at, block_start, block_end, status, hold_expires_at
  ON switchboard.appointments
  FOR EACH ROW EXECUTE FUNCTION switchboard._booking_appointments_changed();
ALTER TABLE switchboard.appointments ENABLE ALWAYS TRIGGER appointments_changed;
SELECT switchboard.protect('switchboard.calendars', 'org_id', 'viewer', 'manager', 'manager', 'admin');
SELECT switchboard.protect('switchboard.appointments', 'org_id', 'viewer', 'agent', 'agent', 'admin');

-- The slot generator with a fixed "now", for the tests (C++). Internal: not granted.
CREATE FUNCTION switchboard._booking_rules(business_hours jsonb, options jsonb) RETURNS jsonb
  LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_rules';
COMMENT ON FUNCTION switchboard._booking_rules(jsonb, jsonb) IS
  'the normalised rules of valid business hours and options; 22023/22007 naming the problem';
-- `cal` is a row of switchboard.calendars, typed record: on a Citus worker a query over the table
-- passes the row of its shard (switchboard.calendars_<shardid>), whose columns are the same; the
-- columns are read by name.
CREATE FUNCTION switchboard._booking_slots(
  cal record, busy_starts timestamptz[], busy_block_starts timestamptz[],
  busy_block_ends timestamptz[], from_ts timestamptz, to_ts timestamptz, duration_minutes integer,
  now timestamptz)
  RETURNS TABLE (starts_at timestamptz, ends_at timestamptz)
  LANGUAGE c STABLE STRICT ROWS 100 AS 'MODULE_PATHNAME', 'sb_booking_slots';
CREATE FUNCTION switchboard._booking_refusal(
  cal record, busy_starts timestamptz[], busy_block_starts timestamptz[],
  busy_block_ends timestamptz[], starts_at timestamptz, duration_minutes integer, now timestamptz)
  RETURNS text LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_refusal';

-- The booking commands, each one C++ call (extension/src/pg/booking): the request validated in
-- one order (org_id, the caller's role, the ids, the start, the duration), the caller authorised
-- by sb::pg::require_role (switchboard.assert_role's rule and wording), the locks taken in one
-- order (the idempotency key, the calendar, the appointment's row) and one answer builder
-- (core/booking/booking_answer).

-- Ensures: a new calendar of the organisation (caller: manager or above, or service_role).
CREATE FUNCTION switchboard.create_calendar(org_id uuid, name text, time_zone text,
  business_hours jsonb, options jsonb DEFAULT '{}')
  RETURNS uuid LANGUAGE c AS 'MODULE_PATHNAME', 'sb_create_calendar';

-- Ensures: the calendar carries the changes (name, timeZone, businessHours and option keys), all
-- validated together (caller: manager or above, or service_role).
CREATE FUNCTION switchboard.update_calendar(org_id uuid, calendar_id uuid, changes jsonb)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_update_calendar';

-- Ensures: the free slots of the calendar starting in [from_ts, to_ts) (at most 92 days), of
-- duration_minutes (default: the calendar's slot length), in order, their times written as every
-- booking answer writes them (switchboard.answer_time's form in the calendar's zone:
-- 2027-03-15T10:00:00-04:00); starts_at::timestamptz reads one back.
CREATE FUNCTION switchboard.available_slots(org_id uuid, calendar_id uuid, from_ts timestamptz,
  to_ts timestamptz, duration_minutes integer DEFAULT NULL)
  RETURNS TABLE (starts_at text, ends_at text)
  LANGUAGE c STABLE ROWS 50 AS 'MODULE_PATHNAME', 'sb_available_slots';

-- Ensures: a hold on the slot for hold_seconds (default 300) when it can be booked now:
-- {held, reason, appointmentId, startsAt, endsAt, expiresAt}, or {held: false, reason, alternatives}.
CREATE FUNCTION switchboard.hold_slot(org_id uuid, calendar_id uuid, starts_at timestamptz,
  duration_minutes integer, contact_id uuid DEFAULT NULL, hold_seconds integer DEFAULT 300,
  idempotency_key text DEFAULT NULL)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_hold_slot';

-- Ensures: a confirmed appointment when the slot can be booked now: {booked, reason,
-- appointmentId, startsAt, endsAt}, or {booked: false, reason, alternatives}. The calendar's rules
-- come from a per-backend cache, and a refusal seen in committed appointments is answered without
-- locking; a free slot is re-checked and inserted under the calendar's advisory lock.
CREATE FUNCTION switchboard.book_appointment(org_id uuid, calendar_id uuid, starts_at timestamptz,
  duration_minutes integer, contact_id uuid DEFAULT NULL, details jsonb DEFAULT '{}',
  idempotency_key text DEFAULT NULL)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_book_appointment';

-- Ensures: a live hold becomes confirmed; an expired one is re-checked and confirmed if its slot
-- is still free (else HOLD_EXPIRED with alternatives); confirming twice answers ALREADY_CONFIRMED.
CREATE FUNCTION switchboard.confirm_appointment(org_id uuid, appointment_id uuid)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_confirm_appointment';

-- Ensures: the appointment moves to new_starts_at in one update (it never holds both slots or
-- neither), or stays where it was with a refusal and alternatives.
CREATE FUNCTION switchboard.reschedule_appointment(org_id uuid, appointment_id uuid,
  new_starts_at timestamptz, duration_minutes integer DEFAULT NULL)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_reschedule_appointment';

-- Ensures: the appointment is cancelled (cancelling again answers ALREADY_CANCELLED and changes
-- nothing); completed and no-show appointments are not (INVALID_STATE).
CREATE FUNCTION switchboard.cancel_appointment(org_id uuid, appointment_id uuid, reason text DEFAULT NULL)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_cancel_appointment';

-- Ensures: a confirmed appointment whose start has passed is completed: {completed, reason
-- COMPLETED or ALREADY_COMPLETED, appointmentId, ...}, else INVALID_STATE or NOT_FOUND. The block
-- stays occupied: an outcome never frees time on the calendar.
CREATE FUNCTION switchboard.complete_appointment(org_id uuid, appointment_id uuid)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_complete_appointment';

-- Ensures: a confirmed appointment whose start has passed is a no-show: {noShow, reason NO_SHOW
-- or ALREADY_NO_SHOW, appointmentId, ...}, else INVALID_STATE or NOT_FOUND.
CREATE FUNCTION switchboard.mark_no_show(org_id uuid, appointment_id uuid)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_mark_no_show';
