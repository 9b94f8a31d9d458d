-- Tenancy functions: create_organization, add_member / set_member_role / remove_member by each actor
-- role, the role checks, the caller's identity from the JWT claims, and is_service_role().

-- pg_temp.attempt (sql/include/attempt.sql) runs the statements; in them {xxxxx} stands for the
-- uuid '20000000-0000-4000-8000-0000000xxxxx' (organisation F is {0000f}, its viewer {f0001}).
CREATE FUNCTION pg_temp.expand(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(stmt, '\{([0-9a-f]{5})\}', '''20000000-0000-4000-8000-0000000\1''', 'g')
$$;
\i sql/include/attempt.sql

-- Runs stmt as the signed-in user with id sub, keeping its effect when it succeeds.
CREATE FUNCTION pg_temp.as_user(sub uuid, stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.attempt('authenticated', jsonb_build_object('sub', sub, 'role', 'authenticated'),
                         stmt, true)
$$;

-- The users of this file: label -> id.
CREATE TEMP TABLE fn_user (label text PRIMARY KEY, user_id uuid NOT NULL);
INSERT INTO fn_user VALUES
  ('F viewer', '20000000-0000-4000-8000-0000000f0001'),
  ('F agent', '20000000-0000-4000-8000-0000000f0002'),
  ('F manager', '20000000-0000-4000-8000-0000000f0003'),
  ('F admin', '20000000-0000-4000-8000-0000000f0004'),
  ('F admin2', '20000000-0000-4000-8000-0000000f0014'),
  ('F owner', '20000000-0000-4000-8000-0000000f0005'),
  ('G owner', '20000000-0000-4000-8000-0000000e0005'),
  ('G owner2', '20000000-0000-4000-8000-0000000e0015'),
  ('multi', '20000000-0000-4000-8000-0000000c0001'),
  ('stranger', '20000000-0000-4000-8000-0000000d0001'),
  ('newcomer', '20000000-0000-4000-8000-0000000d0002'),
  ('creator', '20000000-0000-4000-8000-0000000d0003');

-- Organisation F has one member of each role, two admins and one owner; G has one owner; "multi" is
-- an agent of F and a manager of G.
INSERT INTO switchboard.organizations (id, name, slug) VALUES
  ('20000000-0000-4000-8000-00000000000f', 'Functions F', 'functions-f'),
  ('20000000-0000-4000-8000-00000000000e', 'Functions G', 'functions-g');
INSERT INTO switchboard.organization_members (org_id, user_id, role)
SELECT o.id, u.user_id, m.role::switchboard.member_role
  FROM (VALUES ('F viewer', 'F', 'viewer'), ('F agent', 'F', 'agent'), ('F manager', 'F', 'manager'),
               ('F admin', 'F', 'admin'), ('F admin2', 'F', 'admin'), ('F owner', 'F', 'owner'),
               ('G owner', 'G', 'owner'), ('multi', 'F', 'agent'), ('multi', 'G', 'manager'))
       AS m (label, org, role)
  JOIN fn_user u USING (label)
  JOIN switchboard.organizations o ON o.slug = 'functions-' || lower(m.org);

-- Shows the members of an organisation by label.
-- (PL/pgSQL: Citus plans no SQL-language function whose query has parameters.)
CREATE FUNCTION pg_temp.members(slug text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT string_agg(coalesce(u.label, m.user_id::text) || '=' || m.role, ', '
                            ORDER BY m.role DESC, u.label)
            FROM switchboard.organization_members m
            JOIN switchboard.organizations o ON o.id = m.org_id
            LEFT JOIN fn_user u USING (user_id)
           WHERE o.slug = members.slug);
END
$$;

--
-- Role checks, for each member of F, an outsider and no user at all.
--
SELECT u.label AS "user",
       pg_temp.attempt('authenticated', jsonb_build_object('sub', u.user_id),
         'SELECT switchboard.member_role({0000f}::uuid)') AS member_role,
       pg_temp.attempt('authenticated', jsonb_build_object('sub', u.user_id),
         'SELECT string_agg(CASE WHEN switchboard.has_role_at_least(
                                        {0000f}::uuid, r)
                                 THEN r::text ELSE ''-'' END, '' '' ORDER BY r)
            FROM unnest(enum_range(NULL::switchboard.member_role)) AS r') AS has_role_at_least,
       pg_temp.attempt('authenticated', jsonb_build_object('sub', u.user_id),
         'SELECT switchboard.is_member({0000f}::uuid)') AS is_member
  FROM fn_user u
 WHERE u.label LIKE 'F %' OR u.label IN ('multi', 'stranger')
UNION ALL
SELECT 'no user',
       pg_temp.attempt('authenticated', '{}',
         'SELECT switchboard.member_role({0000f}::uuid)'),
       pg_temp.attempt('authenticated', '{}',
         'SELECT string_agg(CASE WHEN switchboard.has_role_at_least(
                                        {0000f}::uuid, r)
                                 THEN r::text ELSE ''-'' END, '' '' ORDER BY r)
            FROM unnest(enum_range(NULL::switchboard.member_role)) AS r'),
       pg_temp.attempt('authenticated', '{}',
         'SELECT switchboard.is_member({0000f}::uuid)')
 ORDER BY 1;

