#!/usr/bin/env bash
# Outbound webhooks end to end: the delivery worker of the test database sends to a real loopback
# sink (outbound_sink.py). Rolled-back events are never sent; 8 parallel clients' events arrive
# each exactly once with a valid signature; failures follow the (compressed) retry schedule; 410
# disables; redirects, timeouts and closed connections are failures; the SSRF guard refuses
# reserved addresses in every form; an endpoint's rate limit, concurrency cap and circuit breaker
# pace what it gets; kill -9 of the postmaster mid-burst loses nothing committed.
# Needs SB_TEST_HOME and SB_TEST_PORT (set by tests/run_all.sh). OUTBOUND_EVENTS sets the burst.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
DB=switchboard_test
EVENTS=${OUTBOUND_EVENTS:-2000}
WORK=$(mktemp -d)
SINK_PORT=$(free_port 24500)
SINK_LOG="$WORK/sink.log"
ORG=00000000-0000-4000-8000-0000000f0b00

q() { sb_psql "$HOME_DIR" "$PORT" -d "$DB" -Atc "$1"; }
fail() { echo "FAILED: $*"; exit 1; }
settings() {
  sb_psql "$HOME_DIR" "$PORT" -d postgres -q \
    -c "alter system set switchboard.outbound_allow_networks = '$1'" \
    -c "alter system set switchboard.outbound_allow_http = $2" \
    -c "alter system set switchboard.retry_schedule = '1,1'" \
    -c "alter system set switchboard.outbound_timeout = '${3:-15s}'" \
    -c "select pg_reload_conf()" >/dev/null
  sleep 1
}
# Ensures: the test instance accepts connections again after its postmaster was killed: waits until
# no live process works in its data directory (a killed postmaster may stay a zombie that nothing
# reaps, which pg_ctl and the socket lock count as running), removes the stale lock files and starts
# the instance; prints the end of the server log when it cannot.
revive_instance() {
  local data pid busy=1
  sb_psql "$HOME_DIR" "$PORT" -d postgres -c "select 1" >/dev/null 2>&1 && return 0
  data=$(realpath "$HOME_DIR/data")
  for _ in $(seq 1 60); do
    busy=0
    for pid in /proc/[0-9]*; do
      [ "$(readlink "$pid/cwd" 2>/dev/null)" = "$data" ] && { busy=1; break; }
    done
    [ "$busy" = 0 ] && break
    sleep 1
  done
  [ "$busy" = 0 ] || { echo "process ${pid#/proc/} still works in $data"; return 1; }
  rm -f "$data/postmaster.pid" "$HOME_DIR/.s.PGSQL.$PORT.lock"
  (start_instance "$HOME_DIR") >/dev/null 2>&1 && return 0
  tail -n 20 "$HOME_DIR/postgres.log"
  return 1
}
cleanup() {
  [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null
  revive_instance || true  # later suites share the instance: never leave it down
  sb_psql "$HOME_DIR" "$PORT" -d postgres -q -c "alter system reset switchboard.outbound_allow_networks" \
    -c "alter system reset switchboard.outbound_allow_http" -c "alter system reset switchboard.retry_schedule" \
    -c "alter system reset switchboard.outbound_timeout" -c "alter system reset switchboard.outbound_breaker_failures" \
    -c "alter system reset switchboard.outbound_breaker_cooldown" -c "select pg_reload_conf()" >/dev/null 2>&1 || true
  q "delete from switchboard.organizations where id = '$ORG'" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Waits until no delivery of the organisation is pending (at most $1 seconds).
wait_settled() {
  local i
  for ((i = 0; i < $1 * 5; i++)); do
    [ "$(q "select count(*) from switchboard.webhook_deliveries where org_id = '$ORG' and status = 'pending'")" = 0 ] && return 0
    sleep 0.2
  done
  fail "deliveries still pending after $1 s: $(q "select e.url, d.attempts, d.next_attempt_at - now() from switchboard.webhook_deliveries d join switchboard.webhook_endpoints e on e.id = d.endpoint_id where d.org_id = '$ORG' and d.status = 'pending' limit 5") (schedule: $(q "show switchboard.retry_schedule"))"
}
endpoint() {  # url [options] -> "id secret"
  q "select r ->> 'endpointId', r ->> 'secret' from switchboard.create_webhook_endpoint('$ORG', '$1', NULL, '${2:-{\}}') r" | tr '|' ' '
}
outcomes() {  # endpoint -> its attempts' outcomes in order
  q "select string_agg(coalesce(status_code::text, '-') || ':' || outcome, ' ' order by id) from switchboard.webhook_attempts where endpoint_id = '$1'"
}

python3 "$(dirname "${BASH_SOURCE[0]}")/outbound_sink.py" serve "$SINK_PORT" "$SINK_LOG" &
SINK_PID=$!
wait_listening "$SINK_PORT" || exit 1  # a delivery refused before it listens would wait for its retry
touch "$SINK_LOG"
settings "127.0.0.1/32" on
q "insert into switchboard.organizations (id, name, slug) values ('$ORG', 'Outbound', 'outbound-delivery')" >/dev/null
SINK="http://127.0.0.1:$SINK_PORT"
read -r OK_ID OK_SECRET <<<"$(endpoint "$SINK/ok")"

# A rolled-back event is never sent; a committed one arrives, signed.
q "begin; select switchboard.emit_event('$ORG', 'member.added', '{\"rolled\": \"back\"}'); rollback;" >/dev/null
MSG=$(q "select switchboard.emit_event('$ORG', 'member.added', '{\"n\": 0}')")
wait_settled 20
grep -q '"rolled' "$SINK_LOG" && fail "a rolled-back event was delivered"
grep -q "\"id\": \"$MSG\"" "$SINK_LOG" || fail "the committed event did not arrive"
echo "ok: rolled back -> nothing sent; committed -> delivered"

# 8 parallel clients emit EVENTS events in all: each arrives exactly once, signature valid.
: >"$SINK_LOG"
T0=$(date +%s.%N)
for c in $(seq 1 8); do
  (for ((i = 0; i < EVENTS / 8; i++)); do
     echo "select switchboard.emit_event('$ORG', 'member.added', '{\"client\": $c, \"i\": $i}');"
   done | sb_psql "$HOME_DIR" "$PORT" -d "$DB" -At >/dev/null) &
done
wait %2 %3 %4 %5 %6 %7 %8 %9 2>/dev/null || wait
wait_settled 300
T1=$(date +%s.%N)
read -r total distinct bad <<<"$(python3 "$(dirname "${BASH_SOURCE[0]}")/outbound_sink.py" verify "$SINK_LOG" "$OK_SECRET")"
[ "$distinct" = "$EVENTS" ] || fail "$distinct distinct messages arrived, $EVENTS expected"
[ "$total" = "$EVENTS" ] || fail "$(q "select outcome, status_code, left(response_body, 60), count(*) from switchboard.webhook_attempts where org_id = '$ORG' group by 1, 2, 3")
$total requests for $EVENTS messages (duplicates on a healthy sink)"
[ "$bad" = 0 ] || fail "$bad signatures did not verify"
echo "ok: $EVENTS events from 8 clients, each delivered once, signatures valid ($(echo "$T0 $T1" | awk '{printf "%.1f", $2 - $1}') s)"

# Failures follow the schedule (1 s, 1 s: three attempts, then failed); timeouts after 1.5 s.
settings "127.0.0.1/32" on 1500ms
read -r E500 _ <<<"$(endpoint "$SINK/status/500")"
read -r E410 _ <<<"$(endpoint "$SINK/status/410")"
read -r EREDIR _ <<<"$(endpoint "$SINK/redirect")"
read -r EHANG _ <<<"$(endpoint "$SINK/hang")"
read -r ECLOSE _ <<<"$(endpoint "$SINK/close")"
read -r E429 _ <<<"$(endpoint "$SINK/retry-after/1")"
read -r EFLAKY _ <<<"$(endpoint "$SINK/flaky/1")"
q "update switchboard.webhook_endpoints set enabled = false, disabled_reason = 'manual' where id = '$OK_ID'" >/dev/null
MSG=$(q "select switchboard.emit_event('$ORG', 'member.removed', '{\"n\": 1}')")
wait_settled 60
[ "$(outcomes "$E500")" = "500:http_error 500:http_error 500:http_error" ] || fail "500: $(outcomes "$E500")"
[ "$(outcomes "$E410")" = "410:http_error" ] || fail "410: $(outcomes "$E410")"
[ "$(q "select disabled_reason from switchboard.webhook_endpoints where id = '$E410'")" = gone ] || fail "410 did not disable"
[ "$(outcomes "$EREDIR")" = "302:redirect 302:redirect 302:redirect" ] || fail "redirect: $(outcomes "$EREDIR")"
[ "$(outcomes "$EHANG")" = "-:timeout -:timeout -:timeout" ] || fail "hang: $(outcomes "$EHANG")"
case "$(outcomes "$ECLOSE")" in "-:error -:error -:error") ;; *) fail "close: $(outcomes "$ECLOSE")" ;; esac
case "$(outcomes "$E429")" in "429:http_error 429:http_error 429:http_error") ;; *) fail "429: $(outcomes "$E429")" ;; esac
[ "$(outcomes "$EFLAKY")" = "500:http_error 200:success" ] || fail "flaky: $(outcomes "$EFLAKY")"
[ "$(q "select count(distinct id) from switchboard.webhook_messages where id = '$MSG'")" = 1 ] || fail "message"
grep "\"id\": \"$MSG\"" "$SINK_LOG" | grep -c flaky | grep -qx 2 || fail "the retry of the flaky endpoint did not reuse the webhook-id"
echo "ok: retries by schedule, 410 disables, redirect/timeout/close are failures, same webhook-id on retry"
q "delete from switchboard.webhook_endpoints where org_id = '$ORG' and id <> '$OK_ID'" >/dev/null

