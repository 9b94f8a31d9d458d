-- The C++/PostgreSQL boundary: every kind of failure inside a C++ body becomes an ordinary
-- PostgreSQL error with the right SQLSTATE, C++ destructors run on the way out, and the session
-- goes on working.

-- Calls _selftest_boundary(mode) and reports what happened: the result, or the error's fields, and
-- how many C++ destructors ran during the call.
CREATE FUNCTION pg_temp.probe(mode text, OUT result text, OUT state text, OUT message text,
                              OUT detail text, OUT hint text, OUT destructors integer)
LANGUAGE plpgsql AS $$
DECLARE
  before integer := switchboard._selftest_destructor_runs();
BEGIN
  BEGIN
    result := switchboard._selftest_boundary(mode);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                            detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
  END;
  destructors := switchboard._selftest_destructor_runs() - before;
END
$$;

SELECT coalesce(m.mode, '(null)') AS mode, p.*
  FROM (VALUES (1, 'ok'), (2, 'cpp_error'), (3, 'sb_error'), (4, 'bad_alloc'), (5, 'pg_error'),
               (6, 'no such mode'), (7, NULL)) AS m (ord, mode),
       LATERAL pg_temp.probe(m.mode) AS p
 ORDER BY m.ord;

-- Uncaught, each error ends only its statement; the next statement runs normally.
\set VERBOSITY terse
SELECT switchboard._selftest_boundary('ok') AS ok;
SELECT switchboard._selftest_boundary('cpp_error');
SELECT 'alive after cpp_error' AS session;
SELECT switchboard._selftest_boundary('sb_error');
SELECT 'alive after sb_error' AS session;
SELECT switchboard._selftest_boundary('bad_alloc');
SELECT 'alive after bad_alloc' AS session;
SELECT switchboard._selftest_boundary('pg_error');
SELECT 'alive after pg_error' AS session;
\set VERBOSITY default

-- Inside a transaction, an error aborts it as usual; a savepoint recovers it.
BEGIN;
SELECT switchboard._selftest_destructor_runs() AS runs_before \gset
SAVEPOINT before_error;
SELECT switchboard._selftest_boundary('pg_error');
ROLLBACK TO SAVEPOINT before_error;
SELECT switchboard._selftest_destructor_runs() - :runs_before AS pg_error_destructors;
SELECT switchboard._selftest_boundary('ok') AS after_savepoint;
SELECT switchboard._selftest_boundary('sb_error');
SELECT 'not run' AS aborted;
ROLLBACK;

-- Many failures in a row: every one unwinds exactly its two objects, nothing accumulates.
DO $$
DECLARE
  before integer := switchboard._selftest_destructor_runs();
  failures integer := 0;
BEGIN
  FOR i IN 1..500 LOOP
    BEGIN
      PERFORM switchboard._selftest_boundary('pg_error');
    EXCEPTION WHEN division_by_zero THEN
      failures := failures + 1;
    END;
  END LOOP;
  RAISE NOTICE 'failures: %, destructors run: %', failures,
    switchboard._selftest_destructor_runs() - before;
END
$$;

-- The self-tests are for superusers only.
SELECT r.api_role,
       has_function_privilege(r.api_role, 'switchboard._selftest_boundary(text)', 'EXECUTE')
         AS boundary,
       has_function_privilege(r.api_role, 'switchboard._selftest_destructor_runs()', 'EXECUTE')
         AS destructor_runs
  FROM (VALUES (1, 'anon'), (2, 'authenticated'), (3, 'service_role')) AS r (ord, api_role)
 ORDER BY r.ord;
BEGIN;
SET LOCAL ROLE service_role;
SELECT switchboard._selftest_boundary('ok');
ROLLBACK;

--
-- The probes' own counts: PostgreSQL work run while a C++ exception unwound (a destructor calling
-- PostgreSQL), and PostgreSQL errors caught by C++ and never raised again (carrying on without a
-- subtransaction). Both stay 0 through everything below.
CREATE FUNCTION pg_temp.violations() RETURNS text LANGUAGE sql AS $$
  SELECT format('unwinding=%s swallowed=%s', c ->> 'pgCallsWhileUnwinding', c ->> 'pgErrorsSwallowed')
    FROM switchboard._selftest_boundary_counts() c
