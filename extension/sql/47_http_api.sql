-- The HTTP API served by switchboard-shim: REST routes declared as data, the schema the shim caches,
-- the OpenAPI document, provider account mappings and the inbound webhook inbox.
-- The shim only authenticates, verifies and translates; every decision below is made here.

-------------------------------------------------------------------------------------------------
-- REST routes. Each area registers its own routes in its own SQL file, for example:
--   INSERT INTO switchboard.api_routes (method, path, function_name, arg_names, org_arg, summary, area, builtin)
--   VALUES ('POST', '/api/appointments/{id}/confirm', 'confirm_appointment', '{"id": "appointment_id"}',
--           'org_id', 'confirm an appointment', 'booking', true);
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
  PRIMARY KEY (method, path)
);
COMMENT ON TABLE switchboard.api_routes IS
  'REST routes of switchboard-shim: method + path template -> a function of schema switchboard';
COMMENT ON COLUMN switchboard.api_routes.arg_names IS
  'request name (path/query/body key) -> function argument name, for names that differ';
COMMENT ON COLUMN switchboard.api_routes.org_arg IS
  'the argument that receives app_metadata.org_id of the caller''s JWT; NULL: none';
COMMENT ON COLUMN switchboard.api_routes.builtin IS
  'true for routes the extension installs (pg_dump keeps only the others)';
SELECT pg_catalog.pg_extension_config_dump('switchboard.api_routes', 'WHERE NOT builtin');

-- Ensures: switchboard-shim instances reload their cached schema after the transaction commits.
CREATE FUNCTION switchboard.notify_api_changed() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('switchboard_api', 'reload');
  RETURN NULL;
END
$$;

CREATE TRIGGER api_routes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON switchboard.api_routes FOR EACH STATEMENT EXECUTE FUNCTION switchboard.notify_api_changed();

-- Ensures: the same after any DDL (functions created, replaced or dropped).
CREATE FUNCTION switchboard.notify_ddl_changed() RETURNS event_trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM pg_catalog.pg_notify('switchboard_api', 'reload');
END
$$;

CREATE EVENT TRIGGER switchboard_api_ddl ON ddl_command_end
  EXECUTE FUNCTION switchboard.notify_ddl_changed();

-- The IN arguments of function fn, numbered from 1 (OUT and TABLE columns left out).
CREATE FUNCTION switchboard.api_function_args(fn oid)
  RETURNS TABLE (arg_position integer, arg_name text, arg_type oid)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT (pg_catalog.row_number() OVER (ORDER BY a.ord))::integer, a.name, a.type
    FROM pg_catalog.pg_proc p,
         ROWS FROM (pg_catalog.unnest(coalesce(p.proallargtypes, p.proargtypes::pg_catalog.oid[])),
                    pg_catalog.unnest(p.proargnames), pg_catalog.unnest(p.proargmodes::text[]))
           WITH ORDINALITY a(type, name, mode, ord)
   WHERE p.oid = fn AND coalesce(a.mode, 'i') IN ('i', 'b')
$$;

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
CREATE TRIGGER api_internal_functions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON switchboard.api_internal_functions
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.notify_api_changed();
INSERT INTO switchboard.api_internal_functions (name, reason, builtin) VALUES
  ('api_schema', 'what the shim caches', true),
  ('api_function_args', 'part of api_functions', true),
  ('api_json_schema', 'part of openapi()', true),
  ('api_result_schema', 'part of openapi()', true),
  ('api_operation', 'part of openapi()', true),
  ('api_path_params', 'part of openapi() and api_route_problems()', true),
  ('api_route_problems', 'an operator''s check, run in SQL', true),
  ('require_organization', 'an argument check of the tenancy functions', true),
  ('webhook_facts', 'part of receive_webhook()', true),
  ('webhook_kept_headers', 'part of receive_webhook()', true),
  ('resolve_provider_org', 'part of receive_webhook()', true),
  ('process_webhook', 'part of receive_webhook()', true),
  ('twilio_account_keys', 'part of receive_webhook()', true),
  ('twilio_direction', 'part of receive_webhook()', true),
  ('twilio_event_id', 'part of receive_webhook()', true);

