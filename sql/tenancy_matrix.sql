-- Tenancy matrix: for every member role of two organisations, what each operation does on the rows
-- of its own organisation and of the other one, on a protect()ed table and on the tenancy tables.
-- Each cell runs in a subtransaction that is always rolled back, so cells do not affect each other.

-- pg_temp.attempt (sql/include/attempt.sql) runs each cell and rolls it back; no placeholders.
CREATE FUNCTION pg_temp.expand(stmt text) RETURNS text LANGUAGE sql AS $$ SELECT stmt $$;
\i sql/include/attempt.sql

-- Two organisations, A and B.
INSERT INTO switchboard.organizations (id, name, slug) VALUES
  ('10000000-0000-4000-8000-00000000000a', 'Matrix A', 'matrix-a'),
  ('10000000-0000-4000-8000-00000000000b', 'Matrix B', 'matrix-b');

-- One member of each role in each organisation; user ids end in <org>000<rank>.
CREATE TEMP TABLE mx_user AS
SELECT o.label || ' ' || r.role AS label, o.label AS org_label, o.org_id, o.other_org_id,
       r.role::switchboard.member_role AS role,
       format('10000000-0000-4000-8000-0000000%s000%s', lower(o.label), r.rank)::uuid AS user_id
  FROM (VALUES ('A', '10000000-0000-4000-8000-00000000000a'::uuid,
                     '10000000-0000-4000-8000-00000000000b'::uuid),
               ('B', '10000000-0000-4000-8000-00000000000b'::uuid,
                     '10000000-0000-4000-8000-00000000000a'::uuid)) AS o (label, org_id, other_org_id)
 CROSS JOIN unnest(enum_range(NULL::switchboard.member_role)) WITH ORDINALITY AS r (role, rank);
INSERT INTO switchboard.organization_members (org_id, user_id, role)
SELECT org_id, user_id, role FROM mx_user;
SELECT label, org_id, user_id FROM mx_user ORDER BY org_label, role;

-- A tenant table with two rows per organisation.
CREATE TABLE public.leads (
  id integer PRIMARY KEY,
  org_id uuid NOT NULL,
  name text NOT NULL
);
CREATE INDEX leads_org_idx ON public.leads (org_id);
INSERT INTO public.leads VALUES
  (1, '10000000-0000-4000-8000-00000000000a', 'lead A1'),
  (2, '10000000-0000-4000-8000-00000000000a', 'lead A2'),
  (3, '10000000-0000-4000-8000-00000000000b', 'lead B1'),
  (4, '10000000-0000-4000-8000-00000000000b', 'lead B2');
SELECT switchboard.protect('public.leads');
GRANT SELECT, INSERT, UPDATE, DELETE ON public.leads TO authenticated, service_role;

-- The policies protect() created.
SELECT policyname, cmd, roles, qual, with_check
  FROM pg_policies WHERE schemaname = 'public' AND tablename = 'leads' ORDER BY policyname;

