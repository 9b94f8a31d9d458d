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

-- Ensures: subscriptions on tiers whose grants changed carry the new effective grants.
CREATE FUNCTION switchboard.resync_subscriptions() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE switchboard.subscriptions s SET tier = s.tier
   WHERE s.tier IN (SELECT c.tier FROM changed_grants c);
  RETURN NULL;
END
$$;
CREATE FUNCTION switchboard.resync_all_subscriptions() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  UPDATE switchboard.subscriptions s SET tier = s.tier;
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
      USING ERRCODE = '22023', DETAIL = format('older_than: %s', older_than);
  END IF;
  DELETE FROM switchboard.usage_events e WHERE e.created_at < now() - older_than;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  RETURN v_count;
END
$$;
