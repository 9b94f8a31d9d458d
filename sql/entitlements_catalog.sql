-- Entitlements catalog: the shipped features, tiers, prices and grants against seed 000's literal
-- lists; feature_matrix per tier; and "adding a feature is an INSERT" (features, grants and tiers
-- changed as data are seen at once, subscriptions are resynced, a rolled-back change is forgotten).
-- Organisations of this file: 'e1000000-0000-4000-8000-0000000000NN' (slugs ent-cat-*); every
-- catalog change made here is undone at the end.

-- Seed 000's 34 toggles in its own words: tier 1's nine, and what tiers 2, 3, 4 and 5 add. The seed
-- grants tiers 1 to 4 cumulatively, tiers 5 and 6 all 34 but white_label_capabilities, tier 7 all 34.
CREATE TEMP TABLE seed_toggle (feature text PRIMARY KEY, seed_group int NOT NULL);
INSERT INTO seed_toggle
SELECT f, g FROM (VALUES
  (1, ARRAY['voice_broadcast', 'csv_import', 'audio_upload', 'tts_generation', 'press_1_transfer',
            'press_2_transfer', 'number_rotation', 'ghl_contact_sync', 'basic_analytics']),
  (2, ARRAY['progressive_dialing', 'campaign_scheduler', 'multi_number_management',
            'basic_pipeline_tracking', 'enhanced_ghl_sync']),
  (3, ARRAY['predictive_dialing', 'ai_script_optimization', 'ai_lead_scoring',
            'ai_call_outcome_prediction', 'self_learning_ml', 'advanced_analytics', 'ai_tools_access']),
  (4, ARRAY['autonomous_agent_full', 'autonomous_follow_ups', 'autonomous_pipeline_movement',
            'decision_tracking', 'lifecycle_management']),
  (5, ARRAY['multi_carrier_routing', 'intelligent_cost_optimization', 'real_time_carrier_monitoring',
            'multi_ai_provider_support', 'custom_toggle_dashboard', 'white_label_capabilities',
            'advanced_reporting', 'api_access'])) AS s (g, fs), unnest(fs) AS f;
SELECT count(*) AS seed_toggles FROM seed_toggle;

-- Seed 000's tiers and monthly prices ($59 ... $3,000).
CREATE TEMP TABLE seed_tier (tier text PRIMARY KEY, seed_rank int NOT NULL, price numeric NOT NULL);
INSERT INTO seed_tier VALUES
  ('broadcast_starter', 1, 59), ('smart_broadcast_pro', 2, 149), ('ai_powered_elite', 3, 299),
  ('autonomous_ferrari', 4, 499), ('enterprise_pro', 5, 1000), ('enterprise_elite', 6, 1500),
  ('white_label', 7, 3000);

-- What every tier must grant: the seed's toggles for it, plus our capabilities and calls/minutes.
CREATE TEMP TABLE expected_grant (tier text, feature text, PRIMARY KEY (tier, feature));
INSERT INTO expected_grant
SELECT t.tier, s.feature
  FROM seed_tier t JOIN seed_toggle s
    ON CASE WHEN t.seed_rank <= 4 THEN s.seed_group <= t.seed_rank
            WHEN t.seed_rank IN (5, 6) THEN s.feature <> 'white_label_capabilities'
            ELSE true END;
INSERT INTO expected_grant
SELECT t.tier, c
  FROM seed_tier t, unnest(ARRAY['recording', 'transcription', 'webhooks', 'webrtc_calling', 'call_notes',
                                 'sms', 'calls', 'minutes']) AS c;

--
-- The feature catalog: the 34 toggle keys as boolean features, calls and minutes metered, and the
-- kill-switchable capabilities of seed 002.
--
SELECT s.seed_group, s.feature, f.kind, f.unit, f.shipped
  FROM seed_toggle s LEFT JOIN switchboard.features f ON f.key = s.feature
 ORDER BY s.seed_group, s.feature;
SELECT f.key, f.kind, f.unit, f.category, f.shipped
  FROM switchboard.features f
 WHERE f.key NOT IN (SELECT feature FROM seed_toggle)
 ORDER BY f.kind DESC, f.key;
SELECT count(*) AS catalog_features,
       count(*) FILTER (WHERE kind = 'boolean') AS boolean_features,
       count(*) FILTER (WHERE kind = 'metered') AS metered_features
  FROM switchboard.features;

