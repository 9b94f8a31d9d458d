-- Billing facts come from billing: subscriptions, grants and higher limits are written by the
-- service role (the platform's billing backend) only; tenant admins may only narrow their plan,
-- and stay narrowing when the plan changes; owners ask for a plan change with request_plan_change,
-- which grants nothing until billing applies it; limits, add-ons and usage never leave the bigint
-- range (22003). The reproductions of the security review come first.
-- Organisations 'e4000000-0000-4000-8000-0000000000NN' (slugs ent-billing-*), test tiers billing_*;
-- all removed at the end.

-- pg_temp.attempt (sql/include/attempt.sql) runs the statements; in them {xxxxx} stands for the
-- uuid 'e4000000-0000-4000-8000-0000000xxxxx'.
CREATE FUNCTION pg_temp.expand(stmt text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(stmt, '\{([0-9a-f]{5})\}', '''e4000000-0000-4000-8000-0000000\1''::uuid', 'g')
$$;
\i sql/include/attempt.sql

-- The actors: a member of each role in A, B's owner and admin (another tenant), A's owner with a
-- forged "role": "service_role" claim, a new user who makes an organisation of their own, the
-- anonymous role and the service role.
CREATE TEMP TABLE bl_actor (ord int, label text PRIMARY KEY, api_role text, claims jsonb);
INSERT INTO bl_actor VALUES
  (1, 'A owner', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000a0005"}'),
  (2, 'A admin', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000a0004"}'),
  (3, 'A manager', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000a0003"}'),
  (4, 'A agent', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000a0002"}'),
  (5, 'A viewer', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000a0001"}'),
  (6, 'anon', 'anon', '{"role": "anon"}'),
  (7, 'B owner', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000b0005"}'),
  (8, 'B admin', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000b0004"}'),
  (9, 'A owner, forged claim', 'authenticated',
      '{"sub": "e4000000-0000-4000-8000-0000000a0005", "role": "service_role"}'),
  (10, 'newcomer', 'authenticated', '{"sub": "e4000000-0000-4000-8000-0000000c0005"}'),
  (11, 'service', 'service_role', '{"role": "service_role"}');
CREATE FUNCTION pg_temp.as_actor(label text, stmt text, keep boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.attempt(a.api_role, a.claims, stmt, keep) FROM bl_actor a WHERE a.label = as_actor.label
$$;
-- Runs stmt as actor `who` (NULL: the superuser) and keeps its effects; returns its value, or
-- the error with its detail.
CREATE FUNCTION pg_temp.detailed(who text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  a record;
  result text;
  detail text;
BEGIN
  SELECT * INTO a FROM bl_actor WHERE label = who;
  BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(a.claims::text, ''), true);
    IF a.api_role IS NOT NULL THEN
      PERFORM set_config('role', a.api_role, true);
    END IF;
    EXECUTE pg_temp.expand(stmt) INTO result;
    PERFORM set_config('role', 'none', true);
    PERFORM set_config('request.jwt.claims', '', true);
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    result := SQLSTATE || ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '');
  END;
  RETURN result;
END
$$;
CREATE FUNCTION pg_temp.check(org text, feature text, quantity int DEFAULT 1) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s %s limit=%s', c ->> 'hasAccess', c ->> 'reason', coalesce(c ->> 'limit', '-'))
    FROM switchboard.check_feature(('e4000000-0000-4000-8000-0000000' || org)::uuid, feature, quantity) c
$$;

-- A on smart_broadcast_pro (calls: 3,000 a billing period, soft) with a member of each role; B on
-- ai_powered_elite with an owner and an admin. Billing (the service role) granted A
-- predictive_dialing until tomorrow and switched sms off.
INSERT INTO switchboard.organizations (id, name, slug) VALUES
  ('e4000000-0000-4000-8000-00000000000a', 'Billing A', 'ent-billing-a'),
  ('e4000000-0000-4000-8000-00000000000b', 'Billing B', 'ent-billing-b');
INSERT INTO switchboard.organization_members (org_id, user_id, role) VALUES
  ('e4000000-0000-4000-8000-00000000000a', 'e4000000-0000-4000-8000-0000000a0001', 'viewer'),
  ('e4000000-0000-4000-8000-00000000000a', 'e4000000-0000-4000-8000-0000000a0002', 'agent'),
  ('e4000000-0000-4000-8000-00000000000a', 'e4000000-0000-4000-8000-0000000a0003', 'manager'),
  ('e4000000-0000-4000-8000-00000000000a', 'e4000000-0000-4000-8000-0000000a0004', 'admin'),
  ('e4000000-0000-4000-8000-00000000000a', 'e4000000-0000-4000-8000-0000000a0005', 'owner'),
  ('e4000000-0000-4000-8000-00000000000b', 'e4000000-0000-4000-8000-0000000b0004', 'admin'),
  ('e4000000-0000-4000-8000-00000000000b', 'e4000000-0000-4000-8000-0000000b0005', 'owner');
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''smart_broadcast_pro'') IS NOT NULL', true) AS a,
       pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000b}, ''ai_powered_elite'') IS NOT NULL', true) AS b,
       pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000a}, ''predictive_dialing'', true,
                                      expires_at => now() + interval ''1 day'', reason => ''pilot'') ->> ''source''', true) AS pilot,
       pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000a}, ''sms'', false,
                                      reason => ''unpaid sms bill'') ->> ''source''', true) AS sms_off;
SELECT switchboard.consume_feature('e4000000-0000-4000-8000-00000000000a', 'calls', 40) ->> 'used' AS a_used_40_calls;

--
-- The reproductions. 1: any signed-in user makes an organisation and gives it white_label until
-- 2099: the subscription is refused, the organisation has no plan.
--
SELECT pg_temp.as_actor('newcomer', 'SELECT switchboard.create_organization(''Mine'', ''ent-billing-mine'') IS NOT NULL', true)
         AS created;
SELECT pg_temp.as_actor('newcomer', format(
         'SELECT switchboard.set_subscription(%L, ''white_label'', ''active'',
            ''{"currentPeriodStart": "2026-01-01", "currentPeriodEnd": "2099-12-31"}'') IS NOT NULL',
         (SELECT id FROM switchboard.organizations WHERE slug = 'ent-billing-mine')), true) AS white_label_until_2099,
       (SELECT count(*) FROM switchboard.subscriptions s JOIN switchboard.organizations o ON o.id = s.org_id
         WHERE o.slug = 'ent-billing-mine') AS subscriptions,
       (SELECT switchboard.check_feature(id, 'white_label_capabilities') ->> 'reason'
          FROM switchboard.organizations WHERE slug = 'ent-billing-mine') AS white_label;
-- 2: the owner resets usage by moving the period start: refused, the 40 calls stay counted.
SELECT pg_temp.as_actor('A owner', 'SELECT switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''active'',
         jsonb_build_object(''currentPeriodStart'', now() + interval ''1 second'')) IS NOT NULL', true) AS move_period,
       switchboard.check_feature('e4000000-0000-4000-8000-00000000000a', 'calls') ->> 'used' AS used;
-- 3: an admin grants any feature, or sets calls to 100,000,000: refused, nothing changes.
SELECT pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''white_label_capabilities'', true)::text', true)
         AS grant_white_label,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 100000000)::text', true)
         AS calls_100m,
       pg_temp.check('0000a', 'white_label_capabilities') AS white_label, pg_temp.check('0000a', 'calls') AS calls;

--
-- Every attempted bypass, for every role of A, anonymous, B's owner and admin (another tenant), a
-- forged service_role claim and a stranger; the service role (billing) for comparison. Each
-- attempt is rolled back; the cell is its SQLSTATE, or its answer when it succeeded.
--
CREATE TEMP TABLE bl_bypass (ord int, label text, stmt text);
INSERT INTO bl_bypass VALUES
  (1, 'subscription: white_label', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'') IS NOT NULL)::text'),
  (2, 'subscription: period moved (usage reset)', 'SELECT (switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''active'',
       jsonb_build_object(''currentPeriodStart'', now() + interval ''1 second'')) IS NOT NULL)::text'),
  (3, 'subscription: add-ons', 'SELECT (switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''active'',
       ''{"addons": {"calls": 1000000, "api_access": true}}'') IS NOT NULL)::text'),
  (4, 'subscription: trial until 2099', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''trialing'',
       ''{"trialEndsAt": "2099-01-01"}'') IS NOT NULL)::text'),
  (5, 'override: grant a feature', 'SELECT switchboard.set_feature_override({0000a}, ''api_access'', true) ->> ''reason'''),
  (6, 'override: calls 100,000,000', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 100000000) ->> ''reason'''),
  (7, 'override: calls just above the plan', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 3001, ''hard'') ->> ''reason'''),
  (8, 'override: a soft limit', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 10, ''soft'') ->> ''reason'''),
  (9, 'override: enable a plan feature', 'SELECT switchboard.set_feature_override({0000a}, ''voice_broadcast'', true) ->> ''reason'''),
  (10, 'override: extend billing''s expiry', 'SELECT switchboard.set_feature_override({0000a}, ''predictive_dialing'', true,
       expires_at => ''2099-01-01'') ->> ''reason'''),
  (11, 'override: edit billing''s (disable)', 'SELECT switchboard.set_feature_override({0000a}, ''predictive_dialing'', false) ->> ''reason'''),
  (12, 'override: re-enable billing''s sms', 'SELECT switchboard.set_feature_override({0000a}, ''sms'', true) ->> ''reason'''),
  (13, 'clear: billing''s grant', 'SELECT switchboard.clear_feature_override({0000a}, ''predictive_dialing'') ->> ''reason'''),
  (14, 'clear: billing''s sms off', 'SELECT switchboard.clear_feature_override({0000a}, ''sms'') ->> ''reason'''),
  (15, 'table: insert a subscription', 'INSERT INTO switchboard.subscriptions (org_id, tier) VALUES ({0000b}, ''white_label'')
       ON CONFLICT (org_id) DO UPDATE SET tier = ''white_label'''),
  (16, 'table: move the period', 'UPDATE switchboard.subscriptions SET current_period_start = now() WHERE org_id = {0000a}'),
  (17, 'table: add-ons', 'UPDATE switchboard.subscriptions SET addons = ''{"calls": 1000000}'' WHERE org_id = {0000a}'),
  (18, 'table: reset the usage counter', 'UPDATE switchboard.feature_usage SET used = 0 WHERE org_id = {0000a}'),
  (19, 'table: delete the usage counter', 'DELETE FROM switchboard.feature_usage WHERE org_id = {0000a}'),
  (20, 'table: insert an override', 'INSERT INTO switchboard.feature_overrides (org_id, feature, enabled) VALUES ({0000a}, ''api_access'', true)'),
  (21, 'table: override source', 'UPDATE switchboard.feature_overrides SET source = ''tenant'' WHERE org_id = {0000a}'),
  (22, 'table: a tier''s limit', 'UPDATE switchboard.plan_tier_features SET usage_limit = 100000000
       WHERE tier = ''smart_broadcast_pro'' AND feature = ''calls'''),
  (23, 'table: grant a tier a feature', 'INSERT INTO switchboard.plan_tier_features (tier, feature) VALUES (''smart_broadcast_pro'', ''api_access'')'),
  (24, 'table: approve a plan change', 'UPDATE switchboard.plan_change_requests SET status = ''applied'', decided_at = now() WHERE org_id = {0000a}'),
  (25, 'table: kill switch off', 'DELETE FROM switchboard.global_feature_flags'),
  (26, 'kill switch', 'SELECT switchboard.set_kill_switch(''sms'', true, ''mine'') ->> ''reason'''),
  (27, 'pending plan changes', 'SELECT count(*)::text FROM switchboard.pending_plan_changes()'),
  (28, 'reject a plan change', 'SELECT switchboard.reject_plan_change({0000a}, gen_random_uuid()) ->> ''reason''');
