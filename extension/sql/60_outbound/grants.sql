-- Privileges of outbound webhooks: admins and owners manage endpoints and read the history through
-- the functions (which check the role); no client role reads secrets; the worker's steps are for
-- the service role and superusers only.
GRANT EXECUTE ON FUNCTION
  switchboard.emit_event(uuid, text, jsonb, text),
  switchboard.create_webhook_endpoint(uuid, text, text[], jsonb),
  switchboard.update_webhook_endpoint(uuid, uuid, jsonb),
  switchboard.delete_webhook_endpoint(uuid, uuid),
  switchboard.set_webhook_endpoint_enabled(uuid, uuid, boolean),
  switchboard.rotate_webhook_secret(uuid, uuid, interval),
  switchboard.send_test_webhook(uuid, uuid),
  switchboard.retry_webhook_message(uuid, text, uuid),
  switchboard.recover_webhook_endpoint(uuid, uuid, timestamptz),
  switchboard.list_webhook_endpoints(uuid),
  switchboard.list_webhook_deliveries(uuid, uuid, text, integer),
  switchboard.list_webhook_attempts(uuid, text)
  TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION
  switchboard._retry_schedule(),
  switchboard._next_delivery_in(),
  switchboard._outbound_retention(),
  switchboard._prune_webhooks(integer),
  switchboard.set_outbound_paused(boolean),
  switchboard._claim_deliveries(integer, integer, uuid[], integer[]),
  switchboard._record_attempt(uuid, text, uuid, integer, text, text, integer, integer,
                              timestamptz)
  TO service_role;
GRANT SELECT ON switchboard.event_types TO anon, authenticated, service_role;
GRANT SELECT ON switchboard.webhook_endpoints, switchboard.webhook_messages,
  switchboard.webhook_deliveries, switchboard.webhook_attempts TO authenticated;
GRANT ALL ON switchboard.event_types, switchboard.webhook_endpoints,
  switchboard.webhook_endpoint_secrets, switchboard.webhook_messages, switchboard.webhook_deliveries,
  switchboard.webhook_attempts, switchboard.outbound_state TO service_role;
-- Called by the functions above as the caller.
GRANT EXECUTE ON FUNCTION switchboard._outbound_wake() TO authenticated, service_role;
