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

-- The booking core (C++): validation, slots, refusals and alternatives. Internal: not granted.
CREATE FUNCTION switchboard._booking_rules(business_hours jsonb, options jsonb) RETURNS jsonb
  LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_rules';
COMMENT ON FUNCTION switchboard._booking_rules(jsonb, jsonb) IS
  'the normalised rules of valid business hours and options; 22023/22007 naming the problem';
CREATE FUNCTION switchboard._booking_time_zone(name text) RETURNS text
  LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_time_zone';
CREATE FUNCTION switchboard._booking_slots(
  cal switchboard.calendars, busy_starts timestamptz[], busy_block_starts timestamptz[],
  busy_block_ends timestamptz[], from_ts timestamptz, to_ts timestamptz, duration_minutes integer,
  now timestamptz)
  RETURNS TABLE (starts_at timestamptz, ends_at timestamptz)
  LANGUAGE c STABLE STRICT ROWS 100 AS 'MODULE_PATHNAME', 'sb_booking_slots';
CREATE FUNCTION switchboard._booking_refusal(
  cal switchboard.calendars, busy_starts timestamptz[], busy_block_starts timestamptz[],
  busy_block_ends timestamptz[], starts_at timestamptz, duration_minutes integer, now timestamptz)
  RETURNS text LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_refusal';
CREATE FUNCTION switchboard._booking_alternatives(
  cal switchboard.calendars, busy_starts timestamptz[], busy_block_starts timestamptz[],
  busy_block_ends timestamptz[], starts_at timestamptz, duration_minutes integer, now timestamptz,
  radius_days integer)
  RETURNS jsonb LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_alternatives';
CREATE FUNCTION switchboard._booking_local_iso(ts timestamptz, time_zone text) RETURNS text
  LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_local_iso';
CREATE FUNCTION switchboard._booking_lock_key(org_id uuid, name text) RETURNS bigint
  LANGUAGE c IMMUTABLE STRICT AS 'MODULE_PATHNAME', 'sb_booking_lock_key';
COMMENT ON FUNCTION switchboard._booking_lock_key(uuid, text) IS
  'the advisory-lock key of a calendar (name = its id as text) or an idempotency key (''idempotency:'' || key)';

-- Ensures: the caller is service_role or a member of org with at least min_role; 42501 otherwise.
CREATE FUNCTION switchboard._booking_authorize(org uuid, min_role switchboard.member_role)
  RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org, 'org_id');
  IF switchboard.is_service_role() OR switchboard.has_role_at_least(org, min_role) THEN
    RETURN;
  END IF;
  RAISE EXCEPTION 'permission denied for booking in this organization' USING ERRCODE = '42501',
    DETAIL = format('org_id: %s, required role: %s', org, min_role),
    HINT = 'the caller must be service_role or a member with this role or above';
END
$$;

-- Ensures: this transaction holds the advisory lock of `name` in org until it ends.
CREATE FUNCTION switchboard._booking_lock(org uuid, name text) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_catalog.pg_advisory_xact_lock(switchboard._booking_lock_key(org, name));
END
$$;

-- Ensures: a request the booking functions accept: a finite start (named start_name) and 1 to
-- 1440 minutes.
CREATE FUNCTION switchboard._booking_require_request(start timestamptz, minutes integer,
  start_name text DEFAULT 'starts_at')
  RETURNS void LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(start, start_name);
  PERFORM switchboard.require_arg(minutes, 'duration_minutes');
  IF NOT isfinite(start) THEN
    RAISE EXCEPTION '% must be a finite timestamp', start_name USING ERRCODE = '22007',
      DETAIL = format('%s: %s', start_name, start);
  END IF;
  IF minutes NOT BETWEEN 1 AND 1440 THEN
    RAISE EXCEPTION 'duration_minutes must be between 1 and 1440' USING ERRCODE = '22023',
      DETAIL = format('duration_minutes: %s', minutes), HINT = 'appointments last at most 24 hours';
  END IF;
