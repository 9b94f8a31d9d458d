# A request as the shim makes it on Citus: BEGIN, SET LOCAL ROLE and request.jwt.claims, one call,
# COMMIT. The call is delegated (force_delegation) with the settings (citus.propagate_set_commands,
# set by distribute() for switchboard_authenticator), over a connection as the API role (which
# distribute() lets log in on the workers): a member is answered, a non-member refused, on both
# workers.
# Two organisations of 30_entitlements.sh whose shards are on different workers.
read -r org2 org3 < <(citus_psql 0 -tA -F' ' -c "
  select string_agg(org, ' ') from (
    select min(o.id::text) org
      from switchboard.organizations o
      join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.organization_members', o.id)
     where o.slug like 'citus-%' group by p.groupid) x")
owner=e0000000-0000-4000-8000-0000000000a1 stranger=e0000000-0000-4000-8000-0000000000a9
for org in $org2 $org3; do
  citus_psql 0 -tA -c "select switchboard.add_member('$org', '$owner', 'owner')" >/dev/null
done
check "the two organisations are on different workers" 2 0 \
  "select count(distinct p.groupid) from pg_dist_placement p
    where p.shardid in (get_shard_id_for_distribution_column('switchboard.organization_members', '$org2'),
                        get_shard_id_for_distribution_column('switchboard.organization_members', '$org3'))"
check "the API roles log in on the workers, not on the coordinator" "f|t|t" 0 \
  "select string_agg(r, '|' order by n) from (
     select 0 n, case when bool_and(rolcanlogin) then 't' else 'f' end r from pg_roles where rolname in ('anon', 'authenticated', 'service_role')
     union all select nodeport, result from run_command_on_workers(
       \$\$select bool_and(rolcanlogin) from pg_roles where rolname in ('anon', 'authenticated', 'service_role')\$\$)) x"
# as_request USER SQL: SQL in a transaction as the shim runs it (logged in as
# switchboard_authenticator), as role authenticated with USER's claims.
as_request() {
  citus_psql 0 -U switchboard_authenticator -tA -c "set client_min_messages = warning" \
    -c "begin" -c "set local role authenticated" \
    -c "set local request.jwt.claims = '{\"sub\": \"$1\", \"role\": \"authenticated\"}'" \
    -c "$2" -c "commit" 2>&1 | grep -v '^SET$'
}
# claims_checked SEND WHAT ORG MEMBER_SQL MEMBER_PATTERN STRANGER_SQL: sent with SEND (as_request or
# as_set_config below), the owner's MEMBER_SQL answers MEMBER_PATTERN and a stranger's STRANGER_SQL
# is refused as a non-member's, on the node of ORG.
claims_checked() {
  local got
  got=$($1 "$owner" "$4")
  # shellcheck disable=SC2053 # MEMBER_PATTERN is a pattern
  if [[ $got == $5 ]]; then ok "$2: a member's claims reach the node of $3"; else failed "$2: member on $3: $got"; fi
  got=$($1 "$stranger" "$6")
  if [[ $got == *"permission denied for this organization"*"the caller is not a member"* ]]; then
    ok "$2: a non-member is refused on the node of $3"
  else
    failed "$2: non-member on $3: $got"
  fi
}
for org in $org2 $org3; do
  claims_checked as_request "SET LOCAL claims" "$org" "select switchboard.check_feature('$org', 'calls')" \
    '*"reason": "PLAN"*' "select switchboard.check_feature('$org', 'calls')"
done
used=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org3', 'calls')")
got=$(as_request "$owner" "select switchboard.consume_feature('$org3', 'calls', 2)")
now=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org3', 'calls')")
check "consume_feature as a member counts on the organisation's node" "true|2" 0 \
  "select ('$got'::jsonb ->> 'ok') || '|' || (('$now'::jsonb ->> 'used')::int - ('$used'::jsonb ->> 'used')::int)"
# Claims set with set_config() (as PostgREST and SQL clients set them), then a PL/pgSQL function
# Citus delegates as it stands: the claims reach the organisation's node with it (Citus sends on
# only SET LOCAL; switchboard sets them again so, before the statement starts).
as_set_config() {
  citus_psql 0 -tA -c "set client_min_messages = warning" -c "begin" -c "set local role authenticated" \
    -c "select set_config('request.jwt.claims', '{\"sub\": \"$1\", \"role\": \"authenticated\"}', true) is not null" \
    -c "$2" -c "commit" 2>&1 | grep -v -E '^(SET|t)$'
}
for org in $org2 $org3; do
  claims_checked as_set_config "set_config() claims, a delegated PL/pgSQL call" "$org" \
    "select switchboard.add_member('$org', 'e0000000-0000-4000-8000-0000000000b1', 'viewer')" '*"ADDED"*' \
    "select switchboard.add_member('$org', 'e0000000-0000-4000-8000-0000000000b2', 'viewer')"
done
