-- The HTTP API's functions: schema change notices for running shims, the callable functions,
-- the schema document the shim caches and the OpenAPI document.
-- Ensures: a NOTIFY on `channel`, delivered when the transaction commits - except in a session
-- Citus opened to run its part of a distributed transaction (a worker executing DDL, a reference
-- table write or a delegated call), which Citus commits with PREPARE TRANSACTION, and PostgreSQL
-- refuses to prepare a transaction that sent NOTIFY. Listeners (switchboard-shim, billing
-- backends) connect to the coordinator, whose own transaction is never prepared and notifies.
CREATE FUNCTION switchboard.notify(channel text, payload text) RETURNS void
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF pg_catalog.current_setting('application_name') OPERATOR(pg_catalog.~)
       '^citus_(internal|rebalancer|run_command) gpid=' THEN
    RETURN;
  END IF;
  PERFORM pg_catalog.pg_notify(channel, payload);
END
$$;

-- Ensures: switchboard-shim instances reload their cached schema after the transaction commits.
-- (Both notices run as the owner: switchboard.notify is not executable by the roles changing
-- routes or running DDL.)
CREATE FUNCTION switchboard.notify_api_changed() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.notify('switchboard_api', 'reload');
  RETURN NULL;
END
$$;

CREATE TRIGGER api_routes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON switchboard.api_routes FOR EACH STATEMENT EXECUTE FUNCTION switchboard.notify_api_changed();

-- Ensures: the same after any DDL (functions created, replaced or dropped).
CREATE FUNCTION switchboard.notify_ddl_changed() RETURNS event_trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.notify('switchboard_api', 'reload');
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
CREATE TRIGGER api_internal_functions_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON switchboard.api_internal_functions
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.notify_api_changed();
CREATE TRIGGER api_result_schemas_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
  ON switchboard.api_result_schemas
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.notify_api_changed();

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
       pg_catalog.obj_description(p.oid, 'pg_proc') AS description,
       CASE WHEN rt.typtype = 'c'
            THEN (SELECT pg_catalog.jsonb_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = rt.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
            WHEN rt.oid = 'pg_catalog.record'::pg_catalog.regtype
            THEN (SELECT pg_catalog.jsonb_agg(o.name ORDER BY o.ord)
                    FROM ROWS FROM (pg_catalog.unnest(p.proargnames), pg_catalog.unnest(p.proargmodes::text[]))
                           WITH ORDINALITY o(name, mode, ord)
                   WHERE o.mode IN ('o', 'b', 't')) END AS result_columns,
       -- the result columns of type timestamptz (a scalar one: the function's name), which the
       -- shim writes as every answer writes times (switchboard.answer_time)
       CASE WHEN rt.typtype = 'c'
            THEN coalesce((SELECT pg_catalog.jsonb_agg(a.attname ORDER BY a.attnum) FROM pg_catalog.pg_attribute a
                   WHERE a.attrelid = rt.typrelid AND a.attnum > 0 AND NOT a.attisdropped
                     AND a.atttypid = 'pg_catalog.timestamptz'::pg_catalog.regtype), '[]')
            WHEN rt.oid = 'pg_catalog.record'::pg_catalog.regtype
            THEN coalesce((SELECT pg_catalog.jsonb_agg(o.name ORDER BY o.ord)
                    FROM ROWS FROM (pg_catalog.unnest(p.proargnames), pg_catalog.unnest(p.proargmodes::text[]),
                                    pg_catalog.unnest(p.proallargtypes))
                           WITH ORDINALITY o(name, mode, type, ord)
                   WHERE o.mode IN ('o', 'b', 't')
                     AND o.type = 'pg_catalog.timestamptz'::pg_catalog.regtype), '[]')
            WHEN rt.oid = 'pg_catalog.timestamptz'::pg_catalog.regtype
            THEN pg_catalog.jsonb_build_array(p.proname::text)
            ELSE '[]' END AS time_columns
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
  WITH fns AS MATERIALIZED (SELECT f.* FROM switchboard.api_functions f),  -- read once
  tables AS (
    SELECT c.relname::text AS name,
           coalesce((SELECT pg_catalog.jsonb_agg(DISTINCT f.name) FROM fns f
                      WHERE f.return_type OPERATOR(pg_catalog.=) c.reltype), '[]') AS functions,
           coalesce((SELECT pg_catalog.jsonb_agg(r.method || ' ' || r.path ORDER BY r.path, r.method)
                       FROM switchboard.api_routes r
                      WHERE EXISTS (SELECT 1 FROM fns f
                                     WHERE f.name OPERATOR(pg_catalog.=) r.function_name
                                       AND f.return_type OPERATOR(pg_catalog.=) c.reltype)), '[]') AS routes
      FROM pg_catalog.pg_class c
     WHERE c.relnamespace OPERATOR(pg_catalog.=) 'switchboard'::pg_catalog.regnamespace
       AND c.relkind IN ('r', 'v', 'm', 'p', 'f'))
  SELECT pg_catalog.jsonb_build_object(
    'functions', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                             'oid', f.oid::bigint, 'name', f.name, 'volatility', f.volatility,
                             'returnsSet', f.returns_set, 'returnsVoid', f.returns_void, 'args', f.args,
                             'columns', f.result_columns, 'timeColumns', f.time_columns)
                           ORDER BY f.name, f.oid) FROM fns f), '[]'),
    'tables', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                          'name', t.name, 'functions', t.functions, 'routes', t.routes) ORDER BY t.name)
                         FROM tables t), '[]'),
    'routes', coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                          'method', r.method, 'path', r.path, 'function', r.function_name,
                          'argNames', r.arg_names, 'orgArg', r.org_arg, 'statuses', r.statuses)
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
  UNION ALL
  SELECT r.method, r.path, pg_catalog.format('status %s of reason %s is not an HTTP status from 200 to 599',
                                              s.value, s.key)
    FROM routes r, pg_catalog.jsonb_each(r.statuses) s
   WHERE NOT (pg_catalog.jsonb_typeof(s.value) = 'number'
              AND s.value::text OPERATOR(pg_catalog.~) '^[2-5][0-9][0-9]$')
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

