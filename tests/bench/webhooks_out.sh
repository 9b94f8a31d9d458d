#!/usr/bin/env bash
# Outbound webhooks against the issue's goals, side by side in one run on a throwaway instance
# (the delivery worker preloaded) and a fast loopback sink (tests/bench/webhooks_sink.py):
#   1. the sink's raw capacity: curl --parallel (libcurl, keep-alive, 50 at once) POSTs N bodies;
#   2. sustained delivery: N events committed in one statement to one endpoint on that sink, from
#      the commit until the last is recorded delivered (deliveries/s, and the ratio to 1.);
#   3. commit-to-2xx latency at 200 events/s: pgbench --rate 200 emits one event a transaction
#      with its clock_timestamp() in the payload; the sink notes the arrival (p50, p99);
#   4. what emit_event adds to a business transaction: 10,000 emits in one committed statement
#      (one endpoint to fan out to, delivery paused; the commit writes them) against the same
#      statement without them, per event.
# Goals (issue 13): 2,000 deliveries/s, p99 under 50 ms, emit_event under 30 us.
# Run: tests/bench/webhooks_out.sh [N]   (WEBHOOKS_PARTS=emit runs part 4 alone; EMIT_ROUNDS, 5)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

N=${1:-20000}
PARTS=${WEBHOOKS_PARTS:-all}
DB=switchboard_bench
ORG=00000000-0000-4000-8000-0000000be000

ensure_packages
step "building the extension" build_extension
open_bench_instance bench-webhooks-instance $((SB_TEST_PORT_BASE + 9)) "max_connections = 50" $DB "$N events"
WORK=$(mktemp -d)
SINK_PORT=$(free_port 24590)
python3 "$(dirname "${BASH_SOURCE[0]}")/webhooks_sink.py" "$SINK_PORT" "$WORK/sink.log" &
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null; rm -rf "$WORK"; stop_instance "$BENCH_HOME"; rm -rf "$BENCH_HOME/data"' EXIT
q() { sb_psql "$BENCH_HOME" "$BENCH_PORT" -d $DB -Atc "$1"; }
sb_psql "$BENCH_HOME" "$BENCH_PORT" -d postgres -q -c "alter system set switchboard.outbound_allow_networks = '127.0.0.1/32'" \
  -c "alter system set switchboard.outbound_allow_http = on" -c "select pg_reload_conf()" >/dev/null
sleep 1
q "insert into switchboard.organizations (id, name, slug) values ('$ORG', 'Bench', 'bench-webhooks')" >/dev/null
q "select switchboard.create_webhook_endpoint('$ORG', 'http://127.0.0.1:$SINK_PORT/hook', NULL, '{\"maxConcurrency\": 100}')" >/dev/null
lines() { [ -f "$WORK/sink.log" ] && wc -l <"$WORK/sink.log" || echo 0; }
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SINK_PORT") 2>/dev/null && break; sleep 0.1; done

if [ "$PARTS" != emit ]; then
# 1. The sink's raw capacity with a plain load generator.
body='{"type":"bench","timestamp":"2026-01-01T00:00:00Z","data":{"n":1}}'
for ((i = 0; i < N; i++)); do echo "url = \"http://127.0.0.1:$SINK_PORT/raw\""; done >"$WORK/urls"
T0=$(date +%s.%N)
curl -s --no-progress-meter --parallel --parallel-max 50 -H 'content-type: application/json' -d "$body" -K "$WORK/urls" >/dev/null || true
T1=$(date +%s.%N)
sleep 1.5
raw=$(echo "$T0 $T1 $(lines)" | awk '{printf "%.0f", $3 / ($2 - $1)}')  # answered requests only

# 2. Sustained delivery from the outbox.
: >"$WORK/sink.log"
T0=$(date +%s.%N)
q "select count(switchboard.emit_event('$ORG', 'member.added', jsonb_build_object('n', i))) from generate_series(1, $N) i" >/dev/null
until [ "$(q "select count(*) from switchboard.webhook_deliveries where status = 'delivered'")" -ge "$N" ]; do sleep 0.1; done
T1=$(date +%s.%N)
delivered=$(echo "$T0 $T1" | awk -v n="$N" '{printf "%.0f", n / ($2 - $1)}')
sleep 1.5

