#!/usr/bin/env bash
# v1a (Ed25519) delivery end to end: an endpoint created with signing v1a gets its messages from
# the delivery worker through a real loopback sink, each signature checked independently (the
# openssl command line tool) under the whpk_ public key the creation answer showed; a signature
# under another key does not verify. Then retention through the worker: with
# switchboard.outbound_retention compressed to a few seconds, the worker itself prunes delivered
# messages and their attempts, and keeps a message still pending for an enabled endpoint.
# Needs SB_TEST_HOME and SB_TEST_PORT (set by tests/run_all.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
DB=switchboard_test
WORK=$(mktemp -d)
SINK_PORT=$(free_port 24540)
SINK_LOG="$WORK/sink.log"
ORG=00000000-0000-4000-8000-0000000f0a1a
SINK="$(dirname "${BASH_SOURCE[0]}")/outbound_sink.py"

q() { sb_psql "$HOME_DIR" "$PORT" -d "$DB" -Atc "$1"; }
fail() { echo "FAILED: $*"; exit 1; }
settings() {  # allow_networks allow_http retention
  sb_psql "$HOME_DIR" "$PORT" -d postgres -q \
    -c "alter system set switchboard.outbound_allow_networks = '$1'" \
    -c "alter system set switchboard.outbound_allow_http = $2" \
    -c "alter system set switchboard.outbound_retention = '$3'" \
    -c "alter system set switchboard.retry_schedule = '3600'" -c "select pg_reload_conf()" >/dev/null
  sleep 1
}
cleanup() {
  [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
  sb_psql "$HOME_DIR" "$PORT" -d postgres -q -c "alter system reset switchboard.outbound_allow_networks" \
    -c "alter system reset switchboard.outbound_allow_http" -c "alter system reset switchboard.retry_schedule" \
    -c "alter system reset switchboard.outbound_retention" -c "select pg_reload_conf()" >/dev/null 2>&1 || true
  q "delete from switchboard.organizations where id = '$ORG'" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# Waits until $1 (a query) prints $2, at most $3 seconds.
wait_for() {
  local i
  for ((i = 0; i < $3 * 5; i++)); do [ "$(q "$1")" = "$2" ] && return 0; sleep 0.2; done
  fail "after $3 s, $1 -> $(q "$1") (expected $2)"
}

python3 "$SINK" serve "$SINK_PORT" "$SINK_LOG" &
SINK_PID=$!
wait_listening "$SINK_PORT" || exit 1  # a delivery refused before it listens would wait for its retry
touch "$SINK_LOG"
settings "127.0.0.1/32" on 30d
q "insert into switchboard.organizations (id, name, slug) values ('$ORG', 'V1a', 'outbound-v1a')" >/dev/null
read -r EP WHPK <<<"$(q "select r ->> 'endpointId', r ->> 'publicKey' from switchboard.create_webhook_endpoint('$ORG', 'http://127.0.0.1:$SINK_PORT/ok', '{member.added}', '{\"signing\": \"v1a\"}') r" | tr '|' ' ')"
[[ "$WHPK" == whpk_* ]] || fail "no whpk_ public key in the answer: $WHPK"
for i in 1 2 3 4 5; do
  q "select switchboard.emit_event('$ORG', 'member.added', '{\"n\": $i, \"text\": \"café ünïcode\"}')" >/dev/null
done
wait_for "select count(*) from switchboard.webhook_deliveries where org_id = '$ORG' and status = 'delivered'" 5 30
read -r total distinct bad <<<"$(python3 "$SINK" verify-v1a "$SINK_LOG" "$WHPK")"
[ "$total" = 5 ] && [ "$distinct" = 5 ] || fail "$total requests, $distinct messages (5 expected)"
[ "$bad" = 0 ] || fail "$bad v1a signatures did not verify under $WHPK"
grep -q '"signature": "v1a,' "$SINK_LOG" || fail "no v1a signature header"
OTHER=$(q "select switchboard._webhook_public_key(switchboard._new_webhook_signing_key())")
read -r _ _ bad <<<"$(python3 "$SINK" verify-v1a "$SINK_LOG" "$OTHER")"
[ "$bad" = 5 ] || fail "signatures verified under another key ($((5 - bad)) of 5)"
echo "ok: v1a deliveries through the sink verify under the endpoint's whpk_ key (openssl), not under another"

# Retention through the worker: 3 s. A message pending for an enabled endpoint stays.
q "select switchboard.create_webhook_endpoint('$ORG', 'http://127.0.0.1:$SINK_PORT/status/500', '{member.removed}')" >/dev/null
q "select switchboard.emit_event('$ORG', 'member.removed', '{\"pending\": true}')" >/dev/null
wait_for "select count(*) from switchboard.webhook_attempts where org_id = '$ORG' and status_code = 500" 1 30
[ "$(q "select count(*) from switchboard.webhook_messages where org_id = '$ORG'")" = 6 ] || fail "messages before pruning"
settings "127.0.0.1/32" on 3s
q "select switchboard.emit_event('$ORG', 'member.added', '{\"wake\": true}')" >/dev/null  # the worker re-reads its settings
wait_for "select count(*) from switchboard.webhook_messages where org_id = '$ORG' and body not like '%pending%'" 0 40
[ "$(q "select count(*) from switchboard.webhook_messages where org_id = '$ORG' and body like '%pending%'")" = 1 ] ||
  fail "the message still pending for an enabled endpoint was pruned"
[ "$(q "select count(*) from switchboard.webhook_attempts a where a.org_id = '$ORG' and a.status_code = 200")" = 0 ] ||
  fail "attempts of pruned messages are left: $(q "select message_id, status_code, outcome from switchboard.webhook_attempts a where a.org_id = '$ORG'")"
echo "ok: retention through the worker: delivered messages and their attempts pruned after 3 s, a pending one kept"
echo ok