-- Each attempt in a transaction of its own, as a request is (on Citus a transaction may not reach
-- a placement as two different users, also after the first rolled back): \gexec runs one INSERT
-- of a cell into bl_cells per attempt; the rows are then listed from bl_cells.
CREATE TEMP TABLE bl_cells (ord int, actor text, outcome text);
SELECT format('INSERT INTO bl_cells VALUES (%s, %L, pg_temp.short(pg_temp.as_actor(%L, %L)))', b.ord, a.label, a.label, b.stmt)
  FROM bl_bypass b, bl_actor a WHERE a.label <> 'newcomer' ORDER BY b.ord, a.ord
\set ECHO none
\gexec
\set ECHO all
SELECT b.label,
       max(c.outcome) FILTER (WHERE c.actor = 'A owner') AS owner,
       max(c.outcome) FILTER (WHERE c.actor = 'A admin') AS admin,
       max(c.outcome) FILTER (WHERE c.actor = 'A manager') AS manager,
       max(c.outcome) FILTER (WHERE c.actor = 'A agent') AS agent,
       max(c.outcome) FILTER (WHERE c.actor = 'A viewer') AS viewer,
       max(c.outcome) FILTER (WHERE c.actor = 'anon') AS anon,
       max(c.outcome) FILTER (WHERE c.actor = 'B owner') AS b_owner,
       max(c.outcome) FILTER (WHERE c.actor = 'B admin') AS b_admin,
       max(c.outcome) FILTER (WHERE c.actor = 'A owner, forged claim') AS forged,
       max(c.outcome) FILTER (WHERE c.actor = 'service') AS service
  FROM bl_bypass b JOIN bl_cells c ON c.ord = b.ord GROUP BY b.ord, b.label ORDER BY b.ord;