-- member_org_ids(min_role): the organisations (by slug) where the caller holds at least min_role;
-- without an argument it means viewer.
SELECT u.label AS "user", r.min_role,
       pg_temp.attempt('authenticated', jsonb_build_object('sub', u.user_id),
         format('SELECT coalesce(string_agg(o.slug, '','' ORDER BY o.slug), ''(none)'')
                   FROM switchboard.organizations o
                  WHERE o.id = ANY (switchboard.member_org_ids(%s))', r.arg)) AS orgs
  FROM fn_user u
 CROSS JOIN (VALUES (1, '(default)', ''), (2, 'viewer', '''viewer'''), (3, 'manager', '''manager'''),
                    (4, 'owner', '''owner''')) AS r (ord, min_role, arg)
 WHERE u.label IN ('F viewer', 'F admin', 'F owner', 'G owner', 'multi', 'stranger')
 ORDER BY u.label, r.ord;

--
-- create_organization(name, slug): the caller becomes its owner.
--
SELECT pg_temp.as_user('20000000-0000-4000-8000-0000000d0003',
         'SELECT switchboard.create_organization(''Created Org'', ''functions-created'') IS NOT NULL')
       AS created;
SELECT o.name, o.slug, u.label AS created_by, o.settings, o.timezone, o.is_active,
       pg_temp.members(o.slug) AS members
  FROM switchboard.organizations o LEFT JOIN fn_user u ON u.user_id = o.created_by
 WHERE o.slug = 'functions-created';
-- The creator's role checks see the new organisation at once.
SELECT pg_temp.attempt('authenticated', '{"sub": "20000000-0000-4000-8000-0000000d0003"}',
         'SELECT switchboard.member_role(o.id) FROM switchboard.organizations o
           WHERE o.slug = ''functions-created''') AS creator_role;

-- Slug rules: 1 to 63 of [a-z0-9-], not starting or ending with a hyphen. A valid slug gives an
-- organisation whose owner is the caller (each attempt is rolled back).
SELECT s.slug,
       pg_temp.attempt('authenticated', '{"sub": "20000000-0000-4000-8000-0000000d0003"}',
         format('SELECT switchboard.member_role(switchboard.create_organization(''Slug test'', %L))',
                s.slug)) AS outcome
  FROM (VALUES (1, 'a'), (2, '0'), (3, 'fn-ok-123'), (4, 'a--b'), (5, repeat('s', 63)),
               (6, repeat('s', 64)), (7, ''), (8, 'Upper'), (9, '-lead'), (10, 'trail-'),
               (11, 'under_score'), (12, 'dot.ted'), (13, 'sp ace'), (14, 'ünïcode'), (15, '-'))
       AS s (ord, slug)
 ORDER BY s.ord;

-- Name rules (1 to 200 characters, not blank), a taken slug, and callers without a user.
SELECT c.what,
       pg_temp.attempt(c.api_role, c.claims, format('SELECT switchboard.create_organization(%L, %L)
                                                        IS NOT NULL', c.name, c.slug)) AS outcome
  FROM (VALUES
    (1, 'name of 200 characters', 'authenticated', '{"sub": "20000000-0000-4000-8000-0000000d0003"}'::jsonb,
     repeat('n', 200), 'functions-long'),
    (2, 'name of 201 characters', 'authenticated', '{"sub": "20000000-0000-4000-8000-0000000d0003"}',
     repeat('n', 201), 'functions-long'),
    (3, 'blank name', 'authenticated', '{"sub": "20000000-0000-4000-8000-0000000d0003"}',
     '  ', 'functions-blank'),
    (4, 'slug taken', 'authenticated', '{"sub": "20000000-0000-4000-8000-0000000d0003"}',
     'Again', 'functions-created'),
    (5, 'slug taken by another user', 'authenticated', '{"sub": "20000000-0000-4000-8000-0000000d0001"}',
     'Again', 'functions-f'),
    (6, 'authenticated, no sub', 'authenticated', '{"role": "authenticated"}', 'Nobody', 'functions-nobody'),
    (7, 'service_role, no sub', 'service_role', '{"role": "service_role"}', 'Nobody', 'functions-nobody'),
    (8, 'superuser, no sub', NULL, NULL, 'Nobody', 'functions-nobody'),
    (9, 'anon', 'anon', '{"role": "anon"}', 'Nobody', 'functions-nobody'))
    AS c (ord, what, api_role, claims, name, slug)
 ORDER BY c.ord;
SELECT count(*) AS orgs_created_by_the_attempts
  FROM switchboard.organizations WHERE slug IN ('functions-long', 'functions-blank', 'functions-nobody');

--
-- add_member, set_member_role and remove_member in F, by each actor. Each action is rolled back.
-- %1$L is the actor's own user id.
--
CREATE TEMP TABLE fn_action (ord int, action text, stmt text);
INSERT INTO fn_action VALUES
  (1, 'add newcomer as viewer',
   'SELECT switchboard.add_member({0000f}, {d0002}, ''viewer'') ->> ''reason'''),
  (2, 'add newcomer as admin',
   'SELECT switchboard.add_member({0000f}, {d0002}, ''admin'') ->> ''reason'''),
  (3, 'add newcomer as owner',
   'SELECT switchboard.add_member({0000f}, {d0002}, ''owner'') ->> ''reason'''),
  (4, 'viewer -> viewer',
   'SELECT switchboard.set_member_role({0000f}, {f0001}, ''viewer'') ->> ''reason'''),
  (5, 'viewer -> agent',
   'SELECT switchboard.set_member_role({0000f}, {f0001}, ''agent'') ->> ''reason'''),
  (6, 'viewer -> owner',
   'SELECT switchboard.set_member_role({0000f}, {f0001}, ''owner'') ->> ''reason'''),
  (7, 'admin2 -> viewer',
   'SELECT switchboard.set_member_role({0000f}, {f0014}, ''viewer'') ->> ''reason'''),
  (8, 'owner -> admin',
   'SELECT switchboard.set_member_role({0000f}, {f0005}, ''admin'') ->> ''reason'''),
  (9, 'self -> owner',
   'SELECT switchboard.set_member_role({0000f}, %1$L, ''owner'') ->> ''reason'''),
  (10, 'remove viewer',
   'SELECT switchboard.remove_member({0000f}, {f0001}) ->> ''reason'''),
  (11, 'remove admin2',
   'SELECT switchboard.remove_member({0000f}, {f0014}) ->> ''reason'''),
  (12, 'remove owner',
   'SELECT switchboard.remove_member({0000f}, {f0005}) ->> ''reason'''),
  (13, 'leave (remove self)',
   'SELECT switchboard.remove_member({0000f}, %1$L) ->> ''reason''');

CREATE TEMP TABLE fn_actor (ord int, actor text, api_role text, user_id uuid);
INSERT INTO fn_actor VALUES
  (1, 'F viewer', 'authenticated', '20000000-0000-4000-8000-0000000f0001'),
  (2, 'F agent', 'authenticated', '20000000-0000-4000-8000-0000000f0002'),
  (3, 'F manager', 'authenticated', '20000000-0000-4000-8000-0000000f0003'),
  (4, 'F admin', 'authenticated', '20000000-0000-4000-8000-0000000f0004'),
  (5, 'F owner', 'authenticated', '20000000-0000-4000-8000-0000000f0005'),
  (6, 'G owner', 'authenticated', '20000000-0000-4000-8000-0000000e0005'),
  (7, 'stranger', 'authenticated', '20000000-0000-4000-8000-0000000d0001'),
  (8, 'no user', 'authenticated', NULL),
  (9, 'service_role', 'service_role', NULL);

SELECT a.actor, x.action,
       pg_temp.attempt(a.api_role, jsonb_build_object('sub', a.user_id, 'role', a.api_role),
                       format(x.stmt, a.user_id)) AS outcome
  FROM fn_actor a CROSS JOIN fn_action x
 WHERE a.user_id IS NOT NULL OR x.stmt NOT LIKE '%\%1$L%'
 ORDER BY a.ord, x.ord;

-- anon may not call the membership functions at all.
SELECT pg_temp.attempt('anon', '{"role": "anon"}',
         'SELECT switchboard.add_member({0000f},
                                        {d0002}, ''viewer'')') AS anon_add;

-- The results the functions return.
SELECT pg_temp.attempt('authenticated', '{"sub": "20000000-0000-4000-8000-0000000f0005"}',
         'SELECT jsonb_pretty(switchboard.add_member({0000f},
                                                     {d0002}, ''agent''))')
       AS add_member;
SELECT pg_temp.attempt('authenticated', '{"sub": "20000000-0000-4000-8000-0000000f0005"}',
         'SELECT jsonb_pretty(switchboard.set_member_role({0000f},
                                                          {f0003}, ''admin''))')
       AS set_member_role;
