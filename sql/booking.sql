-- Booking: slot generation (DST days in America/New_York, exceptions, buffers, notice, horizon,
-- caps), holds, bookings, confirmations, reschedules, cancellations, bad input and tenancy.
set client_min_messages = warning;
set timezone = 'UTC';
set datestyle = 'ISO, YMD';
\set A '00000000-0000-4000-8000-00000000a000'
\set B '00000000-0000-4000-8000-00000000b000'
\set owner_a '00000000-0000-4000-8000-00000000a001'
\set admin_a '00000000-0000-4000-8000-00000000a002'
\set manager_a '00000000-0000-4000-8000-00000000a003'
\set agent_a '00000000-0000-4000-8000-00000000a004'
\set viewer_a '00000000-0000-4000-8000-00000000a005'
\set owner_b '00000000-0000-4000-8000-00000000b001'
\set agent_b '00000000-0000-4000-8000-00000000b004'
\set nowhere '00000000-0000-4000-8000-00000000dead'
insert into switchboard.organizations (id, name, slug) values (:'A', 'Clinic A', 'clinic-a'), (:'B', 'Clinic B', 'clinic-b');
insert into switchboard.organization_members (org_id, user_id, role) values
  (:'A', :'owner_a', 'owner'), (:'A', :'admin_a', 'admin'), (:'A', :'manager_a', 'manager'),
  (:'A', :'agent_a', 'agent'), (:'A', :'viewer_a', 'viewer'), (:'B', :'owner_b', 'owner'), (:'B', :'agent_b', 'agent');

-- Runs a statement; returns 'ok' or its SQLSTATE, message and detail.
create function pg_temp.try(statement text) returns text language plpgsql as $$
declare
  s text; m text; d text;
begin
  execute statement;
  return 'ok';
exception when others then
  get stacked diagnostics s = returned_sqlstate, m = message_text, d = pg_exception_detail;
  -- A Citus node's message names the shard ("appointments_no_overlap_102093"): name the
  -- constraint or table, as one server does.
  m := regexp_replace(m, '(relation|constraint) "(\w+)_[0-9]{6,}"', '\1 "\2"');
  return s || ': ' || m || coalesce(' (' || nullif(d, '') || ')', '');
end
$$;

-- A command's answer in one line: its booleans, reason, local times, alternatives and status.
create function pg_temp.brief(r jsonb) returns text language sql as $$
  select concat_ws(' ',
    (select string_agg(key || '=' || value::text, ' ' order by key) from jsonb_each(r) where jsonb_typeof(value) = 'boolean'),
    r ->> 'reason',
    case when r ? 'startsAt' then substr(r ->> 'startsAt', 12, 5) || '-' || substr(r ->> 'endsAt', 12, 5) end,
    case when r ? 'previousStartsAt' then 'was ' || substr(r ->> 'previousStartsAt', 12, 5) end,
    case when r ? 'slotReason' then 'slot ' || (r ->> 'slotReason') end,
    case when jsonb_array_length(coalesce(r -> 'alternatives', '[]')) > 0 then 'alt ' ||
      (select string_agg(substr(x, 12, 5), ',') from jsonb_array_elements_text(r -> 'alternatives') x) end,
    case when r ? 'status' then 'status=' || (r ->> 'status') end)
$$;

-- Local starts ("HH:MI") of the free slots of calendar `cal` in org A on local date `day`.
create function pg_temp.free_on(cal uuid, day date, minutes integer default null) returns text language sql as $$
  select coalesce(string_agg(to_char(s.starts_at::timestamptz at time zone 'America/New_York', 'HH24:MI'), ' ' order by s.starts_at::timestamptz), '-')
    from switchboard.available_slots('00000000-0000-4000-8000-00000000a000', cal,
      day::timestamp at time zone 'America/New_York', (day + 1)::timestamp at time zone 'America/New_York', minutes) s
$$;

-- A local date and time of America/New_York as timestamptz.
create function pg_temp.ny(day date, clock text) returns timestamptz language sql as $$
  select (day::text || ' ' || clock)::timestamp at time zone 'America/New_York'
$$;

--
-- Slot generation on fixed dates (the internal generator, with a fixed "now").
--
select switchboard.create_calendar(:'A', 'Night line', 'America/New_York',
  '{"sun": [["00:00", "05:00"]]}', '{"maxDaysAhead": 3650}') as night \gset