# The SSRF guard: with no network allowed, reserved targets in every form are refused.
settings "" on
declare -A SSRF=()
for url in "http://127.0.0.1:$SINK_PORT/ok" "http://localhost:$SINK_PORT/ok" "http://[::1]:$SINK_PORT/ok" \
           "http://10.0.0.1:$SINK_PORT/ok" "http://169.254.169.254/latest" "http://[::ffff:127.0.0.1]:$SINK_PORT/ok" \
           "http://2130706433:$SINK_PORT/ok" "http://0x7f000001:$SINK_PORT/ok" "http://192.168.1.1/" \
           "http://[fe80::1]/" "http://0.0.0.0:$SINK_PORT/ok"; do
  read -r EID _ <<<"$(endpoint "$url")"
  SSRF[$EID]=$url
  q "select switchboard.send_test_webhook('$ORG', '$EID')" >/dev/null
done
wait_settled 60
for EID in "${!SSRF[@]}"; do
  [ "$(outcomes "$EID")" = "-:refused -:refused -:refused" ] || fail "${SSRF[$EID]} was not refused: $(outcomes "$EID")"
  q "delete from switchboard.webhook_endpoints where id = '$EID'" >/dev/null
done
# https only unless allowed: plain http is refused even to an allowed network.
settings "127.0.0.1/32" off
q "update switchboard.webhook_endpoints set enabled = true, disabled_reason = null where id = '$OK_ID'" >/dev/null
MSG=$(q "select (switchboard.send_test_webhook('$ORG', '$OK_ID')) ->> 'messageId'")
wait_settled 30
[ "$(q "select string_agg(outcome, ' ') from switchboard.webhook_attempts where message_id = '$MSG'")" = "refused refused refused" ] ||
  fail "plain http was not refused"