-- The refusals' messages, one of each kind.
SELECT x.who, b.label, pg_temp.as_actor(x.who, b.stmt) AS outcome
  FROM (VALUES (1, 'A owner', 1), (2, 'A admin', 5), (3, 'A admin', 7), (4, 'A admin', 8), (5, 'A admin', 9),
               (6, 'A admin', 10), (7, 'A owner', 14), (8, 'A owner', 18), (9, 'B admin', 11),
               (10, 'A owner, forged claim', 26)) AS x (ord, who, bypass)
  JOIN bl_bypass b ON b.ord = x.bypass
 ORDER BY x.ord;

--
-- What an admin may do: narrow. Disable a plan feature, cap a metered one at or below the plan's
-- limit (hard), remove the organisation's own overrides; managers and below may not.
--
CREATE TEMP TABLE bl_narrow (ord int, label text, stmt text);
INSERT INTO bl_narrow VALUES
  (1, 'disable a plan feature', 'SELECT switchboard.set_feature_override({0000a}, ''csv_import'', false) ->> ''source'''),
  (2, 'disable a feature not in the plan', 'SELECT switchboard.set_feature_override({0000a}, ''api_access'', false) ->> ''source'''),
  (3, 'cap calls below the plan', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 100) ->> ''source'''),
  (4, 'cap calls at the plan''s limit, hard', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 3000, ''hard'') ->> ''source'''),
  (5, 'cap calls until tomorrow', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 50,
       expires_at => now() + interval ''1 day'') ->> ''source''');
SELECT n.label,
       pg_temp.short(pg_temp.as_actor('A owner', n.stmt)) AS owner,
       pg_temp.short(pg_temp.as_actor('A admin', n.stmt)) AS admin,
       pg_temp.short(pg_temp.as_actor('A manager', n.stmt)) AS manager,
       pg_temp.short(pg_temp.as_actor('A agent', n.stmt)) AS agent,
       pg_temp.short(pg_temp.as_actor('A viewer', n.stmt)) AS viewer,
       pg_temp.short(pg_temp.as_actor('anon', n.stmt)) AS anon,
       pg_temp.short(pg_temp.as_actor('B admin', n.stmt)) AS b_admin
  FROM bl_narrow n ORDER BY n.ord;
-- A's admin caps calls at 2,500 and switches csv_import off; the owner later removes the cap.
SELECT pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 2500) ->> ''source''', true) AS cap,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''csv_import'', false) ->> ''source''', true) AS csv_off,
       pg_temp.check('0000a', 'calls') AS calls, pg_temp.check('0000a', 'csv_import') AS csv_import;
-- Narrowing is judged against the plan with its add-ons: with 1,000 extra calls from billing, a
-- cap of 4,000 narrows and 4,001 does not.
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''active'',
         ''{"addons": {"calls": 1000}}'') IS NOT NULL', true) AS addon,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 4000) ->> ''reason''') AS cap_4000,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 4001)::text') AS cap_4001,
       pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''active'',
         ''{"addons": {}}'') IS NOT NULL', true) AS addon_gone;
