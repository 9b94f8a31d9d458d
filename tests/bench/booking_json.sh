#!/usr/bin/env bash
# The booking area's JSON reading, side by side in one run: a calendar's business hours, options
# with exceptions and appointment details, each read into the core's plain Json by every reader
# of switchboard._selftest_json_read (jsonb: PostgreSQL's jsonb API; text: jsonb's text output
# read by nlohmann-json), rounds alternating, medians of microseconds per read.
# Run: tests/bench/booking_json.sh [ROUNDS] [READS_PER_ROUND]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

ROUNDS=${1:-9}
READS=${2:-2000}
READERS=${SB_JSON_READERS:-jsonb text}

ensure_packages
build_all
open_bench_instance bench-json-instance $((SB_TEST_PORT_BASE + 6)) "" switchboard_bench \
  "$ROUNDS rounds of $READS reads per document and reader"

readers_sql=$(printf "('%s')," $READERS)
rows=$(sb_psql "$BENCH_HOME" "$BENCH_PORT" -d switchboard_bench -At -F '|' <<SQL
CREATE FUNCTION pg_temp.micros_per_read(doc jsonb, reader text, reads integer) RETURNS float8
LANGUAGE plpgsql AS \$\$
DECLARE started timestamptz := clock_timestamp();
BEGIN
  PERFORM switchboard._selftest_json_read(doc, reader, reads);
  RETURN extract(epoch FROM clock_timestamp() - started) * 1e6 / reads;
END \$\$;
WITH docs(n, name, doc) AS (VALUES
  (1, 'business hours (7 days, 2 ranges each)',
   (SELECT jsonb_object_agg(d, '[["09:00", "12:00"], ["13:00", "17:30"]]'::jsonb)
      FROM unnest(array['mon','tue','wed','thu','fri','sat','sun']) d)),
  (2, 'options with 30 exceptions',
   jsonb_build_object('slotMinutes', 30, 'bufferAfterMinutes', 15, 'dailyCap', 8, 'exceptions',
     (SELECT jsonb_object_agg(to_char(date '2027-01-01' + i, 'YYYY-MM-DD'), '[["10:00", "14:00"]]'::jsonb)
        FROM generate_series(0, 29) i))),
  (3, 'appointment details (metadata of 10 keys)',
   jsonb_build_object('service', 'Initial consultation', 'notes', E'Caller asked for a quiet room.\nPrefers mornings.',
     'source', 'ai_call', 'metadata',
     (SELECT jsonb_object_agg('key' || i, CASE WHEN i % 2 = 0 THEN to_jsonb(i * 1.5) ELSE to_jsonb('value ' || i) END)
        FROM generate_series(1, 10) i)))),
readers(reader) AS (VALUES ${readers_sql%,}),
runs AS MATERIALIZED (
  SELECT d.n, d.name, r.reader, pg_temp.micros_per_read(d.doc, r.reader, $READS) AS micros
    FROM docs d CROSS JOIN generate_series(1, $ROUNDS) round CROSS JOIN readers r)
SELECT n, name, reader, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY micros)::numeric, 2)
  FROM runs GROUP BY n, name, reader ORDER BY n, reader;
SQL
)
header="| document |"
rule="| --- |"
for r in $READERS; do header+=" $r µs/read |"; rule+=" ---: |"; done
for r in $READERS; do [ "$r" = jsonb ] || { header+=" $r / jsonb |"; rule+=" ---: |"; }; done
echo "$header"
echo "$rule"
echo "$rows" | awk -F'|' -v readers="$READERS" '
  BEGIN { n = split(readers, order, " ") }
  { name[$1] = $2; us[$1, $3] = $4; if (!($1 in seen)) { seen[$1] = 1; docs[++count] = $1 } }
  END {
    for (i = 1; i <= count; i++) {
      d = docs[i]; line = "| " name[d] " |"
      for (j = 1; j <= n; j++) line = line " " us[d, order[j]] " |"
      for (j = 1; j <= n; j++) if (order[j] != "jsonb") line = line sprintf(" %.2f |", us[d, order[j]] / us[d, "jsonb"])
      print line
    }
  }'
