-- Probes of the C++/PostgreSQL boundary for the regression suite; superusers only.
CREATE FUNCTION switchboard._selftest_boundary(mode text) RETURNS text
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_boundary';
CREATE FUNCTION switchboard._selftest_destructor_runs() RETURNS integer
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_destructor_runs';
CREATE FUNCTION switchboard._selftest_boundary_counts() RETURNS jsonb
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_boundary_counts';
CREATE FUNCTION switchboard._selftest_worker(mode text) RETURNS text
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_worker';
-- For tests/bench/booking_json.sh: reads `value` `rounds` times with one reader; superusers only.
CREATE FUNCTION switchboard._selftest_json_read(value jsonb, reader text, rounds integer) RETURNS bigint
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_json_read';
-- The handlers of the one callback chain, in calling order, with their calls and failures here.
CREATE FUNCTION switchboard._selftest_callbacks() RETURNS jsonb
  LANGUAGE c STRICT AS 'MODULE_PATHNAME', 'sb_selftest_callbacks';
