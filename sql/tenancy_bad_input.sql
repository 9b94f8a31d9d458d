-- Bad input to the tenancy area: broken JWT claims, unknown role names, NULL arguments, misuse of
-- protect(), unknown organisations and forbidden membership updates. Every attempt must fail
-- cleanly with its SQLSTATE (or, for the STRICT role checks, return NULL) and change nothing.

-- This file's organisation, its members and a protected table.
INSERT INTO switchboard.organizations (id, name, slug) VALUES
  ('30000000-0000-4000-8000-00000000000a', 'Bad Input', 'bad-input'),
  ('30000000-0000-4000-8000-00000000000b', 'Bad Other', 'bad-other');
INSERT INTO switchboard.organization_members (org_id, user_id, role) VALUES
  ('30000000-0000-4000-8000-00000000000a', '30000000-0000-4000-8000-0000000a0001', 'viewer'),
  ('30000000-0000-4000-8000-00000000000a', '30000000-0000-4000-8000-0000000a0004', 'admin'),
  ('30000000-0000-4000-8000-00000000000a', '30000000-0000-4000-8000-0000000a0005', 'owner'),
  ('30000000-0000-4000-8000-00000000000b', '30000000-0000-4000-8000-0000000b0005', 'owner');
CREATE TABLE public.bad_leads (
  id integer PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL
);
CREATE INDEX bad_leads_org_idx ON public.bad_leads (org_id);
INSERT INTO public.bad_leads VALUES
  (1, '30000000-0000-4000-8000-00000000000a', 'lead 1'),
  (2, '30000000-0000-4000-8000-00000000000a', 'lead 2');
SELECT switchboard.protect('public.bad_leads');
GRANT SELECT, INSERT, UPDATE, DELETE ON public.bad_leads TO authenticated;
-- Tables protect() must refuse.
CREATE TABLE public.bad_no_org (id integer, tenant uuid);
CREATE TABLE public.bad_text_org (id integer, org_id text);
CREATE TABLE public.bad_int_org (id integer, org_id integer);
CREATE TABLE public.bad_dropped_org (id integer, org_id uuid);
ALTER TABLE public.bad_dropped_org DROP COLUMN org_id;

-- Everything an attempt could change, as text.
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
  SELECT format(E'orgs: %s\nmembers: %s\nleads: %s\npolicies: %s\nrls on: %s',
    (SELECT string_agg(format('%s %s %s %s %s', slug, name, settings, timezone, is_active), '; ' ORDER BY slug)
       FROM switchboard.organizations WHERE slug LIKE 'bad-%'),
    (SELECT string_agg(format('%s=%s', right(m.user_id::text, 5), m.role), ',' ORDER BY m.user_id)
       FROM switchboard.organization_members m
       JOIN switchboard.organizations o ON o.id = m.org_id WHERE o.slug LIKE 'bad-%'),
    (SELECT string_agg(format('%s %s %s', id, right(org_id::text, 4), name), ',' ORDER BY id)
       FROM public.bad_leads),
    (SELECT string_agg(format('%s.%s', tablename, policyname), ',' ORDER BY tablename, policyname)
       FROM pg_policies WHERE tablename LIKE 'bad\_%'),
    (SELECT string_agg(relname, ',' ORDER BY relname)
       FROM pg_class WHERE relname LIKE 'bad\_%' AND relkind = 'r' AND relrowsecurity))
$$;