-- Spring forward (2026-03-08): 02:00-03:00 does not exist, so 4 real hours hold 8 slots.
select to_char(s.starts_at at time zone 'America/New_York', 'HH24:MI') as local, s.starts_at, s.ends_at
  from switchboard.calendars c,
       switchboard._booking_slots(c, '{}', '{}', '{}', '2026-03-08 05:00+00', '2026-03-09 04:00+00', 30, '2026-01-01') s
 where c.id = :'night';
-- Fall back (2026-11-01): 01:00-02:00 happens twice, so 01:00 and 01:30 appear twice (5 real hours).
select to_char(s.starts_at at time zone 'America/New_York', 'HH24:MI') as local, s.starts_at
  from switchboard.calendars c,
       switchboard._booking_slots(c, '{}', '{}', '{}', '2026-11-01 04:00+00', '2026-11-02 05:00+00', 30, '2026-01-01') s
 where c.id = :'night';
-- A 90-minute appointment from 01:30 EST on the spring-forward night ends at 04:00 EDT.
select s.starts_at, s.ends_at
  from switchboard.calendars c,
       switchboard._booking_slots(c, '{}', '{}', '{}', '2026-03-08 06:30+00', '2026-03-08 06:31+00', 90, '2026-01-01') s
 where c.id = :'night';
-- Business hours keep their wall clock on both sides of a change: 09:00 is 14:00Z, then 13:00Z.
select switchboard.create_calendar(:'A', 'Weekend desk', 'America/New_York',
  '{"sat": [["09:00", "10:00"]], "sun": [["09:00", "10:00"]]}', '{"slotMinutes": 60, "maxDaysAhead": 3650}') as weekend \gset
select s.starts_at from switchboard.calendars c,
  switchboard._booking_slots(c, '{}', '{}', '{}', '2026-03-07 00:00+00', '2026-03-09 00:00+00', 60, '2026-01-01') s
 where c.id = :'weekend';
select s.starts_at from switchboard.calendars c,
  switchboard._booking_slots(c, '{}', '{}', '{}', '2026-10-31 00:00+00', '2026-11-02 00:00+00', 60, '2026-01-01') s
 where c.id = :'weekend';
-- Notice and horizon against a fixed now (Saturday 2026-03-07 08:30 EST; 60 minutes notice; 1 day).
update switchboard.calendars set min_notice_minutes = 60, max_days_ahead = 1, slot_minutes = 30,
  business_hours = '{"sat": [["09:00", "11:00"]], "sun": [["09:00", "11:00"]]}' where id = :'weekend';
select s.starts_at from switchboard.calendars c,
  switchboard._booking_slots(c, '{}', '{}', '{}', '2026-03-07 00:00+00', '2026-03-10 00:00+00', 30, '2026-03-07 13:30+00') s
 where c.id = :'weekend';
select switchboard._booking_refusal(c, '{}', '{}', '{}', t, 30, '2026-03-07 13:30+00') as refusal, t
  from switchboard.calendars c, unnest(array['2026-03-07 14:00+00', '2026-03-07 14:30+00', '2026-03-08 13:30+00',
    '2026-03-08 14:00+00', '2026-03-07 14:10+00', '2026-03-07 16:00+00']::timestamptz[]) t
 where c.id = :'weekend';

--
-- Calendars used through the client functions, on dates a week or two ahead.
--
select date_trunc('week', (now() at time zone 'America/New_York') + interval '14 days')::date as mon \gset
select (:'mon'::date + 1) as tue, (:'mon'::date + 2) as wed \gset
set role authenticated;
select set_config('request.jwt.claims', '{"sub": "' || :'manager_a' || '"}', false) is not null as manager;
select switchboard.create_calendar(:'A', 'Clinic', 'America/New_York',
  '{"mon": [["13:00", "17:00"], ["09:00", "12:00"]], "tue": [["09:00", "17:00"]], "wed": [["09:00", "17:00"]],
    "thu": [["09:00", "17:00"]], "fri": [["09:00", "17:00"]]}') as clinic \gset
select switchboard.create_calendar(:'A', 'Spa', 'America/New_York', '{"mon": [["09:00", "12:00"]]}',
  '{"slotMinutes": 30, "slotStepMinutes": 5, "bufferBeforeMinutes": 10, "bufferAfterMinutes": 15}') as spa \gset