-- The functions of schema switchboard the HTTP API can call: plain functions over concrete types
-- (nothing polymorphic, internal or variadic; no trigger), that an API role may execute and that
-- are not internal helpers, with their IN arguments in order.
CREATE VIEW switchboard.api_functions AS
SELECT p.oid,
       p.proname::text AS name,
       p.provolatile::text AS volatility,
       p.proretset AS returns_set,
       p.prorettype = 'pg_catalog.void'::pg_catalog.regtype AS returns_void,
       p.prorettype AS return_type,
       coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                          'name', coalesce(a.arg_name, ''), 'typeOid', a.arg_type,
                          'type', pg_catalog.format_type(a.arg_type, NULL),
                          'hasDefault', a.arg_position > p.pronargs - p.pronargdefaults)
                        ORDER BY a.arg_position)
                   FROM switchboard.api_function_args(p.oid) a), '[]') AS args,
       pg_catalog.obj_description(p.oid, 'pg_proc') AS description
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_type rt ON rt.oid = p.prorettype
 WHERE p.pronamespace = 'switchboard'::pg_catalog.regnamespace
   AND p.prokind = 'f'
   AND p.provariadic = 0
   AND (rt.typtype <> 'p' OR rt.oid = 'pg_catalog.void'::pg_catalog.regtype
        OR (rt.oid = 'pg_catalog.record'::pg_catalog.regtype AND p.proallargtypes IS NOT NULL))
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proargtypes::pg_catalog.oid[]) t(oid)
                     JOIN pg_catalog.pg_type ty ON ty.oid = t.oid WHERE ty.typtype = 'p')
   AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles r
                WHERE r.rolname IN ('anon', 'authenticated', 'service_role')
                  AND pg_catalog.has_function_privilege(r.oid, p.oid, 'EXECUTE'))
   AND NOT EXISTS (SELECT 1 FROM switchboard.api_internal_functions i
                    WHERE i.name OPERATOR(pg_catalog.=) p.proname::text);
COMMENT ON VIEW switchboard.api_functions IS
  'functions of schema switchboard callable through /rpc and api_routes (privileges decide who may; api_internal_functions are left out)';

-- Ensures: everything the shim caches, in one document: the callable functions and the routes.
CREATE FUNCTION switchboard.api_schema() RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_catalog.jsonb_build_object(
    'functions', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                             'oid', f.oid::bigint, 'name', f.name, 'volatility', f.volatility,
                             'returnsSet', f.returns_set, 'returnsVoid', f.returns_void, 'args', f.args)
                           ORDER BY f.name, f.oid) FROM switchboard.api_functions f), '[]'),
    'routes', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                          'method', r.method, 'path', r.path, 'function', r.function_name,
                          'argNames', r.arg_names, 'orgArg', r.org_arg)
                        ORDER BY r.path, r.method) FROM switchboard.api_routes r), '[]'))
$$;