END
$$;

-- Ensures: the starts and padded blocks of the calendar's active appointments meeting [lo, hi),
-- appointment `skip` left out (expired holds are not active).
CREATE FUNCTION switchboard._booking_busy(org uuid, cal uuid, lo timestamptz, hi timestamptz, skip uuid,
  OUT starts timestamptz[], OUT block_starts timestamptz[], OUT block_ends timestamptz[])
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  SELECT coalesce(array_agg(a.starts_at), '{}'), coalesce(array_agg(a.block_start), '{}'),
         coalesce(array_agg(a.block_end), '{}')
    INTO starts, block_starts, block_ends
    FROM switchboard.appointments a
   WHERE a.org_id = org AND a.calendar_id = cal AND a.status <> 'cancelled'
     AND (a.status <> 'held' OR a.hold_expires_at > now())
     AND tstzrange(a.block_start, a.block_end, '[)') && tstzrange(lo, hi, '[)')
     AND a.id IS DISTINCT FROM skip;
END
$$;

-- Ensures: NULL when [start, start + minutes) can be booked now on calendar c (appointment `skip`
-- ignored); otherwise {"reason": ..., "alternatives": [up to 3 nearest free starts]}, searched
-- within a day first and within a week when that finds fewer than 3.
CREATE FUNCTION switchboard._booking_refusal_of(c switchboard.calendars, start timestamptz,
  minutes integer, skip uuid)
  RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  b record;
  v_reason text;
  v_alternatives jsonb;
BEGIN
  SELECT * INTO b FROM switchboard._booking_busy(c.org_id, c.id, start - interval '48 hours',
                                                 start + interval '72 hours', skip);
  v_reason := switchboard._booking_refusal(c, b.starts, b.block_starts, b.block_ends, start, minutes, now());
  IF v_reason IS NULL THEN
    RETURN NULL;
  END IF;
  v_alternatives := switchboard._booking_alternatives(c, b.starts, b.block_starts, b.block_ends, start,
                                                      minutes, now(), 1);
  IF jsonb_array_length(v_alternatives) < 3 THEN
    SELECT * INTO b FROM switchboard._booking_busy(c.org_id, c.id, start - interval '216 hours',
                                                   start + interval '240 hours', skip);
    v_alternatives := switchboard._booking_alternatives(c, b.starts, b.block_starts, b.block_ends, start,
                                                        minutes, now(), 7);
  END IF;
  RETURN jsonb_build_object('reason', v_reason, 'alternatives', v_alternatives);
END
$$;

-- Ensures: the block an appointment of `minutes` at `start` occupies on calendar c.
CREATE FUNCTION switchboard._booking_block(c switchboard.calendars, start timestamptz, minutes integer)
  RETURNS tstzrange LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN tstzrange(start - make_interval(mins => c.buffer_before_minutes),
                   start + make_interval(mins => minutes + c.buffer_after_minutes), '[)');
END
$$;

-- Ensures: expired holds of the calendar overlapping `block` (other than `keep`) no longer
-- occupy it: they become cancelled with cancel_kind 'hold_expired'.
CREATE FUNCTION switchboard._booking_release_expired(org uuid, cal uuid, block tstzrange, keep uuid)
  RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE switchboard.appointments x
     SET status = 'cancelled', cancel_kind = 'hold_expired', cancelled_at = x.hold_expires_at
   WHERE x.org_id = org AND x.calendar_id = cal AND x.status = 'held' AND x.hold_expires_at <= now()
     AND tstzrange(x.block_start, x.block_end, '[)') && block AND x.id IS DISTINCT FROM keep;
END
$$;