select switchboard.create_calendar(:'A', 'Capped', 'America/New_York',
  '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}', '{"dailyCap": 2}') as capped \gset
select switchboard.create_calendar(:'A', 'Strict', 'America/New_York',
  '{"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]], "thu": [["00:00", "24:00"]],
    "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]], "sun": [["00:00", "24:00"]]}',
  '{"slotMinutes": 60, "minNoticeMinutes": 120, "maxDaysAhead": 20}') as strict \gset
select name, time_zone, business_hours, slot_minutes, slot_step_minutes, buffer_before_minutes, buffer_after_minutes,
       min_notice_minutes, max_days_ahead, daily_cap
  from switchboard.calendars where org_id = :'A' order by created_at;
select set_config('request.jwt.claims', '{"sub": "' || :'agent_a' || '"}', false) is not null as agent;

-- The clinic's Monday, then back-to-back bookings without buffers.
select pg_temp.free_on(:'clinic', :'mon');
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '10:00'), 30,
  details => '{"service": "checkup", "notes": "first visit", "source": "ai_call", "metadata": {"callId": "c-1"}}'));
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '10:30'), 30));
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '10:00'), 30));
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '09:30'), 60));
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '11:45'), 30));
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '12:00'), 30));
select pg_temp.free_on(:'clinic', :'mon');
select service, notes, source, metadata, status, created_by = :'agent_a' as by_agent
  from switchboard.appointments where calendar_id = :'clinic' order by starts_at;

-- Buffers on both sides: the spa needs 10 minutes before and 15 after each appointment.
select pg_temp.brief(switchboard.book_appointment(:'A', :'spa', pg_temp.ny(:'mon', '10:00'), 30));
select pg_temp.free_on(:'spa', :'mon');
select pg_temp.brief(switchboard.book_appointment(:'A', :'spa', pg_temp.ny(:'mon', '10:50'), 30));
select pg_temp.brief(switchboard.book_appointment(:'A', :'spa', pg_temp.ny(:'mon', '10:55'), 30));
select pg_temp.brief(switchboard.book_appointment(:'A', :'spa', pg_temp.ny(:'mon', '09:10'), 30));
select to_char(block_start at time zone 'America/New_York', 'HH24:MI') as block_start,
       to_char(starts_at at time zone 'America/New_York', 'HH24:MI') as starts,
       to_char(ends_at at time zone 'America/New_York', 'HH24:MI') as ends,
       to_char(block_end at time zone 'America/New_York', 'HH24:MI') as block_end
  from switchboard.appointments where calendar_id = :'spa' order by starts_at;

-- Exceptions: Tuesday closed, Wednesday open 09:00-10:00 only.
select set_config('request.jwt.claims', '{"sub": "' || :'manager_a' || '"}', false) is not null as manager;
select pg_temp.brief(switchboard.update_calendar(:'A', :'clinic',
  jsonb_build_object('exceptions', jsonb_build_object(:'tue', '[]'::jsonb, :'wed', '[["09:00", "10:00"]]'::jsonb))));
select set_config('request.jwt.claims', '{"sub": "' || :'agent_a' || '"}', false) is not null as agent;
select pg_temp.free_on(:'clinic', :'tue') as tuesday, pg_temp.free_on(:'clinic', :'wed') as wednesday,
       pg_temp.free_on(:'clinic', :'wed', 60) as wednesday_hour;
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'tue', '10:00'), 30));

-- Daily cap: two appointments a day.
select pg_temp.brief(switchboard.book_appointment(:'A', :'capped', pg_temp.ny(:'mon', '09:00'), 30));
select pg_temp.brief(switchboard.book_appointment(:'A', :'capped', pg_temp.ny(:'mon', '15:00'), 30));
select pg_temp.brief(switchboard.book_appointment(:'A', :'capped', pg_temp.ny(:'mon', '12:00'), 30));
select pg_temp.free_on(:'capped', :'mon');
select pg_temp.brief(switchboard.book_appointment(:'A', :'capped', pg_temp.ny(:'tue', '09:00'), 30));

-- Notice and horizon relative to now (120 minutes notice, 20 days ahead, hourly slots).
select switchboard.book_appointment(:'A', :'strict', date_trunc('hour', now()) + interval '1 hour', 60) ->> 'reason' as soon,
       switchboard.book_appointment(:'A', :'strict', date_trunc('hour', now()) - interval '5 hours', 60) ->> 'reason' as past,
       switchboard.book_appointment(:'A', :'strict', date_trunc('hour', now()) + interval '3 hours', 60) ->> 'reason' as fine,
       switchboard.book_appointment(:'A', :'strict', date_trunc('hour', now()) + interval '21 days', 60) ->> 'reason' as far;
