-- Tenancy: the caller from the JWT claims, role checks over the membership cache, the membership
-- rules, organisation and member commands, protect() and the listings.
-- The caller, as PostgREST/Supabase describe it in request.jwt.claims.
CREATE FUNCTION switchboard.current_user_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_current_user_id';
COMMENT ON FUNCTION switchboard.current_user_id() IS
  'the JWT sub claim as uuid (request.jwt.claims, or the legacy request.jwt.claim.sub); NULL when absent';

CREATE FUNCTION switchboard.current_org_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_current_org_id';
COMMENT ON FUNCTION switchboard.current_org_id() IS
  'the JWT claim app_metadata.org_id as uuid; NULL when absent';

CREATE FUNCTION switchboard.current_claims() RETURNS jsonb
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_current_claims';
COMMENT ON FUNCTION switchboard.current_claims() IS
  'the request''s JWT claims; an empty object when there are none';

CREATE FUNCTION switchboard.is_service_role() RETURNS boolean
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_is_service_role';
COMMENT ON FUNCTION switchboard.is_service_role() IS
  'true when the current role is a superuser or has the privileges of service_role';

-- Supabase's auth.uid(), auth.role() and auth.jwt(), created only where the database lacks them;
-- nothing at all is created in a Supabase auth schema (one with auth.users): it is Supabase's.
-- SQL-standard bodies are parsed here, once: the caller's search_path cannot change what they call.
-- auth.uid() is switchboard.current_user_id(): a legacy request.jwt.claim.sub naming another user
-- than request.jwt.claims is an error (28000), never the answer.
DO $auth$
BEGIN
  IF pg_catalog.to_regclass('auth.users') IS NOT NULL THEN
    RETURN;
  END IF;
  IF pg_catalog.to_regnamespace('auth') IS NULL THEN
    CREATE SCHEMA auth;
    GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
  END IF;
  IF pg_catalog.to_regprocedure('auth.uid()') IS NULL THEN
    CREATE FUNCTION auth.uid() RETURNS pg_catalog.uuid LANGUAGE sql STABLE
    RETURN switchboard.current_user_id();
  END IF;
  IF pg_catalog.to_regprocedure('auth.role()') IS NULL THEN
    CREATE FUNCTION auth.role() RETURNS pg_catalog.text LANGUAGE sql STABLE
    RETURN COALESCE(
      NULLIF(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
      NULLIF(pg_catalog.current_setting('request.jwt.claims', true), '')::pg_catalog.jsonb
        OPERATOR(pg_catalog.->>) 'role')::pg_catalog.text;
  END IF;
  IF pg_catalog.to_regprocedure('auth.jwt()') IS NULL THEN
    CREATE FUNCTION auth.jwt() RETURNS pg_catalog.jsonb LANGUAGE sql STABLE
    RETURN COALESCE(
      NULLIF(pg_catalog.current_setting('request.jwt.claim', true), ''),
      NULLIF(pg_catalog.current_setting('request.jwt.claims', true), ''))::pg_catalog.jsonb;
  END IF;
END
$auth$;

-- Keeps updated_at current on every update.
CREATE FUNCTION switchboard.touch_updated_at() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TRIGGER organizations_touch BEFORE UPDATE ON switchboard.organizations
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER organization_members_touch BEFORE UPDATE ON switchboard.organization_members
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();

-- Role checks for RLS policies and functions; the membership table is the truth, cached per
-- backend until a membership change commits anywhere.
CREATE FUNCTION switchboard.member_role(org_id uuid) RETURNS switchboard.member_role
  LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_member_role';
COMMENT ON FUNCTION switchboard.member_role(uuid) IS
  'the caller''s role in the organisation; NULL when not a member';

CREATE FUNCTION switchboard.has_role_at_least(org_id uuid, min_role switchboard.member_role)
  RETURNS boolean
  LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_has_role_at_least';

CREATE FUNCTION switchboard.is_member(org_id uuid) RETURNS boolean
  LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_is_member';

CREATE FUNCTION switchboard.active_org_id(min_role switchboard.member_role DEFAULT 'viewer')
  RETURNS uuid
  LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_active_org_id';
COMMENT ON FUNCTION switchboard.active_org_id(switchboard.member_role) IS
  'the organisation of this request (JWT app_metadata.org_id, else the caller''s default organisation) if the caller holds at least min_role there';

CREATE FUNCTION switchboard.default_org_id() RETURNS uuid
  LANGUAGE c STABLE PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_default_org_id';
COMMENT ON FUNCTION switchboard.default_org_id() IS
  'the caller''s default organisation: the one chosen with set_default_org, else the oldest membership';

CREATE FUNCTION switchboard.member_org_ids(min_role switchboard.member_role DEFAULT 'viewer')
  RETURNS uuid[]
  LANGUAGE c STABLE STRICT PARALLEL RESTRICTED AS 'MODULE_PATHNAME', 'sb_member_org_ids';
COMMENT ON FUNCTION switchboard.member_org_ids(switchboard.member_role) IS
  'the organisations where the caller holds at least min_role (what protect(scope => ''all'') policies use)';

-- Ensures: the caller is the service role or a member of the organisation with at least
-- min_role (42501 otherwise); for the service role, that the organisation exists (P0002).
CREATE FUNCTION switchboard.assert_role(org_id uuid, min_role switchboard.member_role) RETURNS void
  LANGUAGE c STABLE AS 'MODULE_PATHNAME', 'sb_assert_role';

-- Statement trigger on every table a backend cache is built from: committed changes reach every
-- session's next statement.
CREATE FUNCTION switchboard.invalidate_caches() RETURNS trigger
  LANGUAGE c AS 'MODULE_PATHNAME', 'sb_invalidate_caches';

CREATE TRIGGER organization_members_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.organization_members
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();
CREATE TRIGGER organizations_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.organizations
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches('per_org');
CREATE TRIGGER member_defaults_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard.member_defaults
  FOR EACH STATEMENT EXECUTE FUNCTION switchboard.invalidate_caches();
-- The rules every membership change obeys, whichever way it is made (functions or direct DML):
-- only admins and owners change members, nobody grants or touches a role above their own, and
-- an organisation always keeps an owner. (Only the member chooses their default organisation:
-- member_defaults, written by set_default_org; a new membership is never the default by itself.)

-- Ensures: a membership change follows the rules above; raises 42501 naming the rule it breaks.
CREATE FUNCTION switchboard.enforce_membership_rules() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END;
  v_creator uuid;
  v_actor uuid;
  v_actor_role switchboard.member_role;
  v_user_deleted boolean := false;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.org_id <> OLD.org_id OR NEW.user_id <> OLD.user_id) THEN
    RAISE EXCEPTION 'the organization and user of a membership cannot change'
      USING ERRCODE = '22023', HINT = 'Remove the member and add the new one.';
  END IF;
  -- Serialises membership changes per organisation, so the owner count below cannot race. On a
  -- Citus shard the organisation's row is in a reference table whose lock lives on another node
  -- (where deleting the organisation holds it): the lock is then the organisation's advisory lock
  -- on the node that owns its members.
  IF switchboard._is_shard(TG_RELID) THEN
    PERFORM pg_catalog.pg_advisory_xact_lock(
      pg_catalog.hashtextextended('switchboard.members:' OPERATOR(pg_catalog.||) v_org::pg_catalog.text, 0));
    SELECT o.created_by INTO v_creator FROM switchboard.organizations o WHERE o.id = v_org;
  ELSE
    SELECT o.created_by INTO v_creator FROM switchboard.organizations o WHERE o.id = v_org FOR UPDATE;
  END IF;
  IF NOT FOUND THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;  -- the organisation itself is being deleted
    PERFORM switchboard.require_organization(v_org);  -- raises the one "organization not found"
  END IF;
  -- Removed with its Supabase Auth user (the foreign key's ON DELETE CASCADE): whoever could
  -- delete the user may remove the memberships; the last-owner rule below still holds.
  IF TG_OP = 'DELETE' AND EXISTS (
       SELECT 1 FROM pg_catalog.pg_constraint c
        WHERE c.conname = 'organization_members_user_fkey'
          AND c.conrelid = 'switchboard.organization_members'::pg_catalog.regclass
          AND c.confrelid = pg_catalog.to_regclass('auth.users')) THEN
    EXECUTE 'SELECT NOT EXISTS (SELECT 1 FROM auth.users u WHERE u.id = $1)'
      INTO v_user_deleted USING OLD.user_id;
  END IF;
  IF NOT v_user_deleted AND NOT switchboard.is_service_role() THEN
    v_actor := switchboard.current_user_id();
    SELECT m.role INTO v_actor_role FROM switchboard.organization_members m
     WHERE m.org_id = v_org AND m.user_id = v_actor;
    PERFORM switchboard.check_member_change(TG_OP, v_org, v_creator, v_actor, v_actor_role,
                                            OLD.user_id, OLD.role, NEW.user_id, NEW.role);
  END IF;
  IF TG_OP <> 'INSERT' AND OLD.role = 'owner' AND (TG_OP = 'DELETE' OR NEW.role <> 'owner')
     AND NOT EXISTS (SELECT 1 FROM switchboard.organization_members m
                      WHERE m.org_id = v_org AND m.role = 'owner' AND m.id <> OLD.id) THEN
    RAISE EXCEPTION 'an organization must keep at least one owner'
      USING ERRCODE = '42501', DETAIL = format('User %s is the last owner of organization %s.', OLD.user_id, v_org),
            HINT = CASE WHEN v_user_deleted
                        THEN 'Make another member owner, or delete the organization, before deleting the user.'
                        ELSE 'Make another member owner first.' END;
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

-- Ensures: the actor (with role actor_role in the organisation) may make this change.
CREATE FUNCTION switchboard.check_member_change(
  op text, org uuid, creator uuid, actor uuid, actor_role switchboard.member_role,
  old_user uuid, old_role switchboard.member_role, new_user uuid, new_role switchboard.member_role)
  RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF actor IS NULL THEN
    RAISE EXCEPTION 'changing members needs a signed-in user' USING ERRCODE = '42501';
  END IF;
  -- The creator of an organisation becomes its first owner.
  IF op = 'INSERT' AND new_user = actor AND new_role = 'owner' AND creator = actor
     AND NOT EXISTS (SELECT 1 FROM switchboard.organization_members m WHERE m.org_id = org) THEN
    RETURN;
  END IF;
  -- Anyone may leave (the last-owner rule still applies).
  IF op = 'DELETE' AND old_user = actor THEN
    RETURN;
  END IF;
  IF actor_role IS NULL OR actor_role < 'admin' THEN
    RAISE EXCEPTION 'only admins and owners can change members'
      USING ERRCODE = '42501', DETAIL = CASE WHEN actor_role IS NULL
                                           THEN format('The caller is not a member of organization %s.', org)
                                           ELSE format('The caller''s role in organization %s is %s.', org, actor_role) END;
  END IF;
  IF op <> 'INSERT' AND old_role > actor_role THEN
    RAISE EXCEPTION 'cannot change a member whose role is above your own'
      USING ERRCODE = '42501', DETAIL = format('The member''s role is %s; the caller''s role is %s.', old_role, actor_role);
  END IF;
  IF op <> 'DELETE' AND new_role > actor_role THEN
    RAISE EXCEPTION 'cannot grant a role above your own'
      USING ERRCODE = '42501', DETAIL = format('The requested role is %s; the caller''s role is %s.', new_role, actor_role);
  END IF;
END
$$;

CREATE TRIGGER organization_members_rules
  BEFORE INSERT OR UPDATE OR DELETE ON switchboard.organization_members
  FOR EACH ROW EXECUTE FUNCTION switchboard.enforce_membership_rules();

-- Ensures: a clear 22023 error ("<name> must not be null") when a required argument is NULL: the
-- rule and wording of the C++ functions' sb::pg::require_arg, which it calls.
CREATE FUNCTION switchboard.require_arg(value anyelement, name text) RETURNS void
  LANGUAGE c IMMUTABLE AS 'MODULE_PATHNAME', 'sb_require_arg';

-- Ensures: the organisation exists (P0002 otherwise).
CREATE FUNCTION switchboard.require_organization(org uuid) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org, 'org_id');
  IF NOT EXISTS (SELECT 1 FROM switchboard.organizations o WHERE o.id = org) THEN
    RAISE EXCEPTION 'organization not found' USING ERRCODE = 'P0002',
      DETAIL = format('No organization has the id %s.', org);
  END IF;