-- The JSON Schema of the rows of function fn (a composite type or OUT/TABLE columns), or NULL.
CREATE FUNCTION switchboard.api_row_schema(fn oid) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH columns AS (
    SELECT a.attname::text AS name, a.atttypid AS type
      FROM pg_catalog.pg_proc p
      JOIN pg_catalog.pg_type t ON t.oid OPERATOR(pg_catalog.=) p.prorettype
      JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.typrelid
     WHERE p.oid OPERATOR(pg_catalog.=) fn AND t.typtype = 'c' AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT o.name, o.type
      FROM pg_catalog.pg_proc p,
           ROWS FROM (pg_catalog.unnest(p.proallargtypes), pg_catalog.unnest(p.proargnames),
                      pg_catalog.unnest(p.proargmodes::text[])) o(type, name, mode)
     WHERE p.oid OPERATOR(pg_catalog.=) fn
       AND p.prorettype OPERATOR(pg_catalog.=) 'pg_catalog.record'::pg_catalog.regtype
       AND o.mode IN ('o', 'b', 't'))
  SELECT pg_catalog.jsonb_build_object('type', 'object', 'properties',
           pg_catalog.jsonb_object_agg(c.name, switchboard.api_json_schema(c.type)))
    FROM columns c HAVING pg_catalog.count(*) > 0
$$;

-- The response schema of a function: its registered answer (api_result_schemas), its row, or its
-- type; an array of them for set-returning functions.
CREATE FUNCTION switchboard.api_result_schema(f switchboard.api_functions) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT CASE WHEN f.returns_set THEN pg_catalog.jsonb_build_object('type', 'array', 'items', v.s)
              ELSE v.s END
    FROM (SELECT coalesce((SELECT r.schema FROM switchboard.api_result_schemas r
                            WHERE r.function_name OPERATOR(pg_catalog.=) f.name),
                          switchboard.api_row_schema(f.oid),
                          switchboard.api_json_schema(f.return_type)) AS s) v
$$;