--
-- Tiers: seed 000's keys, ranks and monthly prices; annual prices and overage rates.
--
SELECT t.key, t.rank, t.name, t.monthly_price, s.price AS seed_price,
       t.monthly_price = s.price AS price_matches, t.annual_price, t.overage_rate
  FROM switchboard.plan_tiers t FULL JOIN seed_tier s ON s.tier = t.key
 ORDER BY coalesce(t.rank, s.seed_rank);

--
-- Grants: every tier grants exactly the expected set (missing and extra must both be empty).
--
SELECT t.key AS tier,
       (SELECT count(*) FROM switchboard.plan_tier_features g WHERE g.tier = t.key) AS granted,
       (SELECT count(*) FROM expected_grant e WHERE e.tier = t.key) AS expected,
       coalesce((SELECT string_agg(e.feature, ',' ORDER BY e.feature) FROM expected_grant e
                  WHERE e.tier = t.key AND NOT EXISTS (SELECT 1 FROM switchboard.plan_tier_features g
                                                        WHERE g.tier = e.tier AND g.feature = e.feature)),
                '-') AS missing,
       coalesce((SELECT string_agg(g.feature, ',' ORDER BY g.feature) FROM switchboard.plan_tier_features g
                  WHERE g.tier = t.key AND NOT EXISTS (SELECT 1 FROM expected_grant e
                                                        WHERE e.tier = g.tier AND e.feature = g.feature)),
                '-') AS extra
  FROM switchboard.plan_tiers t
 ORDER BY t.rank;