-- The path parameters of a route template, in order: '/api/a/{id}/b/{x}' -> {id, x}.
CREATE FUNCTION switchboard.api_path_params(path text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(pg_catalog.array_agg(m[1] ORDER BY n), '{}')
    FROM pg_catalog.regexp_matches(path, '\{([a-z_][a-z0-9_]*)\}', 'g') WITH ORDINALITY r(m, n)
$$;

-- Ensures: one row per route that cannot work: missing function, or a path parameter, argument
-- name or org argument the function does not take. Empty when every route is sound.
CREATE FUNCTION switchboard.api_route_problems()
  RETURNS TABLE (method text, path text, problem text)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH routes AS (
    SELECT r.*, (SELECT pg_catalog.array_agg(DISTINCT a ->> 'name') FROM switchboard.api_functions f,
                   pg_catalog.jsonb_array_elements(f.args) a WHERE f.name = r.function_name) AS args
      FROM switchboard.api_routes r)
  SELECT r.method, r.path, pg_catalog.format('function switchboard.%s does not exist', r.function_name)
    FROM routes r
   WHERE NOT EXISTS (SELECT 1 FROM switchboard.api_functions f WHERE f.name = r.function_name)
  UNION ALL
  SELECT r.method, r.path, pg_catalog.format('switchboard.%s takes no argument %s', r.function_name,
                                              coalesce(r.arg_names ->> p, p))
    FROM routes r, pg_catalog.unnest(switchboard.api_path_params(r.path)) p
   WHERE NOT coalesce(r.arg_names ->> p, p) = ANY (coalesce(r.args, '{}'))
     AND EXISTS (SELECT 1 FROM switchboard.api_functions f WHERE f.name = r.function_name)
  UNION ALL
  SELECT r.method, r.path, pg_catalog.format('switchboard.%s takes no org argument %s',
                                              r.function_name, r.org_arg)
    FROM routes r
   WHERE r.org_arg IS NOT NULL AND NOT r.org_arg = ANY (coalesce(r.args, '{}'))
     AND EXISTS (SELECT 1 FROM switchboard.api_functions f WHERE f.name = r.function_name)
$$;
COMMENT ON FUNCTION switchboard.api_route_problems() IS
  'routes of switchboard.api_routes that cannot work as declared (run after adding routes)';

-------------------------------------------------------------------------------------------------
-- OpenAPI 3 document of the routes and of the /rpc functions the caller's role may execute.
-------------------------------------------------------------------------------------------------

-- The JSON Schema of values of type t (as JSON carries them).
CREATE FUNCTION switchboard.api_json_schema(t oid) RETURNS jsonb
  LANGUAGE sql STABLE STRICT SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN ty.typcategory = 'A' AND ty.typelem <> 0
      THEN pg_catalog.jsonb_build_object('type', 'array', 'items', switchboard.api_json_schema(ty.typelem))
    WHEN ty.typtype = 'e' THEN pg_catalog.jsonb_build_object('type', 'string', 'enum',
      (SELECT pg_catalog.jsonb_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e
        WHERE e.enumtypid = ty.oid))
    WHEN ty.oid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) THEN '{"type": "integer"}'
    WHEN ty.typcategory = 'N' THEN '{"type": "number"}'
    WHEN ty.typcategory = 'B' THEN '{"type": "boolean"}'
    WHEN ty.oid = 'uuid'::regtype THEN '{"type": "string", "format": "uuid"}'
    WHEN ty.oid = 'date'::regtype THEN '{"type": "string", "format": "date"}'
    WHEN ty.oid IN ('timestamptz'::regtype, 'timestamp'::regtype)
      THEN '{"type": "string", "format": "date-time"}'
    WHEN ty.oid IN ('json'::regtype, 'jsonb'::regtype) THEN '{}'
    WHEN ty.typtype = 'c' OR ty.oid = 'record'::regtype THEN '{"type": "object"}'
    ELSE '{"type": "string"}'
  END::jsonb
  FROM pg_catalog.pg_type ty WHERE ty.oid = t
$$;

-- The response schema of a function: its value, an array of them for set-returning functions.
CREATE FUNCTION switchboard.api_result_schema(f switchboard.api_functions) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN f.returns_set
              THEN pg_catalog.jsonb_build_object('type', 'array',
                                                 'items', switchboard.api_json_schema(f.return_type))
              ELSE switchboard.api_json_schema(f.return_type) END
$$;

-- One OpenAPI operation calling f. Arguments named in path_args come from the path, those in
-- skip_args (the JWT's org) from nowhere; the others from the query (GET, DELETE) or the body.
CREATE FUNCTION switchboard.api_operation(
  f switchboard.api_functions, method text, summary text, tag text, path_args jsonb, skip_args text[])
  RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH args AS (
    SELECT a ->> 'name' AS name, (a ->> 'typeOid')::oid AS type, (a ->> 'hasDefault')::boolean AS optional,
           (SELECT p.key FROM pg_catalog.jsonb_each_text(path_args) p WHERE p.value = a ->> 'name') AS path_name
      FROM pg_catalog.jsonb_array_elements(f.args) a
     WHERE a ->> 'name' <> '' AND NOT (a ->> 'name') = ANY (coalesce(skip_args, '{}'))),
  params AS (
    SELECT pg_catalog.jsonb_build_object('name', coalesce(path_name, name),
             'in', CASE WHEN path_name IS NOT NULL THEN 'path' ELSE 'query' END,
             'required', path_name IS NOT NULL OR NOT optional,
             'schema', switchboard.api_json_schema(type)) AS p
      FROM args WHERE path_name IS NOT NULL OR method IN ('get', 'delete')),
  body AS (
    SELECT pg_catalog.jsonb_build_object('type', 'object',
             'properties', pg_catalog.jsonb_object_agg(name, switchboard.api_json_schema(type)),
             'required', coalesce(pg_catalog.jsonb_agg(name) FILTER (WHERE NOT optional), '[]')) AS s
      FROM args WHERE path_name IS NULL AND method NOT IN ('get', 'delete') HAVING pg_catalog.count(*) > 0)
  SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'summary', coalesce(summary, f.description),
    'operationId', method || '_' || f.name,
    'tags', pg_catalog.jsonb_build_array(tag),
    'parameters', (SELECT pg_catalog.jsonb_agg(p) FROM params),
    'requestBody', (SELECT pg_catalog.jsonb_build_object('required', true, 'content',
                      pg_catalog.jsonb_build_object('application/json', pg_catalog.jsonb_build_object('schema', s)))
                      FROM body),
    'responses', CASE WHEN f.returns_void
      THEN '{"204": {"description": "done"}, "default": {"$ref": "#/components/responses/Error"}}'::jsonb
      ELSE pg_catalog.jsonb_build_object('200', pg_catalog.jsonb_build_object('description', 'the result',
             'content', pg_catalog.jsonb_build_object('application/json',
               pg_catalog.jsonb_build_object('schema', switchboard.api_result_schema(f)))),
             'default', '{"$ref": "#/components/responses/Error"}'::jsonb) END))