# 3. Commit-to-2xx latency at 200 events/s for 15 s.
: >"$WORK/sink.log"
cat >"$WORK/emit.sql" <<SQL
select switchboard.emit_event('$ORG', 'member.added', jsonb_build_object('t', extract(epoch from clock_timestamp())));
SQL
# What bounds it: the delivery worker's own CPU per event and the time it waited for a core
# (run-queue wait per time slice, /proc/PID/schedstat), and the machine's load.
worker=$(q "select pid from pg_stat_activity where backend_type = 'switchboard webhooks' and datname = '$DB'")
sched() { cat "/proc/$worker/schedstat" 2>/dev/null || echo "0 0 0"; }
read -r w_cpu0 w_wait0 w_slices0 <<<"$(sched)"
"$PG_BIN/pgbench" -n -h "$BENCH_HOME" -p "$BENCH_PORT" -U postgres -c 4 -j 2 --rate 200 -T 15 \
  -f "$WORK/emit.sql" $DB >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log"; exit 1; }
sleep 3
read -r w_cpu1 w_wait1 w_slices1 <<<"$(sched)"
load=$(cut -d' ' -f1 /proc/loadavg)
# the worker's check for what is due next (run whenever nothing is in flight), timed on this outbox
next_due_ms=$(for _ in 1 2 3 4 5; do echo "select switchboard._next_delivery_in();"; done |
  sb_psql "$BENCH_HOME" "$BENCH_PORT" -d $DB -c '\timing on' -f - | awk '/^Time:/ { print $2 }' |
  sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[3] }')
rows=$(q "select count(*) from switchboard.webhook_deliveries")
# the emitting transaction's own latency (the emit, its commit and the disk flush): pgbench's
# latency average less its schedule lag (the wait for a client to be free, not counted by the sink)
tx_latency=$(awk '/^latency average/ { l = $4 } /^rate limit schedule lag/ { g = $6 }
  END { printf "%.1f", l - g }' "$WORK/pgbench.log")
read -r p50 p99 count <<<"$(awk '$2 != "" { print ($1 - $2) * 1000 }' "$WORK/sink.log" | sort -n |
  awk '{ v[NR] = $1 } END { printf "%.1f %.1f %d", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1], NR }')"

fi