-- Boolean grants carry no limit; the metered ones are the call and minute allowances per billing
-- period (soft: overage billed at the tier's rate). The first tier keeps the seed's 1,000 calls and
-- $0.02 overage.
SELECT count(*) AS boolean_grants_with_a_limit
  FROM switchboard.plan_tier_features g JOIN switchboard.features f ON f.key = g.feature
 WHERE f.kind = 'boolean' AND (g.usage_limit IS NOT NULL OR g.period IS NOT NULL);
SELECT g.tier, g.feature, g.usage_limit, g.period, g.mode, t.overage_rate
  FROM switchboard.plan_tier_features g
  JOIN switchboard.features f ON f.key = g.feature
  JOIN switchboard.plan_tiers t ON t.key = g.tier
 WHERE f.kind = 'metered'
 ORDER BY t.rank, g.feature;
-- Allowances grow with the tier.
SELECT g.feature, bool_and(g.usage_limit > coalesce(p.usage_limit, 0)) AS grows_with_rank
  FROM switchboard.plan_tier_features g
  JOIN switchboard.plan_tiers t ON t.key = g.tier
  LEFT JOIN switchboard.plan_tiers pt ON pt.rank = t.rank - 1
  LEFT JOIN switchboard.plan_tier_features p ON p.tier = pt.key AND p.feature = g.feature
 WHERE g.feature IN ('calls', 'minutes')
 GROUP BY g.feature ORDER BY g.feature;

--
-- An organisation on each tier: its subscription's effective features, feature_matrix, has_feature
-- and check_feature all agree with the expected grants.
--
INSERT INTO switchboard.organizations (id, name, slug)
SELECT format('e1000000-0000-4000-8000-%s', lpad(s.seed_rank::text, 12, '0'))::uuid,
       'Catalog ' || s.tier, 'ent-cat-' || s.seed_rank
  FROM seed_tier s;
SELECT count(switchboard.set_subscription(o.id, s.tier)) AS subscriptions
  FROM seed_tier s
  JOIN switchboard.organizations o ON o.slug = 'ent-cat-' || s.seed_rank;

-- (PL/pgSQL, and the subscription read by itself: Citus plans no SQL-language function with
-- parameters, joins no distributed table with a temporary one, and runs no pg_temp function on a
-- worker.)
CREATE FUNCTION pg_temp.org_of(tier text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  rank int := (SELECT s.seed_rank FROM seed_tier s WHERE s.tier = org_of.tier);
BEGIN
  RETURN (SELECT o.id FROM switchboard.organizations o WHERE o.slug = 'ent-cat-' || rank);
END
$$;
-- The subscription of the organisation on `tier`.
CREATE FUNCTION pg_temp.sub_of(tier text) RETURNS switchboard.subscriptions LANGUAGE plpgsql AS $$
DECLARE
  org uuid := pg_temp.org_of(tier);
  sub switchboard.subscriptions;
BEGIN
  SELECT * INTO sub FROM switchboard.subscriptions s WHERE s.org_id = org;
  RETURN sub;
END
$$;

-- The sync trigger's effective_features equal the expected grants.
SELECT s.tier, cardinality(switchboard.feature_keys(sub.effective_features)) AS effective_features,
       switchboard.feature_keys(sub.effective_features) @> (SELECT array_agg(e.feature) FROM expected_grant e WHERE e.tier = s.tier)
       AND switchboard.feature_keys(sub.effective_features) <@ (SELECT array_agg(e.feature) FROM expected_grant e WHERE e.tier = s.tier)
         AS equals_expected,
       sub.effective_limits
  FROM seed_tier s CROSS JOIN LATERAL pg_temp.sub_of(s.tier) AS sub
 ORDER BY s.seed_rank;

-- feature_matrix: one key per catalog feature; true exactly for the expected grants.
SELECT s.tier,
       (SELECT count(*) FROM jsonb_object_keys(m)) AS matrix_keys,
       (SELECT count(*) FROM jsonb_each(m) WHERE value = 'true') AS true_keys,
       coalesce((SELECT string_agg(e.feature, ',') FROM expected_grant e
                  WHERE e.tier = s.tier AND (m -> e.feature) IS DISTINCT FROM 'true'), '-') AS missing,
       coalesce((SELECT string_agg(key, ',') FROM jsonb_each(m) j
                  WHERE j.value = 'true'
                    AND NOT EXISTS (SELECT 1 FROM expected_grant e WHERE e.tier = s.tier AND e.feature = j.key)),
                '-') AS extra,
       (SELECT array_agg(key ORDER BY key) FROM jsonb_object_keys(m) key)
         = (SELECT array_agg(f.key ORDER BY f.key) FROM switchboard.features f) AS keys_are_the_catalog
  FROM seed_tier s, LATERAL switchboard.feature_matrix(pg_temp.org_of(s.tier)) AS m
 ORDER BY s.seed_rank;

-- has_feature and check_feature for every tier and catalog feature (7 x 42 answers): every answer
-- matches the expected grants, granted ones say PLAN, the others NOT_IN_PLAN naming the cheapest
-- tier that grants the feature.
SELECT count(*) AS answers,
       count(*) FILTER (WHERE has <> expected) AS has_feature_wrong,
       count(*) FILTER (WHERE (c ->> 'hasAccess')::boolean <> expected) AS check_feature_wrong,
       count(*) FILTER (WHERE c ->> 'reason' <> CASE WHEN expected THEN 'PLAN' ELSE 'NOT_IN_PLAN' END)
         AS wrong_reason,
       count(*) FILTER (WHERE c ->> 'plan' <> tier) AS wrong_plan,
       count(*) FILTER (WHERE (c ->> 'upgradeTier') IS DISTINCT FROM cheapest_other
                           OR (c ->> 'upgradeRequired')::boolean <> (cheapest_other IS NOT NULL))
         AS wrong_upgrade
  FROM (SELECT s.tier, f.key,
               EXISTS (SELECT 1 FROM expected_grant e WHERE e.tier = s.tier AND e.feature = f.key) AS expected,
               switchboard.has_feature(pg_temp.org_of(s.tier), f.key) AS has,
               switchboard.check_feature(pg_temp.org_of(s.tier), f.key) AS c,
               CASE WHEN NOT EXISTS (SELECT 1 FROM expected_grant e WHERE e.tier = s.tier AND e.feature = f.key)
                    THEN (SELECT e.tier FROM expected_grant e JOIN seed_tier x USING (tier)
                           WHERE e.feature = f.key ORDER BY x.seed_rank LIMIT 1) END AS cheapest_other
          FROM seed_tier s CROSS JOIN switchboard.features f) AS a;

-- The upgrade advice from the first tier, by seed group: the tier that introduces the feature.
SELECT g.seed_group,
       string_agg(DISTINCT switchboard.check_feature(pg_temp.org_of('broadcast_starter'), g.feature)
                             ->> 'upgradeTier', ',') AS upgrade_tier_from_starter,
       string_agg(DISTINCT switchboard.check_feature(pg_temp.org_of('enterprise_elite'), g.feature)
                             ->> 'upgradeTier', ',') AS upgrade_tier_from_enterprise_elite
  FROM seed_toggle g
 GROUP BY g.seed_group, g.feature = 'white_label_capabilities'
 ORDER BY g.seed_group, 2;

-- The catalog is readable by every API role but only the service role may change it.
CREATE FUNCTION pg_temp.attempt(api_role text, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  result text;
BEGIN
  BEGIN
    PERFORM set_config('role', api_role, true);
    IF stmt ~* '^\s*select' THEN
      EXECUTE stmt INTO result;
    ELSE
      EXECUTE stmt;
      result := 'done';
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'SBRBK';
  EXCEPTION
    WHEN SQLSTATE 'SBRBK' THEN NULL;
    WHEN OTHERS THEN result := SQLSTATE || ': ' || SQLERRM;
  END;
  RETURN result;
END
$$;
SELECT r.api_role,
       pg_temp.attempt(r.api_role, 'SELECT count(*) FROM switchboard.features') AS read_features,
       pg_temp.attempt(r.api_role, 'SELECT count(*) FROM switchboard.plan_tier_features') AS read_grants,
       pg_temp.attempt(r.api_role, 'INSERT INTO switchboard.features (key, name, category, kind)
                                    VALUES (''hacked'', ''x'', ''x'', ''boolean'')') AS add_feature,
       pg_temp.attempt(r.api_role, 'UPDATE switchboard.plan_tiers SET monthly_price = 0') AS change_price
  FROM (VALUES (1, 'anon'), (2, 'authenticated'), (3, 'service_role')) AS r (ord, api_role)
 ORDER BY r.ord;

--
-- Adding a feature is an INSERT: the same session sees a new feature, its grants and a new tier
-- at once (its caches were warm from the queries above), and subscriptions are resynced.
--
CREATE FUNCTION pg_temp.answer(tier text, feature text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  o uuid := pg_temp.org_of(tier);
  c jsonb := switchboard.check_feature(o, feature);
BEGIN
  RETURN format('%s %s limit=%s upgrade=%s has=%s matrix=%s effective=%s',
                c ->> 'hasAccess', c ->> 'reason', coalesce(c ->> 'limit', '-'),
                coalesce(c ->> 'upgradeTier', '-'),
                switchboard.has_feature(o, answer.feature),
                coalesce(switchboard.feature_matrix(o) ->> answer.feature, 'absent'),
                answer.feature = ANY (switchboard.feature_keys((pg_temp.sub_of(tier)).effective_features)));
END
$$;
SELECT s.tier, pg_temp.answer(s.tier, 'call_summaries') AS before_insert
  FROM seed_tier s WHERE s.seed_rank IN (1, 3, 7) ORDER BY s.seed_rank;

-- A new boolean feature without grants: known, but no tier grants it (no upgrade to suggest).
INSERT INTO switchboard.features (key, name, category, kind)
VALUES ('call_summaries', 'Call summaries', 'ai', 'boolean');
SELECT s.tier, pg_temp.answer(s.tier, 'call_summaries') AS feature_only
  FROM seed_tier s WHERE s.seed_rank IN (1, 3, 7) ORDER BY s.seed_rank;

-- Granted from tier 3 up (one INSERT): tiers 3+ have it, lower tiers are told to upgrade to tier 3.
INSERT INTO switchboard.plan_tier_features (tier, feature)
SELECT t.key, 'call_summaries' FROM switchboard.plan_tiers t WHERE t.rank >= 3;
SELECT s.tier, pg_temp.answer(s.tier, 'call_summaries') AS granted_from_tier_3
  FROM seed_tier s ORDER BY s.seed_rank;

-- A new metered feature with a daily hard limit on tier 1 only; then its limit is raised (UPDATE)
-- and the grant withdrawn (DELETE): every step is seen by the next check and by the subscriptions.
INSERT INTO switchboard.features (key, name, category, kind, unit)
VALUES ('sms_segments', 'SMS segments', 'usage', 'metered', 'segment');
INSERT INTO switchboard.plan_tier_features (tier, feature, usage_limit, period, mode)
VALUES ('broadcast_starter', 'sms_segments', 100, 'day', 'hard');
SELECT s.tier, pg_temp.answer(s.tier, 'sms_segments') AS metered_granted,
       (pg_temp.sub_of(s.tier)).effective_limits -> 'sms_segments' AS effective_limit
  FROM seed_tier s WHERE s.seed_rank IN (1, 2) ORDER BY s.seed_rank;
UPDATE switchboard.plan_tier_features SET usage_limit = 250
 WHERE tier = 'broadcast_starter' AND feature = 'sms_segments';
SELECT pg_temp.answer('broadcast_starter', 'sms_segments') AS limit_raised,
       (pg_temp.sub_of('broadcast_starter')).effective_limits -> 'sms_segments' AS effective_limit;
DELETE FROM switchboard.plan_tier_features WHERE tier = 'broadcast_starter' AND feature = 'sms_segments';
SELECT pg_temp.answer('broadcast_starter', 'sms_segments') AS grant_withdrawn,
       (pg_temp.sub_of('broadcast_starter')).effective_limits ? 'sms_segments' AS still_in_effective_limits;

-- A tier's overage rate is data too: the next check reports the new rate.
SELECT switchboard.check_feature(pg_temp.org_of('broadcast_starter'), 'calls') ->> 'overageRate'
         AS overage_rate_before;
UPDATE switchboard.plan_tiers SET overage_rate = 0.05 WHERE key = 'broadcast_starter';
SELECT switchboard.check_feature(pg_temp.org_of('broadcast_starter'), 'calls') ->> 'overageRate'
         AS overage_rate_after;
UPDATE switchboard.plan_tiers SET overage_rate = 0.02 WHERE key = 'broadcast_starter';
SELECT switchboard.check_feature(pg_temp.org_of('broadcast_starter'), 'calls') ->> 'overageRate'
         AS overage_rate_restored;

-- A new tier is an INSERT too: subscribe to it, rename its key (subscriptions follow the rename),
-- then move the organisation back.
INSERT INTO switchboard.plan_tiers (key, rank, name, monthly_price, annual_price, overage_rate)
VALUES ('regress_tier', 50, 'Regress Tier', 9, 90, 0.5);
INSERT INTO switchboard.plan_tier_features (tier, feature, usage_limit, period, mode)
VALUES ('regress_tier', 'call_summaries', NULL, NULL, 'hard'),
       ('regress_tier', 'calls', 10, 'month', 'hard');
SELECT switchboard.set_subscription(pg_temp.org_of('broadcast_starter'), 'regress_tier') IS NOT NULL
         AS subscribed;
SELECT pg_temp.answer('broadcast_starter', 'call_summaries') AS new_tier_boolean,
       pg_temp.answer('broadcast_starter', 'calls') AS new_tier_calls,
       pg_temp.answer('broadcast_starter', 'voice_broadcast') AS new_tier_lacks;
UPDATE switchboard.plan_tiers SET key = 'regress_tier_renamed' WHERE key = 'regress_tier';
SELECT s.tier, switchboard.check_feature(s.org_id, 'calls') ->> 'plan' AS plan_after_rename,
       switchboard.has_feature(s.org_id, 'call_summaries') AS still_granted
  FROM pg_temp.sub_of('broadcast_starter') AS s;
SELECT switchboard.set_subscription(pg_temp.org_of('broadcast_starter'), 'broadcast_starter') IS NOT NULL
         AS moved_back;
DELETE FROM switchboard.plan_tiers WHERE key LIKE 'regress_tier%';

-- A catalog change that is rolled back is forgotten by the session that saw it.
BEGIN;
INSERT INTO switchboard.features (key, name, category, kind) VALUES ('rolled_back', 'x', 'x', 'boolean');
INSERT INTO switchboard.plan_tier_features (tier, feature) VALUES ('broadcast_starter', 'rolled_back');
SELECT pg_temp.answer('broadcast_starter', 'rolled_back') AS inside_transaction;
ROLLBACK;
SELECT pg_temp.answer('broadcast_starter', 'rolled_back') AS after_rollback;

-- Removing the test features (grants cascade) resyncs the subscriptions back to the seed sets.
DELETE FROM switchboard.features WHERE key IN ('call_summaries', 'sms_segments');
SELECT count(*) FILTER (WHERE NOT (switchboard.feature_keys(sub.effective_features)
                                     @> (SELECT array_agg(e.feature) FROM expected_grant e WHERE e.tier = s.tier)
                                   AND switchboard.feature_keys(sub.effective_features)
                                     <@ (SELECT array_agg(e.feature) FROM expected_grant e WHERE e.tier = s.tier)))
         AS subscriptions_off_the_seed_set,
       (SELECT count(*) FROM switchboard.features) AS catalog_features,
       (SELECT count(*) FROM switchboard.plan_tier_features) AS catalog_grants
  FROM seed_tier s CROSS JOIN LATERAL pg_temp.sub_of(s.tier) AS sub;

-- Clean up.
DELETE FROM switchboard.organizations WHERE slug LIKE 'ent-cat-%';
DELETE FROM switchboard.entitlement_audit WHERE org_id::text LIKE 'e1000000-%';

-- A feature's bit is never reused: a new feature gets a bit no feature ever had.
INSERT INTO switchboard.features (key, name, category, kind) VALUES ('bit_probe', 'Bit probe', 'test', 'boolean');
SELECT f.bit > 43 AS fresh_bit, f.bit = (SELECT max(bit) FROM switchboard.features) AS highest
  FROM switchboard.features f WHERE f.key = 'bit_probe';
DELETE FROM switchboard.features WHERE key = 'bit_probe';
