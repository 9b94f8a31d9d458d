#!/usr/bin/env bash
# Side by side in one run on a fresh instance: the SQL/PL/pgSQL call-event fold and import of
# commit 83b55ee (loaded under old_* names from git; the clone's history must hold it) against this
# tree's C++ ones, interleaved on the same 20,000 shuffled events (2,000 calls, duplicates) and the
# same rows; each fold into organisations of its own, whose call rows must come out identical.
# Run: tests/bench/contacts_vs_sql.sh [ROWS]   (default 20000)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

ROWS=${1:-20000}
ensure_packages
build_all
open_bench_instance bench-contacts-vs-sql $((SB_TEST_PORT_BASE + 9)) "" switchboard_bench
cd "$SB_ROOT"
export PGHOST=$BENCH_HOME PGPORT=$BENCH_PORT PGDATABASE=switchboard_bench PGUSER=postgres
P="psql -X -q -v ON_ERROR_STOP=1"
$P -v calls=2000 <<'SQL'
insert into switchboard.organizations (id, name, slug)
  select ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'Bench ' || i, 'bench-' || i
    from generate_series(1, 100) i;
\i tests/integration/contacts_stream.sql
SQL
# The old functions under old_* names (their helpers that are gone today under theirs).
git show 83b55ee:extension/sql/70_contacts/functions.sql | python3 -c '
import re, sys
s = sys.stdin.read()
names = ["_call_fact", "call_status_of", "_call_ms_time", "_call_text_time", "call_event_facts",
         "call_fold", "record_call_event", "contact_row_problem", "import_contacts", "_contacts_phones",
         "_contacts_texts"]
t = "\n".join(re.search(r"CREATE FUNCTION switchboard\." + re.escape(n) + r"\(.*?\n\$\$;\n", s, re.S).group(0)
              for n in names)
for n in names:
    t = re.sub(r"switchboard\." + n + r"\b", "switchboard.old_" + n.lstrip("_"), t)
t = re.sub(r"\brecord_call_event\.", "old_record_call_event.", t)
t = re.sub(r"(?<![\w.])import_contacts\.", "old_import_contacts.", t)
print("SET check_function_bodies = off;\n" + t)' | $P
events=$($P -tAc "select count(*) from shuffled")
fold() {  # fn clients first_org sync
  local fn=$1 clients=$2 first=$3 sync=$4 start k
  start=$(date +%s.%N)
  for k in $(seq 0 $((clients - 1))); do
    PGOPTIONS="-c synchronous_commit=$sync -c bench.fn=$fn -c bench.org=00000000-0000-4000-8000-$(printf %012d $((first + k))) -c bench.k=$k -c bench.clients=$clients" $P <<'SQL' >/dev/null &
do $$
declare r record;
begin
  for r in select provider, event from shuffled
            where n % current_setting('bench.clients')::int = current_setting('bench.k')::int order by n loop
    execute format('select switchboard.%s($1, $2, $3)', current_setting('bench.fn'))
      using current_setting('bench.org')::uuid, r.provider, r.event;
    commit;
  end loop;
end
$$;
SQL
  done
  wait
  echo "$start $(date +%s.%N)" | awk -v n="$events" '{printf "%.0f", n / ($2 - $1)}'
}
import() {  # fn org rows
  $P -tA -v fn=$1 -v org=$2 -v rows=$3 <<'SQL'
select extract(epoch from clock_timestamp()) as t0 \gset
select switchboard.:fn(:'org', (
  select jsonb_agg(jsonb_build_object('phone', '+1415' || lpad((4000000 + i)::text, 7, '0'), 'firstName', 'Lead ' || i,
                                      'source', (array['csv', 'web', 'ads'])[1 + i % 3], 'tags', jsonb_build_array('t' || i % 10),
                                      'customFields', jsonb_build_object('n', i)))
    from generate_series(1, :rows) i)) ->> 'reason' as reason \gset
select round((extract(epoch from clock_timestamp()) - :t0)::numeric, 2);
SQL
}
org() { printf '00000000-0000-4000-8000-%012d' "$1"; }
echo "load $(cut -d' ' -f1 /proc/loadavg), $events events"
echo "fold 1 client, synchronous_commit off: SQL $(fold old_record_call_event 1 30 off) / C++ $(fold record_call_event 1 31 off) / SQL $(fold old_record_call_event 1 32 off) / C++ $(fold record_call_event 1 33 off) events/s"
echo "fold 4 clients, synchronous_commit on: SQL $(fold old_record_call_event 4 40 on) / C++ $(fold record_call_event 4 44 on) events/s"
echo "fold 4 clients, synchronous_commit off: SQL $(fold old_record_call_event 4 50 off) / C++ $(fold record_call_event 4 54 off) events/s"
R=$ROWS
echo "import $R new: SQL $(import old_import_contacts $(org 60) $R) s / C++ $(import import_contacts $(org 61) $R) s"
echo "import $R merges: SQL $(import old_import_contacts $(org 60) $R) s / C++ $(import import_contacts $(org 61) $R) s"
same=$($P -tAc "select count(*) from (select provider, provider_call_id, status, outcome, started_at, ended_at, cost, transcript
  from switchboard.calls where org_id = '$(org 30)' except select provider, provider_call_id, status, outcome, started_at, ended_at, cost, transcript
  from switchboard.calls where org_id = '$(org 31)') x")
echo "calls of the SQL fold missing from the C++ fold's: $same"
echo "load $(cut -d' ' -f1 /proc/loadavg)"
[ "$same" = 0 ]
