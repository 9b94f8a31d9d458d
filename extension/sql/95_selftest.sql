-- Probes of the C++/PostgreSQL boundary for the regression suite; superusers only.
CREATE FUNCTION switchboard._selftest_boundary(mode text) RETURNS text
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_boundary';
CREATE FUNCTION switchboard._selftest_destructor_runs() RETURNS integer
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_destructor_runs';
REVOKE ALL ON FUNCTION switchboard._selftest_boundary(text), switchboard._selftest_destructor_runs()
  FROM PUBLIC;
CREATE FUNCTION switchboard._selftest_boundary_counts() RETURNS jsonb
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_boundary_counts';
REVOKE ALL ON FUNCTION switchboard._selftest_boundary_counts() FROM PUBLIC;
CREATE FUNCTION switchboard._selftest_worker(mode text) RETURNS text
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_worker';
REVOKE ALL ON FUNCTION switchboard._selftest_worker(text) FROM PUBLIC;
