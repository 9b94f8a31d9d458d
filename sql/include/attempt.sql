-- Shared by the pg_regress files (loaded with \i sql/include/attempt.sql after the file defines
-- pg_temp.expand(stmt text) RETURNS text, its placeholder expansion).
-- Runs stmt as api_role (NULL: stay superuser) with the given JWT claims (NULL: none), in a
-- subtransaction that is rolled back unless keep. Returns a SELECT's single value ('NULL' for
-- null), 'N rows' for other statements, or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.attempt(api_role text, claims jsonb, stmt text, keep boolean DEFAULT false)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  n bigint;
  result text;
BEGIN
  stmt := pg_temp.expand(stmt);
  BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(claims::text, ''), true);
    IF api_role IS NOT NULL THEN
      PERFORM set_config('role', api_role, true);
    END IF;
    IF stmt ~* '^\s*select' THEN
      EXECUTE stmt INTO result;
      result := coalesce(result, 'NULL');
    ELSE
      EXECUTE stmt;
      GET DIAGNOSTICS n = ROW_COUNT;
      result := n || ' rows';
    END IF;
    IF NOT keep THEN
      RAISE EXCEPTION USING ERRCODE = 'SBRBK';  -- undo whatever the statement did
    END IF;
    PERFORM set_config('role', 'none', true);
    PERFORM set_config('request.jwt.claims', '', true);
  EXCEPTION
    WHEN SQLSTATE 'SBRBK' THEN NULL;
    -- A Citus node's message names the shard ("organizations_102012"): name its table, as one
    -- server does.
    WHEN OTHERS THEN result := SQLSTATE || ': ' || regexp_replace(SQLERRM, 'relation "(\w+)_[0-9]{6,}"', 'relation "\1"');
  END;
  RETURN result;
END
$$;

-- An attempt's outcome in brief: the SQLSTATE alone for an error, else the value.
CREATE FUNCTION pg_temp.short(outcome text) RETURNS text LANGUAGE sql AS $$
  SELECT CASE WHEN outcome ~ '^[0-9A-Z]{5}: ' THEN left(outcome, 5) ELSE outcome END
$$;
