#!/usr/bin/env bash
# Runs every suite against a throwaway PostgreSQL instance (never the embedded cluster's data):
# unit tests, the fuzz targets (briefly), the pg_regress suite, integration tests and shell tests.
# Ends with "N passed, N failed".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../extension/tools/lib.sh"

PASSED=0
FAILED=0
SKIPPED=0
LOGS="$SB_HOME/test-logs"

count() { PASSED=$((PASSED + $1)); FAILED=$((FAILED + $2)); }

# Counts a GoogleTest binary's results from its JSON report.
run_gtest() {
  local name=$1 binary=$2 report="$LOGS/$1.json"
  shift 2
  say "suite $name"
  "$binary" --gtest_output="json:$report" "$@" >"$LOGS/$name.log" 2>&1
  local status=$?
  if [ ! -s "$report" ]; then
    tail -20 "$LOGS/$name.log" >&2
    count 0 1
    return
  fi
  local tests failures
  tests=$(grep -m1 '"tests"' "$report" | tr -dc 0-9)
  failures=$(grep -m1 '"failures"' "$report" | tr -dc 0-9)
  [ "$status" -ne 0 ] && grep -E '^\[  FAILED  \]|Failure|error' "$LOGS/$name.log" | head -40 >&2
  count $((tests - failures)) "$failures"
}

# Counts pg_regress and isolation-tester results from their per-test lines ("ok"/"FAILED" in PostgreSQL 15's format).
run_regress() {
  local name=${1:-regress}
  say "suite $name (pg_regress)"
  make -s -C "$SB_ROOT" PG_CONFIG="$PG_CONFIG" installcheck PGHOST="$TEST_HOME" PGPORT="$TEST_PORT" PGUSER=postgres \
    >"$LOGS/$name.log" 2>&1
  local ok failed
  ok=$(grep -cE '^(test| )?.* \.\.\. ok' "$LOGS/$name.log")
  failed=$(grep -cE '\.\.\. FAILED' "$LOGS/$name.log")
  if [ "$failed" -gt 0 ] || ! grep -q 'tests passed' "$LOGS/$name.log"; then
    cat "$LOGS/$name.log" >&2
    local diffs
    for diffs in "$SB_ROOT/regression.diffs" "$SB_ROOT/tests/isolation/output/regression.diffs"; do
      [ -f "$diffs" ] && head -200 "$diffs" >&2
    done
    [ "$failed" -eq 0 ] && failed=1
  fi
  count "$ok" "$failed"
}

