-- Scale-out on Citus: switchboard.distribute() turns an installed Switchboard on a Citus
-- coordinator into a distributed one. The layout (one list, read by distribute() and the tests):
--   reference  replicated to every node: the catalogs every node's functions read, and the tables
--              whose uniqueness spans organisations (organizations' slug, provider_accounts'
--              provider account keys). Organisations are one row per tenant, written rarely and
--              read by every tenant-scoped call, so every node keeps a copy.
--   local      stay on the coordinator only (Citus local tables or plain tables): the shim's route
--              catalog, the webhook inbox (an event is kept before its organisation is known, with
--              org_id NULL, so it cannot be placed by org_id), the kill switch audit.
--   tenant     distributed by org_id, all in one colocation group (anchored by
--              organization_members), so an organisation's rows of every table live on one node.
CREATE TABLE switchboard.distribution_layout (
  table_name name PRIMARY KEY,
  kind text NOT NULL CONSTRAINT distribution_layout_kind_check
    CHECK (kind IN ('reference', 'local', 'tenant')),
  position integer NOT NULL UNIQUE,
  why text NOT NULL
);
COMMENT ON TABLE switchboard.distribution_layout IS
  'how switchboard.distribute() places each table of schema switchboard on a Citus cluster, in order';
INSERT INTO switchboard.distribution_layout (table_name, kind, position, why) VALUES
  ('features', 'reference', 10, 'the feature catalog'),
  ('plan_tiers', 'reference', 11, 'the plan catalog'),
  ('plan_tier_features', 'reference', 12, 'the plan catalog'),
  ('global_feature_flags', 'reference', 13, 'kill switches every node checks'),
  ('organizations', 'reference', 14, 'one row per tenant; the slug is unique across tenants'),
  ('provider_accounts', 'reference', 15, 'a provider account key belongs to one organisation at most'),
  ('member_defaults', 'reference', 18, 'one default organisation per user, across tenants'),
  ('api_routes', 'local', 20, 'read by switchboard-shim on the coordinator'),
  ('api_internal_functions', 'local', 21, 'read by switchboard-shim on the coordinator'),
  ('api_result_schemas', 'local', 25, 'read by switchboard-shim on the coordinator'),
  ('webhook_inbox', 'local', 22, 'unmatched events have no organisation yet'),
  ('kill_switch_audit', 'local', 23, 'written where kill switches are set'),
  ('distribution_layout', 'local', 24, 'this list'),
  ('organization_members', 'tenant', 30, 'the colocation group''s anchor'),
  ('subscriptions', 'tenant', 31, 'one per organisation'),
  ('feature_overrides', 'tenant', 32, 'per organisation'),
  ('plan_change_requests', 'tenant', 33, 'per organisation'),
  ('feature_usage', 'tenant', 34, 'per organisation'),
  ('feature_reservations', 'tenant', 35, 'per organisation'),
  ('usage_events', 'tenant', 36, 'per organisation'),
  ('entitlement_audit', 'tenant', 37, 'per organisation'),
  ('calendars', 'tenant', 38, 'per organisation'),
  ('appointments', 'tenant', 39, 'per organisation, after its calendars'),
  ('phone_numbers', 'tenant', 50, 'per organisation'),
  ('caller_id_verifications', 'tenant', 51, 'per organisation'),
  ('caller_id_sends', 'tenant', 52, 'per organisation'),
  ('forwarding_configs', 'tenant', 53, 'per organisation, after its verified numbers'),
  ('pipeline_stages', 'tenant', 60, 'per organisation'),
  ('contacts', 'tenant', 61, 'per organisation, after its stages'),
  ('calls', 'tenant', 62, 'per organisation, after its contacts'),
  ('call_note_tags', 'tenant', 63, 'per organisation'),
  ('call_notes', 'tenant', 64, 'per organisation, after its calls'),
  ('dispositions', 'tenant', 65, 'per organisation'),
  ('disposition_events', 'tenant', 66, 'per organisation, after its calls'),
  ('messages', 'tenant', 67, 'per organisation, after its contacts'),
  ('contact_metrics', 'tenant', 68, 'per organisation'),
  ('event_types', 'reference', 16, 'the catalog of webhook event types'),
  ('webhook_endpoints', 'tenant', 70, 'per organisation'),
  ('webhook_endpoint_secrets', 'tenant', 71, 'per organisation, after its endpoints'),
  ('webhook_messages', 'tenant', 72, 'per organisation'),
  ('webhook_deliveries', 'tenant', 73, 'per organisation, after its messages and endpoints'),
  ('webhook_attempts', 'tenant', 74, 'per organisation, after its deliveries'),
  ('outbound_state', 'reference', 17, 'the delivery switch, read by the delivery worker of every node');

