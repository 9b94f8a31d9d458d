#!/usr/bin/env bash
# Citus benchmark: the cost of distribution per call. has_feature, consume_feature and
# book_appointment on 1,000 organisations (one calendar each), 8 pgbench clients, on one server
# and through the coordinator of a coordinator plus two workers on loopback (calls delegated to
# the worker holding the organisation), through Citus with its default TLS between the nodes and
# with citus.node_conninfo 'sslmode=disable'; rounds alternating between all three, medians. The
# simple protocol: pgbench's prepared mode would make the organisation id a parameter inside a
# string, and an expression around it is a call Citus does not delegate. Needs Citus in PG_BIN
# (otherwise says so and exits 0). Then webhook delivery: BENCH_DELIVERIES events for each of two
# organisations (on different workers on Citus) queued while delivery is paused, then released to
# a fast loopback sink (tests/bench/webhooks_sink.py): deliveries/s until every one is delivered,
# one server and Citus side by side (on Citus each worker node delivers its own organisations).
# CPU per delivery: the delivery workers' own (/proc/PID/schedstat) and every process of the
# instance(s) together, from the release until the last is delivered.
# Usage: bash tests/bench/citus.sh   [BENCH_SECONDS=5 BENCH_ROUNDS=3 BENCH_DELIVERIES=5000
#                                     BENCH_CALLS=${BENCH_CALLS-has_feature consume_feature book_appointment}
#                                     (BENCH_CALLS= : the delivery row alone)]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../extension/tools/lib.sh"
source "$here/../citus/cluster.sh"
citus_installed || { echo "skipped: citus is not installed (no citus.so in $("$PG_CONFIG" --pkglibdir))"; exit 0; }

SECONDS_EACH=${BENCH_SECONDS:-5}
ROUNDS=${BENCH_ROUNDS:-3}
CLIENTS=8
WORK=$(mktemp -d)
chmod 755 "$WORK"

ensure_os_user
ONE_HOME=$(pg_owned_dir "$SB_HOME/bench-citus-one")
stop_instance "$ONE_HOME"
rm -rf "$ONE_HOME/data"
ONE_PORT=$(free_port $((CITUS_PORT_BASE + 40)))
init_instance "$ONE_HOME" "$ONE_PORT" "shared_preload_libraries = 'citus,switchboard'
fsync = off
synchronous_commit = off"
start_instance "$ONE_HOME"
SINK_PID=
trap 'kill $SINK_PID 2>/dev/null; stop_instance "$ONE_HOME"; rm -rf "$ONE_HOME/data"; citus_stop; rm -rf "$WORK"' EXIT
sb_psql "$ONE_HOME" "$ONE_PORT" -d postgres -c "create database $CITUS_DB"
say "starting the coordinator and two workers"
citus_start

# 1,000 organisations e0000000-0000-4000-8000-000000100000 .. 100999, each on a plan with calls.
SETUP="set client_min_messages = warning;
create extension if not exists switchboard cascade;
select switchboard.distribute('{\"shardCount\": 32}') is not null as distributed;
insert into switchboard.organizations (id, name, slug)
  select ('e0000000-0000-4000-8000-000000' || g)::uuid, 'Bench ' || g, 'bench-' || g
    from generate_series(100000, 100999) g;
insert into switchboard.subscriptions (org_id, tier)
  select id, 'enterprise_elite' from switchboard.organizations where slug like 'bench-%';
insert into switchboard.calendars (org_id, id, name, time_zone, business_hours)
  select id, id, 'Bench desk', 'UTC', (select jsonb_object_agg(d, '[[\"08:00\", \"20:00\"]]'::jsonb)
                                         from unnest(array['mon','tue','wed','thu','fri','sat','sun']) d)
    from switchboard.organizations where slug like 'bench-%';"
sb_psql "$ONE_HOME" "$ONE_PORT" -d "$CITUS_DB" -q -c "$SETUP" >/dev/null
citus_psql 0 -q -c "$SETUP" >/dev/null

# One call per transaction, alone in its statement (so Citus delegates it), a random organisation.
cat >"$WORK/has_feature.sql" <<'SQL'
\set n random(100000, 100999)
SELECT switchboard.has_feature('e0000000-0000-4000-8000-000000:n', 'calls');
SQL
cat >"$WORK/consume_feature.sql" <<'SQL'
\set n random(100000, 100999)
SELECT switchboard.consume_feature('e0000000-0000-4000-8000-000000:n', 'calls', 1);
SQL

