-- protect(): row-level security for any tenant table in one call.

-- Ensures: RLS is on for tbl with the switchboard policies (select/insert/update/delete for
-- authenticated members by minimum role, plus a service_role bypass), replacing earlier ones; the
-- caller must own the table. Other roles (anon included) see no rows.
-- scope 'active': a request reaches the rows of one organisation, switchboard.active_org_id() (the
-- JWT's app_metadata.org_id, or the caller's only organisation): an equality the org_id index
-- serves exactly like an explicit WHERE org_id = ... . scope 'all': the rows of every organisation
-- the caller belongs to (for small tables such as the list of one's organisations).
CREATE FUNCTION switchboard.protect(
  tbl regclass,
  org_column name DEFAULT 'org_id',
  select_role switchboard.member_role DEFAULT 'viewer',
  insert_role switchboard.member_role DEFAULT 'manager',
  update_role switchboard.member_role DEFAULT 'agent',
  delete_role switchboard.member_role DEFAULT 'admin',
  scope text DEFAULT 'active')
  RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_type regtype;
  v_rule text := CASE scope
    WHEN 'active' THEN '%I = (SELECT switchboard.active_org_id(%L::switchboard.member_role))'
    WHEN 'all' THEN '%I = ANY ((SELECT switchboard.member_org_ids(%L::switchboard.member_role))::uuid[])'
  END;
  v_policy text;
BEGIN
  PERFORM switchboard.require_arg(tbl, 'tbl');
  PERFORM switchboard.require_arg(org_column, 'org_column');
  PERFORM switchboard.require_arg(select_role, 'select_role');
  PERFORM switchboard.require_arg(insert_role, 'insert_role');
  PERFORM switchboard.require_arg(update_role, 'update_role');
  PERFORM switchboard.require_arg(delete_role, 'delete_role');
  IF v_rule IS NULL THEN
    RAISE EXCEPTION 'unknown protect scope' USING ERRCODE = '22023',
      DETAIL = format('scope: %s', coalesce(scope, 'NULL')),
      HINT = 'active (rows of the request''s organisation) or all (rows of every organisation of the caller)';
  END IF;
  SELECT a.atttypid::regtype INTO v_type FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = org_column AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table % has no column %', tbl, quote_ident(org_column) USING ERRCODE = '42703',
      HINT = 'pass the name of the column holding the organization id as org_column';
  END IF;
  IF v_type <> 'uuid'::regtype THEN
    RAISE EXCEPTION 'column % of table % must be of type uuid', quote_ident(org_column), tbl
      USING ERRCODE = '42804', DETAIL = format('its type is %s', v_type);
  END IF;
  FOR v_policy IN SELECT p.polname FROM pg_policy p WHERE p.polrelid = tbl
                    AND p.polname IN ('switchboard_select', 'switchboard_insert', 'switchboard_update',
                                      'switchboard_delete', 'switchboard_service') LOOP
    EXECUTE format('DROP POLICY %I ON %s', v_policy, tbl);
  END LOOP;
  EXECUTE format('CREATE POLICY switchboard_select ON %s FOR SELECT TO authenticated USING (' || v_rule || ')',
                 tbl, org_column, select_role);
  EXECUTE format('CREATE POLICY switchboard_insert ON %s FOR INSERT TO authenticated WITH CHECK (' || v_rule || ')',
                 tbl, org_column, insert_role);
  EXECUTE format('CREATE POLICY switchboard_update ON %s FOR UPDATE TO authenticated USING (' || v_rule
                 || ') WITH CHECK (' || v_rule || ')',
                 tbl, org_column, update_role, org_column, update_role);
  EXECUTE format('CREATE POLICY switchboard_delete ON %s FOR DELETE TO authenticated USING (' || v_rule || ')',
                 tbl, org_column, delete_role);
  EXECUTE format('CREATE POLICY switchboard_service ON %s TO service_role USING (true) WITH CHECK (true)', tbl);
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  IF NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a
                   ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                  WHERE i.indrelid = tbl AND a.attname = org_column) THEN
    RAISE NOTICE 'no index of % starts with %', tbl, quote_ident(org_column)
      USING HINT = 'policies filter on it: create an index leading with it, or queries scan the table';
  END IF;
END
$$;
COMMENT ON FUNCTION switchboard.protect(regclass, name, switchboard.member_role, switchboard.member_role,
                                        switchboard.member_role, switchboard.member_role, text) IS
  'enable row-level security on a tenant table with role-based policies in one call';

SELECT switchboard.protect('switchboard.organizations', 'id', 'viewer', 'owner', 'admin', 'owner', 'all');
SELECT switchboard.protect('switchboard.organization_members', 'org_id', 'viewer', 'admin', 'admin', 'admin', 'all');
