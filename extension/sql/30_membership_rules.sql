-- The rules every membership change obeys, whichever way it is made (functions or direct DML):
-- only admins and owners change members, nobody grants or touches a role above their own,
-- an organisation always keeps an owner, and only the member chooses their default organisation
-- (a new membership is never the default by itself).

-- Ensures: this transaction holds the lock that serialises changes of the user's default
-- organisation.
CREATE FUNCTION switchboard.lock_member_defaults(member uuid) RETURNS void
  LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
  SELECT pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('switchboard.default_org:' OPERATOR(pg_catalog.||) member::pg_catalog.text, 0))
$$;

-- Ensures: only the member (or the service role) changes which organisation is their default, and
-- a user has at most one chosen default; raises 42501 / 23505 otherwise.
CREATE FUNCTION switchboard.check_default_change(member uuid, becomes_default boolean, row_id uuid)
  RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT switchboard.is_service_role() AND member IS DISTINCT FROM switchboard.current_user_id() THEN
    RAISE EXCEPTION 'only the member chooses their default organization' USING ERRCODE = '42501',
      DETAIL = format('user_id: %s', member);
  END IF;
  PERFORM switchboard.lock_member_defaults(member);
  IF becomes_default AND EXISTS (SELECT 1 FROM switchboard.organization_members m
                                  WHERE m.user_id = member AND m.is_default AND m.id <> row_id) THEN
    RAISE EXCEPTION 'user already has a default organization' USING ERRCODE = '23505',
      DETAIL = format('user_id: %s', member), HINT = 'use set_default_org to change it';
  END IF;
END
$$;

-- Ensures: a membership change follows the rules above; raises 42501 naming the rule it breaks.
CREATE FUNCTION switchboard.enforce_membership_rules() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  v_org uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.org_id ELSE NEW.org_id END;
  v_creator uuid;
  v_actor uuid;
  v_actor_role switchboard.member_role;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.org_id <> OLD.org_id OR NEW.user_id <> OLD.user_id) THEN
    RAISE EXCEPTION 'the organization and user of a membership cannot change'
      USING ERRCODE = '22023', HINT = 'remove the member and add the new one';
  END IF;
  IF TG_OP = 'INSERT' THEN
    NEW.is_default := false;  -- being added somewhere never changes the user's default
  ELSIF TG_OP = 'UPDATE' AND NEW.is_default <> OLD.is_default THEN
    PERFORM switchboard.check_default_change(NEW.user_id, NEW.is_default, NEW.id);
    IF NEW.role = OLD.role THEN
      RETURN NEW;  -- the member's own choice: no role rule applies
    END IF;
  END IF;
  -- Serialises membership changes per organisation, so the owner count below cannot race.
  SELECT o.created_by INTO v_creator FROM switchboard.organizations o WHERE o.id = v_org FOR UPDATE;
  IF NOT FOUND THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;  -- the organisation itself is being deleted
    RAISE EXCEPTION 'organization not found' USING ERRCODE = 'P0002', DETAIL = format('org_id: %s', v_org);
  END IF;
  IF NOT switchboard.is_service_role() THEN
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
      USING ERRCODE = '42501', DETAIL = format('user %s is the last owner of %s', OLD.user_id, v_org),
            HINT = 'make another member owner first';
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
      USING ERRCODE = '42501', DETAIL = format('your role in %s: %s', org, coalesce(actor_role::text, 'none'));
  END IF;
  IF op <> 'INSERT' AND old_role > actor_role THEN
    RAISE EXCEPTION 'cannot change a member whose role is above your own'
      USING ERRCODE = '42501', DETAIL = format('their role: %s, yours: %s', old_role, actor_role);
  END IF;
  IF op <> 'DELETE' AND new_role > actor_role THEN
    RAISE EXCEPTION 'cannot grant a role above your own'
      USING ERRCODE = '42501', DETAIL = format('requested: %s, yours: %s', new_role, actor_role);
  END IF;
END
$$;

CREATE TRIGGER organization_members_rules
  BEFORE INSERT OR UPDATE OR DELETE ON switchboard.organization_members
  FOR EACH ROW EXECUTE FUNCTION switchboard.enforce_membership_rules();

-- Ensures: a clear 22023 error when a required argument is NULL.
CREATE FUNCTION switchboard.require_arg(value anyelement, name text) RETURNS void
  LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF value IS NULL THEN
    RAISE EXCEPTION '% must not be null', name USING ERRCODE = '22023';
  END IF;
END
$$;

-- Ensures: the organisation exists (P0002 otherwise).
CREATE FUNCTION switchboard.require_organization(org uuid) RETURNS void
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM switchboard.require_arg(org, 'org_id');
  IF NOT EXISTS (SELECT 1 FROM switchboard.organizations o WHERE o.id = org) THEN
    RAISE EXCEPTION 'organization not found' USING ERRCODE = 'P0002', DETAIL = format('org_id: %s', org);
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
      USING ERRCODE = '42501', HINT = 'call it with a jwt whose sub claim is the new owner';
  END IF;
  IF slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' THEN
    RAISE EXCEPTION 'invalid organization slug' USING ERRCODE = '22023',
      DETAIL = format('slug: %s', slug),
      HINT = '1 to 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen';
  END IF;
  IF EXISTS (SELECT 1 FROM switchboard.organizations o WHERE o.slug = create_organization.slug) THEN
    RAISE EXCEPTION 'an organization with this slug already exists'
      USING ERRCODE = '23505', DETAIL = format('slug: %s', slug);
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
      DETAIL = format('user_id: %s', user_id), HINT = 'use set_member_role to change the role';
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
      USING ERRCODE = 'P0002', DETAIL = format('user_id: %s', user_id);
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
      USING ERRCODE = 'P0002', DETAIL = format('user_id: %s', user_id);
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
BEGIN
  PERFORM switchboard.require_arg(org_id, 'org_id');
  IF v_user IS NULL THEN
    RAISE EXCEPTION 'set_default_org needs a signed-in user' USING ERRCODE = '42501',
      HINT = 'call it with a jwt whose sub claim is the member';
  END IF;
  PERFORM switchboard.lock_member_defaults(v_user);
  IF NOT EXISTS (SELECT 1 FROM switchboard.organization_members m
                  WHERE m.org_id = set_default_org.org_id AND m.user_id = v_user) THEN
    RAISE EXCEPTION 'not a member of this organization' USING ERRCODE = '42501',
      DETAIL = format('org_id: %s', org_id), HINT = 'a default organization must be one of yours';
  END IF;
  IF EXISTS (SELECT 1 FROM switchboard.organization_members m
              WHERE m.org_id = set_default_org.org_id AND m.user_id = v_user AND m.is_default) THEN
    RETURN jsonb_build_object('reason', 'UNCHANGED', 'orgId', org_id);
  END IF;
  UPDATE switchboard.organization_members m SET is_default = false
   WHERE m.user_id = v_user AND m.is_default;
  UPDATE switchboard.organization_members m SET is_default = true
   WHERE m.user_id = v_user AND m.org_id = set_default_org.org_id;
  RETURN jsonb_build_object('reason', 'DEFAULT_SET', 'orgId', org_id);
END
$$;