-- Runs stmt as api_role (NULL: stay superuser) with the claims text (NULL: none), keeping its
-- effect when it succeeds. Returns a SELECT's value ('NULL' for null), 'N rows' for other
-- statements, or 'SQLSTATE: message (detail)'. In stmt, {xxxxx} stands for the uuid
-- '30000000-0000-4000-8000-0000000xxxxx': the organisations are {0000a} and {0000b}, {000ff} does
-- not exist, users are {a0001} (viewer), {a0004} (admin), {a0005} (owner). A message naming a
-- Citus shard ("organizations_102012") names its table: through a Citus coordinator, a statement
-- the coordinator sends on fails with the worker's message, which names the shard.
CREATE FUNCTION pg_temp.attempt_outcome(api_role text, claims text, stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  outcome text;
  n bigint;
  detail text;
BEGIN
  stmt := regexp_replace(stmt, '\{([0-9a-f]{5})\}', '''30000000-0000-4000-8000-0000000\1''', 'g');
  BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(claims, ''), true);
    IF api_role IS NOT NULL THEN
      PERFORM set_config('role', api_role, true);
    END IF;
    IF stmt ~* '^\s*select' THEN
      EXECUTE stmt INTO outcome;
      outcome := coalesce(outcome, 'NULL');
    ELSE
      EXECUTE stmt;
      GET DIAGNOSTICS n = ROW_COUNT;
      outcome := n || ' rows';
    END IF;
    PERFORM set_config('role', 'none', true);
    PERFORM set_config('request.jwt.claims', '', true);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    outcome := SQLSTATE || ': ' || regexp_replace(SQLERRM, 'relation "(\w+)_[0-9]{6,}"', 'relation "\1"')
               || coalesce(' (' || nullif(detail, '') || ')', '');
  END;
  RETURN outcome;
END
$$;
-- pg_temp.attempt_outcome, and whether pg_temp.state() is unchanged by it.
CREATE FUNCTION pg_temp.try(api_role text, claims text, stmt text, OUT outcome text,
                            OUT unchanged boolean)
LANGUAGE plpgsql AS $$
DECLARE
  before text := pg_temp.state();
BEGIN
  outcome := pg_temp.attempt_outcome(api_role, claims, stmt);
  unchanged := pg_temp.state() IS NOT DISTINCT FROM before;
END
$$;
-- The same for several statements, each in a transaction of its own, as a request is (on Citus a
-- transaction may not reach a placement as two different users, even after the first rolled
-- back): \gexec runs the two statements pg_temp.one_by_one(ord, label, api_role, claims, stmt)
-- makes for each attempt, and the outcomes are then listed from try_answers. Whether
-- pg_temp.state() is unchanged is compared, in a transaction of its own, with the state kept in
-- try_before.
CREATE TEMP TABLE try_answers (ord int, label text, outcome text, unchanged boolean);
CREATE TEMP TABLE try_before (state text);
CREATE FUNCTION pg_temp.one_by_one(ord int, label text, api_role text, claims text, stmt text,
                                   OUT run text, OUT compare text)
LANGUAGE plpgsql AS $$
BEGIN
  run := format('INSERT INTO try_answers VALUES (%s, %L, pg_temp.attempt_outcome(%L, %L, %L))',
                ord, label, api_role, claims, stmt);
  compare := format('UPDATE try_answers SET unchanged = pg_temp.state() IS NOT DISTINCT FROM '
                    '(SELECT state FROM try_before) WHERE ord = %s', ord);
END
$$;

SELECT pg_temp.state() AS state_before;

--
-- Broken claims, presented by the owner's session: every operation that needs the caller fails
-- with 22P02 instead of guessing (no rows, no changes).
--
CREATE TEMP TABLE bad_claims (ord int, label text, claims text);
INSERT INTO bad_claims VALUES
  (1, 'malformed json', '{"sub": "30000000-0000-4000-8000-0000000a0005"'),
  (2, 'json array', '["30000000-0000-4000-8000-0000000a0005"]'),
  (3, 'json string', '"30000000-0000-4000-8000-0000000a0005"'),
  (4, 'json null', 'null'),
  (5, 'non-uuid sub', '{"sub": "owner-of-bad-input"}'),
  (6, 'numeric sub', '{"sub": 12345}'),
  (7, 'object sub', '{"sub": {"id": "30000000-0000-4000-8000-0000000a0005"}}'),
  (8, 'sub one digit short', '{"sub": "30000000-0000-4000-8000-0000000a000"}'),
  (9, 'non-uuid org_id', '{"sub": "30000000-0000-4000-8000-0000000a0005", "app_metadata": {"org_id": "acme"}}'),
  (10, 'numeric org_id', '{"sub": "30000000-0000-4000-8000-0000000a0005", "app_metadata": {"org_id": 7}}');
