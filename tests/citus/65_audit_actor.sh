# The entitlement audit names the caller's role on Citus too. A SECURITY DEFINER function that
# Citus does not delegate (inside an expression, or through switchboard-shim) runs on the
# coordinator, and Citus sends its statements to the organisation's worker as the function's owner:
# the audit trigger there took that owner's session for the actor ("postgres") where one server
# records the caller's role (service_role, authenticated). It now takes the role the coordinator
# carried with the claims (switchboard.caller_role). Organisations 1 (worker group 2) and 2 (group
# 1) of their own, an admin in each; as the shim sends a request (BEGIN, SET LOCAL ROLE and claims).
audit_org() { echo "e6500000-0000-4000-8000-00000000000$1"; }
audit_admin() { echo "e6500000-0000-4000-8000-0000000$1a000"; }
citus_psql 0 -q -c "set client_min_messages = warning" -c "
  insert into switchboard.organizations (id, name, slug)
    select ('e6500000-0000-4000-8000-00000000000' || g)::uuid, 'Audit ' || g, 'audit-actor-' || g
      from generate_series(1, 2) g;
  insert into switchboard.organization_members (org_id, user_id, role)
    select ('e6500000-0000-4000-8000-00000000000' || g)::uuid,
           ('e6500000-0000-4000-8000-0000000' || g || 'a000')::uuid, 'admin'
      from generate_series(1, 2) g;" >/dev/null
check "the audit organisations are on both workers" 2 0 \
  "select count(distinct p.groupid) from switchboard.organizations o
     join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.organization_members', o.id)
    where o.slug like 'audit-actor-%'"
# as_role ROLE CLAIMS SQL: SQL in a transaction as switchboard-shim sends it.
as_role() {
  citus_psql 0 -U switchboard_authenticator -tA -c "set client_min_messages = warning" \
    -c "begin" -c "set local role $1" -c "set local request.jwt.claims = '$2'" \
    -c "$3" -c "commit" 2>&1 | grep -v '^SET$'
}
for g in 1 2; do
  org=$(audit_org $g)
  as_role service_role '{"role": "service_role"}' \
    "select 'subscribed ' || (switchboard.set_subscription('$org', 'smart_broadcast_pro') is not null)" >/dev/null
  as_role authenticated "{\"sub\": \"$(audit_admin $g)\", \"role\": \"authenticated\"}" \
    "select 'override ' || (switchboard.set_feature_override('$org', 'csv_import', false) ->> 'reason')" >/dev/null
  check "the audit names the caller's role for changes inside an expression (audit-actor-$g)" \
    "subscriptions insert service_role,feature_overrides insert authenticated" 0 \
    "select string_agg(entity || ' ' || action || ' ' || actor_role, ',' order by id)
       from switchboard.entitlement_audit where org_id = '$org'"
done
citus_psql 0 -q -c "delete from switchboard.organizations where slug like 'audit-actor-%'" \
  -c "delete from switchboard.entitlement_audit where org_id::text like 'e6500000-%'" >/dev/null
