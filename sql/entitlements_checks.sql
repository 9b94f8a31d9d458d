-- Entitlement checks: every reason code, precedence (kill switch > unexpired override > plan >
-- deny), subscription statuses, override expiry, upgrade advice, unknown features and
-- organisations, callsRemaining and overageRate, the role rules, cross-tenant refusal for every
-- role, bad input, and the audit of every change.

-- pg_temp.attempt (sql/include/attempt.sql) runs the statements; in them {xxxxx} stands for the
-- uuid 'e2000000-0000-4000-8000-0000000xxxxx' and {res:name} for the id of reservation `name`.
CREATE TEMP TABLE ck_res (name text PRIMARY KEY, id uuid NOT NULL);
CREATE FUNCTION pg_temp.expand(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
BEGIN
  stmt := regexp_replace(stmt, '\{([0-9a-f]{5})\}', '''e2000000-0000-4000-8000-0000000\1''::uuid', 'g');
  FOR r IN SELECT * FROM ck_res LOOP
    stmt := replace(stmt, '{res:' || r.name || '}', quote_literal(r.id) || '::uuid');
  END LOOP;
  RETURN stmt;
END
$$;
\i sql/include/attempt.sql

-- The actors of this file: a member of each role in A, B's owner, an outsider, a signed-in user
-- without a sub, the anonymous role and the service role (with an operator's sub).
CREATE TEMP TABLE ck_actor (ord int, label text PRIMARY KEY, api_role text, claims jsonb);
INSERT INTO ck_actor VALUES
  (1, 'A viewer', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000a0001"}'),
  (2, 'A agent', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000a0002"}'),
  (3, 'A manager', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000a0003"}'),
  (4, 'A admin', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000a0004"}'),
  (5, 'A owner', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000a0005"}'),
  (6, 'B owner', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000b0005"}'),
  (7, 'stranger', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000d0001"}'),
  (8, 'no user', 'authenticated', '{"role": "authenticated"}'),
  (9, 'anon', 'anon', '{"role": "anon"}'),
  (10, 'service', 'service_role', '{"role": "service_role", "sub": "e2000000-0000-4000-8000-000000099999"}'),
  (11, 'F owner', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000f0005"}'),
  (12, 'F admin', 'authenticated', '{"sub": "e2000000-0000-4000-8000-0000000f0004"}');
CREATE FUNCTION pg_temp.as_actor(label text, stmt text, keep boolean DEFAULT false) RETURNS text
LANGUAGE sql AS $$
  SELECT pg_temp.attempt(a.api_role, a.claims, stmt, keep) FROM ck_actor a WHERE a.label = as_actor.label
$$;
-- The grids below run each attempt in a transaction of its own, as a request is (on Citus a
-- transaction may not reach a placement as two different users, also after the first rolled
-- back): a query makes one INSERT of a cell into ck_cells per attempt (pg_temp.cell), \gexec runs
-- them in order, and the grid is then listed from ck_cells (pg_temp.got).
CREATE TEMP TABLE ck_cells (grid text, ord int, col text, outcome text);
CREATE FUNCTION pg_temp.cell(grid text, ord int, col text, expr text) RETURNS text LANGUAGE sql AS $$
  SELECT format('INSERT INTO ck_cells SELECT %L, %s, %L, %s', grid, ord, col, expr)
$$;
CREATE FUNCTION pg_temp.got(grid text, ord int, col text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT c.outcome FROM ck_cells c WHERE c.grid = got.grid AND c.ord = got.ord AND c.col = got.col
$$;
-- An answer in brief: access, reason, plan and upgrade advice.
CREATE FUNCTION pg_temp.brief(c jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT format('%s %s plan=%s upgrade=%s/%s', c ->> 'hasAccess', c ->> 'reason',
                coalesce(c ->> 'plan', '-'), c ->> 'upgradeRequired', coalesce(c ->> 'upgradeTier', '-'))
$$;
CREATE FUNCTION pg_temp.check(org text, feature text) RETURNS text LANGUAGE sql AS $$
  SELECT pg_temp.brief(switchboard.check_feature(('e2000000-0000-4000-8000-0000000' || org)::uuid, feature))
$$;

-- Organisations: A on smart_broadcast_pro (a member of each role), B on ai_powered_elite, C
-- without a subscription, D for the statuses, E on a test tier with a hard call limit, F for the
-- audit. Test tiers checks_hard (5 calls a billing period, hard) and checks_hard_plus (50) rank
-- above the shipped ones.
INSERT INTO switchboard.organizations (id, name, slug) VALUES
  ('e2000000-0000-4000-8000-00000000000a', 'Checks A', 'ent-checks-a'),
  ('e2000000-0000-4000-8000-00000000000b', 'Checks B', 'ent-checks-b'),
  ('e2000000-0000-4000-8000-00000000000c', 'Checks C', 'ent-checks-c'),
  ('e2000000-0000-4000-8000-00000000000d', 'Checks D', 'ent-checks-d'),
  ('e2000000-0000-4000-8000-00000000000e', 'Checks E', 'ent-checks-e'),
  ('e2000000-0000-4000-8000-00000000000f', 'Checks F', 'ent-checks-f');
INSERT INTO switchboard.organization_members (org_id, user_id, role) VALUES
  ('e2000000-0000-4000-8000-00000000000a', 'e2000000-0000-4000-8000-0000000a0001', 'viewer'),
  ('e2000000-0000-4000-8000-00000000000a', 'e2000000-0000-4000-8000-0000000a0002', 'agent'),
  ('e2000000-0000-4000-8000-00000000000a', 'e2000000-0000-4000-8000-0000000a0003', 'manager'),
  ('e2000000-0000-4000-8000-00000000000a', 'e2000000-0000-4000-8000-0000000a0004', 'admin'),
  ('e2000000-0000-4000-8000-00000000000a', 'e2000000-0000-4000-8000-0000000a0005', 'owner'),
  ('e2000000-0000-4000-8000-00000000000b', 'e2000000-0000-4000-8000-0000000b0005', 'owner'),
  ('e2000000-0000-4000-8000-00000000000f', 'e2000000-0000-4000-8000-0000000f0004', 'admin'),
  ('e2000000-0000-4000-8000-00000000000f', 'e2000000-0000-4000-8000-0000000f0005', 'owner');
INSERT INTO switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, overage_rate) VALUES
  ('checks_hard', 101, 'Checks Hard', 10, 100, 0.1),
  ('checks_hard_plus', 102, 'Checks Hard Plus', 20, 200, 0.1);
INSERT INTO switchboard.plan_tier_features (tier, feature, usage_limit, period, mode) VALUES
  ('checks_hard', 'calls', 5, 'billing_period', 'hard'),
  ('checks_hard', 'voice_broadcast', NULL, NULL, 'hard'),
  ('checks_hard_plus', 'calls', 50, 'billing_period', 'hard'),
  ('checks_hard_plus', 'voice_broadcast', NULL, NULL, 'hard');
SELECT switchboard.set_subscription('e2000000-0000-4000-8000-00000000000a', 'smart_broadcast_pro') IS NOT NULL AS a,
       switchboard.set_subscription('e2000000-0000-4000-8000-00000000000b', 'ai_powered_elite') IS NOT NULL AS b,
       switchboard.set_subscription('e2000000-0000-4000-8000-00000000000d', 'smart_broadcast_pro') IS NOT NULL AS d,
       switchboard.set_subscription('e2000000-0000-4000-8000-00000000000e', 'checks_hard', 'active',
         '{"currentPeriodStart": "2020-01-01T00:00:00Z", "currentPeriodEnd": "2020-02-01T00:00:00Z"}')
         IS NOT NULL AS e;
-- Reservations of A and B (for the role matrix and the cross-tenant checks).
INSERT INTO ck_res
SELECT 'a', (switchboard.reserve_feature('e2000000-0000-4000-8000-00000000000a', 'minutes', 3) ->> 'reservationId')::uuid;
INSERT INTO ck_res
SELECT 'b', (switchboard.reserve_feature('e2000000-0000-4000-8000-00000000000b', 'minutes', 4) ->> 'reservationId')::uuid;

--
-- Every reason code, with the full answer (resetsAt is shown as whether it is the end of the
-- current billing period: E's periods started on 2020-01-01 UTC, so it is the next 1st of a month).
--
CREATE FUNCTION pg_temp.full(c jsonb) RETURNS text LANGUAGE sql AS $$
  SELECT (c - 'resetsAt')::text || CASE
           WHEN c ->> 'resetsAt' IS NULL THEN ' resetsAt=null'
           WHEN (c ->> 'resetsAt')::timestamptz
                = (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC'
             THEN ' resetsAt=next 1st of the month'
           ELSE ' resetsAt=' || (c ->> 'resetsAt') END
$$;
SELECT pg_temp.full(switchboard.check_feature('e2000000-0000-4000-8000-00000000000e', 'calls')) AS "PLAN (metered)";
SELECT switchboard.consume_feature('e2000000-0000-4000-8000-00000000000e', 'calls', 5) ->> 'ok' AS e_uses_its_5_calls;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_kill_switch(''webhooks'', false, ''carrier outage'') ->> ''reason''', true)
         AS kill_webhooks,
       pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000a}, ''predictive_dialing'', true,
                                     reason => ''pilot'') ->> ''reason''', true) AS a_override_on,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''campaign_scheduler'', false,
                                     reason => ''abuse'') ->> ''reason''', true) AS a_override_off;
