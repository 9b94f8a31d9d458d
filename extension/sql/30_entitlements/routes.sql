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
