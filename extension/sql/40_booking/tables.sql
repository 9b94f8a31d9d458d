-- Booking: calendars with business hours in their own time zone, appointments that never overlap
-- (an exclusion constraint is the backstop; every booking function first takes a per-calendar
-- advisory lock, so callers get clean answers instead of constraint errors), and the functions
-- that list slots and hold, book, confirm, reschedule and cancel appointments.

CREATE TYPE switchboard.appointment_status AS ENUM
  ('held', 'confirmed', 'cancelled', 'completed', 'no_show');
COMMENT ON TYPE switchboard.appointment_status IS
  'every appointment but a cancelled one occupies its calendar (a held one until hold_expires_at); '
  'completed and no_show are outcomes of a confirmed appointment and keep its block';
CREATE TYPE switchboard.appointment_source AS ENUM ('ai_call', 'dashboard', 'api');
-- How an appointment was cancelled (see the column's comment). An enum rather than text with a
-- CHECK: every statement that writes a row prepares each CHECK constraint anew.
CREATE TYPE switchboard.appointment_cancel_kind AS ENUM ('requested', 'hold_expired');

CREATE TABLE switchboard.calendars (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL CONSTRAINT calendars_name_check CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  time_zone text NOT NULL,
  business_hours jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT calendars_business_hours_check CHECK (jsonb_typeof(business_hours) = 'object'),
  exceptions jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT calendars_exceptions_check CHECK (jsonb_typeof(exceptions) = 'object'),
  slot_minutes integer NOT NULL DEFAULT 30 CHECK (slot_minutes BETWEEN 1 AND 1440),
  slot_step_minutes integer CHECK (slot_step_minutes BETWEEN 1 AND 1440),
  buffer_before_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_before_minutes BETWEEN 0 AND 1440),
  buffer_after_minutes integer NOT NULL DEFAULT 0 CHECK (buffer_after_minutes BETWEEN 0 AND 1440),
  min_notice_minutes integer NOT NULL DEFAULT 0 CHECK (min_notice_minutes BETWEEN 0 AND 525600),
  max_days_ahead integer NOT NULL DEFAULT 90 CHECK (max_days_ahead BETWEEN 1 AND 3650),
  daily_cap integer CHECK (daily_cap BETWEEN 1 AND 100000),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id)
);
COMMENT ON TABLE switchboard.calendars IS
  'bookable calendars: weekly hours and date exceptions in the calendar''s IANA time zone';
COMMENT ON COLUMN switchboard.calendars.slot_step_minutes IS 'NULL: the slot length';

CREATE TABLE switchboard.appointments (
  org_id uuid NOT NULL,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  calendar_id uuid NOT NULL,
  contact_id uuid,
  service text,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  block_start timestamptz NOT NULL,
  block_end timestamptz NOT NULL,
  status switchboard.appointment_status NOT NULL,
  hold_expires_at timestamptz,
  source switchboard.appointment_source NOT NULL DEFAULT 'api',
  idempotency_key text,
  idempotency_request bytea,
  notes text,
  metadata jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT appointments_metadata_check CHECK (jsonb_typeof(metadata) = 'object'),
  confirmed_at timestamptz,
  cancelled_at timestamptz,
  cancel_kind switchboard.appointment_cancel_kind,
  cancel_reason text,
  outcome_at timestamptz,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT appointments_calendar_fkey FOREIGN KEY (org_id, calendar_id)
    REFERENCES switchboard.calendars (org_id, id) ON DELETE CASCADE,
  CONSTRAINT appointments_times_check
    CHECK (block_start <= starts_at AND starts_at < ends_at AND ends_at <= block_end),
  CONSTRAINT appointments_hold_check CHECK (status <> 'held' OR hold_expires_at IS NOT NULL),
  -- calendar_id leads: it tells rows apart where org_id ties (one organisation's calendars), so
  -- inserting chooses a subtree on it without also weighing org_id at every level.
  CONSTRAINT appointments_no_overlap EXCLUDE USING gist (
    calendar_id WITH =, org_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&)
    WHERE (status <> 'cancelled')
);
CREATE UNIQUE INDEX appointments_idempotency_key ON switchboard.appointments (org_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
-- A calendar's appointments by start: listings, the cascade from calendars, and the booking
-- commands' reads of the blocks that occupy a window (those never overlap, so in order of
-- start they are in order of block: the ones starting in the window, at most one before it, and
-- those starting up to a day after it whose buffer reaches back into it). The only index besides
-- the primary key, the idempotency key and the exclusion constraint: every index costs each
-- booking an insert.
CREATE INDEX appointments_calendar_starts_idx
  ON switchboard.appointments (org_id, calendar_id, starts_at);
COMMENT ON TABLE switchboard.appointments IS
  'appointments; block_start/block_end are the times padded by the calendar''s buffers';
COMMENT ON COLUMN switchboard.appointments.idempotency_request IS
  'SHA-256 of the parameters the idempotency key was first used with: the same key with others is 23505';
COMMENT ON COLUMN switchboard.appointments.outcome_at IS
  'when the appointment was marked completed or no_show';
COMMENT ON COLUMN switchboard.appointments.cancel_kind IS
  'requested: cancelled by a caller; hold_expired: an expired hold released for another booking';

SELECT pg_catalog.pg_extension_config_dump('switchboard.calendars', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.appointments', '');
