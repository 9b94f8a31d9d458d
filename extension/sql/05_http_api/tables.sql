-- The HTTP API served by switchboard-shim: REST routes declared as data (each area adds its own in
-- its routes.sql), the helpers that are never routable, the schema the shim caches, OpenAPI.
-- The shim only authenticates, verifies and translates; every decision below is made here.

-------------------------------------------------------------------------------------------------
-- REST routes. Each area registers its own routes in its routes.sql (builtin = true: pg_dump leaves
-- them out, CREATE EXTENSION makes them); users add theirs with builtin = false (the default), e.g.
--   INSERT INTO switchboard.api_routes (method, path, function_name, arg_names, summary)
--   VALUES ('POST', '/api/calendars/{id}/holds', 'hold_slot', '{"id": "calendar_id"}',
--           'hold a slot for a few minutes');
-- Path parameters ({name}), query parameters and JSON body keys become named arguments of the
-- function (renamed through arg_names); org_arg names the argument that receives the caller's
-- app_metadata.org_id from the JWT (NULL: the route takes the organisation from the request).
-------------------------------------------------------------------------------------------------
CREATE TABLE switchboard.api_routes (
  method text NOT NULL CONSTRAINT api_routes_method_check
    CHECK (method IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
  path text NOT NULL CONSTRAINT api_routes_path_check
    CHECK (path ~ '^/api(/([A-Za-z0-9_.-]+|\{[a-z_][a-z0-9_]*\}))+$'),
  function_name text NOT NULL CONSTRAINT api_routes_function_check
    CHECK (function_name ~ '^[a-z_][a-z0-9_]*$'),
  arg_names jsonb NOT NULL DEFAULT '{}' CONSTRAINT api_routes_arg_names_check
    CHECK (jsonb_typeof(arg_names) = 'object'),
  org_arg text DEFAULT 'org_id' CONSTRAINT api_routes_org_arg_check
    CHECK (org_arg ~ '^[a-z_][a-z0-9_]*$'),
  summary text,
  area text NOT NULL DEFAULT 'custom',
  builtin boolean NOT NULL DEFAULT false,
  statuses jsonb NOT NULL DEFAULT '{}' CONSTRAINT api_routes_statuses_check
    CHECK (jsonb_typeof(statuses) = 'object'),
  PRIMARY KEY (method, path)
);
COMMENT ON TABLE switchboard.api_routes IS
  'REST routes of switchboard-shim: method + path template -> a function of schema switchboard';
COMMENT ON COLUMN switchboard.api_routes.arg_names IS
  'request name (path/query/body key) -> function argument name, for names that differ';
COMMENT ON COLUMN switchboard.api_routes.org_arg IS
  'the argument that receives app_metadata.org_id of the caller''s JWT; NULL: none';
COMMENT ON COLUMN switchboard.api_routes.statuses IS
  'answer reason -> HTTP status: a jsonb answer whose "reason" is listed gets that status (else 200); '
  'the transaction commits either way (a counted wrong code stays counted)';
COMMENT ON COLUMN switchboard.api_routes.builtin IS
  'true for routes the extension installs (pg_dump keeps only the others)';
SELECT pg_catalog.pg_extension_config_dump('switchboard.api_routes', 'WHERE NOT builtin');

-- Helpers of schema switchboard that other functions call as the caller (so API roles hold EXECUTE
-- on them) but that are never routable: /rpc answers 404 for them and /openapi.json leaves them
-- out. An area that adds such a helper lists it here (running shims reload at once).
CREATE TABLE switchboard.api_internal_functions (
  name text PRIMARY KEY CONSTRAINT api_internal_functions_name_check
    CHECK (name ~ '^[a-z_][a-z0-9_]*$'),
  reason text NOT NULL,
  builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE switchboard.api_internal_functions IS
  'functions of schema switchboard that /rpc never calls and /openapi.json never lists';
SELECT pg_catalog.pg_extension_config_dump('switchboard.api_internal_functions', 'WHERE NOT builtin');
INSERT INTO switchboard.api_internal_functions (name, reason, builtin) VALUES
  ('api_schema', 'what the shim caches', true),
  ('api_function_args', 'part of api_functions', true),
  ('api_json_schema', 'part of openapi()', true),
  ('api_result_schema', 'part of openapi()', true),
  ('api_operation', 'part of openapi()', true),
  ('api_path_params', 'part of openapi() and api_route_problems()', true),
  ('api_route_problems', 'an operator''s check, run in SQL', true),
  ('require_organization', 'an argument check of the tenancy functions', true),
  ('answer_time', 'how command answers write times (SQL-written answers)', true),
  ('webhook_facts', 'part of receive_webhook()', true),
  ('webhook_kept_headers', 'part of receive_webhook()', true),
  ('resolve_provider_org', 'part of receive_webhook()', true),
  ('process_webhook', 'part of receive_webhook()', true),
  ('twilio_account_keys', 'part of receive_webhook()', true),
  ('twilio_direction', 'part of receive_webhook()', true),
  ('twilio_event_id', 'part of receive_webhook()', true);

-- The JSON Schema of the answer of a function that returns json or jsonb (the type alone says
-- nothing about it): /openapi.json documents the answer with it. Each area registers the answers
-- of its functions in its routes.sql.
CREATE TABLE switchboard.api_result_schemas (
  function_name text PRIMARY KEY CONSTRAINT api_result_schemas_function_check
    CHECK (function_name ~ '^[a-z_][a-z0-9_]*$'),
  schema jsonb NOT NULL CONSTRAINT api_result_schemas_schema_check
    CHECK (jsonb_typeof(schema) = 'object'),
  builtin boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE switchboard.api_result_schemas IS
  'JSON Schema (OpenAPI 3.0) of the json/jsonb answer of a function, for /openapi.json';
SELECT pg_catalog.pg_extension_config_dump('switchboard.api_result_schemas', 'WHERE NOT builtin');
INSERT INTO switchboard.api_internal_functions (name, reason, builtin) VALUES
  ('api_row_schema', 'part of openapi()', true),
  ('api_shim_paths', 'part of openapi()', true);
