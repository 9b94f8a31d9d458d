-- Roles of a Supabase/PostgREST deployment (reused when present) and the auth.* helpers.

DO $roles$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
      EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN NOINHERIT', r);
    END IF;
  END LOOP;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'service_role') THEN
    CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'switchboard_authenticator') THEN
    CREATE ROLE switchboard_authenticator LOGIN NOINHERIT;
  END IF;
  GRANT anon, authenticated, service_role TO switchboard_authenticator;
END
$roles$;


GRANT USAGE ON SCHEMA switchboard TO anon, authenticated, service_role;

-- The caller, as PostgREST/Supabase describe it in request.jwt.claims.
CREATE FUNCTION switchboard.current_user_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_current_user_id';
COMMENT ON FUNCTION switchboard.current_user_id() IS
  'the JWT sub claim as uuid (request.jwt.claims, or the legacy request.jwt.claim.sub); NULL when absent';

CREATE FUNCTION switchboard.current_org_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_current_org_id';
COMMENT ON FUNCTION switchboard.current_org_id() IS
  'the JWT claim app_metadata.org_id as uuid; NULL when absent';

CREATE FUNCTION switchboard.current_claims() RETURNS jsonb
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_current_claims';
COMMENT ON FUNCTION switchboard.current_claims() IS
  'the request''s JWT claims; an empty object when there are none';

CREATE FUNCTION switchboard.is_service_role() RETURNS boolean
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_is_service_role';
COMMENT ON FUNCTION switchboard.is_service_role() IS
  'true when the current role is a superuser or has the privileges of service_role';

-- Supabase's auth.uid(), auth.role() and auth.jwt(), created only where the database lacks them.
-- SQL-standard bodies are parsed here, once: the caller's search_path cannot change what they call.
-- auth.uid() is switchboard.current_user_id(): a legacy request.jwt.claim.sub naming another user
-- than request.jwt.claims is an error (28000), never the answer.
DO $auth$
BEGIN
  IF pg_catalog.to_regnamespace('auth') IS NULL THEN
    CREATE SCHEMA auth;
    GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
  END IF;
  IF pg_catalog.to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS pg_catalog.uuid LANGUAGE sql STABLE
    RETURN switchboard.current_user_id();
  END IF;
  IF pg_catalog.to_regprocedure('auth.role()') IS NULL THEN
    CREATE FUNCTION auth.role() RETURNS pg_catalog.text LANGUAGE sql STABLE
    RETURN COALESCE(
      NULLIF(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
      NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb
        OPERATOR(pg_catalog.->>) 'role')::pg_catalog.text;
  END IF;
  IF pg_catalog.to_regprocedure('auth.jwt()') IS NULL THEN
    CREATE FUNCTION auth.jwt() RETURNS pg_catalog.jsonb LANGUAGE sql STABLE
    RETURN COALESCE(
      NULLIF(pg_catalog.current_setting('request.jwt.claim', true), ''),
      NULLIF(pg_catalog.current_setting('request.jwt.claims', true), ''))::pg_catalog.jsonb;
  END IF;
END
$auth$;
