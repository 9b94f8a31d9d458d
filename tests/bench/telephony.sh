#!/usr/bin/env bash
# Phone-number normalisation server side, side by side in one run: switchboard.normalize_phone
# (libphonenumber: parse, full validation, E.164 formatting) against a plain regex check of the
# E.164 pattern, each over N distinct numbers in one statement; and, between the statements, the
# same numbers outside PostgreSQL (build/telephony_lib): the core's normalize_phone and
# libphonenumber's calls alone, which bound what the SQL function can reach. Rounds alternate;
# medians of each measurement's milliseconds. Inputs: numbers already in E.164, and US national
# input ("(212) 555-0123").
# Run: tests/bench/telephony.sh [ROUNDS] [NUMBERS]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

ROUNDS=${1:-5}
NUMBERS=${2:-1000000}

ensure_packages
build_all
open_bench_instance bench-telephony-instance $((SB_TEST_PORT_BASE + 7)) "" switchboard_bench \
  "$ROUNDS rounds over $NUMBERS numbers"
numbers=$(mktemp)
trap 'rm -f "$numbers"; stop_instance "$BENCH_HOME"; rm -rf "$BENCH_HOME/data"' EXIT
bench_sql() { sb_psql "$BENCH_HOME" "$BENCH_PORT" -d switchboard_bench "$@"; }

# Distinct valid North American numbers (no input repeats, so nothing can be served from a cache):
# 8 area codes x exchanges 200-999 x lines 0000-9999.
bench_sql <<SQL
CREATE TABLE nums AS
  SELECT '+1' || a || e || l AS e164, '(' || a || ') ' || e || '-' || l AS national
    FROM generate_series(1, $NUMBERS) i,
         LATERAL (SELECT (ARRAY['212', '415', '312', '617', '303', '206', '713', '404'])[i % 8 + 1] AS a,
                         (200 + (i / 8) % 800)::text AS e,
                         lpad(((i / 6400) % 10000)::text, 4, '0') AS l) x;
ANALYZE nums;
SELECT count(DISTINCT e164) = $NUMBERS AS all_distinct FROM nums;
CREATE FUNCTION bench_ms(stmt text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE started timestamptz := clock_timestamp();
BEGIN
  EXECUTE stmt;
  RETURN extract(epoch FROM clock_timestamp() - started) * 1e3;
END \$\$;
CREATE TABLE runs (kind text, input text, ms float8);
SQL
bench_sql -c "\\copy nums (e164, national) TO '$numbers' WITH (DELIMITER '|')"

for _ in $(seq "$ROUNDS"); do
  bench_sql <<'SQL'
INSERT INTO runs SELECT 'regex', 'E.164', bench_ms(
  $q$SELECT count(*) FILTER (WHERE e164 ~ '^\+[1-9][0-9]{6,14}$') FROM nums$q$);
INSERT INTO runs SELECT 'normalize_phone', 'E.164', bench_ms(
  $q$SELECT count(switchboard.normalize_phone(e164)) FROM nums$q$);
INSERT INTO runs SELECT 'regex', 'national', bench_ms(
  $q$SELECT count(*) FILTER (WHERE national ~ '^\([2-9][0-9]{2}\) [2-9][0-9]{2}-[0-9]{4}$') FROM nums$q$);
INSERT INTO runs SELECT 'normalize_phone', 'national', bench_ms(
  $q$SELECT count(switchboard.normalize_phone(national)) FROM nums$q$);
SQL
  "$SB_ROOT/build/telephony_lib" "$numbers" | bench_sql -c "\\copy runs FROM STDIN WITH (DELIMITER '|')"
done

bench_sql -At <<SQL
\echo '| input | regex check, ms | normalize_phone (SQL), ms | ratio | core normalize_phone (C++, no SQL), ms | ratio | libphonenumber calls alone, ms | ratio | normalize_phone, µs/number |'
\echo '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |'
SELECT format('| %s | %s | %s | %sx | %s | %sx | %s | %sx | %s |', input, round(rx::numeric),
              round(np::numeric), round((np / rx)::numeric, 1), round(core::numeric),
              round((core / rx)::numeric, 1), round(lib::numeric), round((lib / rx)::numeric, 1),
              round((np * 1000 / $NUMBERS)::numeric, 2))
  FROM (SELECT input,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'regex') AS rx,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'normalize_phone') AS np,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'core') AS core,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE kind = 'libphonenumber') AS lib
          FROM runs GROUP BY input) m ORDER BY input;
SQL