select min(starts_at::timestamptz) >= now() + interval '120 minutes' as notice_kept,
       max(starts_at::timestamptz) <= now() + interval '20 days' as horizon_kept
  from switchboard.available_slots(:'A', :'strict', now(), now() + interval '30 days');

--
-- Holds.
--
-- A hold blocks its slot, expires by itself, and an expired hold is re-checked on confirmation.
select switchboard.hold_slot(:'A', :'clinic', pg_temp.ny(:'mon', '11:00'), 30, hold_seconds => 1) as h1 \gset
select pg_temp.brief(:'h1');
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '11:00'), 30));
select pg_temp.free_on(:'clinic', :'mon');
select pg_sleep(1.2);
select pg_temp.free_on(:'clinic', :'mon');
select pg_temp.brief(switchboard.confirm_appointment(:'A', (:'h1'::jsonb ->> 'appointmentId')::uuid));
-- An expired hold whose slot was taken meanwhile cannot be confirmed.
select switchboard.hold_slot(:'A', :'clinic', pg_temp.ny(:'mon', '13:00'), 30, hold_seconds => 1) as h2 \gset
select pg_sleep(1.2);
select pg_temp.brief(switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '13:00'), 30));
select pg_temp.brief(switchboard.confirm_appointment(:'A', (:'h2'::jsonb ->> 'appointmentId')::uuid));
select status, cancel_kind from switchboard.appointments where id = (:'h2'::jsonb ->> 'appointmentId')::uuid;
-- A live hold is confirmed; confirming twice changes nothing.
select switchboard.hold_slot(:'A', :'clinic', pg_temp.ny(:'mon', '14:00'), 30) as h3 \gset
select pg_temp.brief(:'h3'), (:'h3'::jsonb ->> 'expiresAt')::timestamptz between now() + interval '299 seconds'
                                                                            and now() + interval '301 seconds' as five_minutes;
select pg_temp.brief(switchboard.confirm_appointment(:'A', (:'h3'::jsonb ->> 'appointmentId')::uuid));
select pg_temp.brief(switchboard.confirm_appointment(:'A', (:'h3'::jsonb ->> 'appointmentId')::uuid));

--
-- Reschedule and cancel.
--
select switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '15:00'), 30) ->> 'appointmentId' as moving \gset
select pg_temp.brief(switchboard.reschedule_appointment(:'A', :'moving', pg_temp.ny(:'mon', '10:00')));
select to_char(starts_at at time zone 'America/New_York', 'HH24:MI') as still_at, status
  from switchboard.appointments where id = :'moving';
select pg_temp.brief(switchboard.reschedule_appointment(:'A', :'moving', pg_temp.ny(:'mon', '16:00'), 60));
select pg_temp.brief(switchboard.reschedule_appointment(:'A', :'moving', pg_temp.ny(:'mon', '16:30')));
select pg_temp.free_on(:'clinic', :'mon');
select pg_temp.brief(switchboard.cancel_appointment(:'A', :'moving', 'patient called'));
select cancelled_at as first_cancel from switchboard.appointments where id = :'moving' \gset
select pg_temp.brief(switchboard.cancel_appointment(:'A', :'moving', 'again'));
select status, cancel_kind, cancel_reason, cancelled_at = :'first_cancel' as unchanged
  from switchboard.appointments where id = :'moving';
select pg_temp.brief(switchboard.reschedule_appointment(:'A', :'moving', pg_temp.ny(:'mon', '16:00')));
select pg_temp.brief(switchboard.confirm_appointment(:'A', :'moving'));
select pg_temp.brief(switchboard.cancel_appointment(:'A', :'nowhere'));
select pg_temp.free_on(:'clinic', :'mon');

--
-- Outcomes: only a confirmed appointment whose start has passed becomes completed or no_show;
-- repeating answers ALREADY_..., and the block stays occupied.
--
reset role;
insert into switchboard.appointments (org_id, calendar_id, starts_at, ends_at, block_start, block_end, status, hold_expires_at)
select :'A', :'clinic', s, s + interval '30 minutes', s, s + interval '30 minutes', t.status::switchboard.appointment_status,
       case when t.status = 'held' then now() + interval '5 minutes' end
  from (values (3, 'confirmed'), (5, 'confirmed'), (7, 'held')) as t(hours, status),
       lateral (select date_trunc('hour', now()) - make_interval(hours => t.hours) as s) x;