SELECT r.code, pg_temp.full(switchboard.check_feature(('e2000000-0000-4000-8000-0000000' || r.org)::uuid, r.feature))
         AS answer
  FROM (VALUES (1, 'PLAN', '0000a', 'voice_broadcast'),
               (3, 'OVERRIDE', '0000a', 'predictive_dialing'),
               (4, 'NO_SUBSCRIPTION', '0000c', 'voice_broadcast'),
               (5, 'NOT_IN_PLAN', '0000a', 'ai_lead_scoring'),
               (6, 'OVERRIDE_DISABLED', '0000a', 'campaign_scheduler'),
               (7, 'KILL_SWITCH', '0000a', 'webhooks'),
               (8, 'LIMIT_EXCEEDED', '0000e', 'calls'),
               (9, 'UNKNOWN_FEATURE', '0000a', 'teleportation')) AS r (ord, code, org, feature)
 ORDER BY r.ord;
-- E has used all 5 calls: one more is refused, its boolean features are not affected.
SELECT switchboard.has_feature('e2000000-0000-4000-8000-00000000000e', 'calls') AS e_has_calls,
       switchboard.has_feature('e2000000-0000-4000-8000-00000000000e', 'voice_broadcast') AS e_has_voice;

-- The seed-compatible is_feature_enabled and has_feature agree with check_feature for every case.
SELECT count(*) AS cases,
       count(*) FILTER (WHERE switchboard.has_feature(o, f) <> (switchboard.check_feature(o, f) ->> 'hasAccess')::boolean)
         AS has_feature_disagrees,
       count(*) FILTER (WHERE switchboard.is_feature_enabled(o, f) <> switchboard.has_feature(o, f))
         AS is_feature_enabled_disagrees
  FROM (SELECT ('e2000000-0000-4000-8000-00000000000' || x)::uuid AS o FROM unnest(ARRAY['a', 'b', 'c', 'd', 'e']) x) orgs,
       (SELECT key AS f FROM switchboard.features UNION ALL SELECT 'teleportation') feats;

--
-- Precedence: kill switch > unexpired override > plan > deny.
--
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000a}, ''webhooks'', true) ->> ''reason''', true)
         AS a_enables_webhooks,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''sms'', false) ->> ''reason''', true)
         AS a_disables_sms,
       pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000c}, ''api_access'', true) ->> ''reason''', true)
         AS c_gets_api_access,
       pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000b}, ''recording'', false) ->> ''reason''', true)
         AS b_loses_recording;
SELECT r.label, pg_temp.check(r.org, r.feature) AS answer
  FROM (VALUES (1, 'kill switch beats an enabling override', '0000a', 'webhooks'),
               (2, 'kill switch beats the plan', '0000b', 'webhooks'),
               (3, 'kill switch beats no subscription', '0000c', 'webhooks'),
               (4, 'disabling override beats the plan', '0000a', 'sms'),
               (5, 'disabling override beats the plan (B)', '0000b', 'recording'),
               (6, 'enabling override beats not-in-plan', '0000a', 'predictive_dialing'),
               (7, 'enabling override beats no subscription', '0000c', 'api_access'),
               (8, 'no override: plan', '0000b', 'sms'),
               (9, 'no override, not in plan: deny', '0000b', 'api_access'),
               (10, 'no subscription, no override: deny', '0000c', 'sms')) AS r (ord, label, org, feature)
 ORDER BY r.ord;
-- The kill switch switched back on: the override (A) and the plan (B) decide again.
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_kill_switch(''webhooks'', true, ''resolved'') ->> ''reason''', true)
         AS webhooks_back;
SELECT pg_temp.check('0000a', 'webhooks') AS a_webhooks, pg_temp.check('0000b', 'webhooks') AS b_webhooks;
-- An override also beats a suspended subscription.
SELECT switchboard.set_subscription('e2000000-0000-4000-8000-00000000000d', 'smart_broadcast_pro', 'suspended') IS NOT NULL
         AS d_suspended,
       pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000d}, ''csv_import'', true) ->> ''reason''', true)
         AS d_override;
SELECT pg_temp.check('0000d', 'csv_import') AS overridden, pg_temp.check('0000d', 'voice_broadcast') AS not_overridden;
SELECT switchboard.clear_feature_override('e2000000-0000-4000-8000-00000000000d', 'csv_import') ->> 'reason' AS cleared;

-- Expired overrides are ignored, enabling or disabling: they were set with a future expiry, then
-- time passed (the expiry is moved to the past, as a clock would).
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000a}, ''api_access'', true,
                                      expires_at => now() + interval ''1 day'') ->> ''reason''', true) AS enable_api,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''csv_import'', false,
                                      expires_at => now() + interval ''1 day'') ->> ''reason''', true) AS disable_csv;
SELECT pg_temp.check('0000a', 'api_access') AS api_before_expiry, pg_temp.check('0000a', 'csv_import') AS csv_before_expiry;
UPDATE switchboard.feature_overrides SET expires_at = now() - interval '1 second'
 WHERE org_id = 'e2000000-0000-4000-8000-00000000000a' AND feature IN ('api_access', 'csv_import');
SELECT pg_temp.check('0000a', 'api_access') AS api_after_expiry, pg_temp.check('0000a', 'csv_import') AS csv_after_expiry;
-- An override that expires while nothing is written: answered by the override until its expiry,
-- by the plan right after (no stale answer from a session cache).
BEGIN;
SELECT switchboard.set_feature_override('e2000000-0000-4000-8000-00000000000a', 'ai_tools_access', true,
         expires_at => now() + interval '0.5 seconds') ->> 'reason' AS short_override;
