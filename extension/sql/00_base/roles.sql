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
