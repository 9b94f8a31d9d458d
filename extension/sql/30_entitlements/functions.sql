-- Entitlements: the subscription sync, cache invalidation, checks and usage, administration
-- (billing writes plans; tenants only narrow) and the audit.
CREATE TRIGGER features_touch BEFORE UPDATE ON switchboard.features
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER plan_tiers_touch BEFORE UPDATE ON switchboard.plan_tiers
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER subscriptions_touch BEFORE UPDATE ON switchboard.subscriptions
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER feature_overrides_touch BEFORE UPDATE ON switchboard.feature_overrides
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();

SELECT switchboard.protect('switchboard.subscriptions', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.feature_overrides', 'org_id', 'viewer', 'admin', 'admin', 'admin');
SELECT switchboard.protect('switchboard.feature_usage', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.feature_reservations', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.usage_events', 'org_id', 'viewer', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.entitlement_audit', 'org_id', 'admin', 'owner', 'owner', 'owner');
SELECT switchboard.protect('switchboard.plan_change_requests', 'org_id', 'admin', 'owner', 'owner', 'owner');
-- Entitlement functions. Reads (has_feature, check_feature, feature_matrix) need membership (any
-- role); counting (consume, reserve, settle, release) needs agent or above; the service role may
-- do both for any organisation. A member of one organisation can never ask about another (42501).

-- The sync trigger (C++): effective_features/effective_limits follow tier and add-ons.

-- The feature keys of an effective_features bitmap, sorted.
CREATE FUNCTION switchboard.feature_keys(bits bytea) RETURNS text[]
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(array_agg(f.key ORDER BY f.key), '{}')
    FROM switchboard.features f
   WHERE f.bit < 8 * length(bits) AND get_bit(bits, f.bit) = 1
$$;
CREATE FUNCTION switchboard.sync_subscription() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'sb_sync_subscription';
CREATE TRIGGER subscriptions_sync BEFORE INSERT OR UPDATE ON switchboard.subscriptions
  FOR EACH ROW EXECUTE FUNCTION switchboard.sync_subscription();

-- An organisation's cached state is reloaded by every backend once a change to it commits.
CREATE FUNCTION switchboard.organization_changed() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'sb_organization_changed';
CREATE TRIGGER subscriptions_deleted AFTER DELETE ON switchboard.subscriptions
  FOR EACH ROW EXECUTE FUNCTION switchboard.organization_changed('org_id');
CREATE TRIGGER feature_overrides_org_changed AFTER INSERT OR UPDATE OR DELETE ON switchboard.feature_overrides
  FOR EACH ROW EXECUTE FUNCTION switchboard.organization_changed('org_id');
CREATE TRIGGER organizations_org_changed AFTER UPDATE OR DELETE ON switchboard.organizations
  FOR EACH ROW EXECUTE FUNCTION switchboard.organization_changed('id');

-- Backend caches follow every table they are built from.
CREATE TRIGGER features_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.features
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();
CREATE TRIGGER plan_tiers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.plan_tiers
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();
CREATE TRIGGER plan_tier_features_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.plan_tier_features
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();
CREATE TRIGGER subscriptions_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.subscriptions
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches('per_org');
CREATE TRIGGER feature_overrides_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.feature_overrides
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches('per_org');
CREATE TRIGGER global_feature_flags_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.global_feature_flags
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();

-- Ensures: the subscriptions on `tiers` (NULL: every tier) carry their tier's effective grants again,
-- those of the whole table, or, when `relid` (the table whose trigger asks) is a placement of a
-- Citus reference table, those in the shards of this node: a query there cannot reach other nodes,
-- and every node holds a placement, so each node resyncs its own shards.
CREATE FUNCTION switchboard._resync_subscriptions(relid oid, tiers text[]) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  shard regclass;
BEGIN
  IF NOT switchboard._is_shard(relid) THEN
    UPDATE switchboard.subscriptions s SET tier = s.tier
     WHERE tiers IS NULL OR s.tier OPERATOR(pg_catalog.=) ANY (tiers);
    RETURN;
  END IF;
  FOREACH shard IN ARRAY switchboard._local_shards('switchboard.subscriptions')::pg_catalog.regclass[] LOOP
    EXECUTE pg_catalog.format('UPDATE %s s SET tier = s.tier
                                WHERE $1 IS NULL OR s.tier OPERATOR(pg_catalog.=) ANY ($1)', shard)
      USING tiers;
  END LOOP;
END
$$;
-- Ensures: subscriptions on tiers whose grants changed carry the new effective grants (the tiers
-- are read here: on Citus a distributed UPDATE cannot read this node's transition table).
CREATE FUNCTION switchboard.resync_subscriptions() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._resync_subscriptions(TG_RELID,
    (SELECT pg_catalog.array_agg(DISTINCT c.tier) FROM changed_grants c));
  RETURN NULL;
END
$$;
CREATE FUNCTION switchboard.resync_all_subscriptions() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard._resync_subscriptions(TG_RELID, NULL);
  RETURN NULL;
END
$$;
CREATE TRIGGER plan_tier_features_resync_insert AFTER INSERT ON switchboard.plan_tier_features
  REFERENCING NEW TABLE AS changed_grants
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.resync_subscriptions();
CREATE TRIGGER plan_tier_features_resync_update AFTER UPDATE ON switchboard.plan_tier_features
  REFERENCING NEW TABLE AS changed_grants
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.resync_all_subscriptions();
CREATE TRIGGER plan_tier_features_resync_delete AFTER DELETE ON switchboard.plan_tier_features
  REFERENCING OLD TABLE AS changed_grants
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.resync_subscriptions();
CREATE TRIGGER features_resync AFTER UPDATE OF kind, bit ON switchboard.features
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.resync_all_subscriptions();

CREATE FUNCTION switchboard.has_feature(org_id uuid, feature text) RETURNS boolean
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_has_feature';
COMMENT ON FUNCTION switchboard.has_feature(uuid, text) IS
  'whether the organisation may use one more unit of the feature now (kill switch > override > plan)';

CREATE FUNCTION switchboard.is_feature_enabled(org_id uuid, feature text) RETURNS boolean
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_has_feature';
COMMENT ON FUNCTION switchboard.is_feature_enabled(uuid, text) IS 'seed-compatible has_feature';

CREATE FUNCTION switchboard.check_feature(org_id uuid, feature text, quantity integer DEFAULT 1)
  RETURNS jsonb
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_check_feature';
COMMENT ON FUNCTION switchboard.check_feature(uuid, text, integer) IS
  'hasAccess, reason, feature, plan, limit, used, remaining, resetsAt, overageRate, upgradeRequired, upgradeTier, callsRemaining';

CREATE FUNCTION switchboard.feature_matrix(org_id uuid) RETURNS jsonb
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_feature_matrix';

CREATE FUNCTION switchboard.consume_feature(org_id uuid, feature text, quantity integer DEFAULT 1,
                                            idempotency_key text DEFAULT NULL) RETURNS jsonb
  LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'sb_consume_feature';
COMMENT ON FUNCTION switchboard.consume_feature(uuid, text, integer, text) IS
  'counts units atomically; a hard limit is never exceeded; a repeated idempotency key returns the first answer';

CREATE FUNCTION switchboard.increment_feature_usage(org_id uuid, feature text, quantity integer DEFAULT 1)
  RETURNS boolean
  LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'sb_increment_feature_usage';

CREATE FUNCTION switchboard.reserve_feature(org_id uuid, feature text, quantity integer,
                                            ttl interval DEFAULT '15 minutes') RETURNS jsonb
  LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'sb_reserve_feature';

CREATE FUNCTION switchboard.settle_reservation(org_id uuid, reservation_id uuid, actual_quantity bigint)
  RETURNS jsonb
  LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'sb_settle_reservation';

CREATE FUNCTION switchboard.release_reservation(org_id uuid, reservation_id uuid) RETURNS jsonb
  LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'sb_release_reservation';

-- Ensures: idempotency answers older than `older_than` (at least 48 hours) are gone; returns how
-- many were removed. Run it from a scheduler (pg_cron or the like).
CREATE FUNCTION switchboard.purge_usage_events(older_than interval DEFAULT '72 hours') RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_count bigint;
BEGIN
  IF older_than IS NULL OR older_than < interval '48 hours' THEN
    RAISE EXCEPTION 'idempotency keys are kept at least 48 hours'
      USING ERRCODE = '22023', DETAIL = format('The older_than given was %s.', coalesce(older_than::text, 'NULL'));
  END IF;
  DELETE FROM switchboard.usage_events e WHERE e.created_at < now() - older_than;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END
$$;
-- Administering entitlements. Billing facts come from billing: subscriptions, kill switches and
-- every override that grants a feature or raises a limit are written by the service role (the
-- platform's billing backend) only. Tenant admins may only narrow their plan (disable a feature,
-- cap a limit below the plan's); owners ask for a plan change with request_plan_change, which the
-- billing backend applies (set_subscription) or rejects. Every change is audited in the same
-- transaction.

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
    RAISE EXCEPTION 'unknown feature' USING ERRCODE = '22023', DETAIL = format('Feature "%s" is not in the feature catalog.', feature),
      HINT = 'See switchboard.features for the catalog.';
  END IF;
END
$$;

-- Ensures: a known plan tier (22023 otherwise: a value of the request, like an unknown enum label).
CREATE FUNCTION switchboard.require_tier(tier text) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(tier, 'tier');
  IF NOT EXISTS (SELECT 1 FROM switchboard.plan_tiers t WHERE t.key = tier) THEN
    RAISE EXCEPTION 'unknown plan tier' USING ERRCODE = '22023', DETAIL = format('Plan tier "%s" is not in the plan catalog.', tier),
      HINT = (SELECT 'The known tiers are ' || string_agg(t.key, ', ' ORDER BY t.rank) || '.'
                FROM switchboard.plan_tiers t);
  END IF;
END
$$;

-- Ensures: the caller (the current role, not a SECURITY DEFINER owner) is the service role, the
-- platform's billing backend (42501 naming `action` otherwise).
CREATE FUNCTION switchboard.require_service_role(action text, hint text DEFAULT NULL) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT switchboard.is_service_role() THEN
    RAISE EXCEPTION 'only the service role can %', action USING ERRCODE = '42501',
      DETAIL = format('The current role is %s.', coalesce(nullif(current_setting('role'), 'none'), session_user::text)),
      HINT = coalesce(hint, 'The service role is the platform''s billing backend.');
  END IF;
END
$$;

-- Ensures: this transaction holds the organisation's plan lock (its row, FOR NO KEY UPDATE), so
-- plan change requests and subscription changes of one organisation take turns.
CREATE FUNCTION switchboard.lock_plan(org uuid) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM 1 FROM switchboard.organizations o WHERE o.id = org FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    PERFORM switchboard.require_organization(org);  -- raises the one "organization not found"
  END IF;
END
$$;

-- Ensures: the organisation's subscription is on `tier` with `status` (created or changed), and
-- a pending plan change request for that tier is marked applied when the subscription is active
-- or trialing; returns its id. Service role only (the billing backend). Options: billingCycle,
-- trialEndsAt, currentPeriodStart, currentPeriodEnd, addons.
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
  PERFORM switchboard.require_service_role('set subscriptions',
    'An owner asks for a plan change with request_plan_change(org_id, tier); the billing backend applies it.');
  PERFORM switchboard.require_organization(org_id);
  PERFORM switchboard.require_tier(tier);
  PERFORM switchboard.require_arg(status, 'status');
  IF status NOT IN ('active', 'trialing', 'cancelled', 'suspended', 'past_due') THEN
    RAISE EXCEPTION 'unknown subscription status' USING ERRCODE = '22023',
      DETAIL = format('The status given was "%s".', status),
      HINT = 'Use active, trialing, cancelled, suspended or past_due.';
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
      DETAIL = format('Option "%s" is not a subscription option.', v_unknown),
      HINT = 'The options are billingCycle, trialEndsAt, currentPeriodStart, currentPeriodEnd and addons.';
  END IF;
  PERFORM switchboard.lock_plan(org_id);
  SELECT * INTO v_old FROM switchboard.subscriptions s WHERE s.org_id = set_subscription.org_id FOR UPDATE;
  v_cycle := coalesce(options ->> 'billingCycle', v_old.billing_cycle, 'monthly');
  IF v_cycle NOT IN ('monthly', 'annual') THEN
    RAISE EXCEPTION 'unknown billing cycle' USING ERRCODE = '22023',
      DETAIL = format('The billingCycle given was "%s".', v_cycle), HINT = 'Use monthly or annual.';
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
      DETAIL = format('The period given starts at %s and ends at %s.', v_start, v_end);
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
                             THEN coalesce(s.cancelled_at, excluded.cancelled_at) END,
         addons = CASE WHEN options ? 'addons' THEN excluded.addons ELSE s.addons END
  RETURNING s.id INTO v_id;
  UPDATE switchboard.plan_change_requests r SET status = 'applied', decided_at = now()
   WHERE r.org_id = set_subscription.org_id AND r.status = 'pending' AND r.tier = set_subscription.tier
     AND set_subscription.status IN ('active', 'trialing');
  RETURN v_id;
END
$$;

-- Ensures: 42501 for a tenant touching an override the billing backend set.
CREATE FUNCTION switchboard.refuse_billing_override(feature text) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  RAISE EXCEPTION 'this override was set by the billing backend' USING ERRCODE = '42501',
    DETAIL = format('The billing backend set the override of feature "%s".', feature),
    HINT = 'Only the service role can change or remove it.';
END
$$;

-- Internal: ensures a tenant's override only narrows what the organisation has without
-- overrides now (its plan and add-ons): it disables the feature, or caps a metered feature the
-- plan grants at no more than the plan's limit, hard (42501 naming what would widen otherwise).
CREATE FUNCTION switchboard._assert_narrowing_override(org_id uuid, feature text, enabled boolean,
                                                        usage_limit bigint, limit_mode text) RETURNS void
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'sb_assert_narrowing_override';

-- Ensures: one feature is switched on or off (optionally with its own limit) for one
-- organisation, until `expires_at` if given. The service role (billing) may grant or deny
-- anything; an admin or owner of the organisation may only narrow (disable the feature, or cap a
-- metered feature below the plan's limit) and never changes an override billing set.
CREATE FUNCTION switchboard.set_feature_override(
  org_id uuid, feature text, enabled boolean, usage_limit bigint DEFAULT NULL,
  limit_mode text DEFAULT NULL, expires_at timestamptz DEFAULT NULL, reason text DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_source text := CASE WHEN switchboard.is_service_role() THEN 'billing' ELSE 'tenant' END;
  v_id uuid;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_feature(feature);
  PERFORM switchboard.require_arg(enabled, 'enabled');
  IF usage_limit < 0 THEN
    RAISE EXCEPTION 'usage_limit must not be negative' USING ERRCODE = '22023',
      DETAIL = format('The usage_limit given was %s.', usage_limit);
  END IF;
  IF (usage_limit IS NOT NULL OR limit_mode IS NOT NULL)
     AND (SELECT f.kind FROM switchboard.features f WHERE f.key = feature) <> 'metered' THEN
    RAISE EXCEPTION 'a usage limit needs a metered feature' USING ERRCODE = '22023',
      DETAIL = format('Feature "%s" is not metered.', feature), HINT = 'Leave usage_limit and limit_mode NULL.';
  END IF;
  IF limit_mode NOT IN ('hard', 'soft') THEN
    RAISE EXCEPTION 'unknown limit mode' USING ERRCODE = '22023',
      DETAIL = format('The limit_mode given was "%s".', limit_mode), HINT = 'Use hard or soft.';
  END IF;
  IF expires_at <= now() THEN
    RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023',
      DETAIL = format('The expires_at given was %s.', expires_at);
  END IF;
  IF v_source = 'tenant' THEN
    PERFORM switchboard._assert_narrowing_override(org_id, feature, enabled, usage_limit, limit_mode);
  END IF;
  INSERT INTO switchboard.feature_overrides AS o
         (org_id, feature, enabled, usage_limit, limit_mode, expires_at, reason, set_by, source)
  VALUES (org_id, feature, enabled, usage_limit, limit_mode, expires_at, reason,
          switchboard.current_user_id(), v_source)
  ON CONFLICT ON CONSTRAINT feature_overrides_one_per_feature DO UPDATE
     SET enabled = excluded.enabled, usage_limit = excluded.usage_limit,
         limit_mode = excluded.limit_mode, expires_at = excluded.expires_at,
         reason = excluded.reason, set_by = excluded.set_by, source = excluded.source
   WHERE excluded.source = 'billing' OR o.source = 'tenant'
  RETURNING o.id INTO v_id;
  IF v_id IS NULL THEN
    PERFORM switchboard.refuse_billing_override(feature);
  END IF;
  RETURN jsonb_build_object('reason', 'SET', 'feature', feature, 'enabled', enabled,
                            'usageLimit', usage_limit, 'limitMode', limit_mode,
                            'expiresAt', switchboard.answer_time(expires_at), 'source', v_source);
END
$$;

-- Ensures: the organisation has no override for the feature (idempotent). An admin or owner
-- removes the organisation's own (narrowing) overrides only; the service role removes any.
CREATE FUNCTION switchboard.clear_feature_override(org_id uuid, feature text) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_billing boolean := switchboard.is_service_role();
  v_source text;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_feature(feature);
  DELETE FROM switchboard.feature_overrides o
   WHERE o.org_id = clear_feature_override.org_id AND o.feature = clear_feature_override.feature
     AND (v_billing OR o.source = 'tenant')
  RETURNING o.source INTO v_source;
  IF v_source IS NULL AND EXISTS (SELECT 1 FROM switchboard.feature_overrides o
                                   WHERE o.org_id = clear_feature_override.org_id
                                     AND o.feature = clear_feature_override.feature) THEN
    PERFORM switchboard.refuse_billing_override(feature);
  END IF;
  RETURN jsonb_build_object('reason', CASE WHEN v_source IS NOT NULL THEN 'CLEARED' ELSE 'NOT_SET' END,
                            'feature', feature);
END
$$;

-- Ensures: the feature is switched off (enabled = false) or back on for every organisation.
CREATE FUNCTION switchboard.set_kill_switch(feature text, enabled boolean, reason text) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_service_role('set kill switches');
  PERFORM switchboard.require_feature(feature);
  PERFORM switchboard.require_arg(enabled, 'enabled');
  IF nullif(btrim(reason), '') IS NULL THEN
    RAISE EXCEPTION 'a kill switch needs a reason' USING ERRCODE = '22023';
  END IF;
  INSERT INTO switchboard.global_feature_flags AS g (feature, enabled, reason, set_by)
  VALUES (feature, enabled, reason, switchboard.current_user_id())
  ON CONFLICT ON CONSTRAINT global_feature_flags_pkey DO UPDATE
     SET enabled = excluded.enabled, reason = excluded.reason, set_by = excluded.set_by,
         updated_at = excluded.updated_at;
  RETURN jsonb_build_object('reason', CASE WHEN enabled THEN 'ENABLED' ELSE 'KILLED' END,
                            'feature', feature, 'enabled', enabled);
END
$$;

-- The answer about one plan change request: its id, status and the given reason code.
CREATE FUNCTION switchboard.plan_change_answer(r switchboard.plan_change_requests, reason text)
  RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT jsonb_build_object('requestId', r.id, 'status', r.status, 'reason', reason, 'tier', r.tier,
                            'currentTier', r.current_tier,
                            'requestedAt', switchboard.answer_time(r.requested_at),
                            'decidedAt', switchboard.answer_time(r.decided_at),
                            'decisionReason', r.decision_reason)
$$;

-- Ensures: the organisation has a pending request to move to `tier` (an owner asks; nothing is
-- granted until the billing backend applies it with set_subscription). A repeated request for the
-- same tier returns the pending one; a request for another tier supersedes it. A new request is
-- announced on channel switchboard_billing (NOTIFY, delivered when this transaction commits):
-- {"event": "plan_change.requested", "orgId", "requestId", "tier", "currentTier", "requestedBy",
-- "requestedAt", "supersedes"}.
CREATE FUNCTION switchboard.request_plan_change(org_id uuid, tier text) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_sub switchboard.subscriptions;
  v_pending switchboard.plan_change_requests;
  v_new switchboard.plan_change_requests;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  IF NOT switchboard.has_role_at_least(org_id, 'owner') THEN
    IF NOT switchboard.is_service_role() THEN
      PERFORM switchboard.assert_role(org_id, 'owner');  -- raises the caller's precise refusal
    END IF;
    RAISE EXCEPTION 'plan changes are requested by an owner of the organization' USING ERRCODE = '42501',
      DETAIL = format('The service role is not an owner of organization %s.', org_id),
      HINT = 'The billing backend changes the plan with set_subscription.';
  END IF;
  PERFORM switchboard.require_tier(tier);
  PERFORM switchboard.lock_plan(org_id);
  SELECT * INTO v_sub FROM switchboard.subscriptions s WHERE s.org_id = request_plan_change.org_id;
  IF v_sub.tier = tier AND v_sub.status = 'active' THEN
    RETURN jsonb_build_object('requestId', NULL, 'status', NULL, 'reason', 'ALREADY_ON_TIER',
                              'tier', tier, 'currentTier', v_sub.tier);
  END IF;
  SELECT * INTO v_pending FROM switchboard.plan_change_requests r
   WHERE r.org_id = request_plan_change.org_id AND r.status = 'pending';
  IF v_pending.tier = tier THEN
    RETURN switchboard.plan_change_answer(v_pending, 'ALREADY_REQUESTED');
  END IF;
  UPDATE switchboard.plan_change_requests r SET status = 'superseded', decided_at = now()
   WHERE r.org_id = request_plan_change.org_id AND r.id = v_pending.id;
  INSERT INTO switchboard.plan_change_requests AS r (org_id, tier, current_tier, requested_by)
  VALUES (org_id, tier, v_sub.tier, switchboard.current_user_id())
  RETURNING * INTO v_new;
  PERFORM switchboard.notify('switchboard_billing', jsonb_build_object(
    'event', 'plan_change.requested', 'orgId', v_new.org_id, 'requestId', v_new.id,
    'tier', v_new.tier, 'currentTier', v_new.current_tier, 'requestedBy', v_new.requested_by,
    'requestedAt', switchboard.answer_time(v_new.requested_at), 'supersedes', v_pending.id)::text);
  RETURN switchboard.plan_change_answer(v_new, 'REQUESTED')
         || jsonb_build_object('supersedes', v_pending.id);
END
$$;

-- The pending plan change requests, oldest first (of one organisation when org_id is given):
-- what a billing backend that was not listening on switchboard_billing catches up from. Service
-- role only.
CREATE FUNCTION switchboard.pending_plan_changes(org_id uuid DEFAULT NULL)
  RETURNS SETOF switchboard.plan_change_requests
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_service_role('list pending plan changes');
  RETURN QUERY SELECT * FROM switchboard.plan_change_requests r
                WHERE r.status = 'pending'
                  AND (pending_plan_changes.org_id IS NULL OR r.org_id = pending_plan_changes.org_id)
                ORDER BY r.requested_at, r.id;
END
$$;

-- Ensures: the pending request is rejected with `reason` (the billing backend declines it);
-- rejecting it again changes nothing; an applied or superseded request stays as it is (answered
-- with ALREADY_APPLIED / ALREADY_SUPERSEDED). Service role only; P0002 for an unknown request.
CREATE FUNCTION switchboard.reject_plan_change(org_id uuid, request_id uuid, reason text DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_request switchboard.plan_change_requests;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.require_arg(request_id, 'request_id');
  PERFORM switchboard.require_service_role('reject plan changes');
  PERFORM switchboard.lock_plan(org_id);
  UPDATE switchboard.plan_change_requests r
     SET status = 'rejected', decided_at = now(), decision_reason = reject_plan_change.reason
   WHERE r.org_id = reject_plan_change.org_id AND r.id = request_id AND r.status = 'pending'
  RETURNING * INTO v_request;
  IF FOUND THEN
    RETURN switchboard.plan_change_answer(v_request, 'REJECTED');
  END IF;
  SELECT * INTO v_request FROM switchboard.plan_change_requests r
   WHERE r.org_id = reject_plan_change.org_id AND r.id = request_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'plan change request not found' USING ERRCODE = 'P0002',
      DETAIL = format('Organization %s has no plan change request with the id %s.', org_id, request_id);
  END IF;
  RETURN switchboard.plan_change_answer(v_request, 'ALREADY_' || upper(v_request.status));
END
$$;