SELECT pg_temp.check('0000a', 'ai_tools_access') AS before_expiry;
COMMIT;
SELECT pg_sleep(0.6);
SELECT pg_temp.check('0000a', 'ai_tools_access') AS after_expiry;

--
-- Subscription statuses, on D (smart_broadcast_pro): active and past_due grant access; trialing
-- until trial_ends_at; cancelled until current_period_end; suspended never.
--
CREATE FUNCTION pg_temp.status_case(status text, options jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  scheduler text;
  voice text;
  cancelled text;
BEGIN
  PERFORM switchboard.set_subscription('e2000000-0000-4000-8000-00000000000d', 'smart_broadcast_pro',
                                       status_case.status, options);
  -- (The checks apart from the read of the subscription: on Citus a query on a distributed table
  -- with a pg_temp call in it is sent to a worker, where pg_temp is not.)
  scheduler := pg_temp.check('0000d', 'campaign_scheduler');
  voice := pg_temp.check('0000d', 'voice_broadcast');
  SELECT CASE WHEN s.cancelled_at IS NULL THEN 'null' ELSE 'set' END INTO cancelled
    FROM switchboard.subscriptions s WHERE s.org_id = 'e2000000-0000-4000-8000-00000000000d';
  RETURN format('%s | %s | cancelled_at %s', scheduler, voice, cancelled);
END
$$;
SELECT r.label, pg_temp.status_case(r.status, r.options) AS "campaign_scheduler | voice_broadcast"
  FROM (VALUES
    (1, 'active', 'active', '{}'::jsonb),
    (2, 'trialing, ends tomorrow', 'trialing', jsonb_build_object('trialEndsAt', now() + interval '1 day')),
    (3, 'trialing, ended', 'trialing', '{"trialEndsAt": "2020-01-01T00:00:00Z"}'),
    (4, 'cancelled, period ends tomorrow', 'cancelled',
        jsonb_build_object('currentPeriodStart', now() - interval '1 month', 'currentPeriodEnd', now() + interval '1 day')),
    (5, 'cancelled, period ended', 'cancelled',
        '{"currentPeriodStart": "2020-01-01T00:00:00Z", "currentPeriodEnd": "2020-02-01T00:00:00Z"}'),
    (6, 'suspended', 'suspended', '{}'),
    (7, 'past_due', 'past_due', '{}'),
    (8, 'active again', 'active', '{}')) AS r (ord, label, status, options)
 ORDER BY r.ord;
-- A trial that ends while nothing is written.
BEGIN;
SELECT switchboard.set_subscription('e2000000-0000-4000-8000-00000000000d', 'smart_broadcast_pro', 'trialing',
         jsonb_build_object('trialEndsAt', now() + interval '0.5 seconds')) IS NOT NULL AS short_trial;
SELECT pg_temp.check('0000d', 'campaign_scheduler') AS trial_running;
COMMIT;
SELECT pg_sleep(0.6);
SELECT pg_temp.check('0000d', 'campaign_scheduler') AS trial_over;
SELECT switchboard.set_subscription('e2000000-0000-4000-8000-00000000000d', 'smart_broadcast_pro') IS NOT NULL
         AS d_active_again;

--
-- Upgrade advice: the cheapest higher tier that grants the feature (or more of it); none when an
-- override or kill switch decided, the feature is unknown, or no tier would help.
--
SELECT switchboard.set_subscription('e2000000-0000-4000-8000-00000000000b', 'checks_hard_plus', 'active',
         '{"currentPeriodStart": "2020-01-01T00:00:00Z", "currentPeriodEnd": "2020-02-01T00:00:00Z"}') IS NOT NULL
         AS b_on_checks_hard_plus;
SELECT switchboard.consume_feature('e2000000-0000-4000-8000-00000000000b', 'calls', 50) ->> 'ok' AS b_uses_50;
SELECT r.label, pg_temp.check(r.org, r.feature) AS answer
  FROM (VALUES (1, 'A: tier-3 feature', '0000a', 'ai_lead_scoring'),
               (2, 'A: tier-5 feature', '0000a', 'api_access'),
               (3, 'A: white label', '0000a', 'white_label_capabilities'),
               (4, 'C: tier-1 feature', '0000c', 'voice_broadcast'),
               (5, 'C: tier-4 feature', '0000c', 'decision_tracking'),
               (6, 'C: white label', '0000c', 'white_label_capabilities'),
               (7, 'E: hard limit reached', '0000e', 'calls'),
               (8, 'B: hard limit reached, top tier', '0000b', 'calls'),
               (9, 'B: not in the test tier', '0000b', 'api_access'),
               (10, 'A: disabled by override', '0000a', 'campaign_scheduler'),
               (11, 'A: unknown feature', '0000a', 'teleportation')) AS r (ord, label, org, feature)
 ORDER BY r.ord;
-- Asking for more than the rest of a hard limit is LIMIT_EXCEEDED too (E has 5 of 50 after an
-- upgrade: 45 fit, 46 do not).
SELECT switchboard.set_subscription('e2000000-0000-4000-8000-00000000000e', 'checks_hard_plus') IS NOT NULL AS e_upgraded;
SELECT pg_temp.brief(switchboard.check_feature('e2000000-0000-4000-8000-00000000000e', 'calls', 45)) AS ask_45,
       pg_temp.brief(switchboard.check_feature('e2000000-0000-4000-8000-00000000000e', 'calls', 46)) AS ask_46,
       switchboard.check_feature('e2000000-0000-4000-8000-00000000000e', 'calls', 46) ->> 'remaining' AS remaining;

--
-- callsRemaining (the seed's field, on every answer) and overageRate (soft limits only).
--
SELECT pg_temp.as_actor('A agent', 'SELECT switchboard.consume_feature({0000a}, ''calls'', 10) ->> ''used''', true)
         AS a_used_calls;
SELECT r.label, c ->> 'callsRemaining' AS calls_remaining, c ->> 'overageRate' AS overage_rate,
       c ->> 'limit' AS "limit", c ->> 'used' AS used, c ->> 'remaining' AS remaining
  FROM (VALUES (1, 'A calls (soft, 3000)', '0000a', 'calls'),
               (2, 'A minutes (soft, 6000; 3 reserved)', '0000a', 'minutes'),
               (3, 'A boolean feature', '0000a', 'voice_broadcast'),
               (4, 'A denied feature', '0000a', 'ai_lead_scoring'),
               (5, 'E calls (hard)', '0000e', 'calls'),
               (6, 'C without subscription', '0000c', 'voice_broadcast'),
               (7, 'C calls without subscription', '0000c', 'calls')) AS r (ord, label, org, feature),
       LATERAL switchboard.check_feature(('e2000000-0000-4000-8000-0000000' || r.org)::uuid, r.feature) AS c
 ORDER BY r.ord;
-- A soft override (billing's) keeps the tier's rate; a hard one (A's admin capping calls below the
-- plan's 3,000) has none; a kill switch on calls leaves no calls to report.
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000a}, ''minutes'', true, 5, ''soft'') ->> ''reason''', true)
         AS soft_minutes,
       pg_temp.as_actor('A admin', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 100, ''hard'') ->> ''reason''', true)
         AS hard_calls;
SELECT c1 ->> 'reason' AS minutes_reason, c1 ->> 'limit' AS minutes_limit, c1 ->> 'overageRate' AS minutes_rate,
       c1 ->> 'hasAccess' AS minutes_access_beyond_soft_limit,
       c2 ->> 'reason' AS calls_reason, c2 ->> 'limit' AS calls_limit, c2 ->> 'overageRate' AS calls_rate,
       c2 ->> 'callsRemaining' AS calls_remaining
  FROM switchboard.check_feature('e2000000-0000-4000-8000-00000000000a', 'minutes', 10) AS c1,
       switchboard.check_feature('e2000000-0000-4000-8000-00000000000a', 'calls') AS c2;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_kill_switch(''calls'', false, ''billing outage'') ->> ''reason''', true)
         AS kill_calls;
SELECT switchboard.check_feature('e2000000-0000-4000-8000-00000000000a', 'voice_broadcast') ->> 'callsRemaining'
         AS calls_remaining_while_killed,
       pg_temp.check('0000a', 'calls') AS calls_while_killed;
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_kill_switch(''calls'', true, ''billing back'') ->> ''reason''', true)
         AS calls_back,
       switchboard.clear_feature_override('e2000000-0000-4000-8000-00000000000a', 'minutes') ->> 'reason' AS minutes_cleared,
       switchboard.clear_feature_override('e2000000-0000-4000-8000-00000000000a', 'calls') ->> 'reason' AS calls_cleared;

