#!/usr/bin/env bash
# CPU per delegated call on Citus: one pgbench client calls has_feature on an organisation of
# worker 1, through the coordinator (delegated) and directly on worker 1 (what one server does),
# rounds alternating; the CPU time of every process of each node (/proc/PID/schedstat) while the
# client runs (seconds 3 to BENCH_SECONDS-2, when its backends and Citus's connections are up),
# divided by the calls pgbench reports for those seconds. With the cores saturated, the ratio of
# the two totals bounds the throughput ratio of delegated calls to one server's.
# Usage: bash tests/bench/citus_cpu.sh   [BENCH_SECONDS=12 BENCH_ROUNDS=2]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../extension/tools/lib.sh"
source "$here/../citus/cluster.sh"
citus_installed || { echo "skipped: citus is not installed (no citus.so in $("$PG_CONFIG" --pkglibdir))"; exit 0; }

SECS=${BENCH_SECONDS:-12}
ROUNDS=${BENCH_ROUNDS:-2}
WORK=$(mktemp -d)
chmod 755 "$WORK"
trap 'citus_stop; rm -rf "$WORK"' EXIT
ensure_os_user
say "starting the coordinator and two workers"
citus_start
citus_psql 0 -q -c "set client_min_messages = warning" -c "create extension if not exists switchboard cascade" \
  -c "select switchboard.distribute() is not null" \
  -c "insert into switchboard.organizations (id, name, slug)
        select ('e0000000-0000-4000-8000-000000' || g)::uuid, 'Bench ' || g, 'bench-' || g
          from generate_series(100000, 100019) g" \
  -c "insert into switchboard.subscriptions (org_id, tier)
        select id, 'enterprise_elite' from switchboard.organizations where slug like 'bench-%'" >/dev/null
org=$(citus_psql 0 -tA -c "select o.id from switchboard.organizations o
  join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.organization_members', o.id)
  join pg_dist_node d on d.groupid = p.groupid
 where d.nodeport = ${CITUS_PORT[1]} and o.slug like 'bench-%' limit 1")
echo "select switchboard.has_feature('$org', 'calls');" >"$WORK/call.sql"
chmod 644 "$WORK/call.sql"

# node_cpu HOME: nanoseconds of CPU so far of the node's postmaster and its children.
node_cpu() {
  local pm pid total=0
  pm=$(head -1 "$1/data/postmaster.pid")
  for pid in $pm $(cat "/proc/$pm/task/$pm/children" 2>/dev/null); do
    total=$((total + $(cut -d' ' -f1 "/proc/$pid/schedstat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
all_cpu() { echo "$(node_cpu "${CITUS_HOME[0]}") $(node_cpu "${CITUS_HOME[1]}") $(node_cpu "${CITUS_HOME[2]}")"; }

# measure NODE: "calls/s coordinator_us worker1_us worker2_us total_us" for a run against node NODE.
measure() {
  local node=$1 before after calls
  as_pg "$PG_BIN/pgbench" -h "${CITUS_HOME[$node]}" -p "${CITUS_PORT[$node]}" -U postgres -n -c 1 \
    -T "$SECS" -P 1 -f "$WORK/call.sql" "$CITUS_DB" >"$WORK/out" 2>&1 &
  local job=$!
  sleep 3
  read -ra before <<<"$(all_cpu)"
  sleep $((SECS - 5))
  read -ra after <<<"$(all_cpu)"
  wait "$job"
  calls=$(awk -v lo=4 -v hi=$((SECS - 2)) '/^progress:/ { t = $2 + 0; if (t >= lo && t <= hi) s += $4 }
    END { printf "%d", s }' "$WORK/out")
  awk -v c="$calls" -v b0="${before[0]}" -v b1="${before[1]}" -v b2="${before[2]}" \
    -v a0="${after[0]}" -v a1="${after[1]}" -v a2="${after[2]}" -v s=$((SECS - 5)) 'BEGIN {
      printf "%d %.1f %.1f %.1f %.1f", c / s, (a0 - b0) / c / 1000, (a1 - b1) / c / 1000,
        (a2 - b2) / c / 1000, (a0 - b0 + a1 - b1 + a2 - b2) / c / 1000 }'
}

echo
echo "CPU per has_feature call, one client, $(nproc) cores ($(cpu_model)), load $(cut -d' ' -f1-3 /proc/loadavg), Citus $(citus_psql 0 -tA -c "select extversion from pg_extension where extname = 'citus'")"
echo
echo "| round | sent to | calls/s | coordinator (us) | worker 1 (us) | worker 2 (us) | all nodes (us) |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"
for r in $(seq 1 "$ROUNDS"); do
  read -r rate c w1 w2 total <<<"$(measure 0)"
  echo "| $r | the coordinator (delegated) | $rate | $c | $w1 | $w2 | $total |"
  read -r rate c w1 w2 total <<<"$(measure 1)"
  echo "| $r | worker 1 (holds the organisation) | $rate | $c | $w1 | $w2 | $total |"
done