-- The cap can be lowered and raised back up to the plan's limit, never beyond.
SELECT pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 2000) ->> ''reason''', true) AS lower,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 2500) ->> ''reason''', true) AS back,
       pg_temp.short(pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 3001) ->> ''reason''', true)) AS beyond,
       pg_temp.check('0000a', 'calls') AS calls;

--
-- Narrowing stays narrowing: judged against the plan when written and applied against the plan
-- in force when checked. Billing moves A down to broadcast_starter (1,000 calls): the 2,500 cap
-- no longer narrows and the plan decides; back up, the cap decides again. Suspended, the cap
-- grants nothing.
--
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''broadcast_starter'') IS NOT NULL', true) AS down,
       pg_temp.check('0000a', 'calls') AS calls;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''smart_broadcast_pro'') IS NOT NULL', true) AS up,
       pg_temp.check('0000a', 'calls') AS calls;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''suspended'') IS NOT NULL', true) AS suspended,
       pg_temp.check('0000a', 'calls') AS calls, pg_temp.check('0000a', 'csv_import') AS csv_import;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''smart_broadcast_pro'') IS NOT NULL', true) AS active;
-- A tenant's row that says "enabled" with no cap (only a superuser could write one) grants
-- nothing either: the plan decides.
INSERT INTO switchboard.feature_overrides (org_id, feature, enabled, source)
VALUES ('e4000000-0000-4000-8000-00000000000a', 'white_label_capabilities', true, 'tenant'),
       ('e4000000-0000-4000-8000-00000000000a', 'voice_broadcast', true, 'tenant');
SELECT pg_temp.check('0000a', 'white_label_capabilities') AS not_in_plan, pg_temp.check('0000a', 'voice_broadcast') AS in_plan;
DELETE FROM switchboard.feature_overrides
 WHERE org_id = 'e4000000-0000-4000-8000-00000000000a' AND feature IN ('white_label_capabilities', 'voice_broadcast');
-- The owner removes the organisation's own overrides; billing's stay.
-- (left_over is read in a transaction of its own first, as one statement's snapshot read it before
-- the owner's calls; \gset keeps it.)
SELECT string_agg(format('%s=%s (%s)', feature, enabled, source), ', ' ORDER BY feature) AS bl_left_over
  FROM switchboard.feature_overrides WHERE org_id = 'e4000000-0000-4000-8000-00000000000a' \gset
SELECT pg_temp.as_actor('A owner', 'SELECT switchboard.clear_feature_override({0000a}, ''calls'') ->> ''reason''', true) AS calls,
       pg_temp.as_actor('A owner', 'SELECT switchboard.clear_feature_override({0000a}, ''csv_import'') ->> ''reason''', true) AS csv_import,
       :'bl_left_over' AS left_over;