--
-- Unknown organisation: the service role learns it does not exist (P0002); a member of another
-- organisation is refused before anything is revealed (42501).
--
CREATE TEMP TABLE ck_call (ord int, fn text, stmt text);
INSERT INTO ck_call VALUES
  (1, 'has_feature', 'SELECT switchboard.has_feature(%1$s, ''voice_broadcast'')'),
  (2, 'is_feature_enabled', 'SELECT switchboard.is_feature_enabled(%1$s, ''voice_broadcast'')'),
  (3, 'check_feature', 'SELECT switchboard.check_feature(%1$s, ''voice_broadcast'') ->> ''reason'''),
  (4, 'feature_matrix', 'SELECT switchboard.feature_matrix(%1$s) ->> ''voice_broadcast'''),
  (5, 'consume_feature', 'SELECT switchboard.consume_feature(%1$s, ''calls'') ->> ''ok'''),
  (6, 'increment_feature_usage', 'SELECT switchboard.increment_feature_usage(%1$s, ''calls'', 1)'),
  (7, 'reserve_feature', 'SELECT switchboard.reserve_feature(%1$s, ''minutes'', 1) ->> ''ok'''),
  (8, 'settle_reservation', 'SELECT switchboard.settle_reservation(%1$s, %2$s, 1) ->> ''reason'''),
  (9, 'release_reservation', 'SELECT switchboard.release_reservation(%1$s, %2$s) ->> ''reason'''),
  (10, 'set_feature_override', 'SELECT switchboard.set_feature_override(%1$s, ''api_access'', true) ->> ''reason'''),
  (11, 'clear_feature_override', 'SELECT switchboard.clear_feature_override(%1$s, ''sms'') ->> ''reason'''),
  (12, 'set_subscription', 'SELECT switchboard.set_subscription(%1$s, ''white_label'') IS NOT NULL'),
  (13, 'set_feature_override (disable)', 'SELECT switchboard.set_feature_override(%1$s, ''sms'', false) ->> ''reason'''),
  (14, 'request_plan_change', 'SELECT switchboard.request_plan_change(%1$s, ''white_label'') ->> ''reason'''),
  (15, 'reject_plan_change', 'SELECT switchboard.reject_plan_change(%1$s, %2$s) ->> ''reason'''),
  (16, 'pending_plan_changes', 'SELECT count(*) FROM switchboard.pending_plan_changes(%1$s)');
SELECT pg_temp.cell('unknown', c.ord, x.col, format(x.expr, format(c.stmt, '{000ff}', '{res:a}')))
  FROM ck_call c, (VALUES (1, 'service_role', 'pg_temp.as_actor(''service'', %L)'),
                          (2, 'superuser', 'pg_temp.attempt(NULL, NULL, %L)'),
                          (3, 'member_of_a', 'pg_temp.as_actor(''A owner'', %L)')) AS x (n, col, expr)
 ORDER BY c.ord, x.n
\set ECHO none
\gexec
\set ECHO all
SELECT c.fn, pg_temp.got('unknown', c.ord, 'service_role') AS service_role,
       pg_temp.got('unknown', c.ord, 'superuser') AS superuser, pg_temp.got('unknown', c.ord, 'member_of_a') AS member_of_a
  FROM ck_call c ORDER BY c.ord;

--
-- Role rules in A (each action rolled back): reads need any membership; counting needs agent;
-- narrowing overrides (and removing the organisation's own) need admin; granting overrides,
-- removing billing's, subscriptions, kill switches, purging and the pending plan changes need the
-- service role; plan change requests need the owner. Outcomes: the answer, or the SQLSTATE.
--
CREATE TEMP TABLE ck_action (ord int, action text, stmt text);
INSERT INTO ck_action VALUES
  (1, 'has_feature', 'SELECT switchboard.has_feature({0000a}, ''campaign_scheduler'')::text'),
  (2, 'is_feature_enabled', 'SELECT switchboard.is_feature_enabled({0000a}, ''voice_broadcast'')::text'),
  (3, 'check_feature', 'SELECT switchboard.check_feature({0000a}, ''voice_broadcast'') ->> ''reason'''),
  (4, 'feature_matrix', 'SELECT switchboard.feature_matrix({0000a}) ->> ''voice_broadcast'''),
  (5, 'consume_feature', 'SELECT switchboard.consume_feature({0000a}, ''calls'') ->> ''ok'''),
  (6, 'increment_feature_usage', 'SELECT switchboard.increment_feature_usage({0000a}, ''calls'', 1)::text'),
  (7, 'reserve_feature', 'SELECT switchboard.reserve_feature({0000a}, ''minutes'', 1) ->> ''ok'''),
  (8, 'settle_reservation', 'SELECT switchboard.settle_reservation({0000a}, {res:a}, 2) ->> ''reason'''),
  (9, 'release_reservation', 'SELECT switchboard.release_reservation({0000a}, {res:a}) ->> ''reason'''),
  (10, 'set_feature_override (grant)', 'SELECT switchboard.set_feature_override({0000a}, ''api_access'', true) ->> ''reason'''),
  (11, 'set_feature_override (disable)', 'SELECT switchboard.set_feature_override({0000a}, ''sms'', false) ->> ''reason'''),
  (12, 'clear_feature_override (billing''s)', 'SELECT switchboard.clear_feature_override({0000a}, ''predictive_dialing'') ->> ''reason'''),
  (13, 'clear_feature_override (tenant''s)', 'SELECT switchboard.clear_feature_override({0000a}, ''campaign_scheduler'') ->> ''reason'''),
  (14, 'set_subscription', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'') IS NOT NULL)::text'),
  (15, 'set_kill_switch', 'SELECT switchboard.set_kill_switch(''sms'', false, ''test'') ->> ''reason'''),
  (16, 'purge_usage_events', 'SELECT switchboard.purge_usage_events()::text'),
  (17, 'request_plan_change', 'SELECT switchboard.request_plan_change({0000a}, ''white_label'') ->> ''reason'''),
  (18, 'pending_plan_changes', 'SELECT count(*)::text FROM switchboard.pending_plan_changes({0000a})');