-- The functions distribute() distributes by their org_id argument, colocated with the tenant
-- tables: a call through the coordinator is delegated to the node holding the organisation's
-- shards, where its locks, counters and reads hold. Left on the coordinator: helpers (names
-- starting with _; but _assert_narrowing_override, a check set_feature_override makes as its owner
-- that reads the organisation's rows, re-issued by base_routing's kRoutedHelpers), pending_plan_changes (org_id NULL means every organisation) and
-- request_plan_change (its NOTIFY reaches billing backends listening on the coordinator) and
-- set_default_org (it writes the member_defaults reference table, which Citus refuses from a call
-- it delegated inside BEGIN ... COMMIT).
CREATE VIEW switchboard.distribution_functions AS
SELECT p.oid::regprocedure AS fn
  FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'switchboard'::pg_catalog.regnamespace
   AND p.prokind = 'f'
   AND p.pronargs > 0
   AND p.proargtypes[0] = 'pg_catalog.uuid'::pg_catalog.regtype
   AND p.proargnames[1] = 'org_id'
   AND (p.proname !~ '^_' OR p.proname IN ('_assert_narrowing_override'))
   AND p.proname NOT IN ('pending_plan_changes', 'request_plan_change', 'set_default_org');
COMMENT ON VIEW switchboard.distribution_functions IS
  'the tenant-scoped functions switchboard.distribute() distributes by their org_id argument';

-- Whether `relid` is a Citus shard of a switchboard table (<table>_<shardid> on the node holding
-- it): the one check the built-in triggers make to skip work a shard cannot do.
CREATE FUNCTION switchboard._is_shard(relid oid) RETURNS boolean
  LANGUAGE c STABLE STRICT PARALLEL SAFE AS 'MODULE_PATHNAME', 'sb_is_shard';

-- The shards of a hash-distributed switchboard table (one the C++ readers place) on this node:
-- what a trigger on a Citus shard, which cannot reach other nodes, may update.
CREATE FUNCTION switchboard._local_shards(tbl regclass) RETURNS oid[]
  LANGUAGE c STABLE STRICT AS 'MODULE_PATHNAME', 'sb_local_shards';

