#!/usr/bin/env bash
# A database whose delivery worker waits for a retry (a failing endpoint, a long retry schedule)
# can still be renamed, altered and dropped: the ProcessUtility hook asks its worker to leave first.
# After a rename the worker comes back and serves the database under its new name.
# Needs SB_TEST_HOME and SB_TEST_PORT (set by tests/run_all.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
DB=switchboard_drop_test
WORK=$(mktemp -d)
SINK_PORT=$(free_port 24520)
ORG=00000000-0000-4000-8000-0000000f0d00

admin() { sb_psql "$HOME_DIR" "$PORT" -d postgres -Atc "$1"; }
q() { sb_psql "$HOME_DIR" "$PORT" -d "$1" -Atc "$2"; }
fail() { echo "FAILED: $*"; exit 1; }
cleanup() {
  [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
  admin "drop database if exists $DB" >/dev/null 2>&1 || true
  admin "drop database if exists ${DB}_renamed" >/dev/null 2>&1 || true
  sb_psql "$HOME_DIR" "$PORT" -d postgres -q -c "alter system reset switchboard.outbound_allow_networks" \
    -c "alter system reset switchboard.outbound_allow_http" -c "alter system reset switchboard.retry_schedule" \
    -c "select pg_reload_conf()" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# The pid of the delivery worker connected to database $1 (empty when none).
worker_of() {
  admin "select pid from pg_stat_activity where backend_type = 'switchboard webhooks' and datname = '$1'"
}
# Waits up to $2 seconds until database $1 has a delivery worker.
wait_worker() {
  local i
  for ((i = 0; i < $2 * 5; i++)); do [ -n "$(worker_of "$1")" ] && return 0; sleep 0.2; done
  return 1
}

python3 "$(dirname "${BASH_SOURCE[0]}")/outbound_sink.py" serve "$SINK_PORT" "$WORK/sink.log" &
SINK_PID=$!
wait_listening "$SINK_PORT" || exit 1  # a delivery refused before it listens would wait for its retry
sb_psql "$HOME_DIR" "$PORT" -d postgres -q -c "alter system set switchboard.outbound_allow_networks = '127.0.0.1/32'" \
  -c "alter system set switchboard.outbound_allow_http = on" -c "alter system set switchboard.retry_schedule = '3600'" \
  -c "select pg_reload_conf()" >/dev/null
sleep 1
admin "create database $DB" >/dev/null
sb_psql "$HOME_DIR" "$PORT" -d "$DB" -q -c "set client_min_messages = warning" -c "create extension switchboard cascade"
q "$DB" "insert into switchboard.organizations (id, name, slug) values ('$ORG', 'Drop', 'outbound-drop')" >/dev/null
q "$DB" "select switchboard.create_webhook_endpoint('$ORG', 'http://127.0.0.1:$SINK_PORT/status/500')" >/dev/null
q "$DB" "select switchboard.emit_event('$ORG', 'member.added', '{\"n\": 1}')" >/dev/null
wait_worker "$DB" 20 || fail "no delivery worker started for $DB"
for _ in $(seq 1 50); do
  [ "$(q "$DB" "select attempts from switchboard.webhook_deliveries")" = 1 ] &&
    [ "$(q "$DB" "select status from switchboard.webhook_deliveries")" = pending ] && break
  sleep 0.2
done
[ "$(q "$DB" "select status || ' ' || attempts from switchboard.webhook_deliveries")" = "pending 1" ] ||
  fail "the first attempt did not fail into a retry: $(q "$DB" "select status, attempts from switchboard.webhook_deliveries")"
[ -n "$(worker_of "$DB")" ] || fail "the worker did not stay while a retry is pending"
echo "ok: the worker of $DB waits for a retry an hour away"

admin "alter database $DB rename to ${DB}_renamed" >/dev/null || fail "rename refused while the worker waits"
wait_worker "${DB}_renamed" 20 || fail "no worker came back after the rename"
echo "ok: ALTER DATABASE RENAME succeeds; the worker comes back for ${DB}_renamed"

OID=$(admin "select oid from pg_database where datname = '${DB}_renamed'")
START=$(date +%s.%N)
admin "drop database ${DB}_renamed" >/dev/null || fail "DROP DATABASE failed while the worker waits for a retry"
END=$(date +%s.%N)
[ -z "$(admin "select 1 from pg_database where datname = '${DB}_renamed'")" ] || fail "the database is still there"
echo "ok: DROP DATABASE succeeds while a retry is pending ($(echo "$START $END" | awk '{printf "%.2f", $2 - $1}') s)"
sleep 2
if grep -q "database $OID does not exist" "$HOME_DIR/postgres.log"; then
  fail "a worker was started for the dropped database"
fi
echo "ok: no worker starts for the dropped database"
echo ok
