-- Administering entitlements: subscriptions (owner or service role), overrides (admin and
-- above), kill switches (service role only); every change is audited in the same transaction.

-- Ensures: one audit row per changed subscription or override (who, role, when, before, after;
-- a rewrite that only refreshes the computed grants is no change). A C++ statement trigger reads
-- the transition tables and writes each batch of audit rows with one insert.
CREATE FUNCTION switchboard.audit_changes() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'sb_audit_changes';

DO $audit$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['subscriptions', 'feature_overrides'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON switchboard.%I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION switchboard.audit_changes(%L)',
                   t || '_audit_insert', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON switchboard.%I REFERENCING OLD TABLE AS old_rows '
                   'NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION switchboard.audit_changes(%L)',
                   t || '_audit_update', t, t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON switchboard.%I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION switchboard.audit_changes(%L)',
                   t || '_audit_delete', t, t);
  END LOOP;
END
$audit$;

-- Ensures: an audit row per kill switch change.
CREATE FUNCTION switchboard.audit_kill_switch() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  INSERT INTO switchboard.kill_switch_audit (feature, action, actor_user, actor_role, before, after)
  VALUES (coalesce(NEW.feature, OLD.feature), lower(TG_OP), switchboard.current_user_id(),
          coalesce(nullif(current_setting('role'), 'none'), session_user::text),
          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
  RETURN NULL;
END
$$;
CREATE TRIGGER global_feature_flags_audit AFTER INSERT OR UPDATE OR DELETE
  ON switchboard.global_feature_flags FOR EACH ROW EXECUTE FUNCTION switchboard.audit_kill_switch();

-- Ensures: a known feature key (22023 otherwise).
CREATE FUNCTION switchboard.require_feature(feature text) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(feature, 'feature');
  IF NOT EXISTS (SELECT 1 FROM switchboard.features f WHERE f.key = feature) THEN
    RAISE EXCEPTION 'unknown feature' USING ERRCODE = '22023', DETAIL = format('feature: %s', feature),
      HINT = 'see switchboard.features for the catalog';
  END IF;
END
$$;

-- Ensures: the organisation's subscription is on `tier` with `status` (created or changed);
-- returns its id. Options: billingCycle, trialEndsAt, currentPeriodStart, currentPeriodEnd, addons.
CREATE FUNCTION switchboard.set_subscription(org_id uuid, tier text, status text DEFAULT 'active',
                                             options jsonb DEFAULT '{}') RETURNS uuid
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_old switchboard.subscriptions;
  v_unknown text;
  v_cycle text;
  v_start timestamptz;
  v_end timestamptz;
  v_trial timestamptz;
  v_id uuid;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'owner');
  PERFORM switchboard.require_arg(tier, 'tier');
  PERFORM switchboard.require_arg(status, 'status');
  IF NOT EXISTS (SELECT 1 FROM switchboard.plan_tiers t WHERE t.key = tier) THEN
    RAISE EXCEPTION 'unknown plan tier' USING ERRCODE = '22023', DETAIL = format('tier: %s', tier),
      HINT = (SELECT 'known tiers: ' || string_agg(t.key, ', ' ORDER BY t.rank) FROM switchboard.plan_tiers t);
  END IF;
  IF status NOT IN ('active', 'trialing', 'cancelled', 'suspended', 'past_due') THEN
    RAISE EXCEPTION 'unknown subscription status' USING ERRCODE = '22023',
      DETAIL = format('status: %s', status), HINT = 'active, trialing, cancelled, suspended or past_due';
  END IF;
  options := coalesce(options, '{}');
  IF jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'options must be a json object' USING ERRCODE = '22023';
  END IF;
  SELECT k INTO v_unknown FROM jsonb_object_keys(options) k
   WHERE k NOT IN ('billingCycle', 'trialEndsAt', 'currentPeriodStart', 'currentPeriodEnd', 'addons')
   LIMIT 1;
  IF v_unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown subscription option' USING ERRCODE = '22023',
      DETAIL = format('option: %s', v_unknown),
      HINT = 'billingCycle, trialEndsAt, currentPeriodStart, currentPeriodEnd, addons';
  END IF;
  SELECT * INTO v_old FROM switchboard.subscriptions s WHERE s.org_id = set_subscription.org_id FOR UPDATE;
  v_cycle := coalesce(options ->> 'billingCycle', v_old.billing_cycle, 'monthly');
  IF v_cycle NOT IN ('monthly', 'annual') THEN
    RAISE EXCEPTION 'unknown billing cycle' USING ERRCODE = '22023',
      DETAIL = format('billingCycle: %s', v_cycle), HINT = 'monthly or annual';
  END IF;
  v_trial := coalesce((options ->> 'trialEndsAt')::timestamptz, v_old.trial_ends_at);
  IF status = 'trialing' AND v_trial IS NULL THEN
    RAISE EXCEPTION 'a trialing subscription needs trialEndsAt' USING ERRCODE = '22023';
  END IF;
  v_start := coalesce((options ->> 'currentPeriodStart')::timestamptz, v_old.current_period_start, now());
  v_end := coalesce((options ->> 'currentPeriodEnd')::timestamptz,
                    CASE WHEN options ? 'currentPeriodStart' OR v_old IS NULL THEN NULL
                         ELSE v_old.current_period_end END,
                    v_start + CASE v_cycle WHEN 'annual' THEN interval '1 year' ELSE interval '1 month' END);
  IF v_end <= v_start THEN
    RAISE EXCEPTION 'the billing period must end after it starts' USING ERRCODE = '22023',
      DETAIL = format('currentPeriodStart: %s, currentPeriodEnd: %s', v_start, v_end);
  END IF;
  INSERT INTO switchboard.subscriptions AS s
         (org_id, tier, status, billing_cycle, trial_ends_at, current_period_start,
          current_period_end, cancelled_at, addons)
  VALUES (org_id, tier, status, v_cycle, v_trial, v_start, v_end,
          CASE WHEN status = 'cancelled' THEN now() END,
          coalesce(options -> 'addons', '{}'))
  ON CONFLICT ON CONSTRAINT subscriptions_one_per_org DO UPDATE
     SET tier = excluded.tier, status = excluded.status, billing_cycle = excluded.billing_cycle,
         trial_ends_at = excluded.trial_ends_at, current_period_start = excluded.current_period_start,
         current_period_end = excluded.current_period_end,
         cancelled_at = CASE WHEN excluded.status = 'cancelled'
                             THEN coalesce(s.cancelled_at, now()) END,
         addons = CASE WHEN options ? 'addons' THEN excluded.addons ELSE s.addons END
  RETURNING s.id INTO v_id;
  RETURN v_id;
