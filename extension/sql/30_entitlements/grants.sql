-- Privileges of the entitlements area (99_privileges revokes everything else from PUBLIC).
GRANT SELECT ON switchboard.features, switchboard.plan_tiers, switchboard.plan_tier_features,
  switchboard.global_feature_flags TO anon, authenticated, service_role;
GRANT SELECT ON switchboard.subscriptions, switchboard.feature_overrides, switchboard.feature_usage,
  switchboard.feature_reservations, switchboard.entitlement_audit, switchboard.plan_change_requests
  TO authenticated;
GRANT ALL ON switchboard.features, switchboard.plan_tiers, switchboard.plan_tier_features,
  switchboard.global_feature_flags, switchboard.subscriptions, switchboard.feature_overrides,
  switchboard.feature_usage, switchboard.feature_reservations, switchboard.usage_events,
  switchboard.entitlement_audit, switchboard.kill_switch_audit, switchboard.plan_change_requests
  TO service_role;
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
  switchboard.clear_feature_override(uuid, text), switchboard.feature_keys(bytea),
  switchboard.request_plan_change(uuid, text)
  TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION switchboard.set_kill_switch(text, boolean, text),
  switchboard.purge_usage_events(interval), switchboard.pending_plan_changes(uuid),
  switchboard.reject_plan_change(uuid, uuid, text) TO service_role;
-- Trigger functions run with the privileges of the table's writer.
GRANT EXECUTE ON FUNCTION switchboard.sync_subscription(), switchboard.resync_subscriptions(),
  switchboard.organization_changed(),
  switchboard.resync_all_subscriptions(), switchboard.audit_changes(),
  switchboard.audit_kill_switch() TO authenticated, service_role;