$$;
SELECT pg_temp.violations() AS before_any_probe;
SELECT pg_postmaster_start_time() AS postmaster_started, pg_backend_pid() AS backend \gset
SET timezone = 'UTC';
\set org '00000000-0000-4000-8000-0000000b0000'
\set agent '00000000-0000-4000-8000-0000000b0004'
INSERT INTO switchboard.organizations (id, name, slug) VALUES (:'org', 'Boundary', 'boundary');
INSERT INTO switchboard.organization_members (org_id, user_id, role) VALUES (:'org', :'agent', 'agent');
SELECT switchboard.create_calendar(:'org', 'Always open', 'UTC',
  '{"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]],
    "thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]],
    "sun": [["00:00", "24:00"]]}', '{"slotMinutes": 30}') AS cal \gset
SELECT date_trunc('day', now()) + interval '10 days 9 hours' AS nine \gset
SELECT set_config('request.jwt.claims', format('{"sub": "%s"}', :'agent'), false) IS NOT NULL AS agent;
SELECT switchboard.book_appointment(:'org', :'cal', :'nine', 30) ->> 'reason' AS first_booking;

--
-- A cancel or a statement timeout stops a long slot search inside the C++ generator (every loop
-- of the core checks for interrupts through the callback the PostgreSQL side gives it): a search
-- over two million appointments that takes seconds ends after the 100 ms timeout with 57014, and
-- the session goes on.
CREATE TEMP TABLE long_search AS
SELECT jsonb_populate_record(NULL::switchboard.calendars, '{"time_zone": "UTC", "daily_cap": 1000,
         "max_days_ahead": 3650, "slot_minutes": 1, "slot_step_minutes": 1, "business_hours":
         {"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]],
          "thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]],
          "sun": [["00:00", "24:00"]]}}') AS cal,
       array_agg(t ORDER BY t) AS starts, array_agg(t ORDER BY t) AS block_starts,
       array_agg(t + interval '1 minute' ORDER BY t) AS block_ends
  FROM (SELECT timestamptz '1900-01-01' + i * interval '1 day' AS t
          FROM generate_series(1, 2000000) i) days;
CREATE FUNCTION pg_temp.timed_search(OUT state text, OUT within_a_second boolean)
LANGUAGE plpgsql AS $$
DECLARE
  started timestamptz := clock_timestamp();
BEGIN
  PERFORM count(*) FROM long_search l, switchboard._booking_slots(l.cal, l.starts, l.block_starts,
    l.block_ends, '2026-03-01', '2026-05-31', 1, '2026-01-01');
  state := 'finished';
  within_a_second := clock_timestamp() - started < interval '1 second';
EXCEPTION WHEN query_canceled THEN
  GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE;
  within_a_second := clock_timestamp() - started < interval '1 second';
END
$$;
SET statement_timeout = '100ms';
SELECT * FROM pg_temp.timed_search();
RESET statement_timeout;
SELECT 'alive after the cancelled search' AS session, pg_temp.violations();

--
-- A failure in a callback PostgreSQL makes (here an out-of-memory injected by the superuser-only
-- switchboard.test_fault, "callback" or "callback:event") never crashes the backend: before the
-- commit it is an ERROR and the transaction rolls back; once the commit is durable, or while
-- aborting, a WARNING (PostgreSQL would turn an ERROR there into a PANIC), and the area's
-- bookkeeping is still done.
\set VERBOSITY terse
BEGIN;
SET LOCAL switchboard.test_fault = 'booking changes:pre-commit';
SELECT switchboard.book_appointment(:'org', :'cal', (:'nine'::timestamptz + interval '1 hour'), 30) ->> 'reason' AS booked_then_failed_commit;
COMMIT;
SELECT count(*) AS rolled_back_bookings FROM switchboard.appointments
 WHERE org_id = :'org' AND starts_at = :'nine'::timestamptz + interval '1 hour';
