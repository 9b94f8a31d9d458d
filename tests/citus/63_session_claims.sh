# Claims set for the whole session (set_config(..., false), a session-level SET ROLE) reach the node
# of a call Citus delegates in autocommit, not only inside BEGIN ... COMMIT: Citus sends the SET
# LOCAL of the claims with a remote transaction block's BEGIN only, and an autocommit statement
# with one task opened none, so the call answered "the request has no signed-in user" on the
# worker (the booking regression file's calendars, created this way, were never made). Each call
# stands alone in its statement, so Citus delegates it.
# org2 and org3: the organisations of 50_claims.sh, one on each worker; the member is added and
# removed again by the service role.
sessadmin=e0000000-0000-4000-8000-0000000000a3 sessnew=e0000000-0000-4000-8000-0000000000a2
for org in $org2 $org3; do
  citus_psql 0 -tA -c "select switchboard.add_member('$org', '$sessadmin', 'admin')" >/dev/null
  got=$(citus_psql 0 -tA -c "set client_min_messages = warning" -c "set role authenticated" \
    -c "select set_config('request.jwt.claims', '{\"sub\": \"$sessadmin\", \"role\": \"authenticated\"}', false) is not null" \
    -c "select switchboard.has_feature('$org', 'calls')" \
    -c "select switchboard.add_member('$org', '$sessnew', 'agent')" \
    -c "select switchboard.remove_member('$org', '$sessnew')" 2>&1 | tr '\n' ' ')
  if [[ $got == "t t "*'"ADDED"'*'"REMOVED"'* && $got != *ERROR* ]]; then
    ok "session-level claims reach a delegated autocommit call on $org"
  else
    failed "session-level claims, a delegated autocommit call on $org: $got"
  fi
  citus_psql 0 -tA -c "select switchboard.remove_member('$org', '$sessadmin')" >/dev/null
done