-- Ensures: the answer of a successful command on appointment a, times in the zone tz.
CREATE FUNCTION switchboard._booking_answer(verb text, reason text, a switchboard.appointments, tz text)
  RETURNS jsonb LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(verb, true, 'reason', reason, 'appointmentId', a.id,
           'calendarId', a.calendar_id, 'status', a.status,
           'startsAt', switchboard._booking_local_iso(a.starts_at, tz),
           'endsAt', switchboard._booking_local_iso(a.ends_at, tz))
         || CASE WHEN a.status = 'held'
                 THEN jsonb_build_object('expiresAt', switchboard._booking_local_iso(a.hold_expires_at, tz))
                 ELSE '{}' END;
END
$$;

-- Ensures: the answer of a refused command: {<verb>: false, reason, alternatives: []}.
CREATE FUNCTION switchboard._booking_refused(verb text, reason text) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RETURN jsonb_build_object(verb, false, 'reason', reason, 'alternatives', '[]'::jsonb);
END
$$;

-- Ensures: the caller may change appointments of org, and appointment `appointment` of org is
-- row-locked with its calendar's advisory lock held; a row of NULLs when there is no such one.
CREATE FUNCTION switchboard._booking_lock_appointment(org uuid, appointment uuid)
  RETURNS switchboard.appointments LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_cal uuid;
  a switchboard.appointments;
BEGIN
  PERFORM switchboard._booking_authorize(org, 'agent');
  PERFORM switchboard.require_arg(appointment, 'appointment_id');
  SELECT x.calendar_id INTO v_cal FROM switchboard.appointments x
   WHERE x.org_id = org AND x.id = appointment;
  IF FOUND THEN
    PERFORM switchboard._booking_lock(org, v_cal::text);
    SELECT * INTO a FROM switchboard.appointments x WHERE x.org_id = org AND x.id = appointment FOR UPDATE;
  END IF;
  RETURN a;
END
$$;

-- Ensures: the calendar of appointment a.
CREATE FUNCTION switchboard._booking_calendar_of(a switchboard.appointments)
  RETURNS switchboard.calendars LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  c switchboard.calendars;
BEGIN
  SELECT * INTO c FROM switchboard.calendars k WHERE k.org_id = a.org_id AND k.id = a.calendar_id;
  RETURN c;
END
$$;

-- Ensures: the rules stored on calendar (org, cal) are r (the output of _booking_rules).
CREATE FUNCTION switchboard._booking_store_rules(org uuid, cal uuid, r jsonb)
  RETURNS void LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  UPDATE switchboard.calendars k
     SET business_hours = r -> 'businessHours', exceptions = r -> 'exceptions',
         slot_minutes = (r ->> 'slotMinutes')::integer,
         slot_step_minutes = (r ->> 'slotStepMinutes')::integer,
         buffer_before_minutes = (r ->> 'bufferBeforeMinutes')::integer,
         buffer_after_minutes = (r ->> 'bufferAfterMinutes')::integer,
         min_notice_minutes = (r ->> 'minNoticeMinutes')::integer,
         max_days_ahead = (r ->> 'maxDaysAhead')::integer,
         daily_cap = (r ->> 'dailyCap')::integer
   WHERE k.org_id = org AND k.id = cal
$$;

-- Ensures: the options of calendar c, in the form create_calendar accepts.
CREATE FUNCTION switchboard._booking_options(c switchboard.calendars)
  RETURNS jsonb LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_object('slotMinutes', c.slot_minutes, 'slotStepMinutes', c.slot_step_minutes,
           'bufferBeforeMinutes', c.buffer_before_minutes, 'bufferAfterMinutes', c.buffer_after_minutes,
           'minNoticeMinutes', c.min_notice_minutes, 'maxDaysAhead', c.max_days_ahead,
           'dailyCap', c.daily_cap, 'exceptions', c.exceptions)
$$;

-- Ensures: the calendar's public description (name, timeZone, businessHours and every option).
CREATE FUNCTION switchboard._booking_describe(c switchboard.calendars)
  RETURNS jsonb LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_object('calendarId', c.id, 'name', c.name, 'timeZone', c.time_zone,
           'businessHours', c.business_hours) || switchboard._booking_options(c)
$$;

