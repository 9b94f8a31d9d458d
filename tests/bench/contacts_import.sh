#!/usr/bin/env bash
# import_contacts of ROWS rows in one call, new rows and then the same rows again (all merges),
# side by side in one run on a fresh instance, interleaved ROUNDS times: as installed (the
# function's own work_mem, which holds the rows in memory) and with work_mem 4 MB (PostgreSQL's
# default, what 8cdd405 ran with: the rows spill to temporary files). Prints the medians of the
# wall time, the backend's CPU time (utime + stime of /proc/self/stat), the time it was runnable
# but waited for a core (/proc/self/schedstat) and the temporary files written.
# Run: tests/bench/contacts_import.sh [ROWS] [ROUNDS]   (defaults 100000 2)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/../integration/contacts_stream.bash"

ROWS=${1:-100000}
ROUNDS=${2:-2}
contacts_bench_open bench-contacts-import 11
contacts_import_rows q "$ROWS"
installed=$(q -c "select coalesce(array_to_string(proconfig, ', '), '') from pg_proc where proname = 'import_contacts'")
import_once() {  # org: prints "wall cpu runqueue_wait temp_MB"
  q -v org="$1" <<'SQL'
create temp view cpu as select (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) / 100.0 as s
  from pg_read_file('/proc/self/stat') s;
create temp view runq as select split_part(pg_read_file('/proc/self/schedstat'), ' ', 2)::bigint / 1e9 as s;
create temp view temp_bytes as select temp_bytes as b from pg_stat_database where datname = current_database();
select pg_stat_clear_snapshot() \gset
select extract(epoch from clock_timestamp()) as t0, (select s from cpu) as c0, (select s from runq) as r0,
       (select b from temp_bytes) as b0 \gset
select switchboard.import_contacts(:'org', r) ->> 'reason' as reason from import_rows \gset
select extract(epoch from clock_timestamp()) as t1, (select s from cpu) as c1, (select s from runq) as r1 \gset
-- the call's statistics reach pg_stat_database when it is idle
select pg_stat_force_next_flush() \gset
select pg_stat_clear_snapshot() \gset
select round((:t1 - :t0)::numeric, 2) || ' ' || round(:c1 - :c0, 2)
       || ' ' || round((:r1 - :r0)::numeric, 2) || ' ' || round(((select b from temp_bytes) - :b0) / 1e6);
SQL
}
set_work_mem() {  # "" (as installed) or a size
  if [ -z "$1" ]; then
    q -c "alter function switchboard.import_contacts(uuid, jsonb) reset work_mem" >/dev/null
    [ -n "$installed" ] && q -c "alter function switchboard.import_contacts(uuid, jsonb) set $(echo "$installed" | grep -o 'work_mem=[^,]*' | sed "s/=\(.*\)/ = '\1'/")" >/dev/null
  else
    q -c "alter function switchboard.import_contacts(uuid, jsonb) set work_mem = '$1'" >/dev/null
  fi
}
results=$(mktemp)
org() { printf '00000000-0000-4000-8000-%012d' "$1"; }
n=20
for round in $(seq 1 "$ROUNDS"); do
  for v in installed 4MB; do
    n=$((n + 1))
    set_work_mem "$([ "$v" = installed ] || echo "$v")"
    echo "$v new $(import_once "$(org $n)")" >>"$results"
    echo "$v merge $(import_once "$(org $n)")" >>"$results"
  done
done
set_work_mem ""
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
printf '\nimport_contacts, %s rows, %s rounds; load %s; the function as installed: %s\n' "$ROWS" "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$installed"
printf '\n| import_contacts, %s rows in one call | wall | backend CPU | waiting for a core | temporary files |\n|---|---:|---:|---:|---:|\n' "$ROWS"
for v in installed 4MB; do
  for kind in new merge; do
    m() { awk -v v="$v" -v k="$kind" -v f="$1" '$1 == v && $2 == k {print $f}' "$results" | median; }
    printf '| %s, %s | %s s | %s s | %s s | %s MB |\n' "$([ "$kind" = new ] && echo "new rows" || echo "the same rows again (all merges)")" \
      "$([ "$v" = installed ] && echo "as installed" || echo "work_mem 4 MB (8cdd405)")" "$(m 3)" "$(m 4)" "$(m 5)" "$(m 6)"
  done
done
printf '\nevery run (variant, kind, wall, CPU, waiting, temp MB):\n'
cat "$results"
rm -f "$results"