END
$$;

-- Ensures: a new organisation whose owner is the caller; returns its id.
CREATE FUNCTION switchboard.create_organization(name text, slug text) RETURNS uuid
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_user uuid := switchboard.current_user_id();
  v_org uuid;
BEGIN
  PERFORM switchboard.require_arg(name, 'name');
  PERFORM switchboard.require_arg(slug, 'slug');
  IF v_user IS NULL THEN
    RAISE EXCEPTION 'create_organization needs a signed-in user'
      USING ERRCODE = '42501', HINT = 'Call it with a JWT whose sub claim is the new owner.';
  END IF;
  IF slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' THEN
    RAISE EXCEPTION 'invalid organization slug' USING ERRCODE = '22023',
      DETAIL = format('The slug given was "%s".', slug),
      HINT = 'A slug has 1 to 63 lowercase letters, digits and hyphens, and no hyphen at either end.';
  END IF;
  IF EXISTS (SELECT 1 FROM switchboard.organizations o WHERE o.slug = create_organization.slug) THEN
    RAISE EXCEPTION 'an organization with this slug already exists'
      USING ERRCODE = '23505', DETAIL = format('An organization has the slug "%s" already.', slug);
  END IF;
  INSERT INTO switchboard.organizations (name, slug, created_by)
    VALUES (create_organization.name, create_organization.slug, v_user) RETURNING id INTO v_org;
  INSERT INTO switchboard.organization_members (org_id, user_id, role) VALUES (v_org, v_user, 'owner');
  RETURN v_org;