select max(id::text) filter (where starts_at = date_trunc('hour', now()) - interval '3 hours') as done,
       max(id::text) filter (where starts_at = date_trunc('hour', now()) - interval '5 hours') as gone,
       max(id::text) filter (where starts_at = date_trunc('hour', now()) - interval '7 hours') as holding
  from switchboard.appointments where calendar_id = :'clinic' and starts_at < now() \gset
select set_config('request.jwt.claims', '{"sub": "' || :'agent_a' || '"}', false) is not null as agent;
set role authenticated;
-- (times left out: they depend on the hour the test runs)
select t.call, regexp_replace(pg_temp.brief(t.answer), ' \d\d:\d\d-\d\d:\d\d', '') as brief from (values
  ('complete', switchboard.complete_appointment(:'A', :'done')),
  ('complete again', switchboard.complete_appointment(:'A', :'done')),
  ('no-show after completed', switchboard.mark_no_show(:'A', :'done')),
  ('no-show', switchboard.mark_no_show(:'A', :'gone')),
  ('no-show again', switchboard.mark_no_show(:'A', :'gone')),
  ('complete after no-show', switchboard.complete_appointment(:'A', :'gone')),
  ('complete a hold', switchboard.complete_appointment(:'A', :'holding')),
  ('complete before start', switchboard.complete_appointment(:'A', (:'h3'::jsonb ->> 'appointmentId')::uuid)),
  ('no-show before start', switchboard.mark_no_show(:'A', (:'h3'::jsonb ->> 'appointmentId')::uuid)),
  ('complete cancelled', switchboard.complete_appointment(:'A', :'moving')),
  ('complete unknown', switchboard.complete_appointment(:'A', :'nowhere')),
  ('no-show unknown', switchboard.mark_no_show(:'A', :'nowhere')),
  ('cancel completed', switchboard.cancel_appointment(:'A', :'done')),
  ('reschedule no-show', switchboard.reschedule_appointment(:'A', :'gone', pg_temp.ny(:'mon', '16:00')))
) as t(call, answer);
select t.call, pg_temp.try(t.sql) from (values
  ('complete null id', format('select switchboard.complete_appointment(%L, null)', :'A')),
  ('no-show null org', format('select switchboard.mark_no_show(null, %L)', :'done'))
) as t(call, sql);
reset role;
select status, outcome_at is not null as marked, updated_at >= outcome_at as touched
  from switchboard.appointments where id in (:'done', :'gone', :'holding') order by starts_at;
select left(pg_temp.try(format('insert into switchboard.appointments (org_id, calendar_id, starts_at, ends_at, block_start, block_end, status)
  values (%L, %L, %L, %L, %L, %L, ''confirmed'')', :'A', :'clinic', date_trunc('hour', now()) - interval '3 hours',
  date_trunc('hour', now()) - interval '150 minutes', date_trunc('hour', now()) - interval '3 hours',
  date_trunc('hour', now()) - interval '150 minutes')), 90) as over_completed;
delete from switchboard.appointments where id = :'holding';

-- Idempotency: the same key with the same parameters yields the same appointment, never a second
-- row (details compared as jsonb: key order and spacing do not count); the same key with any other
-- parameter is 23505, the rule and wording of usage keys (consume_feature).
select switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '09:00'), 30, details => '{"notes": "n", "source": "ai_call"}', idempotency_key => 'call-42') as k1 \gset
select switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '09:00'), 30, details => '{"source":"ai_call","notes":"n"}', idempotency_key => 'call-42') as k2 \gset
select pg_temp.brief(:'k1'), pg_temp.brief(:'k2'),
       :'k1'::jsonb -> 'appointmentId' = :'k2'::jsonb -> 'appointmentId' as same_appointment,
       (select count(*) from switchboard.appointments where idempotency_key = 'call-42') as rows;