echo "ok: SSRF guard refuses loopback, localhost, ::1, 10/8, metadata, mapped, decimal and hex forms, link-local, 0.0.0.0; http refused unless allowed"

# Pacing per endpoint: a rate limit of 10/s, a concurrency cap of 2, and a circuit breaker (2
# failures open it for 2 s, then one probe; a failed probe doubles the wait) in front of an
# endpoint that is down for its first 5 s: it gets a handful of requests, not one per retry.
settings "127.0.0.1/32" on
sb_psql "$HOME_DIR" "$PORT" -d postgres -q -c "alter system set switchboard.outbound_breaker_failures = 2" \
  -c "alter system set switchboard.outbound_breaker_cooldown = '2s'" \
  -c "alter system set switchboard.retry_schedule = '1,1,1,1,1,1,1,1,1,1,1,1'" -c "select pg_reload_conf()" >/dev/null
sleep 1
pace() { python3 "$(dirname "${BASH_SOURCE[0]}")/outbound_sink.py" pace "$SINK_LOG" "$1"; }
q "update switchboard.webhook_endpoints set enabled = false, disabled_reason = 'manual' where id = '$OK_ID'" >/dev/null
DOWN_UNTIL=$(($(date +%s) + 5))
read -r ERATE _ <<<"$(q "select r ->> 'endpointId' from switchboard.create_webhook_endpoint('$ORG', '$SINK/paced', '{appointment.booked}', '{\"rateLimit\": 10}') r")"
read -r ECONC _ <<<"$(q "select r ->> 'endpointId' from switchboard.create_webhook_endpoint('$ORG', '$SINK/slow/300', '{appointment.cancelled}', '{\"maxConcurrency\": 2}') r")"
read -r EDOWN _ <<<"$(q "select r ->> 'endpointId' from switchboard.create_webhook_endpoint('$ORG', '$SINK/down-until/$DOWN_UNTIL', '{appointment.held}') r")"
q "select count(*) from (select switchboard.emit_event('$ORG', 'appointment.booked', jsonb_build_object('paced', i)),
                                switchboard.emit_event('$ORG', 'appointment.held', jsonb_build_object('down', i))
                           from generate_series(1, 40) i) s" >/dev/null