# A 30-minute booking on the organisation's calendar (its id is the organisation's), a random
# half hour of the next 60 days' business hours: BOOKED, or SLOT_TAKEN when an earlier call took it.
BASE_DAY=$(date -u -d tomorrow +%F)
cat >"$WORK/book_appointment.sql" <<SQL
\\set n random(100000, 100999)
\\set d random(0, 59)
\\set h random(8, 19)
\\set m random(0, 1) * 30
SELECT switchboard.book_appointment('e0000000-0000-4000-8000-000000:n', 'e0000000-0000-4000-8000-000000:n',
  '$BASE_DAY 00:00+00'::timestamptz + interval ':d days :h hours :m minutes', 30);
SQL

# Transactions per second of script $1 against instance $2 (home) port $3; adds the number of
# transactions pgbench completed to file $4.
tps() {
  local out
  out=$("$PG_BIN/pgbench" -n -M simple -c "$CLIENTS" -j 2 -T "$SECONDS_EACH" -f "$1" -h "$2" -p "$3" \
    -U postgres "$CITUS_DB" 2>>"$WORK/pgbench.err")
  sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' <<<"$out" >>"$4"
  sed -n 's/^tps = \([0-9.]*\).*/\1/p' <<<"$out"
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# node_conninfo MODE: the coordinator's connections to the workers use TLS (require) or not.
node_conninfo() {
  citus_psql 0 -q -c "alter system set citus.node_conninfo = 'sslmode=$1'" -c "select pg_reload_conf()" >/dev/null
  sleep 1
}
CALLS=${BENCH_CALLS-has_feature consume_feature book_appointment}
declare -A runs
for round in $(seq 1 "$ROUNDS"); do
  [ -n "$CALLS" ] || break
  for call in $CALLS; do
    runs[$call.one]+="$(tps "$WORK/$call.sql" "$ONE_HOME" "$ONE_PORT" "$WORK/$call.one.done") "
    runs[$call.tls]+="$(tps "$WORK/$call.sql" "${CITUS_HOME[0]}" "${CITUS_PORT[0]}" "$WORK/$call.citus.done") "
  done
  node_conninfo disable
  for call in $CALLS; do
    runs[$call.plain]+="$(tps "$WORK/$call.sql" "${CITUS_HOME[0]}" "${CITUS_PORT[0]}" "$WORK/$call.citus.done") "
  done
  node_conninfo require
done

# Zero wrong answers: every call counted once, on both.
used() { "$@" -tA -c "select sum(used) from switchboard.feature_usage where feature = 'calls'"; }
one_used=$(used sb_psql "$ONE_HOME" "$ONE_PORT" -d "$CITUS_DB")
citus_used=$(used citus_psql 0)

# Webhook delivery, one server and Citus: two organisations' events queued while paused, then
# released; deliveries/s from the release until the last is delivered.
DELIVERIES=${BENCH_DELIVERIES:-5000}
SINK_PORT=$(free_port $((CITUS_PORT_BASE + 45)))
python3 "$here/webhooks_sink.py" "$SINK_PORT" "$WORK/sink.log" &
SINK_PID=$!
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$SINK_PORT") 2>/dev/null && break; sleep 0.1; done
# cpu_ns WHAT HOME...: nanoseconds of CPU so far of the instances' delivery workers (WHAT =
# workers) or of all their processes (WHAT = all), from /proc/PID/schedstat (a process that
# exited in between is not counted).
cpu_ns() {
  local what=$1 home pm pid total=0
  shift
  for home in "$@"; do
    pm=$(head -1 "$home/data/postmaster.pid")
    for pid in $pm $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
      [ "$what" = all ] || tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -q 'switchboard webhooks for' || continue
      total=$((total + $(cut -d' ' -f1 "/proc/$pid/schedstat" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}
# delivery_rate ORGS_SQL HOMES PSQL...: deliveries/s on the instance the psql command reaches, for
# the two organisations ORGS_SQL names (space-separated); sets CPU_WORKER_US and CPU_ALL_US (per
# delivery, the instances in HOMES, space-separated) and LOAD (the load average at the end).
delivery_rate() {
  local orgs_sql=$1 homes=$2 orgs org endpoints="" t0 t1 w0 w1 a0 a1
  shift 2
  orgs=$("$@" -tA -c "$orgs_sql")
  for org in $orgs; do
    endpoints+="${endpoints:+,}'$("$@" -tA -c "select switchboard.create_webhook_endpoint('$org',
      'http://127.0.0.1:$SINK_PORT/hook', NULL, '{\"maxConcurrency\": 100}') ->> 'endpointId'")'"
  done
  "$@" -q -c "select switchboard.set_outbound_paused(true)" >/dev/null
  for org in $orgs; do
    "$@" -q -c "select count(switchboard.emit_event('$org', 'member.added', jsonb_build_object('n', i)))
                 from generate_series(1, $DELIVERIES) i" >/dev/null
  done
  w0=$(cpu_ns workers $homes) a0=$(cpu_ns all $homes)
  t0=$(date +%s.%N)
  "$@" -q -c "select switchboard.set_outbound_paused(false)" >/dev/null
  until [ "$("$@" -tA -c "select count(*) from switchboard.webhook_deliveries
                           where status = 'delivered' and endpoint_id in ($endpoints)")" -ge $((2 * DELIVERIES)) ]; do
    sleep 0.1
  done
  t1=$(date +%s.%N)
  w1=$(cpu_ns workers $homes) a1=$(cpu_ns all $homes)
  CPU_WORKER_US=$(awk -v a="$w0" -v b="$w1" -v n=$((2 * DELIVERIES)) 'BEGIN {printf "%.0f", (b - a) / 1e3 / n}')
  CPU_ALL_US=$(awk -v a="$a0" -v b="$a1" -v n=$((2 * DELIVERIES)) 'BEGIN {printf "%.0f", (b - a) / 1e3 / n}')
  LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
  RATE=$(echo "$t0 $t1" | awk -v n=$((2 * DELIVERIES)) '{printf "%.0f", n / ($2 - $1)}')
}
# the loopback sink allowed over plain http, on one server and on every Citus node (each delivers)
allow_sink() {
  "$@" -q -c "alter system set switchboard.outbound_allow_networks = '127.0.0.1/32'" \
    -c "alter system set switchboard.outbound_allow_http = on" -c "select pg_reload_conf()" >/dev/null
}
allow_sink sb_psql "$ONE_HOME" "$ONE_PORT" -d "$CITUS_DB"
for n in 0 1 2; do allow_sink citus_psql $n; done
sleep 1
delivery_rate "select string_agg(id::text, ' ') from (select id from switchboard.organizations
                                   where slug like 'bench-%' order by id limit 2) x" "$ONE_HOME" sb_psql "$ONE_HOME" "$ONE_PORT" -d "$CITUS_DB"
one_rate=$RATE one_cpu="$CPU_WORKER_US us worker, $CPU_ALL_US us instance; load $LOAD"
delivery_rate "select string_agg(org, ' ') from (select min(o.id::text) org from switchboard.organizations o
  join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.webhook_deliveries', o.id)
  where o.slug like 'bench-%' group by p.groupid) x" "${CITUS_HOME[*]}" citus_psql 0
citus_rate=$RATE citus_cpu="$CPU_WORKER_US us workers, $CPU_ALL_US us three nodes; load $LOAD"

echo
echo "Citus benchmark: $CLIENTS pgbench clients, $ROUNDS alternating rounds of ${SECONDS_EACH}s per row (medians), 1,000 organisations, $(nproc) CPU cores, PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), Citus $(citus_psql 0 -tA -c "select extversion from pg_extension where extname = 'citus'")"
echo
echo "| call | one server (calls/s) | Citus, TLS (calls/s) | ratio | Citus, no TLS (calls/s) | ratio | per round: one server / TLS / no TLS |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
med() { echo "${runs[$1]}" | tr ' ' '\n' | grep . | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}'; }
for call in $CALLS; do
  one=$(med $call.one) tls=$(med $call.tls) plain=$(med $call.plain)
  printf '| `%s` | %.0f | %.0f | %sx | %.0f | %sx | %s/ %s/ %s|\n' "$call" "$one" "$tls" "$(ratio "$tls" "$one")" \
    "$plain" "$(ratio "$plain" "$one")" "$(printf '%.0f ' ${runs[$call.one]})" \
    "$(printf '%.0f ' ${runs[$call.tls]})" "$(printf '%.0f ' ${runs[$call.plain]})"
done
echo
done_calls() { cat "$WORK/consume_feature.$1.done" 2>/dev/null | awk '{n += $1} END {print n + 0}'; }
echo "| webhook delivery, $((2 * DELIVERIES)) events of two organisations (one per worker on Citus) to a loopback sink | $one_rate deliveries/s | $citus_rate deliveries/s | $(ratio "$citus_rate" "$one_rate")x | | | CPU per delivery: one server $one_cpu / Citus $citus_cpu |"
echo
echo "calls consumed: one server $one_used counted for $(done_calls one) completed, Citus $citus_used counted for $(done_calls citus) completed"
[ -s "$WORK/pgbench.err" ] && grep -m3 ERROR "$WORK/pgbench.err" >&2 || true