select t.call, pg_temp.try(t.sql) from (values
  ('other start', format('select switchboard.book_appointment(%L, %L, %L, 30, details => ''{"notes": "n", "source": "ai_call"}'', idempotency_key => ''call-42'')', :'A', :'clinic', pg_temp.ny(:'mon', '09:30'))),
  ('other duration', format('select switchboard.book_appointment(%L, %L, %L, 45, details => ''{"notes": "n", "source": "ai_call"}'', idempotency_key => ''call-42'')', :'A', :'clinic', pg_temp.ny(:'mon', '09:00'))),
  ('other details', format('select switchboard.book_appointment(%L, %L, %L, 30, details => ''{"notes": "m", "source": "ai_call"}'', idempotency_key => ''call-42'')', :'A', :'clinic', pg_temp.ny(:'mon', '09:00'))),
  ('other contact', format('select switchboard.book_appointment(%L, %L, %L, 30, %L, details => ''{"notes": "n", "source": "ai_call"}'', idempotency_key => ''call-42'')', :'A', :'clinic', pg_temp.ny(:'mon', '09:00'), :'A')),
  ('a hold', format('select switchboard.hold_slot(%L, %L, %L, 30, idempotency_key => ''call-42'')', :'A', :'clinic', pg_temp.ny(:'mon', '09:00')))
) as t(call, sql);
select count(*) as rows_for_the_key from switchboard.appointments where idempotency_key = 'call-42';

