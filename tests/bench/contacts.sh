#!/usr/bin/env bash
# Contacts and calls, against the issue's goals, in one run on a fresh instance:
#   1. provider events folded per second through record_call_event, one transaction per event,
#      1 client and 4 clients (goal: 5,000/s with 4 clients), from the shuffled stream of
#      tests/integration/contacts_stream.sql (duplicates included);
#   2. import_contacts of ROWS rows in one call, new and then all merges (goal: 100,000 under 10 s),
#      with the backend's CPU time, its time waiting for a core, the WAL written and checkpoints;
#   3. dashboard_metrics p50/p95 over 30-day windows of an organisation, with CALLS calls among 100
#      organisations (goal: p95 under 20 ms; answered from the rollups).
# Run: tests/bench/contacts.sh [EVENT_CALLS] [ROWS] [CALLS]   (defaults 2000 100000 1000000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/contacts_stream.bash"

EVENT_CALLS=${1:-2000}
ROWS=${2:-100000}
CALLS=${3:-1000000}

contacts_bench_open bench-contacts-instance 8

# 1. Events per second: each client folds its share of the shuffled stream into its own
# organisation's calls (tests/integration/contacts_stream.bash), one transaction per event: 1 client
# and 4 clients, with synchronous_commit on (every commit waits for its WAL flush) and off (the
# function's own cost), side by side; and the storage's flush rate (pg_test_fsync, 8 kB writes).
contacts_stream_load q "$EVENT_CALLS"
events=$(q -c "select count(*) from shuffled")
org() { printf '00000000-0000-4000-8000-%012d' "$1"; }
fold() {  # synchronous_commit clients first_org [settings]: "events/s backend-CPU-µs-per-event"
  local start orgs=() k log
  for k in $(seq 0 $(($2 - 1))); do orgs+=("$(org $(($3 + k)))"); done
  log=$(mktemp)
  start=$(date +%s.%N)
  PGOPTIONS="-c synchronous_commit=$1 ${4:-}" STREAM_CPU_LOG=$log contacts_stream_replay q "${orgs[@]}"
  echo "$start $(date +%s.%N)" | awk -v n="$events" '{printf "%.0f ", n / ($2 - $1)}'
  awk -v n="$events" '/backend cpu seconds/ {s += $NF} END {printf "%.0f", s * 1e6 / n}' "$log"
  rm -f "$log"
}
# The bound of durable commits on this storage for the same loop: each client inserts one row into
# a plain table (no key, index or trigger) and commits, as many times as it folds events,
# synchronous_commit on; run right after the folds with it on (the disk's flush rate drifts).
q -c "create table plain_commits (n int)" >/dev/null
plain() {  # clients: "commits/s"
  local k pids=() start
  start=$(date +%s.%N)
  for k in $(seq 1 "$1"); do
    PGOPTIONS="-c synchronous_commit=on" q -c "do \$\$ begin for i in 1..$((events / $1)) loop
      insert into plain_commits values (i); commit; end loop; end \$\$" >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
  echo "$start $(date +%s.%N)" | awk -v n="$events" '{printf "%.0f", n / ($2 - $1)}'
}
# What the active client backends waited on while "$@" ran (sampled every 10 ms; "cpu" when
# running): the three most sampled, with their shares. Prints "result|waits".
waits_during() {
  local flag result sampler
  flag=$(mktemp)
  while [ -e "$flag" ]; do
    q -c "select coalesce(wait_event, 'cpu') from pg_stat_activity
          where backend_type = 'client backend' and state = 'active' and pid <> pg_backend_pid()"
    sleep 0.01
  done >"$flag.waits" &
  sampler=$!
  result=$("$@")
  rm -f "$flag"
  wait "$sampler"
  echo "$result|$(sort "$flag.waits" | uniq -c | sort -rn | awk '{ t += $1; n[NR] = $2; c[NR] = $1 }
    END { for (i = 1; i <= 3 && i <= NR; i++) printf "%s%s %.0f %%", (i > 1 ? ", " : ""), n[i], 100 * c[i] / t }')"
  rm -f "$flag.waits"
}
one_on=$(fold on 1 1) plain_one=$(plain 1)
four_on=$(waits_during fold on 4 3) plain_four=$(waits_during plain 4)
one_off=$(fold off 1 2) four_off=$(fold off 4 7)
# Group commit: a committing backend waits commit_delay (µs) for others to join its WAL flush when
# at least commit_siblings other transactions are open.
group_delay=1000
four_group=$(fold on 4 11 "-c commit_delay=$group_delay -c commit_siblings=1")
flushes=$(as_pg "$PG_BIN/pg_test_fsync" -s 2 -f "$BENCH_HOME/fsync.test" 2>/dev/null |
  awk '/one 8kB write/ {on = 1} on && /^ +fdatasync / {print $2; exit}')