SELECT pg_temp.attempt('authenticated', '{"sub": "20000000-0000-4000-8000-0000000f0005"}',
         'SELECT jsonb_pretty(switchboard.remove_member({0000f},
                                                        {f0002}))')
       AS remove_member;

-- F is unchanged by all of the above.
SELECT pg_temp.members('functions-f') AS "F";

--
-- The last owner, step by step in G (each step is kept when it succeeds; the volatile calls run
-- after the sort, so in step order).
--
SELECT s.step, s.actor,
       CASE WHEN s.actor = 'superuser'
            THEN pg_temp.attempt(NULL, NULL, s.stmt, true)
            ELSE pg_temp.as_user(u.user_id, s.stmt)
       END AS outcome,
       pg_temp.members('functions-g') AS "G afterwards"
  FROM (VALUES
    (1, 'G owner', 'demotes self',
     'SELECT switchboard.set_member_role({0000e}, {e0005}, ''admin'') ->> ''reason'''),
    (2, 'G owner', 'leaves', 'SELECT switchboard.remove_member({0000e}, {e0005}) ->> ''reason'''),
    (3, 'G owner', 'adds owner2',
     'SELECT switchboard.add_member({0000e}, {e0015}, ''owner'') ->> ''reason'''),
    (4, 'G owner2', 'demotes owner',
     'SELECT switchboard.set_member_role({0000e}, {e0005}, ''admin'') ->> ''reason'''),
    (5, 'G owner', 'promotes self',
     'SELECT switchboard.set_member_role({0000e}, {e0005}, ''owner'') ->> ''reason'''),
    (6, 'G owner', 'demotes owner2',
     'SELECT switchboard.set_member_role({0000e}, {e0015}, ''admin'') ->> ''reason'''),
    (7, 'G owner', 'removes owner2',
     'SELECT switchboard.remove_member({0000e}, {e0015}) ->> ''reason'''),
    (8, 'G owner2', 'promotes owner',
     'SELECT switchboard.set_member_role({0000e}, {e0005}, ''owner'') ->> ''reason'''),
    (9, 'superuser', 'demotes both owners at once',
     'UPDATE switchboard.organization_members SET role = ''admin'' WHERE org_id = {0000e} AND role = ''owner'''),
    (10, 'superuser', 'removes both owners at once',
     'DELETE FROM switchboard.organization_members WHERE org_id = {0000e} AND role = ''owner'''),
    (11, 'G owner2', 'leaves', 'SELECT switchboard.remove_member({0000e}, {e0015}) ->> ''reason'''),
    (12, 'G owner', 'leaves', 'SELECT switchboard.remove_member({0000e}, {e0005}) ->> ''reason'''),
    (13, 'G owner', 'demotes self',
     'SELECT switchboard.set_member_role({0000e}, {e0005}, ''manager'') ->> ''reason'''))
    AS s (ord, actor, step, stmt)
  LEFT JOIN fn_user u ON u.label = s.actor
 ORDER BY s.ord;

