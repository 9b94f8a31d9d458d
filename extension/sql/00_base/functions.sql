-- What every area uses.

-- The one form of times in command answers (sb::answer_time): ISO 8601 to the second in UTC,
-- "2026-12-05T20:00:00Z". Booking answers show their calendar's zone the same way in C++.
CREATE FUNCTION switchboard.answer_time(t timestamptz) RETURNS text
  LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_answer_time';
COMMENT ON FUNCTION switchboard.answer_time(timestamptz) IS
  'a time as command answers write it: ISO 8601 to the second, UTC (Z)';