CREATE TEMP TABLE bad_claims_op (ord int, op text, stmt text);
INSERT INTO bad_claims_op VALUES
  (1, 'current_user_id', 'SELECT switchboard.current_user_id()'),
  (2, 'select', 'SELECT count(*) || '' rows'' FROM public.bad_leads'),
  (3, 'insert', 'INSERT INTO public.bad_leads VALUES (3, {0000a}, ''x'')'),
  (4, 'update', 'UPDATE public.bad_leads SET name = ''x'''),
  (5, 'delete', 'DELETE FROM public.bad_leads'),
  (6, 'add_member', 'SELECT switchboard.add_member({0000a}, {a0002}, ''agent'')');

-- (A malformed app_metadata.org_id only fails what reads it: current_org_id(), below.)
SELECT c.label AS claims, o.op, t.outcome, t.unchanged
  FROM bad_claims c CROSS JOIN bad_claims_op o,
       LATERAL pg_temp.try('authenticated', c.claims, o.stmt) t
 WHERE c.label NOT LIKE '%org_id'
 ORDER BY c.ord, o.ord;

-- current_org_id() refuses claims that are not a JSON object and a malformed org_id;
-- current_claims() refuses only claims that are not a JSON object.
SELECT c.label AS claims,
       (pg_temp.try(NULL, c.claims,
        'SELECT switchboard.current_org_id()')).outcome AS current_org_id,
       (pg_temp.try(NULL, c.claims,
        'SELECT switchboard.current_claims()')).outcome AS current_claims
  FROM bad_claims c ORDER BY c.ord;

