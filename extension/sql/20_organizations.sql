-- Organisations and their members.

CREATE TYPE switchboard.member_role AS ENUM ('viewer', 'agent', 'manager', 'admin', 'owner');
COMMENT ON TYPE switchboard.member_role IS 'ordered: viewer < agent < manager < admin < owner';

-- Keeps updated_at current on every update.
CREATE FUNCTION switchboard.touch_updated_at() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;

CREATE TABLE switchboard.organizations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL CONSTRAINT organizations_name_check
    CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  slug text NOT NULL CONSTRAINT organizations_slug_key UNIQUE
    CONSTRAINT organizations_slug_check CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  settings jsonb NOT NULL DEFAULT '{}' CONSTRAINT organizations_settings_check
    CHECK (jsonb_typeof(settings) = 'object'),
  timezone text NOT NULL DEFAULT 'UTC' CONSTRAINT organizations_timezone_check
    CHECK (now() AT TIME ZONE timezone IS NOT NULL),
  is_active boolean NOT NULL DEFAULT true,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE switchboard.organizations IS 'tenants: every tenant row carries the id of one';
COMMENT ON COLUMN switchboard.organizations.created_by IS
  'the user who created it; may become its first owner';

CREATE TABLE switchboard.organization_members (
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL,
  role switchboard.member_role NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT organization_members_user_key UNIQUE (org_id, user_id)
);
CREATE INDEX organization_members_user_idx ON switchboard.organization_members (user_id);
COMMENT ON TABLE switchboard.organization_members IS
  'who belongs to which organisation with which role: the truth behind every access check';
COMMENT ON COLUMN switchboard.organization_members.is_default IS
  'the member chose this organisation as their default (set_default_org; at most one per user, '
  'kept by a per-user lock, not a unique index: a key without org_id is not distributable)';

CREATE TRIGGER organizations_touch BEFORE UPDATE ON switchboard.organizations
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();
CREATE TRIGGER organization_members_touch BEFORE UPDATE ON switchboard.organization_members
  FOR EACH ROW EXECUTE FUNCTION switchboard.touch_updated_at();

SELECT pg_catalog.pg_extension_config_dump('switchboard.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.organization_members', '');

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