-- Billing may replace a tenant's override (it becomes billing's).
SELECT pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''minutes'', true, 10) ->> ''source''', true) AS tenant,
       pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000a}, ''minutes'', true, 100000, ''soft'') ->> ''source''', true) AS billing,
       pg_temp.short(pg_temp.as_actor('A admin', 'SELECT switchboard.clear_feature_override({0000a}, ''minutes'') ->> ''reason''', true)) AS tenant_clears,
       pg_temp.check('0000a', 'minutes') AS minutes;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.clear_feature_override({0000a}, ''minutes'') ->> ''reason''', true) AS billing_clears;

--
-- Plan change requests: the owner asks, nothing is granted; the same request again returns the
-- pending one; another tier supersedes it; billing applies it with set_subscription (marked
-- applied) or rejects it. (The NOTIFY on switchboard_billing is tested over a real connection in
-- tests/integration/entitlements_test.cpp.)
--
CREATE FUNCTION pg_temp.request(who text, tier text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.as_actor(who, format('SELECT (r - ''requestId'' - ''requestedAt'' - ''decidedAt'' - ''supersedes''
                                              || jsonb_build_object(''hasId'', r ->> ''requestId'' IS NOT NULL,
                                                                    ''supersedes'', r ->> ''supersedes'' IS NOT NULL))::text
                                        FROM switchboard.request_plan_change({0000a}, %L) r', tier), true)
$$;
CREATE FUNCTION pg_temp.requests() RETURNS text LANGUAGE sql AS $$
  SELECT coalesce(string_agg(format('%s %s%s', tier, status, coalesce(' (' || decision_reason || ')', '')), ', '
                             ORDER BY requested_at, status DESC), '-')
    FROM switchboard.plan_change_requests WHERE org_id = 'e4000000-0000-4000-8000-00000000000a'
$$;
SELECT pg_temp.request('A owner', 'white_label') AS first_request;
SELECT pg_temp.check('0000a', 'white_label_capabilities') AS white_label_not_granted, pg_temp.requests() AS requests;
SELECT id AS bl_pending FROM switchboard.plan_change_requests
 WHERE org_id = 'e4000000-0000-4000-8000-00000000000a' AND status = 'pending' \gset
SELECT :'bl_pending'::uuid
       = (pg_temp.as_actor('A owner', 'SELECT switchboard.request_plan_change({0000a}, ''white_label'') ->> ''requestId''', true))::uuid
         AS same_request_again,
       pg_temp.requests() AS requests;
