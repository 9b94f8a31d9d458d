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
# Run: tests/bench/webhooks_out.sh [N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

N=${1:-20000}
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
"$PG_BIN/pgbench" -n -h "$BENCH_HOME" -p "$BENCH_PORT" -U postgres -c 4 -j 2 --rate 200 -T 15 \
  -f "$WORK/emit.sql" $DB >"$WORK/pgbench.log" 2>&1 || { cat "$WORK/pgbench.log"; exit 1; }
sleep 3
read -r p50 p99 count <<<"$(awk '$2 != "" { print ($1 - $2) * 1000 }' "$WORK/sink.log" | sort -n |
  awk '{ v[NR] = $1 } END { printf "%.1f %.1f %d", v[int(NR * 0.5) + 1], v[int(NR * 0.99) + 1], NR }')"

# 4. emit_event's cost in a transaction (delivery paused), medians of 5 rounds: each statement
# commits on its own, so the time includes writing the kept events at pre-commit.
q "select switchboard.set_outbound_paused(true)" >/dev/null
q "CREATE TABLE business (id bigint, note text)" >/dev/null
for r in 1 2 3 4 5; do
  echo "INSERT INTO business SELECT i, 'x' FROM generate_series(1, 10000) i WHERE switchboard.emit_event('$ORG', 'member.added', jsonb_build_object('n', i)) IS NOT NULL;"
  echo "INSERT INTO business SELECT i, 'x' FROM generate_series(1, 10000) i WHERE jsonb_build_object('n', i) IS NOT NULL;"
done | sb_psql "$BENCH_HOME" "$BENCH_PORT" -d $DB -c '\timing on' -f - | awk '/^Time:/ { print $2 }' >"$WORK/emit_times"
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] * 1000 / 10000 }'; }
with_emit=$(awk 'NR % 2 == 1' "$WORK/emit_times" | median)
without_emit=$(awk 'NR % 2 == 0' "$WORK/emit_times" | median)
emit=$(echo "$with_emit $without_emit" | awk '{printf "%.1f", $1 - $2}')

echo
echo "| measure | Switchboard | reference | goal |"
echo "|---|---|---|---|"
echo "| deliveries/s to a local keep-alive sink ($N events, maxConcurrency 100) | $delivered | sink raw capacity (curl --parallel 50): $raw/s, ratio $(echo "$delivered $raw" | awk '{printf "%.2f", $1 / $2}') | >= 2,000/s |"
echo "| commit-to-2xx latency at 200 events/s ($count events) | p50 $p50 ms, p99 $p99 ms | | p99 < 50 ms |"
echo "| emit_event added to a transaction (per event, 1 endpoint) | $emit us | insert alone: $(echo "$without_emit" | awk '{printf "%.1f", $1}') us/row | < 30 us |"
