#!/usr/bin/env bash
# Phone-number normalisation server side, side by side in one run: switchboard.normalize_phone
# (libphonenumber: parse, full validation, E.164 formatting) against a plain regex check of the
# E.164 pattern, each over N numbers in one statement, rounds alternating, medians of the
# statement's milliseconds. Inputs: numbers already in E.164, and US national input
# ("(212) 555-0123").
# Run: tests/bench/telephony.sh [ROUNDS] [NUMBERS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

ROUNDS=${1:-5}
NUMBERS=${2:-1000000}

ensure_packages
build_all
open_bench_instance bench-telephony-instance $((SB_TEST_PORT_BASE + 7)) "" switchboard_bench "$ROUNDS rounds over $NUMBERS numbers"

sb_psql "$BENCH_HOME" "$BENCH_PORT" -d switchboard_bench -At -F '|' <<SQL
-- Valid North American numbers: area codes 201-989 (N not 0/1), exchanges 200-999.
CREATE TABLE nums AS
  SELECT '+1' || a || e || lpad((i % 10000)::text, 4, '0') AS e164,
         '(' || a || ') ' || e || '-' || lpad((i % 10000)::text, 4, '0') AS national
    FROM generate_series(1, $NUMBERS) i,
         LATERAL (SELECT (ARRAY['212', '415', '312', '617', '303', '206', '713', '404'])[i % 8 + 1] AS a,
                         (200 + i % 800)::text AS e) x;
ANALYZE nums;
CREATE FUNCTION pg_temp.ms(stmt text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE started timestamptz := clock_timestamp();
BEGIN
  EXECUTE stmt;
  RETURN extract(epoch FROM clock_timestamp() - started) * 1e3;
END \$\$;
CREATE TEMP TABLE runs (kind text, input text, ms float8);
DO \$\$
BEGIN
  FOR r IN 1..$ROUNDS LOOP
    INSERT INTO runs SELECT 'regex', 'E.164', pg_temp.ms(
      \$q\$SELECT count(*) FILTER (WHERE e164 ~ '^\+[1-9][0-9]{6,14}\$') FROM nums\$q\$);
    INSERT INTO runs SELECT 'normalize_phone', 'E.164', pg_temp.ms(
      \$q\$SELECT count(switchboard.normalize_phone(e164)) FROM nums\$q\$);
    INSERT INTO runs SELECT 'regex', 'national', pg_temp.ms(
      \$q\$SELECT count(*) FILTER (WHERE national ~ '^\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}\$') FROM nums\$q\$);
    INSERT INTO runs SELECT 'normalize_phone', 'national', pg_temp.ms(
      \$q\$SELECT count(switchboard.normalize_phone(national)) FROM nums\$q\$);
  END LOOP;
END \$\$;
\echo '| input | regex check, ms | normalize_phone, ms | ratio | normalize_phone, µs/number |'
\echo '| --- | ---: | ---: | ---: | ---: |'
SELECT '| ' || input || ' | ' || round(rx::numeric) || ' | ' || round(np::numeric) || ' | ' ||
       round((np / rx)::numeric, 1) || 'x | ' || round((np * 1000 / $NUMBERS)::numeric, 2) || ' |'
  FROM (SELECT input,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'regex') AS rx,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'normalize_phone') AS np
          FROM runs GROUP BY input) m ORDER BY input;
SQL