SELECT pg_temp.cell('roles', a.ord, x.label, format('pg_temp.short(pg_temp.as_actor(%L, %L))', x.label, a.stmt))
  FROM ck_action a, ck_actor x WHERE x.ord <= 10 ORDER BY a.ord, x.ord
\set ECHO none
\gexec
\set ECHO all
SELECT a.action,
       pg_temp.got('roles', a.ord, 'A viewer') AS viewer, pg_temp.got('roles', a.ord, 'A agent') AS agent,
       pg_temp.got('roles', a.ord, 'A manager') AS manager, pg_temp.got('roles', a.ord, 'A admin') AS admin,
       pg_temp.got('roles', a.ord, 'A owner') AS owner, pg_temp.got('roles', a.ord, 'stranger') AS stranger,
       pg_temp.got('roles', a.ord, 'no user') AS no_user, pg_temp.got('roles', a.ord, 'anon') AS anon,
       pg_temp.got('roles', a.ord, 'service') AS service
  FROM ck_action a ORDER BY a.ord;
-- The messages of the refusals, for one example of each.
CREATE TEMP TABLE ck_refusal (ord int, who text, action text);
INSERT INTO ck_refusal
VALUES (1, 'A viewer', 'consume_feature'), (2, 'A manager', 'set_feature_override (disable)'),
       (3, 'A owner', 'set_subscription'), (4, 'A owner', 'set_kill_switch'),
       (5, 'stranger', 'check_feature'), (6, 'no user', 'check_feature'),
       (7, 'A owner', 'set_feature_override (grant)'), (8, 'A owner', 'clear_feature_override (billing''s)'),
       (9, 'A admin', 'request_plan_change'), (10, 'service', 'request_plan_change'),
       (11, 'A owner', 'pending_plan_changes');
SELECT pg_temp.cell('refusals', x.ord, 'outcome', format('pg_temp.as_actor(%L, %L)', x.who, a.stmt))
  FROM ck_refusal x JOIN ck_action a ON a.action = x.action ORDER BY x.ord
\set ECHO none
\gexec
\set ECHO all
SELECT x.who, x.action, pg_temp.got('refusals', x.ord, 'outcome') AS outcome FROM ck_refusal x ORDER BY x.ord;

-- The tenant tables through RLS: members read their own organisation's rows only (the audit:
-- admins and owners only); idempotency answers are not readable by members at all.
CREATE TEMP TABLE ck_tbl (ord int, tbl text);
INSERT INTO ck_tbl VALUES (1, 'subscriptions'), (2, 'feature_overrides'), (3, 'feature_usage'), (4, 'feature_reservations'),
                          (5, 'entitlement_audit'), (6, 'usage_events');
SELECT pg_temp.cell('rls', t.ord, 'rows_of_a',
                    format('(SELECT count(*) FROM switchboard.%I WHERE org_id = ''e2000000-0000-4000-8000-00000000000a'')::text', t.tbl))
  FROM ck_tbl t ORDER BY t.ord
\set ECHO none
\gexec
\set ECHO all
SELECT pg_temp.cell('rls', t.ord, x.label,
                    format('pg_temp.short(pg_temp.as_actor(%L, %L))', x.label,
                           format('SELECT count(*) FILTER (WHERE org_id = {0000a}) || ''/'' || count(*) FROM switchboard.%I', t.tbl)))
  FROM ck_tbl t, ck_actor x WHERE x.label IN ('A viewer', 'A agent', 'A admin', 'A owner', 'stranger') ORDER BY t.ord, x.ord
\set ECHO none
\gexec
\set ECHO all
SELECT t.tbl, pg_temp.got('rls', t.ord, 'rows_of_a')::bigint AS rows_of_a,
       pg_temp.got('rls', t.ord, 'A viewer') AS viewer, pg_temp.got('rls', t.ord, 'A agent') AS agent,
       pg_temp.got('rls', t.ord, 'A admin') AS admin, pg_temp.got('rls', t.ord, 'A owner') AS owner,
       pg_temp.got('rls', t.ord, 'stranger') AS stranger
  FROM ck_tbl t ORDER BY t.ord;

--
-- Cross-tenant: every member of A, whatever its role, is refused everything on B (42501), and B
-- is unchanged. Passing A's id with B's reservation finds nothing (P0002).
--
CREATE FUNCTION pg_temp.b_state() RETURNS text LANGUAGE sql AS $$
  SELECT format('sub %s; overrides %s; usage %s; reservations %s',
    (SELECT string_agg(format('%s %s %s', tier, status, addons), ',') FROM switchboard.subscriptions
      WHERE org_id = 'e2000000-0000-4000-8000-00000000000b'),
    (SELECT string_agg(format('%s=%s', feature, enabled), ',' ORDER BY feature) FROM switchboard.feature_overrides
      WHERE org_id = 'e2000000-0000-4000-8000-00000000000b'),
    (SELECT string_agg(format('%s used %s reserved %s', feature, used, reserved), ',' ORDER BY feature)
       FROM switchboard.feature_usage WHERE org_id = 'e2000000-0000-4000-8000-00000000000b'),
    (SELECT string_agg(format('%s %s', quantity, status), ',') FROM switchboard.feature_reservations
      WHERE org_id = 'e2000000-0000-4000-8000-00000000000b'))
$$;
CREATE TEMP TABLE b_before AS SELECT pg_temp.b_state() AS state;
SELECT pg_temp.cell('cross', c.ord, x.col, x.expr)
  FROM ck_call c,
       LATERAL (SELECT a.ord, a.label,
                       format('pg_temp.short(pg_temp.as_actor(%L, %L, true))', a.label, format(c.stmt, '{0000b}', '{res:b}'))
                  FROM ck_actor a WHERE a.ord BETWEEN 1 AND 5
                UNION ALL
                SELECT 6, 'owner_via_own_org',
                       format('pg_temp.short(pg_temp.as_actor(''A owner'', %L))', format(c.stmt, '{0000a}', '{res:b}'))
                 WHERE c.fn LIKE '%reservation') AS x (n, col, expr)
 ORDER BY c.ord, x.n
\set ECHO none
\gexec
\set ECHO all
SELECT c.fn,
       pg_temp.got('cross', c.ord, 'A viewer') AS viewer, pg_temp.got('cross', c.ord, 'A agent') AS agent,
       pg_temp.got('cross', c.ord, 'A manager') AS manager, pg_temp.got('cross', c.ord, 'A admin') AS admin,
       pg_temp.got('cross', c.ord, 'A owner') AS owner,
       coalesce(pg_temp.got('cross', c.ord, 'owner_via_own_org'), '') AS owner_via_own_org
  FROM ck_call c ORDER BY c.ord;
SELECT (SELECT state FROM b_before) = pg_temp.b_state() AS b_unchanged;