-- The answer of `query` (a query of Citus's catalogs, one value, $1 = `arg`), or NULL on a server
-- without Citus.
CREATE FUNCTION switchboard.citus_metadata(query text, arg oid) RETURNS text
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_answer text;
BEGIN
  IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
    RETURN NULL;
  END IF;
  EXECUTE query INTO v_answer USING arg;
  RETURN v_answer;
END
$$;

-- The state of one table on this server: 'reference', 'tenant' (distributed by org_id), 'local'.
CREATE FUNCTION switchboard.distribution_state(t regclass) RETURNS text
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(switchboard.citus_metadata(
    'SELECT CASE p.partmethod WHEN ''n'' THEN CASE p.repmodel WHEN ''t'' THEN ''reference'' END
                              WHEN ''h'' THEN ''tenant'' END
       FROM pg_catalog.pg_dist_partition p WHERE p.logicalrelid OPERATOR(pg_catalog.=) $1', t), 'local')
$$;

-- Whether function fn is distributed (has a distribution argument in Citus's metadata) with
-- force_delegation, so that a call inside BEGIN ... COMMIT (the SET LOCAL role and claims before
-- it travel with it) is delegated too.
CREATE FUNCTION switchboard.function_distributed(fn regprocedure) RETURNS boolean
  LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(switchboard.citus_metadata(
    'SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_object o
                     WHERE o.classid OPERATOR(pg_catalog.=) ''pg_catalog.pg_proc''::pg_catalog.regclass
                       AND o.objid OPERATOR(pg_catalog.=) $1
                       AND o.distribution_argument_index IS NOT NULL
                       AND o.force_delegation)', fn)::boolean, false)
$$;


-- Ensures: on a Citus coordinator, every table of switchboard.distribution_layout is placed as it
-- says (reference tables first, then the tenant tables distributed by org_id in one colocation
-- group, their foreign keys kept), the rows the tables held before are in their shards and the
-- coordinator's local copies are emptied. Idempotent: a second call changes nothing and says so.
-- A server without Citus answers {"distributed": false, "reason": "CITUS_NOT_INSTALLED"}.
-- options: {"shardCount": n} (default citus.shard_count) for the tenant tables.
CREATE FUNCTION switchboard.distribute(options jsonb DEFAULT '{}') RETURNS jsonb
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_key text;
  v_shards integer;
  v_anchor regclass;
  r record;
  v_table regclass;
  v_fn regprocedure;
  v_changed jsonb := '[]';
  v_keys jsonb := '[]';
  v_dropped jsonb := '[]';
  -- The API roles a request runs as (SET LOCAL ROLE): Citus opens a delegated call's connection
  -- to the worker as the current role, so on the workers they must be able to log in.
  v_api_roles text[] := ARRAY['anon', 'authenticated', 'service_role'];
BEGIN
  PERFORM switchboard.require_arg(options, 'options');
  IF jsonb_typeof(options) <> 'object' THEN
    RAISE EXCEPTION 'distribution options must be a json object' USING ERRCODE = '22023',
      DETAIL = format('The options given were %s.', options);
  END IF;
  FOR v_key IN SELECT jsonb_object_keys(options) LOOP
    IF v_key <> 'shardCount' THEN
      RAISE EXCEPTION 'unknown distribution option' USING ERRCODE = '22023',
        DETAIL = format('Option "%s" is not a distribution option.', v_key), HINT = 'The only option is shardCount.';
    END IF;
  END LOOP;
  IF options ? 'shardCount' THEN
    IF jsonb_typeof(options -> 'shardCount') <> 'number'
       OR (options ->> 'shardCount') !~ '^[0-9]{1,5}$'
       OR (options ->> 'shardCount')::integer NOT BETWEEN 1 AND 64000 THEN
      RAISE EXCEPTION 'invalid shard count' USING ERRCODE = '22023',
        DETAIL = format('The shardCount given was %s.', options -> 'shardCount'),
        HINT = 'Use a whole number from 1 to 64000.';
    END IF;
    v_shards := (options ->> 'shardCount')::integer;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
    RETURN jsonb_build_object('distributed', false, 'reason', 'CITUS_NOT_INSTALLED', 'changed', v_changed);
  END IF;
  IF NOT pg_catalog.citus_is_coordinator() THEN
    RAISE EXCEPTION 'switchboard is distributed from the Citus coordinator' USING ERRCODE = '55000',
      DETAIL = 'This node is a Citus worker.', HINT = 'Call switchboard.distribute() on the coordinator.';
  END IF;
  -- Extension triggers (cache invalidation, audit, membership rules) run on the shards.
  SET LOCAL citus.enable_unsafe_triggers = on;
  SET LOCAL citus.multi_shard_modify_mode = 'sequential';
  SET LOCAL client_min_messages = warning;  -- Citus's notices about copying and keys skipped
  SELECT format('switchboard.%I', d.table_name)::regclass INTO v_anchor
    FROM switchboard.distribution_layout d WHERE d.kind = 'tenant' ORDER BY d.position LIMIT 1;
  -- Foreign keys come off first: otherwise Citus turns the local tables that reference a new
  -- reference table into Citus local tables, whose new shells collide with the workers' own
  -- extension tables. They are put back once every table is placed; a key from a table that stays
  -- local to one that is placed cannot be (Citus refuses it) and is reported as dropped.
  IF EXISTS (SELECT 1 FROM switchboard.distribution_layout d
              WHERE d.kind <> 'local'
                AND switchboard.distribution_state(format('switchboard.%I', d.table_name)::regclass) <> d.kind) THEN
    SELECT coalesce(jsonb_agg(jsonb_build_object(
             'table', c.conrelid::regclass::text, 'name', c.conname, 'definition', pg_get_constraintdef(c.oid),
             'kept', NOT (l.kind = 'local' AND coalesce(t.kind, 'local') <> 'local'))
             ORDER BY l.position, c.conname), '[]')
      INTO v_keys
      FROM pg_constraint c
      JOIN switchboard.distribution_layout l ON format('switchboard.%I', l.table_name)::regclass = c.conrelid
      LEFT JOIN switchboard.distribution_layout t ON format('switchboard.%I', t.table_name)::regclass = c.confrelid
     WHERE c.contype = 'f';
    FOR r IN SELECT c.conrelid::regclass AS tbl, c.conname
               FROM pg_constraint c
               JOIN switchboard.distribution_layout l ON format('switchboard.%I', l.table_name)::regclass = c.conrelid
              WHERE c.contype = 'f' LOOP
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', r.tbl, r.conname);
    END LOOP;
  END IF;
  FOR r IN SELECT d.table_name, d.kind FROM switchboard.distribution_layout d ORDER BY d.position LOOP
    v_table := format('switchboard.%I', r.table_name)::regclass;
    CONTINUE WHEN r.kind = 'local' OR switchboard.distribution_state(v_table) = r.kind;
    IF r.kind = 'reference' THEN
      PERFORM pg_catalog.create_reference_table(v_table);
    ELSIF v_table = v_anchor THEN
      PERFORM pg_catalog.create_distributed_table(v_table, 'org_id', colocate_with => 'none',
                                                  shard_count => v_shards);
    ELSE
      PERFORM pg_catalog.create_distributed_table(v_table, 'org_id', colocate_with => v_anchor::text);
    END IF;
    PERFORM pg_catalog.truncate_local_data_after_distributing_table(v_table);
    v_changed := v_changed || to_jsonb(r.table_name::text);
  END LOOP;
  FOR r IN SELECT k.* FROM jsonb_to_recordset(v_keys) AS k("table" text, name text, definition text, kept boolean) LOOP
    IF r.kept THEN
      -- The workers' copies of the extension's tables still have the key: drop it there first.
      EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', r."table", r.name);
      EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', r."table", r.name, r.definition);
    ELSE
      v_dropped := v_dropped || jsonb_build_object('table', r."table", 'constraint', r.name);
    END IF;
  END LOOP;
  FOR v_fn IN SELECT f.fn FROM switchboard.distribution_functions f ORDER BY f.fn::text LOOP
    CONTINUE WHEN switchboard.function_distributed(v_fn);
    PERFORM pg_catalog.create_distributed_function(v_fn, 'org_id', colocate_with => v_anchor::text,
                                                   force_delegation => true);
    v_changed := v_changed || to_jsonb(v_fn::text);
  END LOOP;
  -- The workers let the API roles log in (their pg_hba.conf admits them from the coordinator only),
  -- without propagating that to the coordinator, where they stay NOLOGIN.
  SELECT string_agg(format('ALTER ROLE %I LOGIN;', a.rolname), ' ' ORDER BY a.rolname) INTO v_key
    FROM unnest(v_api_roles) AS a(rolname);
  IF EXISTS (SELECT 1 FROM pg_catalog.run_command_on_workers(
               format('SELECT count(*) FROM pg_catalog.pg_roles WHERE rolcanlogin AND rolname IN (%s)',
                      (SELECT string_agg(quote_literal(a.rolname), ', ') FROM unnest(v_api_roles) AS a(rolname)))) w
              WHERE NOT w.success
                 OR w.result::integer <> cardinality(v_api_roles)) THEN
    PERFORM pg_catalog.run_command_on_workers(format(
      'DO $login$ BEGIN PERFORM pg_catalog.set_config(''citus.enable_ddl_propagation'', ''off'', true); %s END $login$', v_key));
    v_changed := v_changed || to_jsonb('API roles LOGIN on the workers'::text);
  END IF;
  -- The caller's claims reach the node a call runs on by themselves (sb::pg::init_routing sends
  -- only them); a session that sent every SET LOCAL on would send its ROLE too, and a SECURITY
  -- DEFINER function's queries on other nodes would then run as the caller. Undone where an
  -- earlier version set it.
  IF EXISTS (SELECT 1 FROM pg_catalog.pg_db_role_setting s
              WHERE s.setrole = 'switchboard_authenticator'::regrole AND s.setdatabase = 0
                AND 'citus.propagate_set_commands=local' = ANY (s.setconfig)) THEN
    ALTER ROLE switchboard_authenticator RESET citus.propagate_set_commands;
    v_changed := v_changed || to_jsonb('switchboard_authenticator no longer sends every SET LOCAL on'::text);
  END IF;
  -- Every node's webhook delivery worker (re)starts and serves the outbox shards it now holds
  -- (each command commits on its own there, which wakes that node's worker). A worker that does
  -- not see the extension yet (created in this same transaction) is woken by its commit instead.
  PERFORM switchboard._outbound_wake();
  PERFORM pg_catalog.run_command_on_workers(
    'DO $wake$ BEGIN IF pg_catalog.to_regprocedure(''switchboard._outbound_wake()'') IS NOT NULL THEN '
    'PERFORM switchboard._outbound_wake(); END IF; END $wake$');
  RETURN jsonb_build_object('distributed', true,
                            'reason', CASE WHEN v_changed = '[]' THEN 'ALREADY_DISTRIBUTED' ELSE 'DISTRIBUTED' END,
                            'changed', v_changed, 'droppedForeignKeys', v_dropped);
END
$$;
COMMENT ON FUNCTION switchboard.distribute(jsonb) IS
  'on a Citus coordinator: place the tables as switchboard.distribution_layout says (idempotent)';
