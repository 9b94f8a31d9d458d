-- Organisations and their members.

CREATE TYPE switchboard.member_role AS ENUM ('viewer', 'agent', 'manager', 'admin', 'owner');
COMMENT ON TYPE switchboard.member_role IS 'ordered: viewer < agent < manager < admin < owner';

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
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, id),
  CONSTRAINT organization_members_user_key UNIQUE (org_id, user_id)
);
CREATE INDEX organization_members_user_idx ON switchboard.organization_members (user_id);
COMMENT ON TABLE switchboard.organization_members IS
  'who belongs to which organisation with which role: the truth behind every access check';

-- Each user's chosen default organisation (set_default_org): one row per user, so a user has at
-- most one by its key, on one server and across Citus nodes alike (a reference table there). It
-- names the membership too: removed and added again, the membership is new and the choice lapses
-- (being added somewhere never makes an organisation the default).
CREATE TABLE switchboard.member_defaults (
  user_id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES switchboard.organizations (id) ON DELETE CASCADE,
  membership_id uuid NOT NULL,
  chosen_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE switchboard.member_defaults IS
  'the organisation each user chose as their default (set_default_org), while that membership lasts';

-- On Supabase, members are Supabase Auth's users: deleting a user removes their memberships (the
-- membership trigger still refuses to remove the last owner of an organisation, so deleting that
-- user is refused). Added where auth.users exists when the extension is created.
DO $users$
BEGIN
  IF pg_catalog.to_regclass('auth.users') IS NOT NULL THEN
    ALTER TABLE switchboard.organization_members
      ADD CONSTRAINT organization_members_user_fkey FOREIGN KEY (user_id)
      REFERENCES auth.users (id) ON DELETE CASCADE;
    ALTER TABLE switchboard.member_defaults
      ADD CONSTRAINT member_defaults_user_fkey FOREIGN KEY (user_id)
      REFERENCES auth.users (id) ON DELETE CASCADE;
  END IF;
END
$users$;

SELECT pg_catalog.pg_extension_config_dump('switchboard.organizations', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.organization_members', '');
SELECT pg_catalog.pg_extension_config_dump('switchboard.member_defaults', '');