-- The last-owner rule binds the service role and the superuser too, by function and directly.
SELECT c.caller, c.what,
       pg_temp.attempt(c.api_role, NULL, c.stmt) AS outcome
  FROM (VALUES
    (1, 'service_role', 'service_role', 'remove_member',
     'SELECT switchboard.remove_member({0000e}, {e0005}) ->> ''reason'''),
    (2, 'service_role', 'service_role', 'set_member_role',
     'SELECT switchboard.set_member_role({0000e}, {e0005}, ''viewer'') ->> ''reason'''),
    (3, 'superuser', NULL, 'DELETE',
     'DELETE FROM switchboard.organization_members WHERE org_id = {0000e} AND role = ''owner'''),
    (4, 'superuser', NULL, 'UPDATE',
     'UPDATE switchboard.organization_members SET role = ''admin'' WHERE org_id = {0000e} AND role = ''owner'''),
    (5, 'superuser', NULL, 'DELETE every member',
     'DELETE FROM switchboard.organization_members WHERE org_id = {0000e}'))
    AS c (ord, caller, api_role, what, stmt)
 ORDER BY c.ord;
-- Deleting the organisation itself deletes its members, last owner included.
SELECT pg_temp.attempt('service_role', NULL,
         'DELETE FROM switchboard.organizations WHERE id = {0000e}',
         true) AS delete_g;
