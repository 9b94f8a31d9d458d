#!/usr/bin/env bash
# Booking benchmark on a throwaway PostgreSQL instance (default durability settings): builds,
# starts the instance, runs build/booking_bench and prints its tables. Run: tests/bench/booking.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

ensure_packages
build_all
# SB_BENCH_CONF adds postgresql.conf lines (e.g. "synchronous_commit = off") to compare settings.
open_bench_instance bench-instance $((SB_TEST_PORT_BASE + 5)) "shared_buffers = 256MB
${SB_BENCH_CONF:-}" switchboard_bench "settings: defaults${SB_BENCH_CONF:+ + $SB_BENCH_CONF}"
SWITCHBOARD_BENCH_DSN="host=$BENCH_HOME port=$BENCH_PORT user=postgres dbname=switchboard_bench" \
  "$SB_ROOT/build/booking_bench"
