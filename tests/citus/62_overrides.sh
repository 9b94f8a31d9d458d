# An admin's set_feature_override that Citus does not delegate (inside an expression, or through
# switchboard-shim, whose SELECT ... FROM the function Citus does not delegate) runs on the
# coordinator as its owner; its narrowing check (_assert_narrowing_override, C++) reads the
# organisation's plan on the organisation's node and answers as on one server. It answered 0A000
# "the organization's rows are on another node" before (the entitlements regression files).
# org2 and org3: the organisations of 50_claims.sh, one on each worker; the admin is added and
# removed again by the service role; as_request is 50_claims.sh's.
ovadmin=e0000000-0000-4000-8000-0000000000a4
for org in $org2 $org3; do
  citus_psql 0 -tA -c "select switchboard.add_member('$org', '$ovadmin', 'admin')" >/dev/null
  limit=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org', 'calls') ->> 'limit'")
  got=$(as_request "$ovadmin" "select switchboard.set_feature_override('$org', 'calls', true, $((limit + 1))) ->> 'reason'")
  if [[ $got == *"a tenant override cannot raise a limit"* ]]; then
    ok "an admin's override above the plan inside an expression is refused (42501) on $org"
  else
    failed "an admin's override above the plan inside an expression on $org: $got"
  fi
  got=$(as_request "$ovadmin" "select 'reason ' || (switchboard.set_feature_override('$org', 'calls', true, $((limit - 1))) ->> 'reason')")
  check "an admin's narrowing override inside an expression is set on $org" "reason SET|$((limit - 1))" 0 \
    "select \$\$$got|\$\$ || (switchboard.check_feature('$org', 'calls') ->> 'limit')"
  got=$(as_request "$ovadmin" "select 'reason ' || (switchboard.clear_feature_override('$org', 'calls') ->> 'reason')")
  check "the admin clears it: the plan's limit again on $org" "reason CLEARED|$limit" 0 \
    "select \$\$$got|\$\$ || (switchboard.check_feature('$org', 'calls') ->> 'limit')"
  citus_psql 0 -tA -c "select switchboard.remove_member('$org', '$ovadmin')" >/dev/null
done