-- One OpenAPI operation calling f. request_names maps the names a request uses (path, query and
-- body) to argument names where they differ; the arguments in path_params come from the path,
-- those in skip_args (the JWT's org) from nowhere, the others from the query (GET, DELETE) or the
-- body, each under its request name.
CREATE FUNCTION switchboard.api_operation(
  f switchboard.api_functions, method text, summary text, tag text, request_names jsonb,
  path_params text[], skip_args text[])
  RETURNS jsonb LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH args AS (
    SELECT coalesce((SELECT n.key FROM pg_catalog.jsonb_each_text(request_names) n
                      WHERE n.value OPERATOR(pg_catalog.=) (a ->> 'name') ORDER BY n.key LIMIT 1),
                    a ->> 'name') AS name,
           (a ->> 'typeOid')::oid AS type, (a ->> 'hasDefault')::boolean AS optional
      FROM pg_catalog.jsonb_array_elements(f.args) a
     WHERE a ->> 'name' <> '' AND NOT (a ->> 'name') = ANY (coalesce(skip_args, '{}'))),
  placed AS (
    SELECT a.*, a.name = ANY (coalesce(path_params, '{}')) AS in_path FROM args a),
  params AS (
    SELECT pg_catalog.jsonb_build_object('name', name,
             'in', CASE WHEN in_path THEN 'path' ELSE 'query' END,
             'required', in_path OR NOT optional,
             'schema', switchboard.api_json_schema(type)) AS p
      FROM placed WHERE in_path OR method IN ('get', 'delete')),
  body AS (
    SELECT pg_catalog.jsonb_build_object('type', 'object',
             'properties', pg_catalog.jsonb_object_agg(name, switchboard.api_json_schema(type)),
             'required', pg_catalog.jsonb_agg(name) FILTER (WHERE NOT optional)) AS s,
           pg_catalog.bool_or(NOT optional) AS required
      FROM placed WHERE NOT in_path AND method NOT IN ('get', 'delete') HAVING pg_catalog.count(*) > 0)
  SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'summary', coalesce(summary, f.description),
    'operationId', method || '_' || f.name || CASE WHEN tag = 'rpc' THEN '_rpc' ELSE '' END,
    'tags', pg_catalog.jsonb_build_array(tag),
    'parameters', (SELECT pg_catalog.jsonb_agg(p) FROM params),
    'requestBody', (SELECT pg_catalog.jsonb_build_object('required', b.required, 'content',
                      pg_catalog.jsonb_build_object('application/json', pg_catalog.jsonb_build_object('schema', b.s)))
                      FROM body b),
    'responses', CASE WHEN f.returns_void
      THEN '{"204": {"description": "done"}, "default": {"$ref": "#/components/responses/Error"}}'::jsonb
      ELSE pg_catalog.jsonb_build_object('200', pg_catalog.jsonb_build_object('description', 'the result',
             'content', pg_catalog.jsonb_build_object('application/json',
               pg_catalog.jsonb_build_object('schema', switchboard.api_result_schema(f)))),
             'default', '{"$ref": "#/components/responses/Error"}'::jsonb) END))
$$;

-- The endpoints switchboard-shim serves besides the routes and /rpc (OpenAPI path items).
CREATE FUNCTION switchboard.api_shim_paths() RETURNS jsonb
  LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT '{
    "/healthz": {"get": {"summary": "the shim is running", "operationId": "get_healthz",
      "tags": ["operations"], "security": [],
      "responses": {"200": {"description": "running", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"status": {"type": "string", "enum": ["ok"]}}}}}}}}},
    "/readyz": {"get": {"summary": "the shim can reach the database", "operationId": "get_readyz",
      "tags": ["operations"], "security": [],
      "responses": {"200": {"description": "ready", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"status": {"type": "string", "enum": ["ready"]}}}}}},
        "503": {"$ref": "#/components/responses/Error"}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics (the metrics token or a service_role JWT)",
      "operationId": "get_metrics", "tags": ["operations"],
      "responses": {"200": {"description": "the text exposition format 0.0.4",
        "content": {"text/plain": {"schema": {"type": "string"}}}},
        "401": {"$ref": "#/components/responses/Error"}, "403": {"$ref": "#/components/responses/Error"}}}},
    "/openapi.json": {"get": {"summary": "this document (the /rpc functions the caller may execute)",
      "operationId": "get_openapi", "tags": ["operations"],
      "responses": {"200": {"description": "an OpenAPI 3.0 document",
        "content": {"application/json": {"schema": {"type": "object"}}}}}}},
    "/webhooks/{provider}": {"post": {"summary": "an inbound webhook, verified with the provider''s signature and stored once",
      "operationId": "post_webhook", "tags": ["webhooks"], "security": [],
      "parameters": [{"name": "provider", "in": "path", "required": true,
        "schema": {"type": "string", "enum": ["standard", "stripe", "twilio", "ghl", "vapi"]}}],
      "requestBody": {"required": true, "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
      "responses": {"200": {"description": "the event was stored (or was a replay)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookReceipt"}}}},
        "401": {"$ref": "#/components/responses/Error"},
        "503": {"$ref": "#/components/responses/Error"}}}}
  }'::jsonb