END
$$;

-- Ensures: the user is a member with the role (caller: admin or owner of the organisation).
CREATE FUNCTION switchboard.add_member(org_id uuid, user_id uuid, role switchboard.member_role)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(user_id, 'user_id');
  PERFORM switchboard.require_arg(role, 'role');
  IF EXISTS (SELECT 1 FROM switchboard.organization_members m
              WHERE m.org_id = add_member.org_id AND m.user_id = add_member.user_id) THEN
    RAISE EXCEPTION 'user is already a member of this organization' USING ERRCODE = '23505',
      DETAIL = format('User %s has a role in this organization already.', user_id),
      HINT = 'Use set_member_role to change the role.';
  END IF;
  INSERT INTO switchboard.organization_members (org_id, user_id, role)
    VALUES (add_member.org_id, add_member.user_id, add_member.role);
  RETURN jsonb_build_object('reason', 'ADDED', 'orgId', org_id, 'userId', user_id, 'role', role);
END
$$;

-- Ensures: the member holds the new role (caller: admin or owner, within the rules above).
CREATE FUNCTION switchboard.set_member_role(org_id uuid, user_id uuid, role switchboard.member_role)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_old switchboard.member_role;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.assert_role(org_id, 'admin');
  PERFORM switchboard.require_arg(user_id, 'user_id');
  PERFORM switchboard.require_arg(role, 'role');
  SELECT m.role INTO v_old FROM switchboard.organization_members m
   WHERE m.org_id = set_member_role.org_id AND m.user_id = set_member_role.user_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user is not a member of this organization'
      USING ERRCODE = 'P0002', DETAIL = format('No member of this organization has the user id %s.', user_id);
  END IF;
  UPDATE switchboard.organization_members m SET role = set_member_role.role
   WHERE m.org_id = set_member_role.org_id AND m.user_id = set_member_role.user_id;
  RETURN jsonb_build_object('reason', CASE WHEN v_old = role THEN 'UNCHANGED' ELSE 'UPDATED' END,
                            'orgId', org_id, 'userId', user_id, 'role', role, 'previousRole', v_old);
