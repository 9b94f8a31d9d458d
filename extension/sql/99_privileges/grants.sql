-- Last: no switchboard function is executable by PUBLIC; each area grants what its clients call,
-- and row-level security decides which rows they reach.
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA switchboard FROM PUBLIC;
