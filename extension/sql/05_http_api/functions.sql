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