SELECT count(*) AS members_left_in_g
  FROM switchboard.organization_members WHERE org_id = '20000000-0000-4000-8000-00000000000e';
SELECT pg_temp.members('functions-f') AS "F";

--
-- The caller's identity: current_user_id(), current_org_id(), current_claims() and Supabase's
-- auth.uid(), auth.role(), auth.jwt(), for request.jwt.claims, the legacy request.jwt.claim.sub
-- and request.jwt.claim settings, and '' (which a setting becomes once set) as absent.
--
-- Evaluates expr with the three settings set ('' for none) in a rolled-back subtransaction.
CREATE FUNCTION pg_temp.with_claims(claims text, claim_sub text, claim text, expr text)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  result text;
BEGIN
  BEGIN
    PERFORM set_config('request.jwt.claims', claims, true),
            set_config('request.jwt.claim.sub', claim_sub, true),
            set_config('request.jwt.claim', claim, true);
    EXECUTE 'SELECT (' || expr || ')::text' INTO result;
    result := coalesce(result, 'NULL');
    RAISE EXCEPTION USING ERRCODE = 'SBRBK';
  EXCEPTION
    WHEN SQLSTATE 'SBRBK' THEN NULL;
    WHEN OTHERS THEN result := SQLSTATE || ': ' || SQLERRM;
  END;
  RETURN result;