# 2. Import: ROWS new contacts, then the same ROWS again (every row a merge), in one call each:
# the rows are built first (not timed); the wall time and the backend's CPU time (utime + stime
# of /proc/self/stat, 10 ms ticks) of the call.
contacts_import_rows q "$ROWS"
import_seconds() {  # prints "wall cpu runqueue_wait wal_MB checkpoints"
  q <<'SQL'
\set org '00000000-0000-4000-8000-000000000010'
create temp view cpu as select (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) / 100.0 as s
  from pg_read_file('/proc/self/stat') s;
-- the time this backend was runnable but waited for a core (ns, the second field of schedstat)
create temp view runq as select split_part(pg_read_file('/proc/self/schedstat'), ' ', 2)::bigint / 1e9 as s;
create temp view checkpoints as select checkpoints_timed + checkpoints_req as n from pg_stat_bgwriter;
select extract(epoch from clock_timestamp()) as t0, (select s from cpu) as c0, (select s from runq) as r0,
       pg_current_wal_insert_lsn() as w0, (select n from checkpoints) as k0 \gset
select switchboard.import_contacts(:'org', r) ->> 'reason' as reason from import_rows \gset
select round((extract(epoch from clock_timestamp()) - :t0)::numeric, 2) || ' ' || round((select s from cpu) - :c0, 2)
       || ' ' || round(((select s from runq) - :r0)::numeric, 2)
       || ' ' || round(pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :'w0') / 1e6) || ' ' || ((select n from checkpoints) - :k0);
SQL
}
import_new=$(import_seconds)
import_merge=$(import_seconds)
imported=$(q -c "select count(*) from switchboard.contacts where org_id = '00000000-0000-4000-8000-000000000010'")

# 3. The dashboard: CALLS calls spread over 100 organisations and 60 days (through the same
# triggers as record_call_event: projection and rollups), then 200 dashboards of random
# organisations over 30-day windows by day.
q -v calls="$CALLS" <<'SQL' >/dev/null
insert into switchboard.calls (org_id, provider, provider_call_id, fold)
select ('00000000-0000-4000-8000-' || lpad((1 + i % 100)::text, 12, '0'))::uuid, 'twilio', 'bench-' || i,
       jsonb_build_object(
         'status', jsonb_build_array(4e13, (array['completed', 'busy', 'no_answer', 'failed'])[1 + i % 4]),
         'answered_by', jsonb_build_array(4e13, (array['human', 'machine_end_beep'])[1 + i % 2]),
         'cost', jsonb_build_array(4e13, (i % 100) / 100.0),
         'started_at', jsonb_build_array(0, timestamptz '2026-10-01' + (i % 86400) * interval '1 minute'))
  from generate_series(1, :calls) i;
SQL
dash=$(q <<'SQL'
create temp table timings (ms float8);
do $$
declare
  t timestamptz;
  org uuid;
  start timestamptz;
begin
  for i in 1..200 loop
    org := ('00000000-0000-4000-8000-' || lpad((1 + (random() * 99)::int)::text, 12, '0'))::uuid;
    start := timestamptz '2026-10-01' + (random() * 29)::int * interval '1 day';
    t := clock_timestamp();
    perform switchboard.dashboard_metrics(org, start, start + interval '30 days', 'day');
    insert into timings values (extract(epoch from clock_timestamp() - t) * 1000);
  end loop;
end
$$;
select round(percentile_cont(0.5) within group (order by ms)::numeric, 2) || ' ' ||
       round(percentile_cont(0.95) within group (order by ms)::numeric, 2) from timings;
SQL
)
calls=$(q -c "select count(*) from switchboard.calls")

printf '\n| measure | result | goal |\n|---|---:|---|\n'
r() { echo "${1% *}"; }                               # events/s of a fold result
c() { echo "${1#* }"; }                               # backend CPU µs per event of a fold result
cores=$(nproc)
printf '| record_call_event, 1 client, synchronous_commit on / off (%s events, one transaction each) | %s / %s events/s | |\n' "$events" "$(r "$one_on")" "$(r "$one_off")"
printf '| record_call_event, 4 clients, synchronous_commit on / off | %s / %s events/s | 5,000/s |\n' "$(r "${four_on%|*}")" "$(r "$four_off")"
printf '| record_call_event, 4 clients, synchronous_commit on, commit_delay %s µs (commit_siblings 1) | %s events/s | |\n' "$group_delay" "$(r "$four_group")"
printf '| backend CPU per event (the function, its triggers, the commit and the replay loop), 1 / 4 clients, sync off | %s / %s µs | |\n' "$(c "$one_off")" "$(c "$four_off")"
printf '| what %s idle cores would fold at that CPU cost (sync off, 4 clients) | %s events/s | 5,000/s |\n' "$cores" "$(awk -v c="$(c "$four_off")" -v n="$cores" 'BEGIN {printf "%.0f", n * 1e6 / c}')"
printf '| the bound: a one-row INSERT into a plain table per transaction, same loop, synchronous_commit on, 1 / 4 clients | %s / %s commits/s | |\n' "$plain_one" "${plain_four%|*}"
printf '| what the 4 clients waited on, synchronous_commit on (share of samples): record_call_event / plain inserts | %s / %s | |\n' "${four_on#*|}" "${plain_four#*|}"
printf '| the storage: 8 kB writes + fdatasync per second (pg_test_fsync), the bound of durable commits | %s ops/s | |\n' "${flushes:-?}"
import_row() {  # label "wall cpu runq wal checkpoints"
  local v=($2)
  printf '| import_contacts, %s: wall (backend CPU; waiting for a core) | %s s (%s s; %s s) | under 10 s |\n' "$1" "${v[0]}" "${v[1]}" "${v[2]}"
  printf '| the same: WAL written, checkpoints during the call | %s MB, %s | |\n' "${v[3]}" "${v[4]}"
}
import_row "$ROWS new rows in one call" "$import_new"
import_row "the same $ROWS rows again (all merges)" "$import_merge"
printf '| dashboard_metrics, 30 days by day, %s calls in 100 organisations: p50 / p95 | %s / %s ms | p95 under 20 ms |\n' "$calls" ${dash% *} ${dash#* }
[ "$imported" = "$ROWS" ] || { echo "import stored $imported contacts, expected $ROWS"; exit 1; }
