-- Privileges of the tenancy area (99_privileges revokes everything else from PUBLIC).

GRANT EXECUTE ON FUNCTION
  switchboard.current_user_id(), switchboard.current_org_id(), switchboard.current_claims(),
  switchboard.is_service_role(), switchboard.member_role(uuid),
  switchboard.has_role_at_least(uuid, switchboard.member_role), switchboard.is_member(uuid),
  switchboard.member_org_ids(switchboard.member_role),
  switchboard.active_org_id(switchboard.member_role), switchboard.default_org_id(),
  switchboard.assert_role(uuid, switchboard.member_role)
  TO anon, authenticated, service_role;

GRANT EXECUTE ON FUNCTION
  switchboard.create_organization(text, text),
  switchboard.add_member(uuid, uuid, switchboard.member_role),
  switchboard.set_member_role(uuid, uuid, switchboard.member_role),
  switchboard.remove_member(uuid, uuid),
  switchboard.set_default_org(uuid)
  TO authenticated, service_role;

-- Trigger functions run with the privileges of the table's writer.
GRANT EXECUTE ON FUNCTION switchboard.touch_updated_at(), switchboard.invalidate_caches(),
  switchboard.enforce_membership_rules()
  TO anon, authenticated, service_role;

GRANT SELECT, DELETE ON switchboard.organizations TO authenticated;
GRANT UPDATE (name, slug, settings, timezone, is_active) ON switchboard.organizations TO authenticated;
GRANT SELECT, INSERT, DELETE ON switchboard.organization_members TO authenticated;
GRANT UPDATE (role) ON switchboard.organization_members TO authenticated;
GRANT ALL ON switchboard.organizations, switchboard.organization_members TO service_role;
GRANT SELECT ON switchboard.member_defaults TO authenticated;
GRANT ALL ON switchboard.member_defaults TO service_role;
GRANT EXECUTE ON FUNCTION switchboard.list_members(uuid), switchboard.list_organizations()
  TO authenticated, service_role;
-- The tenancy argument checks, used by the functions above as the caller (not as definer).
GRANT EXECUTE ON FUNCTION switchboard.require_arg(anyelement, text), switchboard.require_organization(uuid)
  TO authenticated, service_role;
