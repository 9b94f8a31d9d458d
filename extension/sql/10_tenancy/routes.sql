-- REST routes of the tenancy area (switchboard-shim).
INSERT INTO switchboard.api_routes (method, path, function_name, arg_names, org_arg, summary, area, builtin)
VALUES
  ('POST', '/api/organizations', 'create_organization', '{}', NULL,
   'create an organisation owned by the caller', 'tenancy', true),
  ('GET', '/api/organizations', 'list_organizations', '{}', NULL,
   'the organisations of the caller', 'tenancy', true),
  ('GET', '/api/organizations/{id}/members', 'list_members', '{"id": "org_id"}', NULL,
   'the members of an organisation', 'tenancy', true),
  ('POST', '/api/organizations/{id}/members', 'add_member', '{"id": "org_id"}', NULL,
   'add a member (admins and owners)', 'tenancy', true),
  ('PATCH', '/api/organizations/{id}/members/{user_id}', 'set_member_role', '{"id": "org_id"}', NULL,
   'change a member''s role (admins and owners)', 'tenancy', true),
  ('DELETE', '/api/organizations/{id}/members/{user_id}', 'remove_member', '{"id": "org_id"}', NULL,
   'remove a member, or leave', 'tenancy', true);

-- The answers of the tenancy commands, for /openapi.json.
INSERT INTO switchboard.api_result_schemas (function_name, schema, builtin) VALUES
  ('add_member', '{"type": "object", "required": ["reason"], "properties": {
     "reason": {"type": "string", "enum": ["ADDED"]}, "orgId": {"type": "string", "format": "uuid"},
     "userId": {"type": "string", "format": "uuid"},
     "role": {"type": "string", "enum": ["viewer", "agent", "manager", "admin", "owner"]}}}', true),
  ('set_member_role', '{"type": "object", "required": ["reason"], "properties": {
     "reason": {"type": "string", "enum": ["UPDATED", "UNCHANGED"]},
     "orgId": {"type": "string", "format": "uuid"}, "userId": {"type": "string", "format": "uuid"},
     "role": {"type": "string", "enum": ["viewer", "agent", "manager", "admin", "owner"]},
     "previousRole": {"type": "string", "enum": ["viewer", "agent", "manager", "admin", "owner"]}}}', true),
  ('remove_member', '{"type": "object", "required": ["reason"], "properties": {
     "reason": {"type": "string", "enum": ["REMOVED"]}, "orgId": {"type": "string", "format": "uuid"},
     "userId": {"type": "string", "format": "uuid"},
     "previousRole": {"type": "string", "enum": ["viewer", "agent", "manager", "admin", "owner"]}}}', true);
