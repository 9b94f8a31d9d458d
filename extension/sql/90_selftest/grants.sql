REVOKE ALL ON FUNCTION switchboard._selftest_boundary(text), switchboard._selftest_destructor_runs()
  FROM PUBLIC;
REVOKE ALL ON FUNCTION switchboard._selftest_boundary_counts() FROM PUBLIC;
REVOKE ALL ON FUNCTION switchboard._selftest_worker(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION switchboard._selftest_json_read(jsonb, text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION switchboard._selftest_callbacks() FROM PUBLIC;
