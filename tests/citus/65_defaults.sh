# A user's default organisation on Citus: chosen with set_default_org as the shim sends it (BEGIN,
# SET LOCAL ROLE and claims, one call, COMMIT), kept in the member_defaults reference table, read
# by default_org_id() and active_org_id() on the coordinator, and carried to the workers with the
# claims (switchboard.default_org), where the row-level security of a tenant table compares with
# it. Before, set_default_org answered "cannot execute a distributed query from a query on a
# shard" (at most one default per user spans the shards), and a worker took the oldest of the
# memberships on its own shards for the default, so a request without app_metadata.org_id saw the
# subscriptions of both organisations where one server shows the default's only.
# org2 and org3: the organisations of 50_claims.sh, one on each worker.
roamer=e0000000-0000-4000-8000-0000000000a5
for org in $org2 $org3; do
  citus_psql 0 -tA -c "select switchboard.add_member('$org', '$roamer', 'viewer')" >/dev/null
done
# default_of: the roamer's default organisation, the organisation its requests act in, and the
# organisations of the subscriptions it sees (their policy: org_id = active_org_id()).
default_of() {
  as_request "$roamer" "select switchboard.default_org_id() || '|' || switchboard.active_org_id() || '|' ||
    coalesce((select string_agg(s.org_id::text, ',') from switchboard.subscriptions s), '-')"
}
check "before a choice the oldest membership is the default, on the workers too" "$org2|$org2|$org2" 0 "select '$(default_of)'"
check "set_default_org through the coordinator" "DEFAULT_SET|UNCHANGED" 0 \
  "select '$(as_request "$roamer" "select switchboard.set_default_org('$org3') ->> 'reason'")|$(
    as_request "$roamer" "select switchboard.set_default_org('$org3') ->> 'reason'")'"
check "the chosen default is the default and the active organisation, on the workers too" "$org3|$org3|$org3" 0 \
  "select '$(default_of)'"
check "a second default for the user is refused by the reference table's key" "23505|$org3" 0 \
  "select '$(citus_psql 0 -tA -c "\\set VERBOSITY sqlstate" -c "insert into switchboard.member_defaults
     (user_id, org_id, membership_id) values ('$roamer', '$org2', gen_random_uuid())" 2>&1 |
     sed 's/^ERROR: *//')|' || (select org_id from switchboard.member_defaults where user_id = '$roamer')"
check "removed from the chosen organisation, the oldest is the default again" "$org2|$org2|$org2" 0 \
  "select '$(citus_psql 0 -tA -c "select switchboard.remove_member('$org3', '$roamer')" >/dev/null
    default_of)'"
citus_psql 0 -tA -c "select switchboard.remove_member('$org2', '$roamer')" \
  -c "delete from switchboard.member_defaults where user_id = '$roamer'" >/dev/null
