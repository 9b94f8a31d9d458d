#!/usr/bin/env bash
# The API roles cannot create pg_temp objects in the test database (set up as `make run` sets up the
# embedded cluster's): no session can plant temporary shadows of the names Switchboard's SQL uses.
# Needs SB_TEST_HOME and SB_TEST_PORT (set by tests/run_all.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
for role in anon authenticated service_role switchboard_authenticator; do
  out=$(sb_psql "$HOME_DIR" "$PORT" -d switchboard_test -v ON_ERROR_STOP=0 \
    -c "set role $role" -c "create temp table planted (x int)" 2>&1 || true)
  case "$out" in
    *"permission denied to create temporary tables"*) ;;
    *) echo "$role could create a temporary table: $out"; exit 1 ;;
  esac
done
echo ok