BEGIN;
SET LOCAL switchboard.test_fault = 'store xact:pre-commit';
SELECT 'pre-commit failure' AS probe;
COMMIT;
BEGIN;
SET LOCAL switchboard.test_fault = 'store xact:abort';
ROLLBACK;
BEGIN;
SET LOCAL switchboard.test_fault = 'store subxact:start';
SAVEPOINT s;
ROLLBACK;
BEGIN;
SET LOCAL switchboard.test_fault = 'store subxact:abort';
SAVEPOINT s;
ROLLBACK TO SAVEPOINT s;
COMMIT;
SET switchboard.test_fault = 'org versions:commit';
SELECT 'committed; the commit callback failed with a warning' AS probe;
RESET switchboard.test_fault;
BEGIN;
SET LOCAL switchboard.test_fault = 'booking changes:commit';
SELECT switchboard.book_appointment(:'org', :'cal', (:'nine'::timestamptz + interval '4 hours'), 30) ->> 'reason' AS booked;
COMMIT;
SELECT switchboard.cancel_appointment(:'org', a.id) ->> 'reason' AS cancelled_after_warning
  FROM switchboard.appointments a
 WHERE a.org_id = :'org' AND a.starts_at = :'nine'::timestamptz + interval '4 hours';
-- An invalidation callback that fails clears every cache instead (a WARNING each time): the
-- calendar's new rules are seen at once.
SET client_min_messages = error;
SET switchboard.test_fault = 'store relcache';
UPDATE switchboard.calendars SET max_days_ahead = 1 WHERE org_id = :'org' AND id = :'cal';
SELECT switchboard.book_appointment(:'org', :'cal', (:'nine'::timestamptz + interval '2 hours'), 30) ->> 'reason' AS after_rules_changed;
RESET switchboard.test_fault;
UPDATE switchboard.calendars SET max_days_ahead = 90 WHERE org_id = :'org' AND id = :'cal';
RESET client_min_messages;
-- One callback chain (pg/base/base_callbacks): PostgreSQL calls one transaction, one
-- subtransaction and one relcache callback of the extension, which calls the areas' handlers in
-- the order they registered, each through the boundary wrapper.
SELECT h ->> 'kind' AS kind, h ->> 'name' AS handler
  FROM jsonb_array_elements(switchboard._selftest_callbacks()) h;
CREATE TEMP TABLE handler_calls AS
  SELECT h ->> 'name' AS name, (h ->> 'calls')::bigint AS calls, (h ->> 'failures')::bigint AS failures
    FROM jsonb_array_elements(switchboard._selftest_callbacks()) h
   WHERE h ->> 'kind' = 'xact';
-- The first handler failing once the commit is durable is a WARNING; the handlers after it run.
BEGIN;
SET LOCAL switchboard.test_fault = 'store xact:commit';
SELECT 'committed' AS probe;
COMMIT;
-- The first handler failing before the commit is an ERROR: the handlers after it are not called
-- for that event, and the abort that follows reaches every handler.
BEGIN;
SET LOCAL switchboard.test_fault = 'store xact:pre-commit';
SELECT 'rolled back' AS probe;
COMMIT;
-- (each handler also saw the pre-commit and commit of the CREATE TABLE above)
SELECT b.name AS handler, (h ->> 'calls')::bigint - b.calls AS calls,
       (h ->> 'failures')::bigint - b.failures AS failures
  FROM jsonb_array_elements(switchboard._selftest_callbacks()) h
  JOIN handler_calls b ON b.name = h ->> 'name'
 ORDER BY calls DESC, handler;
DROP TABLE handler_calls;
\set VERBOSITY default
-- A background worker's main goes through the same wrapper (SB_WORKER_MAIN): a C++ exception in
-- it is an ERROR that ends the worker (exit code 1), never the cluster.
SELECT switchboard._selftest_worker('fail') AS failing_worker, switchboard._selftest_worker('ok') AS worker;
SELECT pg_postmaster_start_time() = :'postmaster_started' AS same_postmaster,
       pg_backend_pid() = :'backend' AS same_backend, pg_temp.violations();
