-- REST routes of the entitlements area (switchboard-shim; the organisation comes from the JWT).
INSERT INTO switchboard.api_routes (method, path, function_name, arg_names, org_arg, summary, area, builtin)
VALUES
  ('GET', '/api/features', 'feature_matrix', '{}', 'org_id',
   'every catalog feature: whether the organisation may use it now', 'entitlements', true),
  ('POST', '/api/features/check', 'check_feature', '{}', 'org_id',
   'whether the organisation may use a feature now, and why', 'entitlements', true),
  ('POST', '/api/features/consume', 'consume_feature', '{}', 'org_id',
   'count units of a metered feature (atomic, idempotent per key)', 'entitlements', true),
  ('PUT', '/api/features/{feature}', 'set_feature_override', '{}', 'org_id',
   'override one feature for the organisation (admins may only narrow: disable, or cap a limit)',
   'entitlements', true),
  ('DELETE', '/api/features/{feature}', 'clear_feature_override', '{}', 'org_id',
   'remove the organisation''s own override of one feature (admin and above)', 'entitlements', true),
  ('POST', '/api/plan-change-requests', 'request_plan_change', '{}', 'org_id',
   'ask the billing backend to move the organisation to another tier (owner)', 'entitlements', true);

-- The answers of the entitlement commands, for /openapi.json.
INSERT INTO switchboard.api_result_schemas (function_name, schema, builtin) VALUES
  ('feature_matrix', '{"type": "object", "description": "every catalog feature: whether the organisation may use it now",
     "additionalProperties": {"type": "boolean"}}', true),
  ('check_feature', '{"type": "object", "required": ["hasAccess", "reason"], "properties": {
     "hasAccess": {"type": "boolean"},
     "reason": {"type": "string", "enum": ["PLAN", "OVERRIDE", "NO_SUBSCRIPTION", "NOT_IN_PLAN",
                "OVERRIDE_DISABLED", "KILL_SWITCH", "LIMIT_EXCEEDED", "UNKNOWN_FEATURE"]},
     "feature": {"type": "string"}, "plan": {"type": "string", "nullable": true},
     "limit": {"type": "integer", "nullable": true}, "used": {"type": "integer", "nullable": true},
     "remaining": {"type": "integer", "nullable": true},
     "resetsAt": {"type": "string", "format": "date-time", "nullable": true},
     "overageRate": {"type": "number", "nullable": true}, "upgradeRequired": {"type": "boolean"},
     "upgradeTier": {"type": "string", "nullable": true},
     "callsRemaining": {"type": "integer", "nullable": true}}}', true),
  ('consume_feature', '{"type": "object", "required": ["ok", "reason"], "properties": {
     "ok": {"type": "boolean"}, "reason": {"type": "string"},
     "used": {"type": "integer", "nullable": true}, "reserved": {"type": "integer", "nullable": true},
     "limit": {"type": "integer", "nullable": true}, "remaining": {"type": "integer", "nullable": true},
     "overage": {"type": "integer", "nullable": true},
     "resetsAt": {"type": "string", "format": "date-time", "nullable": true},
     "replayed": {"type": "boolean"}}}', true),
  ('set_feature_override', '{"type": "object", "required": ["reason", "feature"], "properties": {
     "reason": {"type": "string", "enum": ["SET"]}, "feature": {"type": "string"},
     "enabled": {"type": "boolean", "nullable": true}, "usageLimit": {"type": "integer", "nullable": true},
     "limitMode": {"type": "string", "nullable": true},
     "expiresAt": {"type": "string", "format": "date-time", "nullable": true},
     "source": {"type": "string"}}}', true),
  ('clear_feature_override', '{"type": "object", "required": ["reason", "feature"], "properties": {
     "reason": {"type": "string", "enum": ["CLEARED", "NOT_SET"]}, "feature": {"type": "string"}}}', true),
  ('request_plan_change', '{"type": "object", "required": ["reason"], "properties": {
     "requestId": {"type": "string", "format": "uuid", "nullable": true},
     "status": {"type": "string", "nullable": true},
     "reason": {"type": "string", "enum": ["REQUESTED", "ALREADY_REQUESTED", "ALREADY_ON_TIER"]},
     "tier": {"type": "string"}, "currentTier": {"type": "string", "nullable": true},
     "requestedAt": {"type": "string", "format": "date-time"},
     "supersedes": {"type": "string", "format": "uuid", "nullable": true}}}', true);