END
$$;

-- Ensures: the user is no longer a member (caller: admin or owner, or the member leaving).
CREATE FUNCTION switchboard.remove_member(org_id uuid, user_id uuid)
  RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_old switchboard.member_role;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  PERFORM switchboard.require_arg(user_id, 'user_id');
  -- Members may leave; removing someone else takes an admin or owner.
  PERFORM switchboard.assert_role(org_id, CASE WHEN user_id = switchboard.current_user_id()
                                               THEN 'viewer' ELSE 'admin' END::switchboard.member_role);
  DELETE FROM switchboard.organization_members m
   WHERE m.org_id = remove_member.org_id AND m.user_id = remove_member.user_id
  RETURNING m.role INTO v_old;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user is not a member of this organization'
      USING ERRCODE = 'P0002', DETAIL = format('No member of this organization has the user id %s.', user_id);
  END IF;
  RETURN jsonb_build_object('reason', 'REMOVED', 'orgId', org_id, 'userId', user_id,
                            'previousRole', v_old);
END
$$;

-- Ensures: the organisation is the caller's default (where requests without an
-- app_metadata.org_id claim act); the caller must be a member of it (42501 otherwise). Nobody else
-- can change a user's default.
CREATE FUNCTION switchboard.set_default_org(org_id uuid) RETURNS jsonb
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_user uuid := switchboard.current_user_id();
  v_membership uuid;
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  IF v_user IS NULL THEN
    RAISE EXCEPTION 'set_default_org needs a signed-in user' USING ERRCODE = '42501',
      HINT = 'Call it with a JWT whose sub claim is the member.';
  END IF;
  SELECT m.id INTO v_membership FROM switchboard.organization_members m
   WHERE m.org_id = set_default_org.org_id AND m.user_id = v_user;
  IF NOT FOUND THEN
    -- The caller's refusal in the wording of every area (switchboard.assert_role); the service
    -- role passes that check, but a default organization must be one of the caller's own too.
    PERFORM switchboard.assert_role(org_id, 'viewer');
    RAISE EXCEPTION 'permission denied for this organization' USING ERRCODE = '42501',
      DETAIL = format('Organization %s is not one of the caller''s own.', org_id),
      HINT = 'A default organization must be one of yours.';
  END IF;
  IF EXISTS (SELECT 1 FROM switchboard.member_defaults d
              WHERE d.user_id = v_user AND d.membership_id = v_membership) THEN
    RETURN jsonb_build_object('reason', 'UNCHANGED', 'orgId', org_id);
  END IF;
  -- Times from excluded: Citus refuses now() inside ON CONFLICT ... DO UPDATE.
  INSERT INTO switchboard.member_defaults AS d (user_id, org_id, membership_id)
  VALUES (v_user, set_default_org.org_id, v_membership)
  ON CONFLICT (user_id) DO UPDATE
    SET org_id = excluded.org_id, membership_id = excluded.membership_id, chosen_at = excluded.chosen_at;
  RETURN jsonb_build_object('reason', 'DEFAULT_SET', 'orgId', org_id);