# 4. What emit_event adds to a committed transaction (delivery paused), side by side in each round:
# the business insert of N rows alone, the same with the floor (the same message and delivery
# rows inserted by plain SQL into tables without keys, constraints or indexes), with emit_event
# (one endpoint to fan out to; the commit writes the kept events), and with a keyed emit_event
# (written at once). Each variant is one transaction, timed from BEGIN to after COMMIT, in wall
# time and in the backend's own CPU time (/proc/self/schedstat, which other work on the machine
# hardly moves); per event = (variant - insert alone) / N; medians of ROUNDS rounds.
emit_cost() {
  local n=$1 rounds=$2 r v
  q "select switchboard.set_outbound_paused(true)" >/dev/null
  sb_psql "$BENCH_HOME" "$BENCH_PORT" -d $DB -c "CREATE TABLE business (id bigint, note text)" \
    -c "CREATE TABLE floor_messages (org_id uuid, id text, event_type text, body text, idempotency_key text, created_at timestamptz default now())" \
    -c "CREATE TABLE floor_deliveries (org_id uuid, message_id text, endpoint_id uuid, status text default 'pending', attempts int default 0, next_attempt_at timestamptz default now(), updated_at timestamptz default now())" >/dev/null
  local endpoint
  endpoint=$(q "select id from switchboard.webhook_endpoints where org_id = '$ORG' limit 1")
  declare -A stmt=(
    [insert]="INSERT INTO business SELECT i, 'x' FROM generate_series(1, $n) i WHERE jsonb_build_object('n', i) IS NOT NULL"
    [floor]="INSERT INTO business SELECT i, 'x' FROM generate_series(1, $n) i WHERE jsonb_build_object('n', i) IS NOT NULL;
      WITH m AS (INSERT INTO floor_messages (org_id, id, event_type, body)
        SELECT '$ORG', 'msg_' || lpad(to_hex(i), 32, '0'), 'member.added', jsonb_build_object('type', 'member.added',
          'timestamp', switchboard.answer_time(now()), 'data', jsonb_build_object('n', i))::text FROM generate_series(1, $n) i RETURNING id)
      INSERT INTO floor_deliveries (org_id, message_id, endpoint_id) SELECT '$ORG', m.id, '$endpoint' FROM m"
    [emit]="INSERT INTO business SELECT i, 'x' FROM generate_series(1, $n) i WHERE switchboard.emit_event('$ORG', 'member.added', jsonb_build_object('n', i)) IS NOT NULL"
    [emit_keyed]="INSERT INTO business SELECT i, 'x' FROM generate_series(1, $n) i WHERE switchboard.emit_event('$ORG', 'member.added', jsonb_build_object('n', i), 'k' || i || '-' || txid_current()) IS NOT NULL"
  )
  EMIT_VARIANTS="insert floor emit emit_keyed"
  for ((r = 0; r < rounds; r++)); do
    for v in $EMIT_VARIANTS; do
      sb_psql "$BENCH_HOME" "$BENCH_PORT" -d $DB -At -F " " <<SQL | sed "s/^/$v /"
CHECKPOINT;
SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint AS c0, extract(epoch FROM clock_timestamp()) AS t0 \gset
BEGIN;
${stmt[$v]};
COMMIT;
SELECT round((split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint - :c0) / 1e6, 1),
       round((extract(epoch FROM clock_timestamp()) - :t0) * 1000, 1);
SQL
    done
  done >"$WORK/emit_times"
}
emit_median() {  # $1 variant, $2 field (2 cpu ms, 3 wall ms)
  awk -v v="$1" -v f="$2" '$1 == v { print $f }' "$WORK/emit_times" | sort -n |
    awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
per_event() {  # microseconds per event of variant $1 over insert alone, field $2
  awk -v a="$(emit_median "$1" "$2")" -v b="$(emit_median insert "$2")" -v n="$EMIT_N" 'BEGIN { printf "%.1f", (a - b) * 1000 / n }'
}
EMIT_N=10000
emit_cost $EMIT_N "${EMIT_ROUNDS:-5}"
emit_table() {
  echo "| emit_event added to a committed transaction, per event ($EMIT_N in one statement, 1 endpoint), backend CPU | $(per_event emit 2) us | floor (plain inserts of the same rows): $(per_event floor 2) us; insert alone $(awk -v c="$(emit_median insert 2)" -v n=$EMIT_N 'BEGIN { printf "%.1f", c * 1000 / n }') us/row | < 30 us |"
  echo "| same, wall time | $(per_event emit 3) us | floor: $(per_event floor 3) us | < 30 us |"
  echo "| same with an idempotency key (written at once), backend CPU | $(per_event emit_keyed 2) us | | |"
}

echo
echo "| measure | Switchboard | reference | goal |"
echo "|---|---|---|---|"
if [ "$PARTS" != emit ]; then
echo "| deliveries/s to a local keep-alive sink ($N events, maxConcurrency 100) | $delivered | sink raw capacity (curl --parallel 50): $raw/s, ratio $(echo "$delivered $raw" | awk '{printf "%.2f", $1 / $2}') | >= 2,000/s |"
echo "| commit-to-2xx latency at 200 events/s ($count events) | p50 $p50 ms, p99 $p99 ms | the emitting transaction itself (in the measure): $tx_latency ms; the worker: $(awk -v c=$((w_cpu1 - w_cpu0)) -v n="$count" 'BEGIN { printf "%.0f", c / 1000 / (n ? n : 1) }') us CPU per event, waited $(awk -v w=$((w_wait1 - w_wait0)) -v s=$((w_slices1 - w_slices0)) 'BEGIN { printf "%.2f", w / 1e6 / (s ? s : 1) }') ms for a core per time slice; its next-due check $next_due_ms ms over $rows deliveries; load average $load | p99 < 50 ms |"
fi
emit_table
