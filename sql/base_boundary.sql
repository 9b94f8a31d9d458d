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