--
-- Bad input: each attempt fails with its SQLSTATE and changes nothing.
--
CREATE FUNCTION pg_temp.state() RETURNS text LANGUAGE sql AS $$
  SELECT format('subs %s | overrides %s | flags %s | usage %s | reservations %s | events %s | audit %s',
    (SELECT string_agg(format('%s %s %s %s %s %s %s %s', right(org_id::text, 1), tier, status, billing_cycle,
                              trial_ends_at, current_period_end, addons, effective_limits), ',' ORDER BY org_id)
       FROM switchboard.subscriptions WHERE org_id::text LIKE 'e2000000-%'),
    (SELECT string_agg(format('%s %s %s %s %s %s', right(org_id::text, 1), feature, enabled, usage_limit,
                              limit_mode, expires_at), ',' ORDER BY org_id, feature)
       FROM switchboard.feature_overrides WHERE org_id::text LIKE 'e2000000-%'),
    (SELECT string_agg(format('%s %s %s', feature, enabled, reason), ',' ORDER BY feature)
       FROM switchboard.global_feature_flags),
    (SELECT string_agg(format('%s %s %s %s %s', right(org_id::text, 1), feature, used, reserved, overage), ','
                       ORDER BY org_id, feature, period_start)
       FROM switchboard.feature_usage WHERE org_id::text LIKE 'e2000000-%'),
    (SELECT string_agg(format('%s %s %s', right(org_id::text, 1), quantity, status), ',' ORDER BY org_id, quantity)
       FROM switchboard.feature_reservations WHERE org_id::text LIKE 'e2000000-%'),
    (SELECT count(*) FROM switchboard.usage_events WHERE org_id::text LIKE 'e2000000-%'),
    (SELECT count(*) FROM switchboard.entitlement_audit WHERE org_id::text LIKE 'e2000000-%')
     + (SELECT count(*) FROM switchboard.kill_switch_audit))
$$;
-- Runs stmt as actor `who`; returns its outcome (with the error detail unless only_state). The
-- attempt is rolled back unless keep, so a wrong success cannot disturb the cases after it. Each
-- attempt runs in a transaction of its own and state() is read in the next one: on Citus a
-- transaction may not read a placement as the superuser after another user reached it.
CREATE FUNCTION pg_temp.try(who text, stmt text, only_state boolean DEFAULT false, keep boolean DEFAULT false)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  outcome text;
  detail text;
  a record;
BEGIN
  SELECT * INTO a FROM ck_actor WHERE label = who;
  stmt := pg_temp.expand(stmt);
  BEGIN
    PERFORM set_config('request.jwt.claims', coalesce(a.claims::text, ''), true);
    PERFORM set_config('role', a.api_role, true);
    EXECUTE stmt INTO outcome;
    outcome := coalesce(outcome, 'NULL');
    PERFORM set_config('role', 'none', true);
    PERFORM set_config('request.jwt.claims', '', true);
    IF NOT keep THEN
      RAISE EXCEPTION USING ERRCODE = 'SBRBK';
    END IF;
  EXCEPTION
    WHEN SQLSTATE 'SBRBK' THEN NULL;
    WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
      outcome := SQLSTATE || CASE WHEN only_state THEN ''
                                  ELSE ': ' || SQLERRM || coalesce(' (' || nullif(detail, '') || ')', '') END;
  END;
  RETURN outcome;