q "select count(*) from (select switchboard.emit_event('$ORG', 'appointment.cancelled', jsonb_build_object('slow', i))
                           from generate_series(1, 10) i) s" >/dev/null
wait_settled 90
# The limiter's promise is about the requests it starts (attempted_at is each request's start):
# at most 10 in any second; the sink may see them bunched by the network, never more than two
# seconds' worth in one.
read -r n _ sink_per_second _ <<<"$(pace /paced)"
[ "$n" = 40 ] || fail "rate limit 10/s: $n requests instead of 40"
IFS="|" read -r per_second span <<<"$(q "select max(w.n), round(extract(epoch from max(a.attempted_at) - min(a.attempted_at)), 2)
  from switchboard.webhook_attempts a,
       lateral (select count(*) n from switchboard.webhook_attempts b where b.endpoint_id = a.endpoint_id
                 and b.attempted_at >= a.attempted_at and b.attempted_at < a.attempted_at + interval '995 ms') w
 where a.endpoint_id = '$ERATE'")"
[ "$per_second" -le 10 ] && [ "$sink_per_second" -le 20 ] && awk "BEGIN { exit !($span >= 2.95) }" ||
  fail "rate limit 10/s: started at most $per_second within a second (the sink saw $sink_per_second), 40 over $span s"
read -r n active _ _ <<<"$(pace /slow/300)"
[ "$n" = 10 ] && [ "$active" -le 2 ] || fail "concurrency cap 2: $n requests, $active at once"
read -r n _ _ _ <<<"$(pace "/down-until/$DOWN_UNTIL")"
delivered=$(q "select count(*) from switchboard.webhook_deliveries where endpoint_id = '$EDOWN' and status = 'delivered'")
[ "$delivered" = 40 ] && [ "$n" -le 110 ] ||
  fail "breaker: $delivered of 40 delivered after $n requests (without a breaker: 40 per second while down)"