SELECT pg_temp.request('A owner', 'enterprise_pro') AS another_tier, pg_temp.requests() AS requests;
SELECT pg_temp.request('A owner', 'smart_broadcast_pro') AS current_tier, pg_temp.requests() AS requests;
-- Who sees the requests: admins and owners of A through RLS; billing lists the pending ones.
SELECT pg_temp.as_actor('A owner', 'SELECT count(*) FROM switchboard.plan_change_requests') AS owner,
       pg_temp.as_actor('A admin', 'SELECT count(*) FROM switchboard.plan_change_requests') AS admin,
       pg_temp.as_actor('A manager', 'SELECT count(*) FROM switchboard.plan_change_requests') AS manager,
       pg_temp.as_actor('B owner', 'SELECT count(*) FROM switchboard.plan_change_requests') AS b_owner,
       pg_temp.short(pg_temp.as_actor('anon', 'SELECT count(*) FROM switchboard.plan_change_requests')) AS anon,
       pg_temp.as_actor('service', 'SELECT string_agg(tier || '' '' || status, '', '') FROM switchboard.pending_plan_changes()') AS billing_pending,
       pg_temp.as_actor('service', 'SELECT count(*) FROM switchboard.pending_plan_changes({0000b})') AS billing_pending_b;
-- Billing sets another tier or a suspended subscription: the request stays pending. Billing
-- applies it: marked applied, the tier grants what it grants.
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''enterprise_pro'', ''suspended'') IS NOT NULL', true) AS suspended,
       pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''ai_powered_elite'') IS NOT NULL', true) AS other_tier,
       pg_temp.requests() AS requests;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000a}, ''enterprise_pro'') IS NOT NULL', true) AS applied,
       pg_temp.requests() AS requests, pg_temp.check('0000a', 'api_access') AS api_access;
SELECT pg_temp.request('A owner', 'enterprise_pro') AS already_on_tier;
-- Billing rejects a request (again: nothing changes); an applied one cannot be rejected.
SELECT pg_temp.request('A owner', 'white_label') AS asked;
-- (The pending and the applied request's ids read first: \gset.)
SELECT (SELECT id FROM switchboard.plan_change_requests
         WHERE org_id = 'e4000000-0000-4000-8000-00000000000a' AND status = 'pending') AS bl_pending,
       (SELECT r.id FROM switchboard.plan_change_requests r
         WHERE r.org_id = 'e4000000-0000-4000-8000-00000000000a' AND r.status = 'applied') AS bl_applied \gset
SELECT pg_temp.as_actor('service', format('SELECT switchboard.reject_plan_change({0000a}, %L, ''card declined'')
                                           - ''requestedAt'' - ''decidedAt'' - ''requestId''', :'bl_pending'), true) AS rejected,
       pg_temp.as_actor('service', format('SELECT switchboard.reject_plan_change({0000a}, %L) ->> ''reason''', :'bl_pending'), true) AS again,
       pg_temp.as_actor('service', format('SELECT switchboard.reject_plan_change({0000a}, %L) ->> ''reason''', :'bl_applied'), true) AS applied_one,
       pg_temp.requests() AS requests;
-- B's owner cannot reject A's request nor ask for A; a rejected request can be asked for again.
SELECT pg_temp.short(pg_temp.as_actor('B owner', 'SELECT switchboard.request_plan_change({0000a}, ''white_label'') ->> ''reason''')) AS b_asks_for_a,
       pg_temp.request('A owner', 'white_label') AS asked_again, pg_temp.requests() AS requests;

--
-- Overflow: limits, add-ons and usage never leave the bigint range; at and around
-- 9223372036854775807 (2^63 - 1) the answer is exact or 22003 naming the values, and a refusal
-- changes nothing. Tier billing_one grants 1 call (hard) and billing_open unlimited calls.
--
INSERT INTO switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, overage_rate) VALUES
  ('billing_one', 301, 'Billing One', 1, 10, 0.5), ('billing_open', 302, 'Billing Open', 1, 10, 0.5);