$$;

-- Ensures: an OpenAPI 3.0 document of every route of api_routes whose function exists, and of
-- /rpc/{function} for each function the current role may execute (GET too for stable ones).
CREATE FUNCTION switchboard.openapi(server_url text DEFAULT NULL) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH ops AS (
    SELECT r.path, pg_catalog.lower(r.method) AS method,
           switchboard.api_operation(f, pg_catalog.lower(r.method), r.summary, r.area,
             (SELECT coalesce(pg_catalog.jsonb_object_agg(p, coalesce(r.arg_names ->> p, p)), '{}')
                FROM pg_catalog.unnest(switchboard.api_path_params(r.path)) p),
             pg_catalog.array_remove(ARRAY[r.org_arg], NULL)) AS op
      FROM switchboard.api_routes r
      JOIN LATERAL (SELECT f.* FROM switchboard.api_functions f WHERE f.name = r.function_name
                     ORDER BY f.oid LIMIT 1) f ON true
    UNION ALL
    SELECT '/rpc/' || f.name, m.method, switchboard.api_operation(f, m.method, NULL, 'rpc', '{}', '{}')
      FROM switchboard.api_functions f,
           LATERAL (VALUES ('post'), ('get')) m(method)
     WHERE pg_catalog.has_function_privilege(f.oid, 'EXECUTE')
       AND (m.method = 'post' OR f.volatility IN ('s', 'i'))
       AND f.oid = (SELECT min(g.oid) FROM switchboard.api_functions g WHERE g.name = f.name)),
  paths AS (
    SELECT o.path, pg_catalog.jsonb_object_agg(o.method, o.op) AS item FROM ops o GROUP BY o.path)
  SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'openapi', '3.0.3',
    'info', pg_catalog.jsonb_build_object('title', 'Switchboard API', 'version',
              (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'switchboard')),
    'servers', CASE WHEN server_url IS NOT NULL
                    THEN pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('url', server_url)) END,
    'security', '[{"bearerAuth": []}]'::jsonb,
    'paths', coalesce((SELECT pg_catalog.jsonb_object_agg(p.path, p.item) FROM paths p), '{}'),
    'components', '{
      "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
      "schemas": {"Error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "string", "nullable": true}, "hint": {"type": "string", "nullable": true}}}},
      "responses": {"Error": {"description": "an error, with the SQLSTATE as code",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}'::jsonb))
$$;

-------------------------------------------------------------------------------------------------
-- Provider accounts: which organisation a provider's account, location or phone number belongs
-- to. Webhooks find their organisation here, never in the payload alone. Managed by the platform
-- (service_role) until the credentials capability can prove that an organisation owns an account.
-------------------------------------------------------------------------------------------------
CREATE TABLE switchboard.provider_accounts (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  provider text NOT NULL CONSTRAINT provider_accounts_provider_check
    CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  kind text NOT NULL CONSTRAINT provider_accounts_kind_check
    CHECK (kind IN ('account', 'location', 'company', 'phone_number', 'customer', 'assistant')),
  external_id text NOT NULL CONSTRAINT provider_accounts_external_id_check
    CHECK (length(external_id) BETWEEN 1 AND 200),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT provider_accounts_external_key UNIQUE (provider, external_id)
);
COMMENT ON TABLE switchboard.provider_accounts IS
  'provider account/location/phone number -> organisation; how inbound webhooks find their tenant';
COMMENT ON CONSTRAINT provider_accounts_external_key ON switchboard.provider_accounts IS
  'an external id belongs to one organisation at most';
CREATE TRIGGER provider_accounts_touch BEFORE UPDATE ON switchboard.provider_accounts
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
SELECT pg_catalog.pg_extension_config_dump('switchboard.provider_accounts', '');
SELECT switchboard.protect('switchboard.provider_accounts', 'org_id', 'viewer', 'owner', 'owner', 'owner');

-- The organisation of the first of `keys` mapped for the provider, or NULL.
CREATE FUNCTION switchboard.resolve_provider_org(provider text, keys text[]) RETURNS uuid
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT a.org_id
    FROM pg_catalog.unnest(keys) WITH ORDINALITY k(key, ord)
    JOIN switchboard.provider_accounts a ON a.provider = resolve_provider_org.provider
                                        AND a.external_id = k.key
   ORDER BY k.ord LIMIT 1
$$;

-------------------------------------------------------------------------------------------------
-- The inbound webhook inbox: every verified event exactly once.
-- Key choice: an event whose organisation cannot be resolved is kept with org_id NULL (status
-- 'unmatched') so nothing is lost, so org_id cannot be part of the primary key: the key is the
-- identity id, (org_id, id) stays unique for tenant references, and duplicates are refused per
-- (provider, org, event id) with NULLS NOT DISTINCT. RLS: tenants see their own matched events
-- (admins and owners: payloads may hold personal data); unmatched ones only service_role sees.
-------------------------------------------------------------------------------------------------
CREATE TABLE switchboard.webhook_inbox (
  org_id uuid REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider text NOT NULL CONSTRAINT webhook_inbox_provider_check
    CHECK (provider ~ '^[a-z][a-z0-9_]{0,31}$'),
  event_id text NOT NULL CONSTRAINT webhook_inbox_event_id_check
    CHECK (length(event_id) BETWEEN 1 AND 500),
  event_type text,
  status text NOT NULL CONSTRAINT webhook_inbox_status_check
    CHECK (status IN ('received', 'processed', 'unmatched', 'failed')),
  payload jsonb NOT NULL,
  headers jsonb NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  -- The provider account keys the event named (most specific first): how an unmatched event finds
  -- its organisation once one of them is mapped.
  account_keys text[] NOT NULL DEFAULT '{}',
  CONSTRAINT webhook_inbox_event_key UNIQUE NULLS NOT DISTINCT (provider, org_id, event_id),
  CONSTRAINT webhook_inbox_org_key UNIQUE (org_id, id),
  CONSTRAINT webhook_inbox_unmatched_check CHECK ((org_id IS NULL) = (status = 'unmatched'))
);
CREATE INDEX webhook_inbox_org_received_idx ON switchboard.webhook_inbox (org_id, received_at);
CREATE INDEX webhook_inbox_unmatched_keys_idx ON switchboard.webhook_inbox USING gin (account_keys)
  WHERE status = 'unmatched';
COMMENT ON TABLE switchboard.webhook_inbox IS
  'verified inbound webhook events, stored once per (provider, org, event id); org NULL = unmatched';
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_inbox', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.webhook_inbox_id_seq', '');
SELECT switchboard.protect('switchboard.webhook_inbox', 'org_id', 'admin', 'owner', 'owner', 'owner');

-- The id of a Twilio event, from signed parameters only (never the unsigned
-- I-Twilio-Idempotency-Token header): a recording by recording and status, a call's status
-- callback by call, status and sequence number, a message by message and status. NULL for other
-- requests (a call's first voice webhook, gathered digits ...): receive_webhook then uses the
-- digest of the signed URL and parameters the shim passes as body_sha256.
CREATE FUNCTION switchboard.twilio_event_id(payload jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE
    WHEN payload ? 'RecordingSid' AND payload ? 'RecordingStatus' THEN
      format('%s:%s', payload ->> 'RecordingSid', payload ->> 'RecordingStatus')
    WHEN payload ? 'CallSid' AND payload ? 'SequenceNumber' THEN
      format('%s:%s:%s', payload ->> 'CallSid', coalesce(payload ->> 'CallStatus', ''),
             payload ->> 'SequenceNumber')
    WHEN coalesce(payload ->> 'MessageSid', payload ->> 'SmsSid') IS NOT NULL
     AND coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus') IS NOT NULL THEN
      format('%s:%s', coalesce(payload ->> 'MessageSid', payload ->> 'SmsSid'),
             coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus'))
  END
$$;

-- The direction of a Twilio call or message: its Direction parameter; for a message without one,
-- inbound when its status is 'received', else outbound-api; NULL when unknown.
CREATE FUNCTION switchboard.twilio_direction(payload jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(payload ->> 'Direction',
    CASE WHEN coalesce(payload ->> 'MessageSid', payload ->> 'SmsSid') IS NOT NULL
         THEN CASE WHEN coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus') = 'received'
                   THEN 'inbound' ELSE 'outbound-api' END END)
$$;

-- The provider_accounts keys of a Twilio event, in order: the account (AccountSid), then the
-- number on the organisation's own side: To/Called of an inbound call or message, From/Caller of
-- an outbound-api one. Never the other party's number (whoever calls chooses it). An outbound-dial
-- leg's From is by default the original caller's number, so such legs, and events of unknown
-- direction, resolve by account only.
CREATE FUNCTION switchboard.twilio_account_keys(payload jsonb) RETURNS text[]
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT array_remove(ARRAY[payload ->> 'AccountSid'] ||
    CASE switchboard.twilio_direction(payload)
      WHEN 'inbound' THEN ARRAY[payload ->> 'To', nullif(payload ->> 'Called', payload ->> 'To')]
      WHEN 'outbound-api' THEN ARRAY[payload ->> 'From', nullif(payload ->> 'Caller', payload ->> 'From')]
      ELSE '{}'::text[]
    END, NULL)
$$;

-- The facts a provider's event carries: its id (for deduplication; only from data the signature
-- covers), its type, and the account keys to look up in provider_accounts, most specific first.
CREATE FUNCTION switchboard.webhook_facts(provider text, payload jsonb, headers jsonb,
                                          OUT event_id text, OUT event_type text, OUT account_keys text[])
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE provider
    -- the signed id, by the verifier's rule: webhook-id, else its svix- alias
    WHEN 'standard' THEN coalesce(nullif(headers ->> 'webhook-id', ''), nullif(headers ->> 'svix-id', ''))
    WHEN 'stripe' THEN payload ->> 'id'
    WHEN 'twilio' THEN switchboard.twilio_event_id(payload)
    WHEN 'ghl' THEN coalesce(payload ->> 'webhookId', payload ->> 'id')
    -- one event per call, message type, status and timestamp; without a timestamp, the body digest
    WHEN 'vapi' THEN CASE WHEN payload #>> '{message,timestamp}' IS NOT NULL THEN
      format('%s:%s:%s:%s', payload #>> '{message,call,id}', payload #>> '{message,type}',
             coalesce(payload #>> '{message,status}', ''), payload #>> '{message,timestamp}') END
  END,
  CASE provider
    WHEN 'twilio' THEN coalesce('call.' || lower(payload ->> 'CallStatus'),
                                'message.' || lower(coalesce(payload ->> 'MessageStatus', payload ->> 'SmsStatus')),
                                'recording.' || lower(payload ->> 'RecordingStatus'))
    WHEN 'vapi' THEN payload #>> '{message,type}'
    ELSE coalesce(payload ->> 'type', payload ->> 'event')
  END,
  array_remove(CASE provider
    WHEN 'standard' THEN ARRAY[payload ->> 'account_id', payload #>> '{data,account_id}']
    WHEN 'stripe' THEN ARRAY[payload ->> 'account', payload #>> '{data,object,customer}']
    WHEN 'twilio' THEN switchboard.twilio_account_keys(payload)
    WHEN 'ghl' THEN ARRAY[payload ->> 'locationId', payload ->> 'companyId']
    WHEN 'vapi' THEN ARRAY[payload #>> '{message,call,phoneNumberId}', payload #>> '{message,phoneNumber,id}',
                           payload #>> '{message,call,assistantId}', payload #>> '{message,assistant,id}',
                           payload #>> '{message,call,orgId}']
  END, NULL)
$$;
COMMENT ON FUNCTION switchboard.webhook_facts(text, jsonb, jsonb) IS
  'event id, event type and provider account keys of an inbound webhook event';

-- Ensures: the event is marked processed and its type recorded. The dispatch point where later
-- capabilities act on events (CASE provider / event_type branches go here).
CREATE FUNCTION switchboard.process_webhook(inbox_id bigint) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_row switchboard.webhook_inbox;
BEGIN
  PERFORM switchboard.require_arg(inbox_id, 'inbox_id');
  SELECT * INTO v_row FROM switchboard.webhook_inbox i WHERE i.id = inbox_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'webhook event not found' USING ERRCODE = 'P0002',
      DETAIL = format('inbox_id: %s', inbox_id);
  END IF;
  IF v_row.status <> 'received' THEN
    RETURN jsonb_build_object('reason', 'NOT_PENDING', 'inboxId', inbox_id, 'status', v_row.status);
  END IF;
  UPDATE switchboard.webhook_inbox i
     SET status = 'processed', processed_at = now(),
         event_type = coalesce(i.event_type, (switchboard.webhook_facts(i.provider, i.payload, i.headers)).event_type)
   WHERE i.id = inbox_id
  RETURNING * INTO v_row;
  RETURN jsonb_build_object('reason', 'PROCESSED', 'inboxId', inbox_id, 'status', v_row.status,
                            'eventType', v_row.event_type);
END
$$;

-- Ensures: a verified event is stored once per (provider, org, event id) and handed to
-- process_webhook; its organisation comes from provider_accounts (unmatched: stored with org
-- NULL). body_sha256 (hex SHA-256 of what the signature covers: the raw body, for Twilio the URL
-- and sorted parameters) identifies events whose provider gives them no id.
CREATE FUNCTION switchboard.receive_webhook(provider text, payload jsonb, headers jsonb DEFAULT '{}',
                                            body_sha256 text DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_facts record;
  v_org uuid;
  v_event text;
  v_id bigint;
BEGIN
  PERFORM switchboard.require_arg(provider, 'provider');
  PERFORM switchboard.require_arg(payload, 'payload');
  v_facts := switchboard.webhook_facts(provider, payload, coalesce(headers, '{}'));
  v_event := coalesce(v_facts.event_id, 'sha256:' || body_sha256);
  IF v_event IS NULL THEN
    RAISE EXCEPTION 'webhook event has no id' USING ERRCODE = '22023',
      DETAIL = format('provider: %s', provider), HINT = 'pass body_sha256 for providers without event ids';
  END IF;
  v_org := switchboard.resolve_provider_org(provider, v_facts.account_keys);
  INSERT INTO switchboard.webhook_inbox (org_id, provider, event_id, event_type, status, payload, headers,
                                         account_keys)
  VALUES (v_org, provider, v_event, v_facts.event_type,
          CASE WHEN v_org IS NULL THEN 'unmatched' ELSE 'received' END, payload,
          switchboard.webhook_kept_headers(headers), v_facts.account_keys)
  ON CONFLICT ON CONSTRAINT webhook_inbox_event_key DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    RETURN jsonb_build_object('duplicate', true, 'reason', 'DUPLICATE', 'eventId', v_event);
  END IF;
  IF v_org IS NOT NULL THEN
    PERFORM switchboard.process_webhook(v_id);
  END IF;
  RETURN jsonb_build_object('received', true,
                            'reason', CASE WHEN v_org IS NULL THEN 'UNMATCHED' ELSE 'PROCESSED' END,
                            'inboxId', v_id, 'eventId', v_event, 'orgId', v_org);
END
$$;

-- Ensures: every unmatched event of `provider` (of every provider when NULL; only those naming one
-- of `account_keys` when given) that names an account now mapped in provider_accounts belongs to
-- that organisation and has been processed; an event the organisation already holds is removed as
-- the duplicate it is. Runs by itself when mappings are added or changed; call it to catch events
-- stored while a mapping was being committed.
CREATE FUNCTION switchboard.rematch_webhooks(provider text DEFAULT NULL, account_keys text[] DEFAULT NULL)
  RETURNS jsonb LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v record;
  v_matched int := 0;
  v_duplicates int := 0;
BEGIN
  FOR v IN
    SELECT i.id, o.org
      FROM switchboard.webhook_inbox i,
           LATERAL (SELECT switchboard.resolve_provider_org(i.provider, i.account_keys) AS org) o
     WHERE i.status = 'unmatched' AND i.account_keys <> '{}'
       AND (rematch_webhooks.provider IS NULL OR i.provider = rematch_webhooks.provider)
       AND (rematch_webhooks.account_keys IS NULL OR i.account_keys && rematch_webhooks.account_keys)
       AND o.org IS NOT NULL
     ORDER BY i.id
       FOR UPDATE OF i SKIP LOCKED
  LOOP
    BEGIN
      UPDATE switchboard.webhook_inbox i SET org_id = v.org, status = 'received' WHERE i.id = v.id;
      PERFORM switchboard.process_webhook(v.id);
      v_matched := v_matched + 1;
    EXCEPTION WHEN unique_violation THEN
      DELETE FROM switchboard.webhook_inbox i WHERE i.id = v.id;
      v_duplicates := v_duplicates + 1;
    END;
  END LOOP;
  RETURN jsonb_build_object('reason', 'REMATCHED', 'matched', v_matched, 'duplicates', v_duplicates,
    'unmatched', (SELECT count(*) FROM switchboard.webhook_inbox i WHERE i.status = 'unmatched'
                    AND (rematch_webhooks.provider IS NULL OR i.provider = rematch_webhooks.provider)));
END
$$;

-- Ensures: events that were waiting for a mapping added or changed by this statement are matched.
CREATE FUNCTION switchboard.rematch_mapped_webhooks() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.rematch_webhooks(n.provider, array_agg(n.external_id))
     FROM new_rows n GROUP BY n.provider;
  RETURN NULL;
END
$$;
CREATE TRIGGER provider_accounts_rematch_insert AFTER INSERT ON switchboard.provider_accounts
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.rematch_mapped_webhooks();
CREATE TRIGGER provider_accounts_rematch_update AFTER UPDATE ON switchboard.provider_accounts
  REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.rematch_mapped_webhooks();

-- The request headers worth keeping with an event (ids, timestamps, content type, user agent);
-- never signatures or credentials.
CREATE FUNCTION switchboard.webhook_kept_headers(headers jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(jsonb_object_agg(h.key, h.value), '{}')
    FROM jsonb_each(coalesce(headers, '{}')) h
   WHERE h.key IN ('content-type', 'user-agent', 'webhook-id', 'webhook-timestamp', 'svix-id',
                   'svix-timestamp', 'i-twilio-idempotency-token', 'x-home-region', 'x-timestamp')
$$;

-------------------------------------------------------------------------------------------------
-- Tenancy listings the REST routes need.
-------------------------------------------------------------------------------------------------

-- The members of an organisation the caller belongs to (P0002 for organisations the caller cannot
-- see: row-level security decides).
CREATE FUNCTION switchboard.list_members(org_id uuid)
  RETURNS TABLE (user_id uuid, role switchboard.member_role, joined_at timestamptz)
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_organization(list_members.org_id);
  RETURN QUERY
    SELECT m.user_id, m.role, m.created_at FROM switchboard.organization_members m
     WHERE m.org_id = list_members.org_id
     ORDER BY m.role DESC, m.created_at, m.user_id;
END
$$;
COMMENT ON FUNCTION switchboard.list_members(uuid) IS
  'the members of an organisation with their roles, highest role first';

-- The organisations the caller belongs to, with the caller's role in each.
CREATE FUNCTION switchboard.list_organizations()
  RETURNS TABLE (id uuid, name text, slug text, role switchboard.member_role)
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT o.id, o.name, o.slug, switchboard.member_role(o.id)
    FROM switchboard.organizations o ORDER BY o.name, o.id
$$;
COMMENT ON FUNCTION switchboard.list_organizations() IS
  'the organisations visible to the caller (row-level security), with the caller''s role';

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

-------------------------------------------------------------------------------------------------
-- Privileges (99_privileges.sql revokes everything else from PUBLIC).
-------------------------------------------------------------------------------------------------
GRANT SELECT ON switchboard.api_routes, switchboard.api_functions, switchboard.api_internal_functions
  TO anon, authenticated, service_role;
GRANT INSERT, UPDATE, DELETE ON switchboard.api_routes, switchboard.api_internal_functions TO service_role;
GRANT EXECUTE ON FUNCTION
  switchboard.api_function_args(oid), switchboard.api_schema(), switchboard.api_path_params(text),
  switchboard.api_route_problems(), switchboard.api_json_schema(oid),
  switchboard.api_result_schema(switchboard.api_functions),
  switchboard.api_operation(switchboard.api_functions, text, text, text, jsonb, text[]),
  switchboard.openapi(text)
  TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION switchboard.list_members(uuid), switchboard.list_organizations()
  TO authenticated, service_role;
GRANT EXECUTE ON FUNCTION
  switchboard.twilio_event_id(jsonb), switchboard.twilio_direction(jsonb),
  switchboard.twilio_account_keys(jsonb),
  switchboard.webhook_facts(text, jsonb, jsonb), switchboard.webhook_kept_headers(jsonb),
  switchboard.resolve_provider_org(text, text[]), switchboard.process_webhook(bigint),
  switchboard.receive_webhook(text, jsonb, jsonb, text), switchboard.rematch_webhooks(text, text[])
  TO service_role;
GRANT EXECUTE ON FUNCTION switchboard.notify_api_changed() TO anon, authenticated, service_role;
-- The tenancy argument checks, used by the functions above as the caller (not as definer).
GRANT EXECUTE ON FUNCTION switchboard.require_arg(anyelement, text), switchboard.require_organization(uuid)
  TO authenticated, service_role;
GRANT SELECT ON switchboard.provider_accounts, switchboard.webhook_inbox TO authenticated;
GRANT ALL ON switchboard.provider_accounts, switchboard.webhook_inbox TO service_role;