-- A bad legacy request.jwt.claim.sub is refused the same way.
SELECT t.label,
       (pg_temp.try(NULL, NULL,
                    format('SELECT set_config(''request.jwt.claim.sub'', %L, true)
                                   || switchboard.current_user_id()', t.value))).outcome AS current_user_id
  FROM (VALUES (1, 'not a uuid', 'owner-of-bad-input'),
               (2, 'leading space', ' 30000000-0000-4000-8000-0000000a0005')) AS t (ord, label, value)
 ORDER BY t.ord;

--
-- Unknown role names are rejected by the enum (22P02), wherever they are passed.
--
SELECT t.label, r.outcome, r.unchanged
  FROM (VALUES
    (1, 'add_member superadmin', 'SELECT switchboard.add_member({0000a}, {a0002}, ''superadmin'')'),
    (2, 'set_member_role Owner', 'SELECT switchboard.set_member_role({0000a}, {a0001}, ''Owner'')'),
    (3, 'set_member_role empty', 'SELECT switchboard.set_member_role({0000a}, {a0001}, '''')'),
    (4, 'has_role_at_least root', 'SELECT switchboard.has_role_at_least({0000a}, ''root'')'),
    (5, 'member_org_ids boss', 'SELECT switchboard.member_org_ids(''boss'')'),
    (6, 'protect with god',
     'SELECT switchboard.protect(''public.bad_leads'', ''org_id'', ''god'')'),
    (7, 'direct insert with guest',
     'INSERT INTO switchboard.organization_members (org_id, user_id, role) VALUES ({0000a}, {a0002}, ''guest'')'))
    AS t (ord, label, stmt),
    LATERAL pg_temp.try(CASE WHEN t.label LIKE 'protect%' THEN NULL ELSE 'authenticated' END,
                        '{"sub": "30000000-0000-4000-8000-0000000a0005"}', t.stmt) r
 ORDER BY t.ord;

--
-- NULL arguments: 22023 naming the argument; the STRICT role checks return NULL.
--
SELECT t.label, r.outcome, r.unchanged
  FROM (VALUES
    (1, 'add_member org_id', 'SELECT switchboard.add_member(NULL, {a0002}, ''viewer'')'),
    (2, 'add_member user_id', 'SELECT switchboard.add_member({0000a}, NULL, ''viewer'')'),
    (3, 'add_member role', 'SELECT switchboard.add_member({0000a}, {a0002}, NULL)'),
    (4, 'set_member_role org_id', 'SELECT switchboard.set_member_role(NULL, {a0001}, ''agent'')'),
    (5, 'set_member_role user_id', 'SELECT switchboard.set_member_role({0000a}, NULL, ''agent'')'),
    (6, 'set_member_role role', 'SELECT switchboard.set_member_role({0000a}, {a0001}, NULL)'),
    (7, 'remove_member org_id', 'SELECT switchboard.remove_member(NULL, {a0001})'),
    (8, 'remove_member user_id', 'SELECT switchboard.remove_member({0000a}, NULL)'),
    (9, 'create_organization name',
     'SELECT switchboard.create_organization(NULL, ''bad-null-name'')'),
    (10, 'create_organization slug', 'SELECT switchboard.create_organization(''Null slug'', NULL)'),
    (11, 'member_role', 'SELECT switchboard.member_role(NULL::uuid)'),
    (12, 'has_role_at_least org_id', 'SELECT switchboard.has_role_at_least(NULL, ''viewer'')'),
    (13, 'has_role_at_least min_role', 'SELECT switchboard.has_role_at_least({0000a}, NULL)'),
    (14, 'is_member', 'SELECT switchboard.is_member(NULL)'),
    (15, 'member_org_ids', 'SELECT switchboard.member_org_ids(NULL)'))
    AS t (ord, label, stmt),
    LATERAL pg_temp.try('authenticated', '{"sub": "30000000-0000-4000-8000-0000000a0005"}', t.stmt) r
 ORDER BY t.ord;

--
-- protect() misuse (as the superuser, who owns the tables): missing or dropped column (42703),
-- a column that is not uuid (42804), NULL arguments (22023), a table that does not exist (42P01);
-- and a client role may not call it at all.
--
SELECT t.label, r.outcome, r.unchanged
  FROM (VALUES
    (1, 'no org_id column', NULL, 'SELECT switchboard.protect(''public.bad_no_org'')'),
    (2, 'no such column', NULL, 'SELECT switchboard.protect(''public.bad_no_org'', ''org'')'),
    (3, 'dropped org_id column', NULL, 'SELECT switchboard.protect(''public.bad_dropped_org'')'),
    (4, 'text org_id', NULL, 'SELECT switchboard.protect(''public.bad_text_org'')'),
    (5, 'integer org_id', NULL, 'SELECT switchboard.protect(''public.bad_int_org'')'),
    (6, 'non-uuid id column', NULL, 'SELECT switchboard.protect(''public.bad_no_org'', ''id'')'),
    (7, 'no such table', NULL, 'SELECT switchboard.protect(''public.bad_missing'')'),
    (8, 'NULL table', NULL, 'SELECT switchboard.protect(NULL)'),
    (9, 'NULL org_column', NULL, 'SELECT switchboard.protect(''public.bad_no_org'', NULL)'),
    (10, 'NULL select_role', NULL,
     'SELECT switchboard.protect(''public.bad_no_org'', ''tenant'', NULL)'),
    (11, 'NULL delete_role', NULL,
     'SELECT switchboard.protect(''public.bad_no_org'', ''tenant'', delete_role => NULL)'),
    (12, 'as authenticated', 'authenticated',
     'SELECT switchboard.protect(''public.bad_no_org'', ''tenant'')'),
    (13, 'as service_role', 'service_role',
     'SELECT switchboard.protect(''public.bad_no_org'', ''tenant'')'))
    AS t (ord, label, api_role, stmt),
    LATERAL pg_temp.try(t.api_role, NULL, t.stmt) r
 ORDER BY t.ord;

--
-- Organisations and members that do not exist.
--
SELECT t.label, r.outcome, r.unchanged
  FROM (VALUES
    (1, 'add_member, no such org', 'authenticated',
     'SELECT switchboard.add_member({000ff}, {a0002}, ''viewer'')'),
    (2, 'set_member_role, no such org', 'authenticated',
     'SELECT switchboard.set_member_role({000ff}, {a0001}, ''agent'')'),
    (3, 'remove_member, no such org', 'authenticated',
     'SELECT switchboard.remove_member({000ff}, {a0001})'),
    (4, 'add_member, no such org (service_role)', 'service_role',
     'SELECT switchboard.add_member({000ff}, {a0002}, ''viewer'')'),
    (5, 'insert member, no such org (superuser)', NULL,
     'INSERT INTO switchboard.organization_members (org_id, user_id, role) VALUES ({000ff}, {a0002}, ''viewer'')'),
    (6, 'set_member_role, not a member', 'authenticated',
     'SELECT switchboard.set_member_role({0000a}, {a0002}, ''agent'')'),
    (7, 'remove_member, not a member', 'authenticated',
     'SELECT switchboard.remove_member({0000a}, {a0002})'),
    (8, 'add_member, already a member', 'authenticated',
     'SELECT switchboard.add_member({0000a}, {a0001}, ''agent'')'))
    AS t (ord, label, api_role, stmt),
    LATERAL pg_temp.try(t.api_role, '{"sub": "30000000-0000-4000-8000-0000000a0005"}', t.stmt) r
 ORDER BY t.ord;

--
-- A membership keeps its organisation and user (22023), whoever updates it; clients may update
-- only the role column (42501).
--
INSERT INTO try_before SELECT pg_temp.state();
SELECT o.*
  FROM (VALUES
    (1, 'superuser changes user_id', NULL,
     'UPDATE switchboard.organization_members SET user_id = {a0002} WHERE user_id = {a0001}'),
    (2, 'superuser changes org_id', NULL,
     'UPDATE switchboard.organization_members SET org_id = (SELECT id FROM switchboard.organizations WHERE slug = ''bad-other'') WHERE user_id = {a0001}'),
    (3, 'service_role changes user_id', 'service_role',
     'UPDATE switchboard.organization_members SET user_id = {a0002} WHERE user_id = {a0001}'),
    (4, 'owner changes user_id', 'authenticated',
     'UPDATE switchboard.organization_members SET user_id = {a0002} WHERE user_id = {a0001}'),
    (5, 'owner changes org_id', 'authenticated',
     'UPDATE switchboard.organization_members SET org_id = {000ff} WHERE user_id = {a0001}'))
    AS t (ord, label, api_role, stmt),
    LATERAL pg_temp.one_by_one(t.ord, t.label, t.api_role, '{"sub": "30000000-0000-4000-8000-0000000a0005"}', t.stmt) o
 ORDER BY t.ord
\set ECHO none
\gexec
\set ECHO all
SELECT label, outcome, unchanged FROM try_answers ORDER BY ord;
TRUNCATE try_answers;

--
-- Organisation fields an admin may update still obey their checks.
--
SELECT o.*
  FROM (VALUES
    (1, 'unknown time zone',
     'UPDATE switchboard.organizations SET timezone = ''Mars/Olympus_Mons'' WHERE slug = ''bad-input'''),
    (2, 'settings not an object',
     'UPDATE switchboard.organizations SET settings = ''[]'' WHERE slug = ''bad-input'''),
    (3, 'invalid slug',
     'UPDATE switchboard.organizations SET slug = ''Bad Input'' WHERE slug = ''bad-input'''),
    (4, 'blank name',
     'UPDATE switchboard.organizations SET name = '' '' WHERE slug = ''bad-input'''),
    (5, 'null is_active',
     'UPDATE switchboard.organizations SET is_active = NULL WHERE slug = ''bad-input'''))
    AS t (ord, label, stmt),
    LATERAL pg_temp.one_by_one(t.ord, t.label, 'authenticated', '{"sub": "30000000-0000-4000-8000-0000000a0004"}', t.stmt) o
 ORDER BY t.ord
\set ECHO none
\gexec
\set ECHO all
SELECT label, outcome, unchanged FROM try_answers ORDER BY ord;

-- The session is still usable and nothing changed.
SELECT pg_temp.state() AS state_after;