-- The operations of the matrix, by table; %1$L is the target organisation, %2$L the other one.
CREATE TEMP TABLE mx_op (tbl text, ord int, op text, stmt text);
INSERT INTO mx_op VALUES
  ('leads', 1, 'select', 'SELECT count(*) || '' rows'' FROM public.leads WHERE org_id = %1$L'),
  ('leads', 2, 'insert', 'INSERT INTO public.leads VALUES (100, %1$L, ''new lead'')'),
  ('leads', 3, 'update', 'UPDATE public.leads SET name = name || ''!'' WHERE org_id = %1$L'),
  ('leads', 4, 'move away', 'UPDATE public.leads SET org_id = %2$L WHERE org_id = %1$L'),
  ('leads', 5, 'delete', 'DELETE FROM public.leads WHERE org_id = %1$L'),
  ('orgs', 1, 'select',
   'SELECT count(*) || '' rows'' FROM switchboard.organizations WHERE id = %1$L'),
  ('orgs', 2, 'insert',
   'INSERT INTO switchboard.organizations (name, slug) VALUES (''New'', ''matrix-new'')'),
  ('orgs', 3, 'update name',
   'UPDATE switchboard.organizations SET name = name || ''!'' WHERE id = %1$L'),
  ('orgs', 4, 'update created_by',
   'UPDATE switchboard.organizations SET created_by = NULL WHERE id = %1$L'),
  ('orgs', 5, 'delete', 'DELETE FROM switchboard.organizations WHERE id = %1$L'),
  ('members', 1, 'select',
   'SELECT count(*) || '' rows'' FROM switchboard.organization_members WHERE org_id = %1$L'),
  ('members', 2, 'insert viewer',
   'INSERT INTO switchboard.organization_members (org_id, user_id, role)
    VALUES (%1$L, ''10000000-0000-4000-8000-0000000f0002'', ''viewer'')'),
  ('members', 3, 'update viewer role',
   'UPDATE switchboard.organization_members SET role = ''agent''
     WHERE org_id = %1$L AND role = ''viewer'''),
  ('members', 4, 'update viewer user_id',
   'UPDATE switchboard.organization_members SET user_id = ''10000000-0000-4000-8000-0000000f0003''
     WHERE org_id = %1$L AND role = ''viewer'''),
  ('members', 5, 'delete viewer',
   'DELETE FROM switchboard.organization_members WHERE org_id = %1$L AND role = ''viewer''');

-- Runs operation o as member u, on u's organisation (own) or on the other one.
CREATE FUNCTION pg_temp.as_member(u mx_user, o mx_op, own boolean) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.attempt('authenticated',
                         jsonb_build_object('sub', u.user_id, 'role', 'authenticated'),
                         CASE WHEN own THEN format(o.stmt, u.org_id, u.other_org_id)
                              ELSE format(o.stmt, u.other_org_id, u.org_id) END)
$$;

-- Each row's attempts in a transaction of their own, as a request is (on Citus a transaction may
-- not reach a placement as two different users, also after the first rolled back): a query makes
-- one INSERT of a row's cells into mx_rows per row (and one UPDATE for its last cell), with the
-- attempts' calls as SQL text (pg_temp.call), \gexec runs them, and the rows are then listed from
-- mx_rows in order.
CREATE TEMP TABLE mx_rows (ord bigint, cells text[]);
CREATE FUNCTION pg_temp.call(fn text, VARIADIC args text[]) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN format('pg_temp.%s(%s)', fn, (SELECT string_agg(quote_nullable(a), ', ') FROM unnest(args) a));
END
$$;
CREATE FUNCTION pg_temp.row_insert(ord bigint, VARIADIC cells text[]) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  RETURN format('INSERT INTO mx_rows VALUES (%s, ARRAY[%s])', ord, array_to_string(cells, ', '));
END
$$;
-- The last cell of a row, in a transaction of its own (an attempt on the other organisation after
-- one on the member's own).
CREATE FUNCTION pg_temp.row_append(ord bigint, cell text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN format('UPDATE mx_rows SET cells = cells || %s WHERE ord = %s', cell, ord);
END
$$;

-- Members on public.leads (protect() defaults: select viewer, insert manager, update agent,
-- delete admin); "move away" updates the target's rows to belong to the other organisation.
SELECT pg_temp.row_insert(row_number() OVER (ORDER BY u.org_label, u.role, o.ord),
         quote_literal(u.label), quote_literal(o.op),
         pg_temp.call('as_member', u::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY u.org_label, u.role, o.ord), pg_temp.call('as_member', u::text, o::text, 'false'))
  FROM mx_user u JOIN mx_op o ON o.tbl = 'leads'
 ORDER BY u.org_label, u.role, o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS "user", cells[2] AS op, cells[3] AS "own org", cells[4] AS "other org"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

-- Without a filter, a member sees exactly the rows of their own organisation.
SELECT pg_temp.row_insert(row_number() OVER (ORDER BY u.org_label, u.role), quote_literal(u.label),
         pg_temp.call('attempt', 'authenticated', jsonb_build_object('sub', u.user_id, 'role', 'authenticated')::text,
                       'SELECT string_agg(name, '', '' ORDER BY id) FROM public.leads'))
  FROM mx_user u ORDER BY u.org_label, u.role
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS "user", cells[2] AS visible FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

-- Callers that are not members: anon (no privileges on public.leads), a signed-in stranger,
-- authenticated without a sub; and the service role and the superuser, which reach everything.
CREATE TEMP TABLE mx_caller (ord int, caller text, api_role text, claims jsonb);
INSERT INTO mx_caller VALUES
  (1, 'anon', 'anon', '{"role": "anon"}'),
  (2, 'stranger', 'authenticated',
   '{"sub": "10000000-0000-4000-8000-0000000f0001", "role": "authenticated"}'),
  (3, 'no sub', 'authenticated', '{"role": "authenticated"}'),
  (4, 'service_role', 'service_role', '{"role": "service_role"}'),
  (5, 'superuser', NULL, NULL);

-- Runs operation o as caller c on organisation A (a) or B.
CREATE FUNCTION pg_temp.as_caller(c mx_caller, o mx_op, a boolean) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.attempt(c.api_role, c.claims,
                         CASE WHEN a THEN format(o.stmt, '10000000-0000-4000-8000-00000000000a',
                                                         '10000000-0000-4000-8000-00000000000b')
                              ELSE format(o.stmt, '10000000-0000-4000-8000-00000000000b',
                                                  '10000000-0000-4000-8000-00000000000a') END)
$$;

SELECT pg_temp.row_insert(row_number() OVER (ORDER BY c.ord, o.ord),
         quote_literal(c.caller), quote_literal(o.op),
         pg_temp.call('as_caller', c::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY c.ord, o.ord), pg_temp.call('as_caller', c::text, o::text, 'false'))
  FROM mx_caller c JOIN mx_op o ON o.tbl = 'leads'
 ORDER BY c.ord, o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS caller, cells[2] AS op, cells[3] AS "org A", cells[4] AS "org B"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

-- With privileges, anon still reaches no rows.
GRANT SELECT, INSERT, UPDATE, DELETE ON public.leads TO anon;
SELECT pg_temp.row_insert(row_number() OVER (ORDER BY o.ord),
         quote_literal(c.caller), quote_literal(o.op),
         pg_temp.call('as_caller', c::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY o.ord), pg_temp.call('as_caller', c::text, o::text, 'false'))
  FROM mx_caller c JOIN mx_op o ON o.tbl = 'leads'
 WHERE c.caller = 'anon'
 ORDER BY o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS caller, cells[2] AS op, cells[3] AS "org A", cells[4] AS "org B"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;
REVOKE ALL ON public.leads FROM anon;

-- Within one transaction: a member loses access as soon as their membership is deleted, and gets
-- it back when that deletion is rolled back (the membership cache follows both).
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims',
                  '{"sub": "10000000-0000-4000-8000-0000000a0001", "role": "authenticated"}',
                  true) IS NOT NULL AS claims_set;
SELECT count(*) AS visible_before FROM public.leads;
RESET ROLE;
SAVEPOINT removal;
DELETE FROM switchboard.organization_members WHERE user_id = '10000000-0000-4000-8000-0000000a0001';
SET LOCAL ROLE authenticated;
SELECT count(*) AS visible_after_delete FROM public.leads;
ROLLBACK TO SAVEPOINT removal;
SET LOCAL ROLE authenticated;
SELECT count(*) AS visible_after_rollback FROM public.leads;
ROLLBACK;

-- switchboard.organizations: select viewer, update admin (only name, slug, settings, timezone and
-- is_active are granted), delete owner; only the service role inserts.
SELECT pg_temp.row_insert(row_number() OVER (ORDER BY u.org_label, u.role, o.ord),
         quote_literal(u.label), quote_literal(o.op),
         pg_temp.call('as_member', u::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY u.org_label, u.role, o.ord), pg_temp.call('as_member', u::text, o::text, 'false'))
  FROM mx_user u JOIN mx_op o ON o.tbl = 'orgs'
 ORDER BY u.org_label, u.role, o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS "user", cells[2] AS op, cells[3] AS "own org", cells[4] AS "other org"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

SELECT pg_temp.row_insert(row_number() OVER (ORDER BY c.ord, o.ord),
         quote_literal(c.caller), quote_literal(o.op),
         pg_temp.call('as_caller', c::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY c.ord, o.ord), pg_temp.call('as_caller', c::text, o::text, 'false'))
  FROM mx_caller c JOIN mx_op o ON o.tbl = 'orgs'
 ORDER BY c.ord, o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS caller, cells[2] AS op, cells[3] AS "org A", cells[4] AS "org B"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

-- switchboard.organization_members: select viewer; insert, update (role only) and delete admin,
-- within the membership rules (the service role skips the who-may-act rules, not the others).
-- The operations target the viewer of the organisation.
SELECT pg_temp.row_insert(row_number() OVER (ORDER BY u.org_label, u.role, o.ord),
         quote_literal(u.label), quote_literal(o.op),
         pg_temp.call('as_member', u::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY u.org_label, u.role, o.ord), pg_temp.call('as_member', u::text, o::text, 'false'))
  FROM mx_user u JOIN mx_op o ON o.tbl = 'members'
 ORDER BY u.org_label, u.role, o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS "user", cells[2] AS op, cells[3] AS "own org", cells[4] AS "other org"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

SELECT pg_temp.row_insert(row_number() OVER (ORDER BY c.ord, o.ord),
         quote_literal(c.caller), quote_literal(o.op),
         pg_temp.call('as_caller', c::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY c.ord, o.ord), pg_temp.call('as_caller', c::text, o::text, 'false'))
  FROM mx_caller c JOIN mx_op o ON o.tbl = 'members'
 ORDER BY c.ord, o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS caller, cells[2] AS op, cells[3] AS "org A", cells[4] AS "org B"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

-- A member sees the member list of their own organisation only.
SELECT pg_temp.row_insert(row_number() OVER (ORDER BY u.org_label, u.role), quote_literal(u.label),
         pg_temp.call('attempt', 'authenticated', jsonb_build_object('sub', u.user_id, 'role', 'authenticated')::text,
                      'SELECT string_agg(DISTINCT o.slug, '','') || '': ''
                              || string_agg(m.role::text, '','' ORDER BY m.role)
                         FROM switchboard.organization_members m
                         JOIN switchboard.organizations o ON o.id = m.org_id'))
  FROM mx_user u ORDER BY u.org_label, u.role
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS "user", cells[2] AS visible_members FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;

-- Nothing above changed any data.
SELECT * FROM public.leads ORDER BY id;
SELECT slug, name, created_by FROM switchboard.organizations WHERE slug LIKE 'matrix-%' ORDER BY slug;
SELECT u.label, m.role FROM switchboard.organization_members m JOIN mx_user u USING (user_id)
 ORDER BY u.org_label, u.role;

-- A removed member whose (still valid) JWT is presented reaches nothing. This backend used their
-- membership above, so this also shows the membership cache is dropped when membership changes.
SELECT switchboard.remove_member('10000000-0000-4000-8000-00000000000a',
                                 '10000000-0000-4000-8000-0000000a0004') ->> 'reason' AS "A admin";
SELECT pg_temp.row_insert(row_number() OVER (ORDER BY o.tbl, o.ord), quote_literal(o.tbl), quote_literal(o.op),
         pg_temp.call('as_member', u::text, o::text, 'true')),
       pg_temp.row_append(row_number() OVER (ORDER BY o.tbl, o.ord), pg_temp.call('as_member', u::text, o::text, 'false'))
  FROM mx_user u CROSS JOIN mx_op o
 WHERE u.label = 'A admin'
 ORDER BY o.tbl, o.ord
\set ECHO none
\gexec
\set ECHO all
SELECT cells[1] AS tbl, cells[2] AS op, cells[3] AS "former org", cells[4] AS "other org"
  FROM mx_rows ORDER BY ord;
TRUNCATE mx_rows;