-- Ensures: a calendar name of 1 to 200 visible characters (22023 otherwise).
CREATE FUNCTION switchboard._booking_require_name(name text)
  RETURNS void LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(name, 'name');
  IF length(btrim(name)) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'calendar name must have 1 to 200 characters' USING ERRCODE = '22023',
      DETAIL = format('name: "%s"', name);
  END IF;
END
$$;

-- Ensures: a new calendar of the organisation (caller: manager or above, or service_role).
CREATE FUNCTION switchboard.create_calendar(org_id uuid, name text, time_zone text,
  business_hours jsonb, options jsonb DEFAULT '{}')
  RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  v_rules jsonb;
  v_id uuid;
BEGIN
  PERFORM switchboard._booking_authorize(org_id, 'manager');
  PERFORM switchboard.require_organization(org_id);
  PERFORM switchboard._booking_require_name(name);
  PERFORM switchboard.require_arg(time_zone, 'time_zone');
  PERFORM switchboard.require_arg(business_hours, 'business_hours');
  PERFORM switchboard.require_arg(options, 'options');
  v_rules := switchboard._booking_rules(business_hours, options);
  INSERT INTO switchboard.calendars (org_id, name, time_zone, created_by)
    VALUES (org_id, btrim(name), switchboard._booking_time_zone(time_zone), switchboard.current_user_id())
    RETURNING id INTO v_id;
  PERFORM switchboard._booking_store_rules(org_id, v_id, v_rules);
  RETURN v_id;
END
$$;

-- Ensures: the calendar carries the changes (name, timeZone, businessHours and option keys), all
-- validated together (caller: manager or above, or service_role).
CREATE FUNCTION switchboard.update_calendar(org_id uuid, calendar_id uuid, changes jsonb)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  c switchboard.calendars;
  v_rules jsonb;
BEGIN
  PERFORM switchboard._booking_authorize(org_id, 'manager');
  PERFORM switchboard.require_arg(calendar_id, 'calendar_id');
  PERFORM switchboard.require_arg(changes, 'changes');
  IF jsonb_typeof(changes) <> 'object' THEN
    RAISE EXCEPTION 'changes must be a json object' USING ERRCODE = '22023',
      DETAIL = format('changes: %s', changes);
  END IF;
  IF (changes ? 'name' AND jsonb_typeof(changes -> 'name') <> 'string')
     OR (changes ? 'timeZone' AND jsonb_typeof(changes -> 'timeZone') <> 'string') THEN
    RAISE EXCEPTION 'name and timeZone must be strings' USING ERRCODE = '22023',
      DETAIL = format('name: %s, timeZone: %s', changes -> 'name', changes -> 'timeZone');
  END IF;
  PERFORM switchboard._booking_lock(org_id, calendar_id::text);
  SELECT * INTO c FROM switchboard.calendars k WHERE k.org_id = org_id AND k.id = calendar_id;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('updated', false, 'reason', 'CALENDAR_NOT_FOUND');
  END IF;
  PERFORM switchboard._booking_require_name(coalesce(changes ->> 'name', c.name));
  v_rules := switchboard._booking_rules(coalesce(changes -> 'businessHours', c.business_hours),
    switchboard._booking_options(c) || (changes - 'name' - 'timeZone' - 'businessHours'));
  UPDATE switchboard.calendars k
     SET name = btrim(coalesce(changes ->> 'name', c.name)),
         time_zone = switchboard._booking_time_zone(coalesce(changes ->> 'timeZone', c.time_zone))
   WHERE k.org_id = org_id AND k.id = calendar_id;
  PERFORM switchboard._booking_store_rules(org_id, calendar_id, v_rules);
  SELECT * INTO c FROM switchboard.calendars k WHERE k.org_id = org_id AND k.id = calendar_id;
  RETURN jsonb_build_object('updated', true, 'reason', 'UPDATED', 'calendar', switchboard._booking_describe(c));
END
$$;