END
$$;
-- protect(): row-level security for any tenant table in one call.

-- Ensures: RLS is on for tbl with the switchboard policies (select/insert/update/delete for
-- authenticated members by minimum role, plus a service_role bypass), replacing earlier ones; the
-- caller must own the table. Other roles (anon included) see no rows.
-- scope 'active': a request reaches the rows of one organisation, switchboard.active_org_id() (the
-- JWT's app_metadata.org_id, or the caller's only organisation): an equality the org_id index
-- serves exactly like an explicit WHERE org_id = ... . scope 'all': the rows of every organisation
-- the caller belongs to (for small tables such as the list of one's organisations). The stable
-- functions are compared directly, without a sub-select: the index scans them the same way (once
-- per scan), and Citus refuses policies with sub-selects on distributed and reference tables.
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
    WHEN 'active' THEN '%I = switchboard.active_org_id(%L::switchboard.member_role)'
    WHEN 'all' THEN '%I = ANY (switchboard.member_org_ids(%L::switchboard.member_role)::uuid[])'
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
      DETAIL = format('The scope given was %s.', coalesce('"' || scope || '"', 'NULL')),
      HINT = 'Use active (the rows of the request''s organisation) or all (the rows of every organisation of the caller).';
  END IF;
  SELECT a.atttypid::regtype INTO v_type FROM pg_attribute a
   WHERE a.attrelid = tbl AND a.attname = org_column AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'table % has no column %', tbl, quote_ident(org_column) USING ERRCODE = '42703',
      HINT = 'Pass the name of the column holding the organization id as org_column.';
  END IF;
  IF v_type <> 'uuid'::regtype THEN
    RAISE EXCEPTION 'column % of table % must be of type uuid', quote_ident(org_column), tbl
      USING ERRCODE = '42804', DETAIL = format('Column %s has type %s.', quote_ident(org_column), v_type);
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
      USING HINT = 'Policies filter on it: create an index leading with it, or queries scan the table.';
  END IF;
END
$$;
COMMENT ON FUNCTION switchboard.protect(regclass, name, switchboard.member_role, switchboard.member_role,
                                        switchboard.member_role, switchboard.member_role, text) IS
  'enable row-level security on a tenant table with role-based policies in one call';

SELECT switchboard.protect('switchboard.organizations', 'id', 'viewer', 'owner', 'admin', 'owner', 'all');
SELECT switchboard.protect('switchboard.organization_members', 'org_id', 'viewer', 'admin', 'admin', 'admin', 'all');

-- A user reads their own choice; only set_default_org (as its owner) and the service role write.
ALTER TABLE switchboard.member_defaults ENABLE ROW LEVEL SECURITY;
CREATE POLICY member_defaults_own ON switchboard.member_defaults FOR SELECT TO authenticated
  USING (user_id = switchboard.current_user_id());
CREATE POLICY switchboard_service ON switchboard.member_defaults TO service_role
  USING (true) WITH CHECK (true);

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
