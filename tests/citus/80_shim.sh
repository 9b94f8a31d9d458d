# switchboard-shim in front of the coordinator, over real HTTP: the shim sends each request's role
# and claims as SET LOCAL statements inside BEGIN ... COMMIT, which Citus carries to the worker a
# call is delegated to. An agent of one organisation and an admin of another (on different
# workers) are answered there; each is refused on the other's organisation, as on one server.
# org2, org3 and owner come from 50_claims.sh.
SHIM_SECRET=citus-shim-test-secret-of-at-least-32-bytes
SHIM_BIN="$SB_ROOT/build/switchboard-shim"
agent=e0000000-0000-4000-8000-0000000000b4 admin=e0000000-0000-4000-8000-0000000000b2
newcomer=e0000000-0000-4000-8000-0000000000b6 newcomer2=e0000000-0000-4000-8000-0000000000b7
citus_psql 0 -tA -c "select switchboard.add_member('$org2', '$agent', 'agent')" \
  -c "select switchboard.add_member('$org3', '$admin', 'admin')" >/dev/null
shim_port=$(free_port $((${SB_SHIM_PORT_BASE:-18610} + 450)))
shim_log="${CITUS_HOME[0]}/shim.log"
SWITCHBOARD_DATABASE_URL="host=${CITUS_HOME[0]} port=${CITUS_PORT[0]} dbname=$CITUS_DB user=switchboard_authenticator" \
  SWITCHBOARD_JWT_SECRET=$SHIM_SECRET SWITCHBOARD_LISTEN=127.0.0.1:$shim_port "$SHIM_BIN" >"$shim_log" 2>&1 &
shim_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$shim_port/readyz" >/dev/null && break; sleep 0.1; done
# token USER ORG: a member's token acting for organisation ORG.
token() { SWITCHBOARD_JWT_SECRET=$SHIM_SECRET "$SHIM_BIN" token --sub "$1" --org "$2" --ttl 600; }
# http TOKEN METHOD PATH [BODY]: prints the status, a space and the body.
http() {
  local args=(-s -w '\n%{http_code}' -X "$2" -H "Authorization: Bearer $1") out
  [ $# -gt 3 ] && args+=(-H 'Content-Type: application/json' -d "$4")
  out=$(curl "${args[@]}" "http://127.0.0.1:$shim_port$3")
  echo "${out##*$'\n'} ${out%$'\n'*}"
}
# expect NAME STATUS PATTERN ANSWER: ANSWER has status STATUS and a body matching PATTERN.
expect() {
  if [[ $4 == "$2 "* && $4 =~ $3 ]]; then ok "$1"; else failed "$1: expected $2 /$3/, got $4"; fi
}
agent2=$(token $agent "$org2") agent3=$(token $agent "$org3") admin3=$(token $admin "$org3")
admin2=$(token $admin "$org2")
expect "shim: an agent's check on its organisation is answered on its worker" 200 '"reason": ?"PLAN"' \
  "$(http "$agent2" POST /api/features/check '{"feature": "calls"}')"
expect "shim: an agent acting for another organisation is refused (42501)" 403 '42501' \
  "$(http "$agent3" POST /api/features/check '{"feature": "calls"}')"
expect "shim: a read-only /rpc call of a member is answered (GET, read-only transaction)" 200 '"hasAccess": ?true' \
  "$(http "$agent2" GET "/rpc/check_feature?org_id=$org2&feature=calls")"
expect "shim: a member's /rpc call on another organisation is refused (42501)" 403 '42501' \
  "$(http "$agent2" POST /rpc/check_feature "{\"org_id\": \"$org3\", \"feature\": \"calls\"}")"
before=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org2', 'calls') ->> 'used'")
expect "shim: an agent's consume is answered" 200 '"ok": ?true' \
  "$(http "$agent2" POST /api/features/consume '{"feature": "calls", "quantity": 2}')"
check "shim: the consume counted once on the organisation's worker" 2 0 \
  "select (switchboard.check_feature('$org2', 'calls') ->> 'used')::int - $before"
expect "shim: an admin adds a member to its organisation" 200 '"reason": ?"ADDED"' \
  "$(http "$admin3" POST "/api/organizations/$org3/members" "{\"user_id\": \"$newcomer\", \"role\": \"agent\"}")"
# The membership rules on the organisation's node judge the request's caller (an admin), not the
# function's owner Citus connected as (switchboard.caller_role): before, this answered ADDED.
expect "shim: an admin may not add an owner (42501)" 403 'cannot grant a role above your own' \
  "$(http "$admin3" POST "/api/organizations/$org3/members" "{\"user_id\": \"$newcomer2\", \"role\": \"owner\"}")"
check "shim: the admin added no owner" 0 0 \
  "select count(*) from switchboard.organization_members where org_id = '$org3' and user_id = '$newcomer2'"
expect "shim: the admin lists its organisation's members, the newcomer among them" 200 "$newcomer" \
  "$(http "$admin3" GET "/api/organizations/$org3/members")"
expect "shim: the admin's listing of another organisation's members is not found (P0002)" 404 'P0002' \
  "$(http "$admin3" GET "/api/organizations/$org2/members")"
expect "shim: an admin adding to another organisation is refused (42501)" 403 '42501' \
  "$(http "$admin2" POST "/api/organizations/$org2/members" "{\"user_id\": \"$newcomer\", \"role\": \"agent\"}")"
check "shim: nothing was added to the other organisation" 0 0 \
  "select count(*) from switchboard.organization_members where org_id = '$org2' and user_id = '$newcomer'"
expect "shim: an agent may not add members (42501)" 403 '42501' \
  "$(http "$agent2" POST "/api/organizations/$org2/members" "{\"user_id\": \"$newcomer\", \"role\": \"agent\"}")"
kill "$shim_pid" && wait "$shim_pid" 2>/dev/null