END
$$;

CREATE TEMP TABLE fn_claims (ord int, label text, claims text, claim_sub text, claim text);
INSERT INTO fn_claims VALUES
  (1, 'nothing set', '', '', ''),
  (2, 'sub, org and role',
   '{"sub": "20000000-0000-4000-8000-0000000f0001", "role": "authenticated", "app_metadata": {"org_id": "20000000-0000-4000-8000-00000000000f"}}', '', ''),
  (3, 'role only', '{"role": "anon"}', '', ''),
  (4, 'sub is ""', '{"sub": "", "role": "authenticated"}', '', ''),
  (5, 'sub is null', '{"sub": null}', '', ''),
  (6, 'uppercase sub', '{"sub": "20000000-0000-4000-8000-0000000F0001"}', '', ''),
  (7, 'org_id is ""', '{"app_metadata": {"org_id": ""}}', '', ''),
  (8, 'org_id is null', '{"app_metadata": {"org_id": null}}', '', ''),
  (9, 'no app_metadata.org_id', '{"app_metadata": {"provider": "email"}, "org_id": "20000000-0000-4000-8000-00000000000f"}', '', ''),
  (10, 'legacy claim.sub only', '', '20000000-0000-4000-8000-0000000f0002', ''),
  (11, 'legacy claim.sub differs', '{"sub": "20000000-0000-4000-8000-0000000f0001", "role": "authenticated"}',
   '20000000-0000-4000-8000-0000000f0002', ''),
  (12, 'legacy claim.sub is ""', '{"sub": "20000000-0000-4000-8000-0000000f0001"}', '', ''),
  (13, 'legacy claim only', '', '', '{"sub": "20000000-0000-4000-8000-0000000f0003", "role": "authenticated"}'),
  (14, 'legacy claim.sub agrees', '{"sub": "20000000-0000-4000-8000-0000000f0001"}',
   '20000000-0000-4000-8000-0000000F0001', '');

SELECT c.label,
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'switchboard.current_user_id()') AS current_user_id,
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'switchboard.current_org_id()') AS current_org_id,
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'switchboard.current_claims()') AS current_claims
  FROM fn_claims c ORDER BY c.ord;

SELECT c.label,
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'auth.uid()') AS "auth.uid",
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'auth.role()') AS "auth.role",
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'auth.jwt()') AS "auth.jwt"
  FROM fn_claims c ORDER BY c.ord;

-- A legacy request.jwt.claim.sub that names another user than request.jwt.claims is refused
-- (28000) by everything that needs the caller, not silently preferred: membership checks and
-- commands act for nobody. The auth.uid() Switchboard creates (above) is current_user_id(), so it
-- refuses too; Supabase's own auth.uid() keeps its definition where it exists.
SELECT pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'switchboard.is_member(''20000000-0000-4000-8000-00000000000f'')') AS is_member,
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'switchboard.active_org_id()') AS active_org_id,
       pg_temp.with_claims(c.claims, c.claim_sub, c.claim, 'switchboard.create_organization(''x'', ''legacy-x'')') AS create_organization
  FROM fn_claims c WHERE c.ord = 11;

-- The identity follows the settings from one statement to the next in a session.
SELECT set_config('request.jwt.claims', '{"sub": "20000000-0000-4000-8000-0000000f0001"}', false) IS NOT NULL AS set;
SELECT switchboard.current_user_id() AS first;
SELECT set_config('request.jwt.claims', '{"sub": "20000000-0000-4000-8000-0000000f0002"}', false) IS NOT NULL AS set;
SELECT switchboard.current_user_id() AS second;
SELECT set_config('request.jwt.claims', '', false) IS NOT NULL AS set;
SELECT switchboard.current_user_id() AS cleared, switchboard.current_claims() AS claims;
RESET request.jwt.claims;