# Each tests/integration/*.sh is one test: exit 0 passes.
run_shell_tests() {
  local t
  for t in "$SB_ROOT"/tests/integration/*.sh; do
    [ -e "$t" ] || continue
    local name
    name=$(basename "$t" .sh)
    say "suite $name"
    if SB_TEST_HOME="$TEST_HOME" SB_TEST_PORT="$TEST_PORT" bash "$t" >"$LOGS/$name.log" 2>&1; then
      count 1 0
    else
      tail -30 "$LOGS/$name.log" >&2
      count 0 1
    fi
  done
}

# Each fuzz target runs briefly (tests/fuzz/run.sh --ci: FUZZ_SECONDS each, default 2) and counts
# as one test: passed when it neither crashed nor broke a property. A failed build is one failure.
run_fuzz() {
  say "suite fuzz (libFuzzer)"
  "$SB_ROOT/tests/fuzz/run.sh" --ci >"$LOGS/fuzz.log" 2>&1
  local status=$? passed failed
  passed=$(grep -c '^fuzz .* passed' "$LOGS/fuzz.log")
  failed=$(grep -c '^fuzz .* FAILED' "$LOGS/fuzz.log")
  if [ "$status" -ne 0 ]; then
    tail -40 "$LOGS/fuzz.log" >&2
    [ "$failed" -eq 0 ] && failed=1
  fi
  count "$passed" "$failed"
}

# The Citus suite (tests/citus/run.sh) on a coordinator and two workers of its own: each "ok:" or
# "FAILED:" line it prints is one test; where PostgreSQL has no citus library it says so and counts
# as skipped.
run_citus() {
  say "suite citus (coordinator and two workers)"
  SB_ROOT="$SB_ROOT" PG_BIN="$PG_BIN" bash "$SB_ROOT/tests/citus/run.sh" >"$LOGS/citus.log" 2>&1
  local status=$? passed failed
  if grep -q '^skipped:' "$LOGS/citus.log"; then
    say "suite citus $(grep -m1 '^skipped:' "$LOGS/citus.log")"
    SKIPPED=$((SKIPPED + 1))
    return
  fi
  passed=$(grep -c '^ok:' "$LOGS/citus.log")
  failed=$(grep -c '^FAILED:' "$LOGS/citus.log")
  if [ "$status" -ne 0 ]; then
    grep '^FAILED:' "$LOGS/citus.log" >&2 || tail -30 "$LOGS/citus.log" >&2
    [ "$failed" -eq 0 ] && failed=1
  fi
  count "$passed" "$failed"
}

start_test_instance() {
  ensure_os_user
  mkdir -p "$SB_HOME" "$LOGS"
  TEST_HOME=$(pg_owned_dir "$SB_HOME/test-instance")
  stop_instance "$TEST_HOME"
  rm -rf "$TEST_HOME/data"
  TEST_PORT=$(free_port "$SB_TEST_PORT_BASE")
  init_instance "$TEST_HOME" "$TEST_PORT" "fsync = off
synchronous_commit = off
full_page_writes = off"
  start_instance "$TEST_HOME"
  sb_psql "$TEST_HOME" "$TEST_PORT" -d postgres -c "create database switchboard_test"
  revoke_temp "$TEST_HOME" "$TEST_PORT" switchboard_test
  sb_psql "$TEST_HOME" "$TEST_PORT" -d switchboard_test -c "set client_min_messages = warning" \
    -c "create extension switchboard cascade"
}

# Supabase and other managed hosts may not preload the library: the caches then fall back to
# PostgreSQL's invalidation messages. The database-only suites run again in that mode.
run_without_preload() {
  as_pg sed -i "s/^shared_preload_libraries = .*/shared_preload_libraries = ''/" \
    "$TEST_HOME/data/switchboard.conf"
  start_instance "$TEST_HOME" restart
  if [ -n "$(sb_psql "$TEST_HOME" "$TEST_PORT" -d postgres -Atc 'show shared_preload_libraries')" ]; then
    say "the test instance still preloads the library"
    count 0 1
    return
  fi
  SWITCHBOARD_TEST_DSN="host=$TEST_HOME port=$TEST_PORT user=postgres dbname=switchboard_test" \
    run_gtest integration_without_preload "$SB_ROOT/build/switchboard_integration_tests" \
    --gtest_filter='-Shim*'
  run_regress regress_without_preload
}

main() {
  start_test_instance
  trap 'stop_instance "$TEST_HOME"; rm -rf "$TEST_HOME/data"' EXIT
  run_gtest unit "$SB_ROOT/build/switchboard_unit_tests"
  run_fuzz
  run_regress
  # The shim tests start switchboard-shim processes on free ports from SB_SHIM_PORT_BASE and
  # restart the test instance (SB_TEST_HOME) once, to prove the shim recovers.
  SWITCHBOARD_TEST_DSN="host=$TEST_HOME port=$TEST_PORT user=postgres dbname=switchboard_test" \
    SB_TEST_HOME="$TEST_HOME" SB_ROOT="$SB_ROOT" PG_BIN="$PG_BIN" \
    SB_SHIM_PORT_BASE="${SB_SHIM_PORT_BASE:-18610}" \
    run_gtest integration "$SB_ROOT/build/switchboard_integration_tests"
  run_shell_tests
  run_without_preload
  run_citus
  echo
  if [ "$SKIPPED" -gt 0 ]; then
    echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  else
    echo "$PASSED passed, $FAILED failed"
  fi
  [ "$FAILED" -eq 0 ]
}

main "$@"