-- Only superusers may set the switch.
BEGIN;
SET LOCAL ROLE service_role;
SET switchboard.test_fault = 'store xact';
ROLLBACK;

--
-- The appointment reader's PostgreSQL work fails mid-way (an error raised inside its index scan):
-- no PostgreSQL cleanup runs from its destructor while the error unwinds; the (sub)transaction's
-- abort releases its relations, scan and snapshot, and the next reader works normally.
BEGIN;
-- (the week changed in this transaction: the booking reads it afresh, through a reader)
UPDATE switchboard.appointments SET notes = notes WHERE org_id = :'org' AND starts_at = :'nine';
SAVEPOINT before_reader;
SET LOCAL switchboard.test_fault = 'appointment reader';
SELECT switchboard.book_appointment(:'org', :'cal', (:'nine'::timestamptz + interval '30 minutes'), 30) ->> 'reason' AS reader_failed;
ROLLBACK TO SAVEPOINT before_reader;
SELECT switchboard.book_appointment(:'org', :'cal', (:'nine'::timestamptz + interval '30 minutes'), 30) ->> 'reason' AS reader_again;
COMMIT;
SELECT pg_temp.violations() AS after_reader;

--
-- A malformed claim is found without catching a PostgreSQL error (PostgreSQL's JSON parser reports
-- it as a result): with a legacy request.jwt.claim.sub the caller is still known, and the same
-- transaction goes on reading and writing through SPI.
BEGIN;
SELECT set_config('request.jwt.claim.sub', :'agent', true) IS NOT NULL AS legacy_sub,
       set_config('request.jwt.claims', '{"sub": 12', true) IS NOT NULL AS malformed_claims;
SELECT switchboard.current_user_id() = :'agent' AS caller_known;
SELECT switchboard.is_member(:'org') AS member;
SELECT switchboard.book_appointment(:'org', :'cal', (:'nine'::timestamptz + interval '3 hours'), 30) ->> 'reason' AS booked_in_same_transaction;
SELECT count(*) AS visible_in_same_transaction FROM switchboard.appointments
 WHERE org_id = :'org' AND starts_at = :'nine'::timestamptz + interval '3 hours';
COMMIT;
SELECT pg_temp.violations() AS after_malformed_claim;
-- Every form uuid_in accepts is still read, the last of repeated keys counts (as in jsonb), and
-- malformed claims still fail what needs them.
CREATE FUNCTION pg_temp.try_user(claims text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  s text;
  m text;
BEGIN
  PERFORM set_config('request.jwt.claim.sub', '', true), set_config('request.jwt.claims', claims, true);
  RETURN concat('user ', coalesce(switchboard.current_user_id()::text, 'none'), ', org ',
                coalesce(switchboard.current_org_id()::text, 'none'));
EXCEPTION WHEN others THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT;
  RETURN s || ': ' || m;
END
$$;
SELECT c.claims, pg_temp.try_user(c.claims)
  FROM (VALUES (1, '{"sub": "{00000000-0000-4000-8000-0000000B0004}"}'),
               (2, '{"sub": "0000000000004000-8000-0000000b0004"}'),
               (2, '{"sub": "0000-0000-0000-4000-8000-0000-000b-0004"}'),
               (3, '{"sub": "00000000000040008000-0000000b0004-"}'),
               (4, '{"sub": 12'), (5, '[{"sub": "00000000-0000-4000-8000-0000000b0004"}]'),
               (6, '{"sub": "\u0000"}'),
               (7, '{"sub": "00000000-0000-4000-8000-0000000b0004", "sub": null}'),
               (8, '{"x": {"sub": "y"}, "sub": "00000000-0000-4000-8000-0000000b0004", "z": ["q"]}'),
               (9, '{"app_metadata": {"org_id": "00000000-0000-4000-8000-0000000b0000"}, "y": ["z"]}'),
               (10, '{"app_metadata": {"org_id": ["00000000-0000-4000-8000-0000000b0000"]}}'),
               (11, '{"app_metadata": {"x": {"org_id": "1"}, "org_id": null}, "app_metadata": 1}'))
       AS c (ord, claims)
 ORDER BY c.ord;