--
-- The default organisation: where a request without app_metadata.org_id acts. The first
-- membership a user gets is their default until they choose another with set_default_org; being
-- added elsewhere (by someone else) never changes it, and nobody else can choose it for them.
-- "roamer" ({d0004}) joins F first, then H's owner ({a0005}) adds them to H ({0000a}).
--
CREATE FUNCTION pg_temp.roamer(stmt text, claims jsonb DEFAULT '{}') RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.attempt('authenticated',
    '{"sub": "20000000-0000-4000-8000-0000000d0004", "role": "authenticated"}'::jsonb || claims, stmt, true)
$$;
CREATE FUNCTION pg_temp.h_owner(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.as_user('20000000-0000-4000-8000-0000000a0005', stmt)
$$;
INSERT INTO switchboard.organizations (id, name, slug)
  VALUES ('20000000-0000-4000-8000-00000000000a', 'Functions H', 'functions-h');
INSERT INTO switchboard.organization_members (org_id, user_id, role)
  VALUES ('20000000-0000-4000-8000-00000000000a', '20000000-0000-4000-8000-0000000a0005', 'owner');
-- The organisation (by slug) a uuid-returning statement names.
CREATE FUNCTION pg_temp.slug_of(result text) RETURNS text LANGUAGE sql AS $$
  SELECT coalesce((SELECT o.slug FROM switchboard.organizations o WHERE o.id::text = result), result)
$$;
INSERT INTO switchboard.organization_members (org_id, user_id, role)
  VALUES ('20000000-0000-4000-8000-00000000000f', '20000000-0000-4000-8000-0000000d0004', 'viewer');
SELECT pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.default_org_id()')) AS default_org,
       pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id()')) AS active_org;
-- H's owner adds roamer to H: roamer's requests still act in F (before: active_org_id() became NULL).
SELECT pg_temp.h_owner('SELECT switchboard.add_member({0000a}, {d0004}, ''manager'') ->> ''reason''') AS added;
SELECT pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.default_org_id()')) AS default_org,
       pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id()')) AS active_org,
       pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id(''manager'')')) AS active_as_manager;
-- Nobody else chooses it: H's owner can write nobody's choice (member_defaults is written by
-- set_default_org, for the caller only), and removing and adding roamer again chooses nothing.
SELECT pg_temp.h_owner('INSERT INTO switchboard.member_defaults (user_id, org_id, membership_id)
                         VALUES ({d0004}, {0000a}, {0000a})') AS choose_for_roamer,
       pg_temp.h_owner('DELETE FROM switchboard.organization_members
                         WHERE org_id = {0000a} AND user_id = {d0004}') AS remove,
       pg_temp.h_owner('INSERT INTO switchboard.organization_members (org_id, user_id, role)
                         VALUES ({0000a}, {d0004}, ''manager'')') AS add_again;
SELECT pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id()')) AS active_org,
       (SELECT count(*) FROM switchboard.member_defaults d
         WHERE d.user_id = '20000000-0000-4000-8000-0000000d0004') AS chosen;
-- set_default_org: only an organisation of the caller, a signed-in caller, a non-null id.
SELECT pg_temp.roamer('SELECT switchboard.set_default_org({00abc})') AS not_a_member,
       pg_temp.roamer('SELECT switchboard.set_default_org(NULL)') AS null_org,
       pg_temp.attempt('authenticated', '{}', 'SELECT switchboard.set_default_org({0000a})') AS no_user,
       pg_temp.attempt('anon', '{}', 'SELECT switchboard.set_default_org({0000a})') AS anon;
-- roamer chooses H; the JWT's app_metadata.org_id still names the request's organisation.
SELECT pg_temp.roamer('SELECT switchboard.set_default_org({0000a}) ->> ''reason''') AS first,
       pg_temp.roamer('SELECT switchboard.set_default_org({0000a}) ->> ''reason''') AS again;
SELECT pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.default_org_id()')) AS default_org,
       pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id()')) AS active_org,
       pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id()',
         '{"app_metadata": {"org_id": "20000000-0000-4000-8000-00000000000f"}}')) AS active_org_claiming_f;
-- At most one chosen default per user, even for the service role's direct writes (the key).
SELECT pg_temp.short(pg_temp.attempt('service_role', NULL, 'INSERT INTO switchboard.member_defaults
                         (user_id, org_id, membership_id)
                         SELECT m.user_id, m.org_id, m.id FROM switchboard.organization_members m
                          WHERE m.org_id = {0000f} AND m.user_id = {d0004}')) AS second_default,
       (SELECT o.slug FROM switchboard.member_defaults d JOIN switchboard.organizations o ON o.id = d.org_id
         WHERE d.user_id = '20000000-0000-4000-8000-0000000d0004') AS still_chosen;
-- Removed from the default organisation: the oldest remaining membership is the default again.
SELECT pg_temp.h_owner('SELECT switchboard.remove_member({0000a}, {d0004}) ->> ''reason''') AS removed;
SELECT pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.default_org_id()')) AS default_org,
       pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id()')) AS active_org;
-- Added to it again: a new membership, not the one chosen, so the choice stays lapsed.
SELECT pg_temp.h_owner('SELECT switchboard.add_member({0000a}, {d0004}, ''viewer'') ->> ''reason''') AS added_again;
SELECT pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.default_org_id()')) AS default_org,
       pg_temp.slug_of(pg_temp.roamer('SELECT switchboard.active_org_id()')) AS active_org;
SELECT pg_temp.h_owner('SELECT switchboard.remove_member({0000a}, {d0004}) ->> ''reason''') AS removed_again;
-- Without memberships there is none.
SELECT pg_temp.roamer('SELECT switchboard.remove_member({0000f}, {d0004}) ->> ''reason''') AS left_f;
SELECT pg_temp.roamer('SELECT switchboard.default_org_id()') AS default_org,
       pg_temp.roamer('SELECT switchboard.active_org_id()') AS active_org;

--
-- is_service_role(): true for superusers and roles with the privileges of service_role; false for
-- the NOINHERIT authenticator that is merely granted it, and false for a SECURITY DEFINER function
-- owned by a superuser when the caller is not one.
--
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_sb_service_member;
RESET client_min_messages;
CREATE ROLE regress_sb_service_member INHERIT IN ROLE service_role;
CREATE FUNCTION public.fn_definer_is_service_role() RETURNS boolean
  LANGUAGE sql SECURITY DEFINER AS 'SELECT switchboard.is_service_role()';
GRANT EXECUTE ON FUNCTION public.fn_definer_is_service_role() TO PUBLIC;
-- The authenticator inherits nothing: it needs its own grants to call is_service_role() directly.
GRANT USAGE ON SCHEMA switchboard TO switchboard_authenticator;
GRANT EXECUTE ON FUNCTION switchboard.is_service_role() TO switchboard_authenticator;

SELECT coalesce(r.api_role, 'superuser') AS "role",
       pg_temp.attempt(r.api_role, NULL, 'SELECT switchboard.is_service_role()') AS is_service_role,
       pg_temp.attempt(r.api_role, NULL, 'SELECT public.fn_definer_is_service_role()') AS via_definer
  FROM (VALUES (1, NULL), (2, 'service_role'), (3, 'regress_sb_service_member'),
               (4, 'authenticated'), (5, 'anon'), (6, 'switchboard_authenticator')) AS r (ord, api_role)
 ORDER BY r.ord;

DROP FUNCTION public.fn_definer_is_service_role();
REVOKE EXECUTE ON FUNCTION switchboard.is_service_role() FROM switchboard_authenticator;
REVOKE USAGE ON SCHEMA switchboard FROM switchboard_authenticator;
DROP ROLE regress_sb_service_member;
