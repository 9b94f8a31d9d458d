-- The HTTP API area: routes as data, the schema the shim caches, OpenAPI, list_members.
\set VERBOSITY terse
SET client_min_messages = warning;

-- Every installed route is sound, and its function exists.
SELECT * FROM switchboard.api_route_problems();
SELECT method, path, function_name, arg_names, org_arg FROM switchboard.api_routes ORDER BY path, method;

-- Bad declarations are refused by constraints.
INSERT INTO switchboard.api_routes (method, path, function_name) VALUES ('GET', '/rpc/x', 'f');
INSERT INTO switchboard.api_routes (method, path, function_name) VALUES ('HEAD', '/api/x', 'f');
INSERT INTO switchboard.api_routes (method, path, function_name) VALUES ('GET', '/api/{Bad}', 'f');
INSERT INTO switchboard.api_routes (method, path, function_name) VALUES ('GET', '/api/x', 'bad name');

-- A route that cannot work is reported.
INSERT INTO switchboard.api_routes (method, path, function_name, arg_names)
  VALUES ('GET', '/api/probe/{nope}', 'list_members', '{}'),
         ('GET', '/api/probe/missing', 'no_such_function', '{}');
SELECT * FROM switchboard.api_route_problems() ORDER BY path, problem;
DELETE FROM switchboard.api_routes WHERE path LIKE '/api/probe/%';

SELECT switchboard.api_path_params('/api/a/{id}/b/{user_id}'), switchboard.api_path_params('/api/a');

-- The functions the API can call: named IN arguments, defaults, nothing polymorphic.
SELECT name, volatility, returns_set, returns_void,
       (SELECT jsonb_agg(a - 'typeOid') FROM jsonb_array_elements(args) a) AS args
  FROM switchboard.api_functions
 WHERE name IN ('is_member', 'list_members', 'member_org_ids', 'require_arg', 'touch_updated_at',
                'receive_webhook', 'webhook_facts')
 ORDER BY name;

-- Internal helpers and functions no API role may execute are never routable; every other function
-- an API role may execute is (a new function shows up here: decide whether it is internal).
SELECT name FROM switchboard.api_internal_functions ORDER BY name;
SELECT DISTINCT name AS routable FROM switchboard.api_functions ORDER BY name;
SELECT count(*) AS helpers_listed FROM switchboard.api_functions f
  JOIN switchboard.api_internal_functions i ON i.name = f.name;
INSERT INTO switchboard.api_internal_functions (name, reason) VALUES ('is_member', 'probe');
SELECT count(*) AS is_member_routable FROM switchboard.api_functions WHERE name = 'is_member';
DELETE FROM switchboard.api_internal_functions WHERE name = 'is_member';
INSERT INTO switchboard.api_internal_functions (name, reason) VALUES ('Bad Name', 'refused');

-- api_schema() is one JSON document of functions and routes.
SELECT jsonb_typeof(s -> 'functions'), jsonb_typeof(s -> 'routes'),
       (SELECT count(*) FROM jsonb_array_elements(s -> 'routes')) = (SELECT count(*) FROM switchboard.api_routes)
  FROM switchboard.api_schema() s;

-- JSON Schema of SQL types.
SELECT t::regtype, switchboard.api_json_schema(t::regtype)
  FROM unnest(ARRAY['uuid', 'integer', 'bigint', 'numeric', 'boolean', 'text', 'timestamptz', 'date',
                    'jsonb', 'text[]', 'switchboard.member_role']) t;

-- OpenAPI: routes with path parameters and bodies; /rpc functions by the caller's privileges.
SELECT d -> 'openapi', d -> 'servers',
       d #> ARRAY['paths', '/api/organizations/{id}/members', 'get', 'parameters'],
       d #> ARRAY['paths', '/api/organizations/{id}/members', 'post', 'requestBody', 'content',
                  'application/json', 'schema'],
       d #> ARRAY['paths', '/api/organizations/{id}/members/{user_id}', 'delete', 'parameters']
  FROM switchboard.openapi('https://api.example.com') d;
-- Every routed function answering json or jsonb has an answer schema (api_result_schemas), and no
-- route's answer is left as {} in the document (a route added without one shows up here).
SELECT r.method, r.path, r.function_name AS without_answer_schema
  FROM switchboard.api_routes r JOIN switchboard.api_functions f ON f.name = r.function_name
 WHERE f.return_type IN ('json'::regtype, 'jsonb'::regtype)
   AND NOT EXISTS (SELECT FROM switchboard.api_result_schemas s WHERE s.function_name = r.function_name)
 ORDER BY r.path, r.method;
SELECT p.key AS path, o.key AS method, o.value #> '{responses,200,content,application/json,schema}' AS left_empty
  FROM switchboard.openapi() d, jsonb_each(d -> 'paths') p, jsonb_each(p.value) o
 WHERE p.key LIKE '/api/%'
   AND o.value #> '{responses,200,content,application/json,schema}' IN ('{}', '{"type": "array", "items": {}}')
 ORDER BY 1, 2;
SELECT d #> ARRAY['paths', '/api/calendars/{id}/slots', 'get', 'responses', '200', 'content', 'application/json', 'schema'] AS slots
  FROM switchboard.openapi() d;
SET ROLE anon;
SELECT d -> 'paths' ? '/rpc/is_member' AS anon_sees_is_member,
       d -> 'paths' ? '/rpc/create_organization' AS anon_sees_create_organization,
       d -> 'paths' ? '/api/organizations' AS anon_sees_routes
  FROM switchboard.openapi() d;
RESET ROLE;

-- list_members: members see their organisation, others get P0002, anon may not call it.
INSERT INTO switchboard.organizations (id, name, slug)
  VALUES ('00000000-0000-4000-8000-0000000a0001', 'Http Org', 'http-org');
INSERT INTO switchboard.organization_members (org_id, user_id, role)
  VALUES ('00000000-0000-4000-8000-0000000a0001', '00000000-0000-4000-8000-0000000b0001', 'owner'),
         ('00000000-0000-4000-8000-0000000a0001', '00000000-0000-4000-8000-0000000b0002', 'agent');
BEGIN;
SET LOCAL ROLE authenticated;
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000b0002"}', true);
SELECT user_id, role FROM switchboard.list_members('00000000-0000-4000-8000-0000000a0001');
SELECT id, name, slug, role FROM switchboard.list_organizations();
SELECT set_config('request.jwt.claims', '{"sub": "00000000-0000-4000-8000-0000000b0099"}', true);
SELECT * FROM switchboard.list_members('00000000-0000-4000-8000-0000000a0001');
ROLLBACK;
BEGIN;
SET LOCAL ROLE anon;
SELECT * FROM switchboard.list_members('00000000-0000-4000-8000-0000000a0001');
ROLLBACK;
