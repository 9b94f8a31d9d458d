#!/usr/bin/env bash
# Where record_call_event's backend CPU goes, side by side in one run on a fresh instance: the
# shuffled stream of tests/integration/contacts_stream.sql (10 events per call, duplicates
# included) folded by 1 client, one transaction per event, synchronous_commit off, each variant
# into an organisation of its own, the variants interleaved ROUNDS times:
#   today                      every trigger of switchboard.calls as installed;
#   PL/pgSQL rollups (8cdd405) the two call rollup triggers on their PL/pgSQL functions of 8cdd405
#                              (loaded from git under old_* names), everything else as today;
#   fillfactor                 today with contact_metrics at fillfactor 50 (its new pages);
#   without <trigger>          that one trigger disabled (the rollups then go wrong: a measure only);
#   without user triggers      projection, rollups and touch all disabled (the row keeps its fold);
#   without any trigger        the foreign-key checks disabled too.
# Prints the median backend CPU per event (utime + stime of /proc/self/stat of the client's
# backend, 10 ms ticks) and events/s. With PERF=1, also the functions of one replay of "today"
# that take the most samples (perf record on its backend; perf must be installed).
# Run: tests/bench/contacts_triggers.sh [EVENT_CALLS] [ROUNDS]   (defaults 2000 2)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/contacts_stream.bash"

EVENT_CALLS=${1:-2000}
ROUNDS=${2:-2}

contacts_bench_open bench-contacts-triggers 10
contacts_stream_load q "$EVENT_CALLS"
events=$(q -c "select count(*) from shuffled")

# The call rollup functions of 8cdd405 (PL/pgSQL) under old_* names, for the variant that uses them.
git show 8cdd405:extension/sql/70_contacts/functions.sql | python3 -c '
import re, sys
s = sys.stdin.read()
t = "\n".join(re.search(r"CREATE FUNCTION switchboard\." + n + r"\(.*?\n\$\$;\n", s, re.S).group(0)
              for n in ["_calls_rollup", "_calls_rollup_update"])
print(re.sub(r"switchboard\._calls_rollup", "switchboard.old_calls_rollup", t))' | q >/dev/null

# The SQL that sets variant $1 up (after every trigger of calls was enabled again).
variant_sql() {
  case $1 in
    today) ;;
    plpgsql)  # today's two rollup triggers, copied onto the old functions
      echo "alter table switchboard.calls disable trigger calls_rollup_insert, disable trigger calls_rollup_update;"
      q -c "select replace(replace(pg_get_triggerdef(t.oid), 'TRIGGER calls_rollup_', 'TRIGGER old_rollup_'),
                           '_calls_rollup()', 'old_calls_rollup' || case when t.tgname like '%update' then '_update' else '' end || '()') || ';'
              from pg_trigger t where t.tgname in ('calls_rollup_insert', 'calls_rollup_update')" ;;
    fillfactor) echo "alter table switchboard.contact_metrics set (fillfactor = 50);" ;;
    user) echo "alter table switchboard.calls disable trigger user;" ;;
    all) echo "alter table switchboard.calls disable trigger all;" ;;
    *) echo "alter table switchboard.calls disable trigger $1;" ;;
  esac
}
reset_sql="drop trigger if exists old_rollup_insert on switchboard.calls;
drop trigger if exists old_rollup_update on switchboard.calls;
alter table switchboard.calls enable trigger all;
alter table switchboard.contact_metrics reset (fillfactor);"

org() { printf '00000000-0000-4000-8000-%012d' "$1"; }
results=$(mktemp)
trap 'rm -f "$results"; stop_instance "$BENCH_HOME"; rm -rf "$BENCH_HOME/data"' EXIT
variants=(today plpgsql fillfactor calls_rollup_update calls_rollup_insert calls_touch calls_project user all)
# With PERF=1: one more replay of "today" first, under perf record on its backend (not counted).
if [ "${PERF:-0}" = 1 ]; then
  q -c "$reset_sql" >/dev/null
  PGOPTIONS="-c synchronous_commit=off" contacts_stream_replay q "$(org 99)" 2>/dev/null &
  replay=$!
  pid=""
  while [ -z "$pid" ] && kill -0 "$replay" 2>/dev/null; do
    pid=$(q -c "select pid from pg_stat_activity where query like 'do \$\$%' and pid <> pg_backend_pid()")
  done
  [ -n "$pid" ] && perf record -q -F 499 -g -p "$pid" -o "$BENCH_HOME/perf.data" 2>/dev/null &
  wait
fi
n=0
for round in $(seq 1 "$ROUNDS"); do
  for v in "${variants[@]}"; do
    n=$((n + 1))
    q -c "$reset_sql $(variant_sql "$v")" >/dev/null
    log=$(mktemp)
    start=$(date +%s.%N)
    PGOPTIONS="-c synchronous_commit=off" STREAM_CPU_LOG=$log contacts_stream_replay q "$(org "$n")"
    end=$(date +%s.%N)
    awk -v v="$v" -v n="$events" -v s="$start" -v e="$end" \
      '/backend cpu seconds/ {c = $NF} END {printf "%s %.0f %.0f\n", v, c * 1e6 / n, n / (e - s)}' "$log" >>"$results"
    rm -f "$log"
  done
done
q -c "$reset_sql" >/dev/null

label() {
  case $1 in
    today) echo "today (every trigger of calls)" ;;
    plpgsql) echo "the two call rollups on their PL/pgSQL functions of 8cdd405" ;;
    fillfactor) echo "today, contact_metrics with fillfactor 50 (room for HOT updates of the counters)" ;;
    user) echo "without any user trigger (no projection, rollups, touch)" ;;
    all) echo "without any trigger (foreign-key checks off too)" ;;
    *) echo "without $1" ;;
  esac
}
printf '\n%s events (%s calls), 1 client, synchronous_commit off, %s rounds; load %s\n' "$events" "$EVENT_CALLS" "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n| variant | backend CPU per event (median) | events/s (median) |\n|---|---:|---:|\n'
for v in "${variants[@]}"; do
  cpu=$(awk -v v="$v" '$1 == v {print $2}' "$results" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
  rate=$(awk -v v="$v" '$1 == v {print $3}' "$results" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
  printf '| %s | %s µs | %s |\n' "$(label "$v")" "$cpu" "$rate"
done
printf '\nevery run (variant, µs per event, events/s):\n'
cat "$results"
if [ "${PERF:-0}" = 1 ] && [ -f "$BENCH_HOME/perf.data" ]; then
  printf '\nperf: the functions with the most samples (self), one replay of "today":\n'
  { perf report -i "$BENCH_HOME/perf.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null |
      grep -E '^ +[0-9]' | sed 's/  */ /g' | head -40; } || true
fi
