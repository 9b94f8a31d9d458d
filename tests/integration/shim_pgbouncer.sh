#!/usr/bin/env bash
# switchboard-shim through a real transaction-mode pooler (PgBouncer, pool_mode = transaction, two
# server connections for the shim's six) with SWITCHBOARD_DB_POOLER=transaction: parallel requests
# of different users each see their own claims, a write commits, Prefer: tx=rollback rolls back, a
# new route shows up without a restart (the schema is polled, not LISTENed for), and the shim never
# held more server connections than the pooler gives. Needs SB_TEST_HOME and SB_TEST_PORT (set by
# tests/run_all.sh) and pgbouncer (Debian's package).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
SECRET=pgbouncer-test-jwt-secret-of-at-least-32-bytes
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
[ -x "$PGBOUNCER" ] || die "pgbouncer is missing: run 'make deps' (as root)"
db() { sb_psql "$HOME_DIR" "$PORT" -d switchboard_test -At "$@"; }

db >/dev/null <<'SQL'
set client_min_messages = warning;
create table if not exists public.pgbtest_notes (note text);
grant select, insert on public.pgbtest_notes to authenticated;
create or replace function switchboard.pgbtest_whoami() returns text
  language sql stable as 'select switchboard.current_user_id()::text';
create or replace function switchboard.pgbtest_note(note text) returns text
  language sql volatile as 'insert into public.pgbtest_notes values (note) returning note';
grant execute on function switchboard.pgbtest_whoami(), switchboard.pgbtest_note(text) to authenticated;
SQL

# The pooler: its files readable by the cluster's OS user, which it runs as (it refuses root).
DIR=$(pg_owned_dir "$(mktemp -d)")
chmod 755 "$DIR"
BOUNCER_PORT=$(free_port $((${SB_SHIM_PORT_BASE:-18610} + 40)))
cat >"$DIR/pgbouncer.ini" <<EOF
[databases]
switchboard_test = host=$HOME_DIR port=$PORT dbname=switchboard_test
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = trust
auth_file = $DIR/userlist.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
ignore_startup_parameters = extra_float_digits
logfile = $DIR/pgbouncer.log
pidfile = $DIR/pgbouncer.pid
EOF
echo '"switchboard_authenticator" ""' >"$DIR/userlist.txt"
chmod 644 "$DIR/pgbouncer.ini" "$DIR/userlist.txt"
as_pg "$PGBOUNCER" -d -q "$DIR/pgbouncer.ini" || die "pgbouncer did not start"

SHIM_PORT=$(free_port "${SB_SHIM_PORT_BASE:-18610}")
LOG=$(mktemp)
SWITCHBOARD_DATABASE_URL="host=127.0.0.1 port=$BOUNCER_PORT user=switchboard_authenticator dbname=switchboard_test" \
  SWITCHBOARD_DB_POOLER=transaction SWITCHBOARD_POOL_SIZE=6 SWITCHBOARD_JWT_SECRET=$SECRET \
  SWITCHBOARD_TX_END=commit-allow-override SWITCHBOARD_LISTEN=127.0.0.1:$SHIM_PORT \
  "$SB_ROOT/build/switchboard-shim" >"$LOG" 2>&1 &
SHIM_PID=$!
cleanup() {
  kill "$SHIM_PID" 2>/dev/null
  wait "$SHIM_PID" 2>/dev/null
  [ -f "$DIR/pgbouncer.pid" ] && kill "$(cat "$DIR/pgbouncer.pid")" 2>/dev/null
  db -c "delete from switchboard.api_routes where path = '/api/pgbtest-whoami'" >/dev/null 2>&1
  rm -rf "$LOG" "$DIR"
}
trap cleanup EXIT
fail() {
  tail -20 "$LOG"
  tail -20 "$DIR/pgbouncer.log" 2>/dev/null
  die "$*"
}
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$SHIM_PORT/readyz" >/dev/null && break
  sleep 0.1
done
URL=http://127.0.0.1:$SHIM_PORT
token() { SWITCHBOARD_JWT_SECRET=$SECRET "$SB_ROOT/build/switchboard-shim" token --sub "$1" --ttl 600; }
user() { printf '00000000-0000-4000-8000-0000000bb%03d' "$1"; }

# 64 requests of 8 users, 16 at a time, over 6 shim connections sharing 2 server connections:
# every answer names its own user (claims never leak between transactions).
TOKENS=$DIR/tokens
for i in $(seq 1 8); do echo "$(user "$i") $(token "$(user "$i")")"; done >"$TOKENS"
for _ in $(seq 8); do cat "$TOKENS"; done >"$TOKENS.all"
mismatches=$(xargs -P 16 -L 1 sh -c \
  'got=$(curl -s -X POST "$0/rpc/pgbtest_whoami" -H "Authorization: Bearer $2"); [ "$got" = "\"$1\"" ] || echo "$1 got $got"' \
  "$URL" <"$TOKENS.all")
[ -z "$mismatches" ] || fail "claims crossed between requests: $mismatches"

# A write commits; Prefer: tx=rollback rolls back (both through the pooler).
T=$(token "$(user 1)")
note() { curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/rpc/pgbtest_note" -H "Authorization: Bearer $T" "$@"; }
[ "$(note -d "{\"note\": \"kept-$$\"}")" = 200 ] || fail "the write failed"
[ "$(note -H 'Prefer: tx=rollback' -d "{\"note\": \"undone-$$\"}")" = 200 ] || fail "the rolled-back write failed"
[ "$(db -c "select count(*) from public.pgbtest_notes where note = 'kept-$$'")" = 1 ] || fail "the write was not committed"
[ "$(db -c "select count(*) from public.pgbtest_notes where note = 'undone-$$'")" = 0 ] || fail "tx=rollback committed"

# A route added now is served within the polling period, without a restart.
db -c "insert into switchboard.api_routes (method, path, function_name, summary)
       values ('GET', '/api/pgbtest-whoami', 'pgbtest_whoami', 'who am I')" >/dev/null
served=0
for _ in $(seq 150); do
  [ "$(curl -s "$URL/api/pgbtest-whoami" -H "Authorization: Bearer $T")" = "\"$(user 1)\"" ] && { served=1; break; }
  sleep 0.1
done
[ "$served" = 1 ] || fail "the new route was not served within 15 s"

# The shim's six connections shared the pooler's two server connections.
servers=$(db -c "select count(*) from pg_stat_activity where usename = 'switchboard_authenticator'")
[ "$servers" -le 2 ] || fail "$servers server connections (the pooler gives 2)"
grep -q 'prepared statement' "$LOG" && fail "a prepared statement error reached the log"
echo ok