-- Ensures: the free slots of the calendar starting in [from_ts, to_ts) (at most 92 days), of
-- duration_minutes (default: the calendar's slot length).
CREATE FUNCTION switchboard.available_slots(org_id uuid, calendar_id uuid, from_ts timestamptz,
  to_ts timestamptz, duration_minutes integer DEFAULT NULL)
  RETURNS TABLE (starts_at timestamptz, ends_at timestamptz)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp ROWS 50 AS $$
#variable_conflict use_variable
DECLARE
  c switchboard.calendars;
  b record;
BEGIN
  PERFORM switchboard._booking_authorize(org_id, 'agent');
  PERFORM switchboard.require_arg(calendar_id, 'calendar_id');
  PERFORM switchboard.require_arg(from_ts, 'from_ts');
  PERFORM switchboard.require_arg(to_ts, 'to_ts');
  SELECT * INTO c FROM switchboard.calendars k WHERE k.org_id = org_id AND k.id = calendar_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'calendar not found' USING ERRCODE = 'P0002',
      DETAIL = format('calendar_id: %s', calendar_id);
  END IF;
  IF isfinite(from_ts) AND isfinite(to_ts) AND to_ts > from_ts AND to_ts - from_ts <= interval '2208 hours' THEN
    SELECT * INTO b FROM switchboard._booking_busy(org_id, calendar_id, from_ts - interval '48 hours',
                                                   to_ts + interval '72 hours', NULL);
  ELSE
    SELECT '{}'::timestamptz[] AS starts, '{}'::timestamptz[] AS block_starts,
           '{}'::timestamptz[] AS block_ends INTO b;  -- the core refuses this window
  END IF;
  RETURN QUERY SELECT * FROM switchboard._booking_slots(c, b.starts, b.block_starts, b.block_ends,
    from_ts, to_ts, coalesce(duration_minutes, c.slot_minutes), now());
END
$$;

-- Ensures: a hold on the slot for hold_seconds (default 300) when it can be booked now:
-- {held, reason, appointmentId, startsAt, endsAt, expiresAt}, or {held: false, reason, alternatives}.
-- One C++ call (extension/src/pg/booking_commands.cpp), like book_appointment.
CREATE FUNCTION switchboard.hold_slot(org_id uuid, calendar_id uuid, starts_at timestamptz,
  duration_minutes integer, contact_id uuid DEFAULT NULL, hold_seconds integer DEFAULT 300,
  idempotency_key text DEFAULT NULL)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_hold_slot';

-- Ensures: a confirmed appointment when the slot can be booked now: {booked, reason,
-- appointmentId, startsAt, endsAt}, or {booked: false, reason, alternatives}. The caller is
-- authorised, the request validated, the calendar's rules read from a per-backend cache, and a
-- refusal seen in committed appointments answered without locking; a free slot is re-checked and
-- inserted under the calendar's advisory lock (the same lock every other booking function takes).
CREATE FUNCTION switchboard.book_appointment(org_id uuid, calendar_id uuid, starts_at timestamptz,
  duration_minutes integer, contact_id uuid DEFAULT NULL, details jsonb DEFAULT '{}',
  idempotency_key text DEFAULT NULL)
  RETURNS jsonb LANGUAGE c AS 'MODULE_PATHNAME', 'sb_book_appointment';

-- Ensures: a live hold becomes confirmed; an expired one is re-checked and confirmed if its slot
-- is still free (else HOLD_EXPIRED with alternatives); confirming twice answers ALREADY_CONFIRMED.
CREATE FUNCTION switchboard.confirm_appointment(org_id uuid, appointment_id uuid)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  a switchboard.appointments;
  c switchboard.calendars;
  v_refusal jsonb;
BEGIN
  a := switchboard._booking_lock_appointment(org_id, appointment_id);
  IF a.id IS NULL THEN
    RETURN switchboard._booking_refused('confirmed', 'NOT_FOUND');
  END IF;
  c := switchboard._booking_calendar_of(a);
  IF a.status = 'confirmed' THEN
    RETURN switchboard._booking_answer('confirmed', 'ALREADY_CONFIRMED', a, c.time_zone);
  END IF;
  IF NOT (a.status = 'held' OR (a.status = 'cancelled' AND a.cancel_kind = 'hold_expired')) THEN
    RETURN switchboard._booking_refused('confirmed', 'INVALID_STATE') || jsonb_build_object('status', a.status);
  END IF;
  IF a.status <> 'held' OR a.hold_expires_at <= now() THEN
    v_refusal := switchboard._booking_refusal_of(c, a.starts_at,
                   (extract(epoch FROM a.ends_at - a.starts_at) / 60)::integer, a.id);
    IF v_refusal IS NOT NULL THEN
      RETURN jsonb_build_object('confirmed', false, 'reason', 'HOLD_EXPIRED',
                                'slotReason', v_refusal -> 'reason', 'alternatives', v_refusal -> 'alternatives');
    END IF;
    PERFORM switchboard._booking_release_expired(org_id, a.calendar_id,
              tstzrange(a.block_start, a.block_end, '[)'), a.id);
  END IF;
  UPDATE switchboard.appointments x
     SET status = 'confirmed', confirmed_at = now(), cancelled_at = NULL, cancel_kind = NULL
   WHERE x.org_id = org_id AND x.id = appointment_id
  RETURNING * INTO a;
  RETURN switchboard._booking_answer('confirmed', 'CONFIRMED', a, c.time_zone);
END
$$;

-- Ensures: the appointment moves to new_starts_at in one update (it never holds both slots or
-- neither), or stays where it was with a refusal and alternatives.
CREATE FUNCTION switchboard.reschedule_appointment(org_id uuid, appointment_id uuid,
  new_starts_at timestamptz, duration_minutes integer DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  a switchboard.appointments;
  c switchboard.calendars;
  v_minutes integer;
  v_refusal jsonb;
  v_block tstzrange;
  v_before jsonb;
BEGIN
  PERFORM switchboard._booking_require_request(new_starts_at, coalesce(duration_minutes, 1),
                                               'new_starts_at');
  a := switchboard._booking_lock_appointment(org_id, appointment_id);
  IF a.id IS NULL THEN
    RETURN switchboard._booking_refused('rescheduled', 'NOT_FOUND');
  END IF;
  IF a.status = 'held' AND a.hold_expires_at <= now() THEN
    RETURN switchboard._booking_refused('rescheduled', 'HOLD_EXPIRED');
  END IF;
  IF a.status NOT IN ('held', 'confirmed') THEN
    RETURN switchboard._booking_refused('rescheduled', 'INVALID_STATE') || jsonb_build_object('status', a.status);
  END IF;
  c := switchboard._booking_calendar_of(a);
  v_minutes := coalesce(duration_minutes, (extract(epoch FROM a.ends_at - a.starts_at) / 60)::integer);
  v_refusal := switchboard._booking_refusal_of(c, new_starts_at, v_minutes, a.id);
  IF v_refusal IS NOT NULL THEN
    RETURN jsonb_build_object('rescheduled', false) || v_refusal;
  END IF;
  v_block := switchboard._booking_block(c, new_starts_at, v_minutes);
  PERFORM switchboard._booking_release_expired(org_id, a.calendar_id, v_block, a.id);
  v_before := jsonb_build_object('previousStartsAt', switchboard._booking_local_iso(a.starts_at, c.time_zone),
                                 'previousEndsAt', switchboard._booking_local_iso(a.ends_at, c.time_zone));
  UPDATE switchboard.appointments x
     SET starts_at = new_starts_at, ends_at = new_starts_at + make_interval(mins => v_minutes),
         block_start = lower(v_block), block_end = upper(v_block)
   WHERE x.org_id = org_id AND x.id = appointment_id
  RETURNING * INTO a;
  RETURN switchboard._booking_answer('rescheduled', 'RESCHEDULED', a, c.time_zone) || v_before;
END
$$;

-- Ensures: the appointment is cancelled (cancelling again answers ALREADY_CANCELLED and changes
-- nothing); completed and no-show appointments are not (INVALID_STATE).
CREATE FUNCTION switchboard.cancel_appointment(org_id uuid, appointment_id uuid, reason text DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_variable
DECLARE
  a switchboard.appointments;
  c switchboard.calendars;
BEGIN
  a := switchboard._booking_lock_appointment(org_id, appointment_id);
  IF a.id IS NULL THEN
    RETURN switchboard._booking_refused('cancelled', 'NOT_FOUND');
  END IF;
  c := switchboard._booking_calendar_of(a);
  IF a.status = 'cancelled' THEN
    RETURN switchboard._booking_answer('cancelled', 'ALREADY_CANCELLED', a, c.time_zone);
  END IF;
  IF a.status NOT IN ('held', 'confirmed') THEN
    RETURN switchboard._booking_refused('cancelled', 'INVALID_STATE') || jsonb_build_object('status', a.status);
  END IF;
  UPDATE switchboard.appointments x
     SET status = 'cancelled', cancelled_at = now(), cancel_kind = 'requested', cancel_reason = reason
   WHERE x.org_id = org_id AND x.id = appointment_id
  RETURNING * INTO a;
  RETURN switchboard._booking_answer('cancelled', 'CANCELLED', a, c.time_zone);
END
$$;

-- Ensures: appointment `appointment` of org has outcome `outcome` (completed or no_show), answered
-- as {<verb>, reason, ...}: only a confirmed appointment whose start has passed takes it (reason
-- `reason`); the same outcome again answers ALREADY_<reason> and changes nothing; any other state,
-- including the other outcome or a start still ahead, is INVALID_STATE with the status. The block
-- stays occupied: an outcome never frees time on the calendar.
CREATE FUNCTION switchboard._booking_set_outcome(org uuid, appointment uuid,
  outcome switchboard.appointment_status, verb text, reason text)
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  a switchboard.appointments;
  c switchboard.calendars;
BEGIN
  a := switchboard._booking_lock_appointment(org, appointment);
  IF a.id IS NULL THEN
    RETURN switchboard._booking_refused(verb, 'NOT_FOUND');
  END IF;
  c := switchboard._booking_calendar_of(a);
  IF a.status = outcome THEN
    RETURN switchboard._booking_answer(verb, 'ALREADY_' || reason, a, c.time_zone);
  END IF;
  IF a.status <> 'confirmed' OR a.starts_at > now() THEN
    RETURN switchboard._booking_refused(verb, 'INVALID_STATE') || jsonb_build_object('status', a.status);
  END IF;
  UPDATE switchboard.appointments x SET status = outcome, outcome_at = now()
   WHERE x.org_id = org AND x.id = appointment
  RETURNING * INTO a;
  RETURN switchboard._booking_answer(verb, reason, a, c.time_zone);
END
$$;

-- Ensures: a confirmed appointment whose start has passed is completed: {completed, reason
-- COMPLETED or ALREADY_COMPLETED, appointmentId, ...}, else INVALID_STATE or NOT_FOUND.
CREATE FUNCTION switchboard.complete_appointment(org_id uuid, appointment_id uuid)
  RETURNS jsonb LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT switchboard._booking_set_outcome($1, $2, 'completed', 'completed', 'COMPLETED')
$$;

-- Ensures: a confirmed appointment whose start has passed is a no-show: {noShow, reason NO_SHOW
-- or ALREADY_NO_SHOW, appointmentId, ...}, else INVALID_STATE or NOT_FOUND.
CREATE FUNCTION switchboard.mark_no_show(org_id uuid, appointment_id uuid)
  RETURNS jsonb LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT switchboard._booking_set_outcome($1, $2, 'no_show', 'noShow', 'NO_SHOW')
$$;