INSERT INTO switchboard.plan_tier_features (tier, feature, usage_limit, period, mode) VALUES
  ('billing_one', 'calls', 1, 'billing_period', 'hard'), ('billing_open', 'calls', NULL, NULL, 'hard');
-- Billing sets B's subscription; the answer is B's limit of `feature` after it, or the error in full.
CREATE FUNCTION pg_temp.sub_b(tier text, addons jsonb, feature text DEFAULT 'calls') RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  outcome text := pg_temp.detailed('service', format('SELECT switchboard.set_subscription({0000b}, %L, ''active'',
                    jsonb_build_object(''addons'', %L::jsonb))', tier, addons));
BEGIN
  IF outcome ~ '^[0-9A-Z]{5}: ' THEN
    RETURN outcome;
  END IF;
  RETURN (SELECT coalesce(effective_limits -> feature ->> 'limit', 'unlimited') FROM switchboard.subscriptions
           WHERE org_id = 'e4000000-0000-4000-8000-00000000000b');
END
$$;
SELECT a.label, pg_temp.sub_b(a.tier, a.addons::jsonb, a.feature) AS "limit"
  FROM (VALUES (1, 'calls: one + (max - 1)', 'billing_one', '{"calls": 9223372036854775806}', 'calls'),
               (2, 'calls: one + max', 'billing_one', '{"calls": 9223372036854775807}', 'calls'),
               (3, 'calls: one + (max + 1)', 'billing_one', '{"calls": 9223372036854775808}', 'calls'),
               (4, 'calls: one + 2^64', 'billing_one', '{"calls": 18446744073709551616}', 'calls'),
               (5, 'calls: white_label (200,000) + (max - 200,000)', 'white_label', '{"calls": 9223372036854575807}', 'calls'),
               (6, 'calls: white_label (200,000) + (max - 199,999)', 'white_label', '{"calls": 9223372036854575808}', 'calls'),
               (7, 'calls: unlimited + max', 'billing_open', '{"calls": 9223372036854775807}', 'calls'),
               (8, 'minutes (not in billing_one): 0 + max', 'billing_one', '{"minutes": 9223372036854775807}', 'minutes'))
         AS a (ord, label, tier, addons, feature)
 ORDER BY a.ord;
SELECT tier, effective_limits -> 'calls' ->> 'limit' AS calls_limit
  FROM switchboard.subscriptions WHERE org_id = 'e4000000-0000-4000-8000-00000000000b';
-- A catalog change that would take a subscription's limit plus its add-on past the range is
-- refused as a whole.
SELECT pg_temp.sub_b('billing_one', '{"calls": 9223372036854775806}') AS b_at_max;
SELECT pg_temp.detailed(NULL,
         'UPDATE switchboard.plan_tier_features SET usage_limit = 2 WHERE tier = ''billing_one'' AND feature = ''calls''') AS bl_raise \gset
SELECT :'bl_raise' AS raise_tier_limit,
       (SELECT usage_limit FROM switchboard.plan_tier_features WHERE tier = 'billing_one' AND feature = 'calls') AS tier_limit,
       (SELECT effective_limits -> 'calls' ->> 'limit' FROM switchboard.subscriptions
         WHERE org_id = 'e4000000-0000-4000-8000-00000000000b') AS b_limit;
-- Usage at the top of the range: B on billing_open (unlimited), its counter set to max - 5.
SELECT pg_temp.sub_b('billing_open', '{}') AS b_unlimited;
SELECT switchboard.consume_feature('e4000000-0000-4000-8000-00000000000b', 'calls') ->> 'used' AS b_used;
UPDATE switchboard.feature_usage SET used = 9223372036854775802
 WHERE org_id = 'e4000000-0000-4000-8000-00000000000b' AND feature = 'calls';
CREATE FUNCTION pg_temp.b_counter() RETURNS text LANGUAGE sql AS $$
  SELECT format('used %s reserved %s overage %s', used, reserved, overage) FROM switchboard.feature_usage
   WHERE org_id = 'e4000000-0000-4000-8000-00000000000b' AND feature = 'calls'
$$;
SELECT u.label, pg_temp.detailed(NULL, u.stmt) AS outcome, pg_temp.b_counter() AS counter
  FROM (VALUES (1, 'check 5 (fits exactly)', 'SELECT switchboard.check_feature({0000b}, ''calls'', 5) ->> ''hasAccess'''),
               (2, 'check 6', 'SELECT switchboard.check_feature({0000b}, ''calls'', 6) ->> ''hasAccess'''),
               (3, 'reserve 6', 'SELECT switchboard.reserve_feature({0000b}, ''calls'', 6) ->> ''ok'''),
               (4, 'consume 6', 'SELECT switchboard.consume_feature({0000b}, ''calls'', 6) ->> ''ok'''),
               (5, 'consume 2147483647', 'SELECT switchboard.consume_feature({0000b}, ''calls'', 2147483647) ->> ''ok'''),
               (6, 'reserve 2', 'SELECT switchboard.reserve_feature({0000b}, ''calls'', 2) ->> ''ok'''),
               (7, 'consume 4 (with 2 reserved: 1 short)', 'SELECT switchboard.consume_feature({0000b}, ''calls'', 4) ->> ''ok'''),
               (8, 'consume 3 (the top)', 'SELECT switchboard.consume_feature({0000b}, ''calls'', 3) ->> ''used'''),
               (9, 'has_feature at the top', 'SELECT switchboard.has_feature({0000b}, ''calls'')::text'),
               (10, 'consume 1 at the top', 'SELECT switchboard.consume_feature({0000b}, ''calls'', 1) ->> ''ok''')) AS u (ord, label, stmt)
 ORDER BY u.ord;
-- Settling the reservation of 2 with the most a bigint holds, then with 2 (the top, exactly).
SELECT id AS bl_reservation FROM switchboard.feature_reservations
 WHERE org_id = 'e4000000-0000-4000-8000-00000000000b' AND status = 'active' \gset
SELECT r.label, pg_temp.detailed(NULL, format(r.stmt, :'bl_reservation')) AS outcome,
       pg_temp.b_counter() AS counter
  FROM (VALUES (1, 'settle max', 'SELECT switchboard.settle_reservation({0000b}, %L, 9223372036854775807) ->> ''reason'''),
               (2, 'settle 3', 'SELECT switchboard.settle_reservation({0000b}, %L, 3) ->> ''reason'''),
               (3, 'settle 2', 'SELECT switchboard.settle_reservation({0000b}, %L, 2) ->> ''reason''')) AS r (ord, label, stmt)
 ORDER BY r.ord;
-- A billing override at the top of the range: a hard limit of max, a soft one of max - 1 (the
-- overage is counted up to the top and no further).
UPDATE switchboard.feature_usage SET used = 9223372036854775800
 WHERE org_id = 'e4000000-0000-4000-8000-00000000000b' AND feature = 'calls';
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000b}, ''calls'', true, 9223372036854775807, ''hard'') ->> ''reason''', true) AS hard_max,
       pg_temp.attempt(NULL, NULL, 'SELECT switchboard.check_feature({0000b}, ''calls'', 7) ->> ''remaining''') AS remaining,
       pg_temp.attempt(NULL, NULL, 'SELECT switchboard.consume_feature({0000b}, ''calls'', 7) ->> ''remaining''', true) AS consume_7,
       pg_temp.short(pg_temp.attempt(NULL, NULL, 'SELECT switchboard.consume_feature({0000b}, ''calls'', 1) ->> ''ok''', true)) AS one_more,
       pg_temp.b_counter() AS counter;
UPDATE switchboard.feature_usage SET used = 9223372036854775800
 WHERE org_id = 'e4000000-0000-4000-8000-00000000000b' AND feature = 'calls';
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000b}, ''calls'', true, 9223372036854775806, ''soft'') ->> ''reason''', true) AS soft,
       pg_temp.attempt(NULL, NULL, 'SELECT switchboard.consume_feature({0000b}, ''calls'', 7) - ''resetsAt''', true) AS consume_7,
       pg_temp.b_counter() AS counter;

-- Clean up.
DELETE FROM switchboard.organizations WHERE slug LIKE 'ent-billing-%';
DELETE FROM switchboard.plan_tiers WHERE key LIKE 'billing\_%';
DELETE FROM switchboard.entitlement_audit WHERE org_id::text LIKE 'e4000000-%';
SELECT (SELECT count(*) FROM switchboard.plan_change_requests) AS requests,
       (SELECT count(*) FROM switchboard.plan_tiers) AS tiers;