--
-- Bad input: precise SQLSTATEs, and a failed call changes nothing.
--
select count(*) as appointments_before from switchboard.appointments \gset
select t.call, pg_temp.try(t.sql) from (values
  ('zero duration', format('select switchboard.book_appointment(%L, %L, %L, 0)', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('negative duration', format('select switchboard.book_appointment(%L, %L, %L, -30)', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('over 24 hours', format('select switchboard.hold_slot(%L, %L, %L, 1441)', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('null start', format('select switchboard.book_appointment(%L, %L, null, 30)', :'A', :'clinic')),
  ('null duration', format('select switchboard.book_appointment(%L, %L, %L, null)', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('infinite start', format('select switchboard.book_appointment(%L, %L, ''infinity'', 30)', :'A', :'clinic')),
  ('null calendar', format('select switchboard.book_appointment(%L, null, now(), 30)', :'A')),
  ('null org', format('select switchboard.book_appointment(null, %L, now(), 30)', :'clinic')),
  ('hold 0 seconds', format('select switchboard.hold_slot(%L, %L, %L, 30, hold_seconds => 0)', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('empty key', format('select switchboard.hold_slot(%L, %L, %L, 30, idempotency_key => '''')', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('256-character key', format('select switchboard.hold_slot(%L, %L, %L, 30, idempotency_key => %L)', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'), repeat('é', 256))),
  ('unknown detail', format('select switchboard.book_appointment(%L, %L, %L, 30, details => ''{"room": 4}'')', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('unknown source', format('select switchboard.book_appointment(%L, %L, %L, 30, details => ''{"source": "fax"}'')', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('null details', format('select switchboard.book_appointment(%L, %L, %L, 30, details => null)', :'A', :'clinic', pg_temp.ny(:'mon', '16:00'))),
  ('window reversed', format('select switchboard.available_slots(%L, %L, %L, %L)', :'A', :'clinic', '2030-01-02 00:00+00', '2030-01-01 00:00+00')),
  ('window too long', format('select switchboard.available_slots(%L, %L, %L, %L)', :'A', :'clinic', '2030-01-01 00:00+00', '2030-04-15 00:00+00')),
  ('window infinite', format('select switchboard.available_slots(%L, %L, %L, ''infinity'')', :'A', :'clinic', '2030-01-01 00:00+00')),
  ('slots duration 0', format('select switchboard.available_slots(%L, %L, %L, %L, 0)', :'A', :'clinic', '2030-01-01 00:00+00', '2030-01-02 00:00+00')),
  ('slots no calendar', format('select switchboard.available_slots(%L, %L, %L, %L)', :'A', :'nowhere', '2030-01-01 00:00+00', '2030-01-02 00:00+00')),
  ('reschedule null', format('select switchboard.reschedule_appointment(%L, %L, null)', :'A', :'moving')),
  ('reschedule 0 minutes', format('select switchboard.reschedule_appointment(%L, %L, now(), 0)', :'A', :'moving'))
) as t(call, sql);
select count(*) = :appointments_before as nothing_written from switchboard.appointments;
select t.call, pg_temp.brief(t.answer) from (values
  ('no calendar', switchboard.book_appointment(:'A', :'nowhere', pg_temp.ny(:'mon', '16:00'), 30)),
  ('no hold calendar', switchboard.hold_slot(:'A', :'nowhere', pg_temp.ny(:'mon', '16:00'), 30)),
  ('no appointment', switchboard.confirm_appointment(:'A', :'nowhere')),
  ('no reschedule', switchboard.reschedule_appointment(:'A', :'nowhere', now())),
  ('off the grid', switchboard.book_appointment(:'A', :'clinic', pg_temp.ny(:'mon', '16:10'), 30))
) as t(call, answer);

-- Calendar definitions (as a manager).
select set_config('request.jwt.claims', '{"sub": "' || :'manager_a' || '"}', false) is not null as manager;
select t.call, pg_temp.try(format('select switchboard.create_calendar(%L, %L, %L, %L, %L)', :'A', t.name, t.zone, t.hours, t.options))
  from (values
  ('unknown zone', 'X', 'Mars/Olympus_Mons', '{}', '{}'),
  ('overlap', 'X', 'UTC', '{"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}', '{}'),
  ('end before start', 'X', 'UTC', '{"tue": [["17:00", "09:00"]]}', '{}'),
  ('malformed time', 'X', 'UTC', '{"wed": [["9am", "5pm"]]}', '{}'),
  ('not a pair', 'X', 'UTC', '{"wed": [["09:00"]]}', '{}'),
  ('not an array', 'X', 'UTC', '{"wed": "09:00-17:00"}', '{}'),
  ('unknown day', 'X', 'UTC', '{"monday": []}', '{}'),
  ('hours not an object', 'X', 'UTC', '[]', '{}'),
  ('24:00 start', 'X', 'UTC', '{"fri": [["24:00", "24:00"]]}', '{}'),
  ('bad exception date', 'X', 'UTC', '{}', '{"exceptions": {"2026-02-30": []}}'),
  ('bad exception hours', 'X', 'UTC', '{}', '{"exceptions": {"2026-12-24": [["13:00", "09:00"]]}}'),
  ('unknown option', 'X', 'UTC', '{}', '{"slotLength": 30}'),
  ('zero slot', 'X', 'UTC', '{}', '{"slotMinutes": 0}'),
  ('fractional slot', 'X', 'UTC', '{}', '{"slotMinutes": 22.5}'),
  ('negative buffer', 'X', 'UTC', '{}', '{"bufferAfterMinutes": -5}'),
  ('text cap', 'X', 'UTC', '{}', '{"dailyCap": "3"}'),
  ('blank name', ' ', 'UTC', '{}', '{}'),
  ('null hours', 'X', 'UTC', null, '{}'),
  ('null zone', 'X', null, '{}', '{}'),
  ('all good', 'Good', 'Europe/Paris', '{"sat": [["10:00", "12:00"], ["12:00", "14:00"]]}', '{"dailyCap": null, "exceptions": {"2026-12-25": []}}')
) as t(call, name, zone, hours, options);
select business_hours, exceptions, daily_cap from switchboard.calendars where name = 'Good';
select t.call, pg_temp.try(format('select switchboard.update_calendar(%L, %L, %L)', :'A', :'clinic', t.changes))
  from (values ('bad zone', '{"timeZone": "Nowhere/Land"}'), ('bad hours', '{"businessHours": {"sun": [["10:00", "09:00"]]}}'),
               ('unknown key', '{"color": "red"}'), ('null name', '{"name": null}'), ('not an object', '[1]')) as t(call, changes);
select pg_temp.brief(switchboard.update_calendar(:'A', :'nowhere', '{"name": "X"}'));
select (switchboard.update_calendar(:'A', :'capped', '{"name": "Capped desk", "dailyCap": 3, "slotStepMinutes": 15}') -> 'calendar') - 'calendarId';

--
-- Tenancy: every role of A is refused in B (42501); agents cannot define calendars; viewers cannot book.
--
reset role;
select switchboard.create_calendar(:'B', 'B desk', 'UTC', '{"mon": [["09:00", "17:00"]]}') as cal_b \gset
select switchboard.book_appointment(:'B', :'cal_b', pg_temp.ny(:'mon', '10:00'), 30) ->> 'appointmentId' as appt_b \gset
create function pg_temp.calls(org uuid, cal uuid, appt uuid, day date) returns table (call text, result text) language sql as $$
  select t.call, pg_temp.try(t.sql) from (values
    ('create_calendar', format('select switchboard.create_calendar(%L, ''X'', ''UTC'', ''{}'')', org)),
    ('update_calendar', format('select switchboard.update_calendar(%L, %L, ''{"name": "Y"}'')', org, cal)),
    ('available_slots', format('select switchboard.available_slots(%L, %L, now(), now() + interval ''1 day'')', org, cal)),
    ('hold_slot', format('select switchboard.hold_slot(%L, %L, %L, 30)', org, cal, pg_temp.ny(day, '11:00'))),
    ('book_appointment', format('select switchboard.book_appointment(%L, %L, %L, 30)', org, cal, pg_temp.ny(day, '11:00'))),
    ('confirm_appointment', format('select switchboard.confirm_appointment(%L, %L)', org, appt)),
    ('reschedule_appointment', format('select switchboard.reschedule_appointment(%L, %L, %L)', org, appt, pg_temp.ny(day, '12:00'))),
    ('cancel_appointment', format('select switchboard.cancel_appointment(%L, %L)', org, appt)),
    ('complete_appointment', format('select switchboard.complete_appointment(%L, %L)', org, appt)),
    ('mark_no_show', format('select switchboard.mark_no_show(%L, %L)', org, appt))) as t(call, sql)
$$;
set role authenticated;
select u.role, c.call, c.result
  from (values ('owner', :'owner_a'), ('admin', :'admin_a'), ('manager', :'manager_a'), ('agent', :'agent_a'),
               ('viewer', :'viewer_a')) as u(role, id),
       lateral (select set_config('request.jwt.claims', '{"sub": "' || u.id || '"}', false)) as s,
       lateral pg_temp.calls(:'B', :'cal_b', :'appt_b', :'mon') as c
 order by u.role, c.call;
-- Agents of A: calendar definitions need a manager; viewers of A cannot use booking at all.
select set_config('request.jwt.claims', '{"sub": "' || :'agent_a' || '"}', false) is not null as agent;
select call, result from pg_temp.calls(:'A', :'clinic', :'nowhere', :'mon') where call like '%calendar';
select set_config('request.jwt.claims', '{"sub": "' || :'viewer_a' || '"}', false) is not null as viewer;
select call, result from pg_temp.calls(:'A', :'clinic', :'nowhere', :'mon');
-- A's owner passing A's org with B's calendar or appointment finds nothing, and sees none of B's rows.
select set_config('request.jwt.claims', '{"sub": "' || :'owner_a' || '"}', false) is not null as owner;
select pg_temp.brief(switchboard.book_appointment(:'A', :'cal_b', pg_temp.ny(:'mon', '11:00'), 30)) as b_calendar,
       pg_temp.brief(switchboard.cancel_appointment(:'A', :'appt_b')) as b_appointment,
       pg_temp.brief(switchboard.mark_no_show(:'A', :'appt_b')) as b_outcome;
select (select count(*) from switchboard.calendars where org_id = :'B') as b_calendars,
       (select count(*) from switchboard.appointments where org_id = :'B') as b_appointments,
       (select count(*) > 0 from switchboard.appointments where org_id = :'A') as own_appointments;
select pg_temp.try('insert into switchboard.appointments (org_id, calendar_id, starts_at, ends_at, block_start, block_end, status)
  values (''00000000-0000-4000-8000-00000000a000'', ''' || :'clinic' || ''', now(), now() + interval ''1 hour'', now(), now() + interval ''1 hour'', ''confirmed'')') as direct_insert;
reset role;
select count(*) as b_appointments_intact from switchboard.appointments where org_id = :'B' and status = 'confirmed';

-- The backstop: even a superuser writing directly cannot overlap an active appointment.
select left(pg_temp.try(format('insert into switchboard.appointments (org_id, calendar_id, starts_at, ends_at, block_start, block_end, status)
  values (%L, %L, %L, %L, %L, %L, ''confirmed'')', :'A', :'clinic', pg_temp.ny(:'mon', '10:15'), pg_temp.ny(:'mon', '10:45'),
  pg_temp.ny(:'mon', '10:15'), pg_temp.ny(:'mon', '10:45'))), 90) as overlapping_insert;
-- Service role may act for any organisation.
set role service_role;
select pg_temp.brief(switchboard.book_appointment(:'B', :'cal_b', pg_temp.ny(:'mon', '09:00'), 30)) ~ '^booked=true' as service;
reset role;