$$;

-- Ensures: an OpenAPI 3.0 document of every route of api_routes whose function exists, and of
-- /rpc/{function} for each function the current role may execute (GET too for stable ones).
CREATE FUNCTION switchboard.openapi(server_url text DEFAULT NULL) RETURNS jsonb
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  WITH fns AS MATERIALIZED (  -- read once; the first overload of each name is documented
    SELECT f, f.name, f.oid, f.volatility,
           pg_catalog.row_number() OVER (PARTITION BY f.name ORDER BY f.oid) AS nth
      FROM switchboard.api_functions f),
  route_ops AS (
    SELECT r.path, pg_catalog.lower(r.method) AS method, r.statuses,
           switchboard.api_operation(x.f, pg_catalog.lower(r.method), r.summary, r.area, r.arg_names,
             switchboard.api_path_params(r.path), pg_catalog.array_remove(ARRAY[r.org_arg], NULL)) AS op
      FROM switchboard.api_routes r
      JOIN fns x ON x.name OPERATOR(pg_catalog.=) r.function_name AND x.nth OPERATOR(pg_catalog.=) 1),
  ops AS (  -- a route's answer statuses (api_routes.statuses) are responses with the answer's schema
    SELECT o.path, o.method,
           CASE WHEN o.statuses OPERATOR(pg_catalog.=) '{}' THEN o.op
                ELSE pg_catalog.jsonb_set(o.op, '{responses}', (o.op OPERATOR(pg_catalog.->) 'responses')
                       OPERATOR(pg_catalog.||) (SELECT pg_catalog.jsonb_object_agg(s.status,
                           pg_catalog.jsonb_build_object('description', 'answer reason ' || s.reasons,
                             'content', o.op OPERATOR(pg_catalog.#>) '{responses,200,content}'))
                         FROM (SELECT e.value AS status, pg_catalog.string_agg(e.key, ', ' ORDER BY e.key) AS reasons
                                 FROM pg_catalog.jsonb_each_text(o.statuses) e GROUP BY e.value) s)) END AS op
      FROM route_ops o
    UNION ALL
    SELECT '/rpc/' || x.name, m.method, switchboard.api_operation(x.f, m.method, NULL, 'rpc', '{}', '{}', '{}')
      FROM fns x, LATERAL (VALUES ('post'), ('get')) m(method)
     WHERE x.nth OPERATOR(pg_catalog.=) 1 AND pg_catalog.has_function_privilege(x.oid, 'EXECUTE')
       AND (m.method = 'post' OR x.volatility IN ('s', 'i'))),
  paths AS (
    SELECT o.path, pg_catalog.jsonb_object_agg(o.method, o.op) AS item FROM ops o GROUP BY o.path)
  SELECT pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'openapi', '3.0.3',
    'info', pg_catalog.jsonb_build_object('title', 'Switchboard API', 'version',
              (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'switchboard')),
    'servers', CASE WHEN server_url IS NOT NULL
                    THEN pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('url', server_url)) END,
    'security', '[{"bearerAuth": []}]'::jsonb,
    'paths', coalesce((SELECT pg_catalog.jsonb_object_agg(p.path, p.item) FROM paths p), '{}')
             OPERATOR(pg_catalog.||) switchboard.api_shim_paths(),
    'components', '{
      "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
      "schemas": {"WebhookReceipt": {"type": "object", "properties": {
        "received": {"type": "boolean"}, "duplicate": {"type": "boolean"},
        "reason": {"type": "string", "enum": ["PROCESSED", "UNMATCHED", "DUPLICATE"]},
        "inboxId": {"type": "integer"}, "eventId": {"type": "string"},
        "orgId": {"type": "string", "format": "uuid", "nullable": true}}},
      "Error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "string", "nullable": true}, "hint": {"type": "string", "nullable": true}}}},
      "responses": {"Error": {"description": "an error, with the SQLSTATE as code",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}}}'::jsonb))
$$;
