#!/usr/bin/env bash
# The README's "add a route" example, as written there: the SQL adds a route that api_route_problems()
# accepts, the curl command gets a hold through a running shim, and the route survives pg_dump and
# pg_restore (builtin = false) and works in the restored database. Needs SB_TEST_HOME and
# SB_TEST_PORT (set by tests/run_all.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
SRC=route_src DST=route_dst DUMP=$(mktemp /tmp/switchboard-route.XXXXXX)
SHIM_PID=""
cleanup() {
  [ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null && wait "$SHIM_PID" 2>/dev/null
  rm -f "$DUMP" "$DUMP.log"
  for db in $SRC $DST; do q postgres -c "set client_min_messages = warning" -c "drop database if exists $db" >/dev/null; done
}
trap cleanup EXIT
q() { local db=$1; shift; sb_psql "$HOME_DIR" "$PORT" -d "$db" -tA "$@"; }
fail() { echo "FAILED: $*"; exit 1; }

# The first block of each language after the README's "Adding a route needs no C++".
readme_block() {
  awk -v lang="$1" '/Adding a route needs no C\+\+/ { found = 1 }
    found && $0 == "```" lang { inside = 1; next }
    inside && $0 == "```" { exit }
    inside { print }' "$SB_ROOT/README.md"
}
SQL_EXAMPLE=$(readme_block sql)
CURL_EXAMPLE=$(readme_block sh)
[ -n "$SQL_EXAMPLE" ] && [ -n "$CURL_EXAMPLE" ] || fail "the README example was not found"

ORG=00000000-0000-4000-8000-0000000e0a00 AGENT_ID=00000000-0000-4000-8000-0000000e0a04
for db in $SRC $DST; do q postgres -c "set client_min_messages = warning" -c "drop database if exists $db" >/dev/null; done
q postgres -c "create database $SRC" >/dev/null
q $SRC -v org=$ORG -v agent=$AGENT_ID >/dev/null <<'SQL'
set client_min_messages = warning;
create extension switchboard cascade;
insert into switchboard.organizations (id, name, slug) values (:'org', 'Route Clinic', 'route-clinic');
insert into switchboard.organization_members (org_id, user_id, role) values (:'org', :'agent', 'agent');
select switchboard.create_calendar(:'org', 'Desk', 'UTC',
  '{"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]], "wed": [["00:00", "24:00"]],
    "thu": [["00:00", "24:00"]], "fri": [["00:00", "24:00"]], "sat": [["00:00", "24:00"]],
    "sun": [["00:00", "24:00"]]}');
SQL

problems=$(q $SRC -v ON_ERROR_STOP=1 <<<"$SQL_EXAMPLE") || fail "the README's SQL failed: $problems"
[ -z "$problems" ] || fail "api_route_problems() after the README's SQL: $problems"
[ "$(q $SRC -c "select builtin from switchboard.api_routes where path = '/api/calendars/{id}/holds'")" = f ] ||
  fail "the example route is missing or builtin"
echo "ok: the README's SQL adds a route api_route_problems() accepts"

SECRET=route-example-secret-of-at-least-32-bytes
SHIM="$SB_ROOT/build/switchboard-shim"
# Starts the shim on database $1 and runs the README's curl command; prints its answer.
hold_through_shim() {
  local port
  port=$(free_port $((${SB_SHIM_PORT_BASE:-18610} + 400)))
  SWITCHBOARD_DATABASE_URL="host=$HOME_DIR port=$PORT dbname=$1 user=switchboard_authenticator" \
    SWITCHBOARD_JWT_SECRET=$SECRET SWITCHBOARD_LISTEN=127.0.0.1:$port "$SHIM" >"$DUMP.log" 2>&1 &
  SHIM_PID=$!
  local i
  for i in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  SB_URL=http://127.0.0.1:$port \
    CALENDAR=$(q "$1" -c "select id from switchboard.calendars where org_id = '$ORG'") \
    AGENT=$(SWITCHBOARD_JWT_SECRET=$SECRET "$SHIM" token --sub $AGENT_ID --org $ORG --ttl 600) \
    bash -c "$CURL_EXAMPLE"
  kill "$SHIM_PID" && wait "$SHIM_PID" 2>/dev/null || true
  SHIM_PID=""
}
answer=$(hold_through_shim $SRC)
grep -Eq '"held": ?true' <<<"$answer" || fail "the README's curl answered: $answer"
echo "ok: the README's curl command holds a slot through the route"

pg_dump -h "$HOME_DIR" -p "$PORT" -U postgres -Fc -f "$DUMP" $SRC
q postgres -c "create database $DST" >/dev/null
pg_restore -h "$HOME_DIR" -p "$PORT" -U postgres --exit-on-error -d $DST "$DUMP"
route="select method || ' ' || path || ' ' || function_name || ' ' || arg_names::text || ' ' ||
  coalesce(org_arg, '-') || ' ' || summary from switchboard.api_routes where not builtin"
[ "$(q $SRC -c "$route")" = "$(q $DST -c "$route")" ] && [ -n "$(q $DST -c "$route")" ] ||
  fail "the route did not survive pg_dump and pg_restore: [$(q $DST -c "$route")]"
[ "$(q $DST -c "select count(*) from switchboard.api_routes where builtin")" = \
  "$(q $SRC -c "select count(*) from switchboard.api_routes where builtin")" ] || fail "built-in routes differ after restore"
[ -z "$(q $DST -c "select * from switchboard.api_route_problems()")" ] || fail "route problems after restore"
q $DST -c "delete from switchboard.appointments" >/dev/null  # the restored hold would take the slot
answer=$(hold_through_shim $DST)
grep -Eq '"held": ?true' <<<"$answer" || fail "after restore the curl answered: $answer"
echo "ok: the route survives pg_dump and pg_restore and still holds slots"