END
$$;
CREATE TEMP TABLE ck_bad (ord int, who text, label text, stmt text, only_state boolean DEFAULT false);
INSERT INTO ck_bad VALUES
  (1, 'A owner', 'check: null org', 'SELECT switchboard.check_feature(NULL, ''calls'')::text'),
  (2, 'A owner', 'check: null feature', 'SELECT switchboard.check_feature({0000a}, NULL)::text'),
  (3, 'A owner', 'check: empty feature', 'SELECT switchboard.check_feature({0000a}, '''')::text'),
  (4, 'A owner', 'check: null quantity', 'SELECT switchboard.check_feature({0000a}, ''calls'', NULL)::text'),
  (5, 'A owner', 'check: zero quantity', 'SELECT switchboard.check_feature({0000a}, ''calls'', 0)::text'),
  (6, 'A owner', 'check: negative quantity', 'SELECT switchboard.check_feature({0000a}, ''calls'', -1)::text'),
  (7, 'A owner', 'has_feature: null org', 'SELECT switchboard.has_feature(NULL, ''calls'')::text'),
  (8, 'A owner', 'has_feature: null feature', 'SELECT switchboard.has_feature({0000a}, NULL)::text'),
  (9, 'A owner', 'has_feature: empty feature', 'SELECT switchboard.has_feature({0000a}, '''')::text'),
  (10, 'A owner', 'feature_matrix: null org', 'SELECT switchboard.feature_matrix(NULL)::text'),
  (11, 'A owner', 'consume: zero quantity', 'SELECT switchboard.consume_feature({0000a}, ''calls'', 0)::text'),
  (12, 'A owner', 'consume: negative quantity', 'SELECT switchboard.consume_feature({0000a}, ''calls'', -5)::text'),
  (13, 'A owner', 'consume: null quantity', 'SELECT switchboard.consume_feature({0000a}, ''calls'', NULL)::text'),
  (14, 'A owner', 'consume: null org', 'SELECT switchboard.consume_feature(NULL, ''calls'')::text'),
  (15, 'A owner', 'consume: null feature', 'SELECT switchboard.consume_feature({0000a}, NULL)::text'),
  (16, 'A owner', 'consume: empty feature', 'SELECT switchboard.consume_feature({0000a}, '''')::text'),
  (17, 'A owner', 'consume: empty idempotency key', 'SELECT switchboard.consume_feature({0000a}, ''calls'', 1, '''')::text'),
  (18, 'A owner', 'consume: 256-character key', 'SELECT switchboard.consume_feature({0000a}, ''calls'', 1, repeat(''k'', 256))::text'),
  (19, 'A owner', 'consume: boolean feature', 'SELECT switchboard.consume_feature({0000a}, ''voice_broadcast'')::text'),
  (20, 'A owner', 'increment: zero quantity', 'SELECT switchboard.increment_feature_usage({0000a}, ''calls'', 0)::text'),
  (21, 'A owner', 'reserve: zero quantity', 'SELECT switchboard.reserve_feature({0000a}, ''minutes'', 0)::text'),
  (22, 'A owner', 'reserve: null quantity', 'SELECT switchboard.reserve_feature({0000a}, ''minutes'', NULL)::text'),
  (23, 'A owner', 'reserve: zero ttl', 'SELECT switchboard.reserve_feature({0000a}, ''minutes'', 1, ''0 seconds'')::text'),
  (24, 'A owner', 'reserve: negative ttl', 'SELECT switchboard.reserve_feature({0000a}, ''minutes'', 1, ''-1 minute'')::text'),
  (25, 'A owner', 'reserve: null ttl', 'SELECT switchboard.reserve_feature({0000a}, ''minutes'', 1, NULL)::text'),
  (26, 'A owner', 'reserve: boolean feature', 'SELECT switchboard.reserve_feature({0000a}, ''voice_broadcast'', 1)::text'),
  (27, 'A owner', 'reserve: empty feature', 'SELECT switchboard.reserve_feature({0000a}, '''', 1)::text'),
  (28, 'A owner', 'settle: null reservation', 'SELECT switchboard.settle_reservation({0000a}, NULL, 1)::text'),
  (29, 'A owner', 'settle: negative actual', 'SELECT switchboard.settle_reservation({0000a}, {res:a}, -1)::text'),
  (30, 'A owner', 'settle: null actual', 'SELECT switchboard.settle_reservation({0000a}, {res:a}, NULL)::text'),
  (31, 'A owner', 'settle: unknown reservation', 'SELECT switchboard.settle_reservation({0000a}, {00bad}, 1)::text'),
  (32, 'A owner', 'release: unknown reservation', 'SELECT switchboard.release_reservation({0000a}, {00bad})::text'),
  (33, 'A owner', 'release: null reservation', 'SELECT switchboard.release_reservation({0000a}, NULL)::text'),
  (34, 'service', 'subscription: null org', 'SELECT (switchboard.set_subscription(NULL, ''white_label'') IS NOT NULL)::text'),
  (35, 'service', 'subscription: null tier', 'SELECT (switchboard.set_subscription({0000a}, NULL) IS NOT NULL)::text'),
  (36, 'service', 'subscription: unknown tier', 'SELECT (switchboard.set_subscription({0000a}, ''platinum'') IS NOT NULL)::text'),
  (37, 'service', 'subscription: null status', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', NULL) IS NOT NULL)::text'),
  (38, 'service', 'subscription: unknown status', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''paused'') IS NOT NULL)::text'),
  (39, 'service', 'subscription: unknown option', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"colour": "red"}'') IS NOT NULL)::text'),
  (40, 'service', 'subscription: bad billingCycle', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"billingCycle": "weekly"}'') IS NOT NULL)::text'),
  (41, 'service', 'subscription: unparseable trialEndsAt', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''trialing'', ''{"trialEndsAt": "not a date"}'') IS NOT NULL)::text'),
  (42, 'service', 'subscription: unparseable period start', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"currentPeriodStart": "someday"}'') IS NOT NULL)::text'),
  (43, 'service', 'subscription: options an array', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''[]'') IS NOT NULL)::text'),
  (44, 'service', 'subscription: options a string', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''"x"'') IS NOT NULL)::text'),
  (45, 'service', 'subscription: unknown add-on feature', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"teleportation": true}}'') IS NOT NULL)::text'),
  (46, 'service', 'subscription: quantity add-on on a boolean', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"api_access": 5}}'') IS NOT NULL)::text'),
  (47, 'service', 'subscription: negative add-on', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"calls": -1}}'') IS NOT NULL)::text'),
  (48, 'service', 'subscription: fractional add-on', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"calls": 1.5}}'') IS NOT NULL)::text'),
  (49, 'service', 'subscription: add-on a string', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"calls": "5"}}'') IS NOT NULL)::text'),
  (50, 'service', 'subscription: add-on beyond bigint', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"calls": 99999999999999999999}}'') IS NOT NULL)::text'),
  (51, 'service', 'subscription: add-ons an array', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": ["api_access"]}'') IS NOT NULL)::text'),
  (52, 'service', 'subscription: trialing without trialEndsAt', 'SELECT (switchboard.set_subscription({0000c}, ''white_label'', ''trialing'') IS NOT NULL)::text'),
  (53, 'service', 'subscription: period ends before it starts', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"currentPeriodStart": "2020-02-01", "currentPeriodEnd": "2020-01-01"}'') IS NOT NULL)::text'),
  (54, 'A admin', 'override: null org', 'SELECT switchboard.set_feature_override(NULL, ''calls'', true)::text'),
  (55, 'A admin', 'override: unknown feature', 'SELECT switchboard.set_feature_override({0000a}, ''teleportation'', true)::text'),
  (56, 'A admin', 'override: null feature', 'SELECT switchboard.set_feature_override({0000a}, NULL, true)::text'),
  (57, 'A admin', 'override: null enabled', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', NULL)::text'),
  (58, 'A admin', 'override: negative usage_limit', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, -1)::text'),
  (59, 'A admin', 'override: bad limit_mode', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 10, ''medium'')::text'),
  (60, 'A admin', 'override: past expires_at', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, expires_at => ''2020-01-01'')::text'),
  (61, 'A admin', 'clear override: unknown feature', 'SELECT switchboard.clear_feature_override({0000a}, ''teleportation'')::text'),
  (62, 'A admin', 'clear override: null feature', 'SELECT switchboard.clear_feature_override({0000a}, NULL)::text'),
  (63, 'service', 'kill switch: empty reason', 'SELECT switchboard.set_kill_switch(''sms'', false, '''')::text'),
  (64, 'service', 'kill switch: blank reason', 'SELECT switchboard.set_kill_switch(''sms'', false, ''   '')::text'),
  (65, 'service', 'kill switch: null reason', 'SELECT switchboard.set_kill_switch(''sms'', false, NULL)::text'),
  (66, 'service', 'kill switch: unknown feature', 'SELECT switchboard.set_kill_switch(''teleportation'', false, ''x'')::text'),
  (67, 'service', 'kill switch: null feature', 'SELECT switchboard.set_kill_switch(NULL, false, ''x'')::text'),
  (68, 'service', 'kill switch: null enabled', 'SELECT switchboard.set_kill_switch(''sms'', NULL, ''x'')::text'),
  (69, 'service', 'purge: under 48 hours', 'SELECT switchboard.purge_usage_events(''47 hours'')::text'),
  (70, 'service', 'purge: null', 'SELECT switchboard.purge_usage_events(NULL)::text'),
  (71, 'A viewer', 'viewer, unknown tier: refused first', 'SELECT (switchboard.set_subscription({0000a}, ''platinum'') IS NOT NULL)::text'),
  (72, 'stranger', 'stranger, unknown org and tier', 'SELECT (switchboard.set_subscription({000ff}, ''platinum'') IS NOT NULL)::text'),
  (73, 'A owner', 'owner, unknown tier: refused first', 'SELECT (switchboard.set_subscription({0000a}, ''platinum'') IS NOT NULL)::text'),
  (74, 'service', 'subscription: add-on overflows the limit', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"calls": 9223372036854775807}}'') IS NOT NULL)::text'),
  (75, 'service', 'subscription: add-on just beyond bigint', 'SELECT (switchboard.set_subscription({0000a}, ''white_label'', ''active'', ''{"addons": {"calls": 9223372036854775808}}'') IS NOT NULL)::text'),
  (76, 'A owner', 'plan change: null org', 'SELECT switchboard.request_plan_change(NULL, ''white_label'')::text'),
  (77, 'A owner', 'plan change: null tier', 'SELECT switchboard.request_plan_change({0000a}, NULL)::text'),
  (78, 'A owner', 'plan change: unknown tier', 'SELECT switchboard.request_plan_change({0000a}, ''platinum'')::text'),
  (79, 'A admin', 'plan change: admin, unknown tier: refused first', 'SELECT switchboard.request_plan_change({0000a}, ''platinum'')::text'),
  (80, 'service', 'reject: null request', 'SELECT switchboard.reject_plan_change({0000a}, NULL)::text'),
  (81, 'service', 'reject: unknown request', 'SELECT switchboard.reject_plan_change({0000a}, {00bad})::text'),
  (82, 'service', 'reject: unknown org', 'SELECT switchboard.reject_plan_change({000ff}, {00bad})::text'),
  (83, 'A admin', 'override: tenant grant', 'SELECT switchboard.set_feature_override({0000a}, ''api_access'', true)::text'),
  (84, 'A admin', 'override: tenant raises a limit', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 100000000)::text'),
  (85, 'A admin', 'override: tenant soft limit', 'SELECT switchboard.set_feature_override({0000a}, ''calls'', true, 10, ''soft'')::text');
-- (Only the SQLSTATE is shown for cases whose message is not settled yet.)
UPDATE ck_bad SET only_state = true
 WHERE label IN ('consume: empty feature', 'reserve: empty feature', 'subscription: fractional add-on',
                 'subscription: add-ons an array');
-- (Per case: the attempt, then whether state() is still what it was before the cases.)
SELECT pg_temp.state() AS ck_before \gset
SELECT pg_temp.cell('bad', b.ord, 'outcome', format('pg_temp.try(%L, %L, %L)', b.who, b.stmt, b.only_state)),
       pg_temp.cell('bad', b.ord, 'unchanged', format('(pg_temp.state() IS NOT DISTINCT FROM %L)::text', :'ck_before'))
  FROM ck_bad b ORDER BY b.ord