echo "ok: rate limit 10/s ($per_second started within a second at most, the sink saw $sink_per_second; ${span} s for 40), concurrency cap 2 ($active at once), breaker ($n requests for 40 messages to an endpoint down 5 s)"
q "delete from switchboard.webhook_endpoints where id in ('$ERATE', '$ECONC', '$EDOWN')" >/dev/null
q "update switchboard.webhook_endpoints set enabled = true, disabled_reason = null where id = '$OK_ID'" >/dev/null
sb_psql "$HOME_DIR" "$PORT" -d postgres -q -c "alter system reset switchboard.outbound_breaker_failures" \
  -c "alter system reset switchboard.outbound_breaker_cooldown" -c "select pg_reload_conf()" >/dev/null

# A slow request holds back nothing else: while the only request in flight hangs (6 s timeout),
# another endpoint's retry comes due after about 1 s and is sent then, not after the hang.
settings "127.0.0.1/32" on 6s
read -r ESLOW _ <<<"$(q "select r ->> 'endpointId' from switchboard.create_webhook_endpoint('$ORG', '$SINK/hang', '{appointment.completed}') r")"
read -r ESOON _ <<<"$(q "select r ->> 'endpointId' from switchboard.create_webhook_endpoint('$ORG', '$SINK/flaky/1', '{appointment.no_show}') r")"
q "select switchboard.emit_event('$ORG', 'appointment.completed', '{}'), switchboard.emit_event('$ORG', 'appointment.no_show', '{}')" >/dev/null
t0=$(date +%s%N)
for ((i = 0; i < 50; i++)); do
  [ "$(q "select count(*) from switchboard.webhook_deliveries where endpoint_id = '$ESOON' and status = 'delivered'")" = 1 ] && break
  sleep 0.1
done
t1=$(date +%s%N)
hung=$(q "select count(*) from switchboard.webhook_attempts where endpoint_id = '$ESLOW'")
tries=$(q "select count(*) from switchboard.webhook_attempts where endpoint_id = '$ESOON'")
[ "$i" -lt 50 ] && [ "$hung" = 0 ] && [ "$tries" = 2 ] ||
  fail "a retry waited for a hanging request: delivered after $(((t1 - t0) / 1000000)) ms and $tries attempts, the hanging one finished $hung times"
echo "ok: a retry coming due is sent while another endpoint's request hangs (delivered by the second attempt $(((t1 - t0) / 1000000)) ms after the commit)"
q "delete from switchboard.webhook_endpoints where id in ('$ESLOW', '$ESOON')" >/dev/null

# kill -9 of the postmaster mid-burst: every committed message still arrives (at least once).
settings "127.0.0.1/32" on
: >"$SINK_LOG"
q "select count(*) from (select switchboard.emit_event('$ORG', 'member.added', jsonb_build_object('burst', i)) from generate_series(1, $EVENTS) i) s" >/dev/null
sleep 0.3
PM=$(head -1 "$HOME_DIR/data/postmaster.pid")
kill -9 "$PM"
# The old processes notice the postmaster's death and leave; start again once they have.
revive_instance || fail "the instance did not start again after kill -9"
wait_settled 300
read -r total distinct bad <<<"$(python3 "$(dirname "${BASH_SOURCE[0]}")/outbound_sink.py" verify "$SINK_LOG" "$OK_SECRET")"
missing=$(q "select count(*) from switchboard.webhook_messages m where m.org_id = '$ORG' and m.body like '%burst%'
             and not exists (select 1 from switchboard.webhook_deliveries d where d.org_id = m.org_id and d.message_id = m.id and d.status = 'delivered')")
[ "$distinct" = "$EVENTS" ] && [ "$missing" = 0 ] || fail "after kill -9: $distinct of $EVENTS arrived, $missing undelivered"
[ "$bad" = 0 ] || fail "$bad signatures did not verify after the restart"
echo "ok: kill -9 of the postmaster mid-burst: all $EVENTS committed messages arrived ($((total - distinct)) sent again)"
echo ok
