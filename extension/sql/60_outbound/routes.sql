-- REST routes of outbound webhooks (switchboard-shim; the organisation comes from the JWT).
INSERT INTO switchboard.api_routes (method, path, function_name, arg_names, org_arg, summary, area, builtin)
VALUES
  ('POST', '/api/webhook-endpoints', 'create_webhook_endpoint', '{}', 'org_id',
   'create a webhook endpoint; its signing secret is shown once (admins and owners)', 'outbound', true),
  ('GET', '/api/webhook-endpoints', 'list_webhook_endpoints', '{}', 'org_id',
   'the organisation''s webhook endpoints', 'outbound', true),
  ('PATCH', '/api/webhook-endpoints/{id}', 'update_webhook_endpoint', '{"id": "endpoint_id"}', 'org_id',
   'change an endpoint''s url, event types or options', 'outbound', true),
  ('DELETE', '/api/webhook-endpoints/{id}', 'delete_webhook_endpoint', '{"id": "endpoint_id"}', 'org_id',
   'delete an endpoint with its delivery history', 'outbound', true),
  ('PUT', '/api/webhook-endpoints/{id}/enabled', 'set_webhook_endpoint_enabled', '{"id": "endpoint_id"}',
   'org_id', 'enable or disable an endpoint', 'outbound', true),
  ('POST', '/api/webhook-endpoints/{id}/rotate-secret', 'rotate_webhook_secret', '{"id": "endpoint_id"}',
   'org_id', 'a new signing secret; the old one keeps signing for the grace period', 'outbound', true),
  ('POST', '/api/webhook-endpoints/{id}/test', 'send_test_webhook', '{"id": "endpoint_id"}', 'org_id',
   'queue a webhook.test message for the endpoint', 'outbound', true),
  ('POST', '/api/webhook-endpoints/{id}/recover', 'recover_webhook_endpoint', '{"id": "endpoint_id"}',
   'org_id', 're-queue every delivery to the endpoint that failed since a time', 'outbound', true),
  ('GET', '/api/webhook-endpoints/{id}/deliveries', 'list_webhook_deliveries', '{"id": "for_endpoint"}',
   'org_id', 'the delivery history of an endpoint', 'outbound', true),
  ('GET', '/api/webhook-messages/{id}/deliveries', 'list_webhook_deliveries', '{"id": "for_message"}',
   'org_id', 'the deliveries of one message', 'outbound', true),
  ('GET', '/api/webhook-messages/{id}/attempts', 'list_webhook_attempts', '{"id": "message_id"}',
   'org_id', 'every delivery attempt of one message', 'outbound', true),
  ('POST', '/api/webhook-messages/{id}/retry', 'retry_webhook_message', '{"id": "message_id"}', 'org_id',
   're-queue a message''s failed deliveries', 'outbound', true),
  ('POST', '/api/events', 'emit_event', '{}', 'org_id',
   'emit an event to the organisation''s webhook endpoints (admins and owners)', 'outbound', true);

-- The answers of the outbound webhook commands, for /openapi.json.
INSERT INTO switchboard.api_result_schemas (function_name, schema, builtin)
SELECT f, pg_catalog.jsonb_build_object('type', 'object', 'required', ARRAY['reason'],
         'properties', '{
           "reason": {"type": "string"}, "orgId": {"type": "string", "format": "uuid"},
           "endpointId": {"type": "string", "format": "uuid"}, "url": {"type": "string"},
           "secret": {"type": "string"}, "publicKey": {"type": "string"},
           "description": {"type": "string"},
           "eventTypes": {"type": "array", "nullable": true, "items": {"type": "string"}},
           "enabled": {"type": "boolean"}, "disabledReason": {"type": "string", "nullable": true},
           "rateLimit": {"type": "integer", "nullable": true}, "maxConcurrency": {"type": "integer"},
           "ordered": {"type": "boolean"}, "signing": {"type": "string", "enum": ["v1", "v1a"]},
           "messageId": {"type": "string"}, "queued": {"type": "integer"},
           "previousExpiresAt": {"type": "string", "format": "date-time"}}'::jsonb), true
  FROM pg_catalog.unnest(ARRAY['create_webhook_endpoint', 'update_webhook_endpoint',
                               'delete_webhook_endpoint', 'set_webhook_endpoint_enabled',
                               'rotate_webhook_secret', 'send_test_webhook', 'retry_webhook_message',
                               'recover_webhook_endpoint']) f;

-- The delivery worker's steps are never routable.
INSERT INTO switchboard.api_internal_functions (name, reason, builtin) VALUES
  ('_retry_schedule', 'part of the webhook delivery worker', true),
  ('_claim_deliveries', 'a step of the webhook delivery worker', true),
  ('_record_attempt', 'a step of the webhook delivery worker', true),
  ('_record_attempts', 'a step of the webhook delivery worker', true),
  ('_next_delivery_in', 'a step of the webhook delivery worker', true),
  ('_prune_webhooks', 'a step of the webhook delivery worker (retention)', true),
  ('_outbound_retention', 'part of the webhook retention pruning', true),
  ('_outbound_wake', 'part of emit_event()', true),
  ('set_outbound_paused', 'an operator''s switch, run in SQL', true);