END
$$;

-- Ensures: one feature is switched on or off (optionally with its own limit) for one
-- organisation, until `expires_at` if given.
CREATE FUNCTION switchboard.set_feature_override(
  org_id uuid, feature text, enabled boolean, usage_limit bigint DEFAULT NULL,
  limit_mode text DEFAULT NULL, expires_at timestamptz DEFAULT NULL, reason text DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_feature(feature);
  PERFORM switchboard.require_arg(enabled, 'enabled');
  IF usage_limit < 0 THEN
    RAISE EXCEPTION 'usage_limit must not be negative' USING ERRCODE = '22023',
      DETAIL = format('usage_limit: %s', usage_limit);
  END IF;
  IF (usage_limit IS NOT NULL OR limit_mode IS NOT NULL)
     AND (SELECT f.kind FROM switchboard.features f WHERE f.key = feature) <> 'metered' THEN
    RAISE EXCEPTION 'a usage limit needs a metered feature' USING ERRCODE = '22023',
      DETAIL = format('feature: %s', feature), HINT = 'leave usage_limit and limit_mode NULL';
  END IF;
  IF limit_mode NOT IN ('hard', 'soft') THEN
    RAISE EXCEPTION 'unknown limit mode' USING ERRCODE = '22023',
      DETAIL = format('limit_mode: %s', limit_mode), HINT = 'hard or soft';
  END IF;
  IF expires_at <= now() THEN
    RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023',
      DETAIL = format('expires_at: %s', expires_at);
  END IF;
  INSERT INTO switchboard.feature_overrides AS o
         (org_id, feature, enabled, usage_limit, limit_mode, expires_at, reason, set_by)
  VALUES (org_id, feature, enabled, usage_limit, limit_mode, expires_at, reason,
          switchboard.current_user_id())
  ON CONFLICT ON CONSTRAINT feature_overrides_one_per_feature DO UPDATE
     SET enabled = excluded.enabled, usage_limit = excluded.usage_limit,
         limit_mode = excluded.limit_mode, expires_at = excluded.expires_at,
         reason = excluded.reason, set_by = excluded.set_by;
  RETURN jsonb_build_object('reason', 'SET', 'feature', feature, 'enabled', enabled,
                            'usageLimit', usage_limit, 'limitMode', limit_mode,
                            'expiresAt', expires_at);
END
$$;

-- Ensures: the organisation has no override for the feature (idempotent).
CREATE FUNCTION switchboard.clear_feature_override(org_id uuid, feature text) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_found boolean;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_feature(feature);
  DELETE FROM switchboard.feature_overrides o
   WHERE o.org_id = clear_feature_override.org_id AND o.feature = clear_feature_override.feature;
  v_found := FOUND;
  RETURN jsonb_build_object('reason', CASE WHEN v_found THEN 'CLEARED' ELSE 'NOT_SET' END,
                            'feature', feature);
END
$$;

-- Ensures: the feature is switched off (enabled = false) or back on for every organisation.
CREATE FUNCTION switchboard.set_kill_switch(feature text, enabled boolean, reason text) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT switchboard.is_service_role() THEN
    RAISE EXCEPTION 'only the service role can set kill switches' USING ERRCODE = '42501';
  END IF;
  PERFORM switchboard.require_feature(feature);
  PERFORM switchboard.require_arg(enabled, 'enabled');
  IF nullif(btrim(reason), '') IS NULL THEN
    RAISE EXCEPTION 'a kill switch needs a reason' USING ERRCODE = '22023';
  END IF;
  INSERT INTO switchboard.global_feature_flags AS g (feature, enabled, reason, set_by)
  VALUES (feature, enabled, reason, switchboard.current_user_id())
  ON CONFLICT ON CONSTRAINT global_feature_flags_pkey DO UPDATE
     SET enabled = excluded.enabled, reason = excluded.reason, set_by = excluded.set_by,
         updated_at = now();
  RETURN jsonb_build_object('reason', CASE WHEN enabled THEN 'ENABLED' ELSE 'KILLED' END,
                            'feature', feature, 'enabled', enabled);
END
$$;

GRANT SELECT ON switchboard.features, switchboard.plan_tiers, switchboard.plan_tier_features,
  switchboard.global_feature_flags TO anon, authenticated, service_role;
GRANT SELECT ON switchboard.subscriptions, switchboard.feature_overrides, switchboard.feature_usage,
  switchboard.feature_reservations, switchboard.entitlement_audit TO authenticated;
GRANT ALL ON switchboard.features, switchboard.plan_tiers, switchboard.plan_tier_features,
  switchboard.global_feature_flags, switchboard.subscriptions, switchboard.feature_overrides,
  switchboard.feature_usage, switchboard.feature_reservations, switchboard.usage_events,
  switchboard.entitlement_audit, switchboard.kill_switch_audit TO service_role;
GRANT USAGE ON SEQUENCE switchboard.features_bit_seq TO service_role;

GRANT EXECUTE ON FUNCTION
  switchboard.has_feature(uuid, text), switchboard.is_feature_enabled(uuid, text),
  switchboard.check_feature(uuid, text, integer), switchboard.feature_matrix(uuid),
  switchboard.consume_feature(uuid, text, integer, text),
  switchboard.increment_feature_usage(uuid, text, integer),
  switchboard.reserve_feature(uuid, text, integer, interval),
  switchboard.settle_reservation(uuid, uuid, bigint), switchboard.release_reservation(uuid, uuid),
  switchboard.set_subscription(uuid, text, text, jsonb),
  switchboard.set_feature_override(uuid, text, boolean, bigint, text, timestamptz, text),
  switchboard.clear_feature_override(uuid, text), switchboard.feature_keys(bytea)
  TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION switchboard.set_kill_switch(text, boolean, text),
  switchboard.purge_usage_events(interval) TO service_role;
-- Trigger functions run with the privileges of the table's writer.
GRANT EXECUTE ON FUNCTION switchboard.sync_subscription(), switchboard.resync_subscriptions(),
  switchboard.organization_changed(),
  switchboard.resync_all_subscriptions(), switchboard.audit_changes(),
  switchboard.audit_kill_switch() TO authenticated, service_role;
