REVOKE ALL ON FUNCTION switchboard._selftest_boundary(text), switchboard._selftest_destructor_runs()
  FROM PUBLIC;