\set ECHO none
\gexec
\set ECHO all
SELECT b.label, pg_temp.got('bad', b.ord, 'outcome') AS outcome, pg_temp.got('bad', b.ord, 'unchanged')::boolean AS unchanged
  FROM ck_bad b ORDER BY b.ord;
-- options NULL means no options (not bad input); the subscription is unchanged by it (kept, and
-- state() read in the next transaction).
SELECT pg_temp.try('service', 'SELECT (switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''active'', NULL)
                                 IS NOT NULL)::text', keep => true) AS ck_outcome \gset
SELECT :'ck_outcome' AS outcome, pg_temp.state() IS NOT DISTINCT FROM :'ck_before' AS unchanged;
SELECT pg_temp.try('service', 'SELECT (switchboard.set_subscription({0000a}, ''smart_broadcast_pro'', ''active'', ''{}'')
                                 IS NOT NULL)::text', keep => true) AS ck_outcome \gset
SELECT :'ck_outcome' AS outcome, pg_temp.state() IS NOT DISTINCT FROM :'ck_before' AS unchanged;

--
-- Audit: one row per subscription or override change, in the same transaction, with the actor
-- and before/after; nothing for failed, rolled-back or unchanged writes, or for grant resyncs.
-- Kill switch changes land in kill_switch_audit.
--
DELETE FROM switchboard.kill_switch_audit;
-- (Each change in a transaction of its own, as a request makes it; \gset keeps the answers.)
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000f}, ''broadcast_starter'') IS NOT NULL', true) AS s1 \gset ck_
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000f}, ''smart_broadcast_pro'') IS NOT NULL', true) AS s2 \gset ck_
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000f}, ''smart_broadcast_pro'') IS NOT NULL', true) AS s2_again \gset ck_
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000f}, ''ai_powered_elite'') IS NOT NULL') AS rolled_back \gset ck_
SELECT pg_temp.short(pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000f}, ''platinum'') IS NOT NULL', true)) AS failed \gset ck_
SELECT pg_temp.short(pg_temp.as_actor('F owner', 'SELECT switchboard.set_subscription({0000f}, ''white_label'') IS NOT NULL', true)) AS refused \gset ck_
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_subscription({0000f}, ''smart_broadcast_pro'', ''past_due'',
                                      ''{"addons": {"api_access": true, "calls": 500}}'') IS NOT NULL', true) AS s3 \gset ck_
SELECT :'ck_s1' AS s1, :'ck_s2' AS s2, :'ck_s2_again' AS s2_again, :'ck_rolled_back' AS rolled_back,
       :'ck_failed' AS failed, :'ck_refused' AS refused, :'ck_s3' AS s3;
UPDATE switchboard.plan_tier_features SET mode = mode WHERE tier = 'smart_broadcast_pro';
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000f}, ''predictive_dialing'', true,
                                      reason => ''pilot'') ->> ''reason''', true) AS o1 \gset ck_
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000f}, ''predictive_dialing'', true,
                                      reason => ''pilot'') ->> ''reason''', true) AS o1_again \gset ck_
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_feature_override({0000f}, ''predictive_dialing'', false,
                                      reason => ''pilot over'') ->> ''reason''', true) AS o2 \gset ck_
SELECT pg_temp.as_actor('service', 'SELECT switchboard.clear_feature_override({0000f}, ''predictive_dialing'') ->> ''reason''', true) AS o3 \gset ck_
SELECT pg_temp.as_actor('F admin', 'SELECT switchboard.set_feature_override({0000f}, ''csv_import'', false,
                                      reason => ''not used here'') ->> ''reason''', true) AS o4 \gset ck_
SELECT pg_temp.as_actor('F owner', 'SELECT switchboard.clear_feature_override({0000f}, ''csv_import'') ->> ''reason''', true) AS o5 \gset ck_
SELECT pg_temp.as_actor('F owner', 'SELECT switchboard.clear_feature_override({0000f}, ''csv_import'') ->> ''reason''', true) AS o5_again \gset ck_
SELECT :'ck_o1' AS o1, :'ck_o1_again' AS o1_again, :'ck_o2' AS o2, :'ck_o3' AS o3, :'ck_o4' AS o4,
       :'ck_o5' AS o5, :'ck_o5_again' AS o5_again;
SELECT row_number() OVER (ORDER BY a.id) AS n, a.entity, a.action,
       coalesce(u.label, a.actor_user::text, '-') AS actor, a.actor_role,
       CASE WHEN a.before IS NULL THEN '-' WHEN a.entity = 'subscriptions'
         THEN format('%s %s %s', a.before ->> 'tier', a.before ->> 'status', a.before -> 'addons')
         ELSE format('%s enabled=%s %s', a.before ->> 'feature', a.before ->> 'enabled', a.before ->> 'reason') END AS before,
       CASE WHEN a.after IS NULL THEN '-' WHEN a.entity = 'subscriptions'
         THEN format('%s %s %s', a.after ->> 'tier', a.after ->> 'status', a.after -> 'addons')
         ELSE format('%s enabled=%s %s', a.after ->> 'feature', a.after ->> 'enabled', a.after ->> 'reason') END AS after
  FROM switchboard.entitlement_audit a
  LEFT JOIN (SELECT label, (claims ->> 'sub')::uuid AS user_id FROM ck_actor) u ON u.user_id = a.actor_user
 WHERE a.org_id = 'e2000000-0000-4000-8000-00000000000f'
 ORDER BY a.id;
-- Kill switches: the service role (with an operator's sub) switches one off and on again; a
-- refused attempt leaves no row.
SELECT pg_temp.as_actor('service', 'SELECT switchboard.set_kill_switch(''transcription'', false, ''vendor down'') ->> ''reason''', true) AS k1,
       pg_temp.short(pg_temp.as_actor('A owner', 'SELECT switchboard.set_kill_switch(''transcription'', true, ''x'') ->> ''reason''', true)) AS refused,
       pg_temp.as_actor('service', 'SELECT switchboard.set_kill_switch(''transcription'', true, ''vendor back'') ->> ''reason''', true) AS k2;
SELECT row_number() OVER (ORDER BY k.id) AS n, k.feature, k.action, k.actor_user, k.actor_role,
       k.before ->> 'enabled' AS before_enabled, k.before ->> 'reason' AS before_reason,
       k.after ->> 'enabled' AS after_enabled, k.after ->> 'reason' AS after_reason,
       k.after ->> 'set_by' AS set_by
  FROM switchboard.kill_switch_audit k ORDER BY k.id;

-- Clean up: kill switches, test tiers, organisations and their audit.
DELETE FROM switchboard.global_feature_flags;
DELETE FROM switchboard.kill_switch_audit;
DELETE FROM switchboard.organizations WHERE slug LIKE 'ent-checks-%';
DELETE FROM switchboard.plan_tiers WHERE key LIKE 'checks_hard%';
DELETE FROM switchboard.entitlement_audit WHERE org_id::text LIKE 'e2000000-%';
SELECT (SELECT count(*) FROM switchboard.plan_tiers) AS tiers, (SELECT count(*) FROM switchboard.plan_tier_features) AS grants,
       (SELECT count(*) FROM switchboard.global_feature_flags) AS kill_switches;
