#!/usr/bin/env bash
# confirm_caller_id_verification under concurrent clients: p50/p95/p99 of the call and calls/s,
# per round and the median over rounds (tests/bench/telephony_confirm.cpp says how it measures).
# Each client is the admin of its own organisation; every verification gets a wrong code and then
# the right one, every fourth wrong codes until it locks.
# Run: tests/bench/telephony_confirm.sh [ROUNDS] [CLIENTS] [VERIFICATIONS_PER_CLIENT]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

ROUNDS=${1:-3}
CLIENTS=${2:-8}
PER_CLIENT=${3:-250}

ensure_packages
build_all
open_bench_instance bench-telephony-confirm-instance $((SB_TEST_PORT_BASE + 8)) "" \
  switchboard_bench "$ROUNDS rounds of $CLIENTS clients x $PER_CLIENT verifications, load $(cut -d' ' -f1-3 /proc/loadavg)"

# One organisation and one admin per client; the verifications started as the platform does (as
# the superuser, which sees the code), with distinct numbers (3 sends per number and hour).
sb_psql "$BENCH_HOME" "$BENCH_PORT" -d switchboard_bench <<SQL
CREATE TABLE bench_codes (client int, round int, seq int, org_id uuid, user_id uuid,
                          verification_id uuid, code text, wrong text);
CREATE TEMP TABLE clients AS
  SELECT c AS client, ('60000000-0000-4000-8000-' || lpad(c::text, 12, '0'))::uuid AS org_id,
         ('60000000-0000-4000-9000-' || lpad(c::text, 12, '0'))::uuid AS user_id
    FROM generate_series(0, $CLIENTS - 1) c;
INSERT INTO switchboard.organizations (id, name, slug)
  SELECT org_id, 'Bench ' || client, 'bench-' || client FROM clients;
INSERT INTO switchboard.organization_members (org_id, user_id, role)
  SELECT org_id, user_id, 'admin' FROM clients;
SET switchboard.caller_id_org_sends_per_hour = 10000;
INSERT INTO bench_codes
  SELECT c.client, r, s, c.org_id, c.user_id, (v ->> 'verificationId')::uuid, v ->> 'code',
         lpad((((v ->> 'code')::int + 1) % 1000000)::text, 6, '0')
    FROM clients c, generate_series(0, $ROUNDS - 1) r, generate_series(0, $PER_CLIENT - 1) s,
         LATERAL switchboard.start_caller_id_verification(c.org_id,
           '+1212' || (2000000 + (c.client * $ROUNDS + r) * $PER_CLIENT + s)::text) v;
SELECT count(*) AS started, count(*) FILTER (WHERE code ~ '^[0-9]{6}\$') AS with_code FROM bench_codes;
VACUUM ANALYZE;
SQL

"$SB_ROOT/build/telephony_confirm" "host=$BENCH_HOME port=$BENCH_PORT user=postgres dbname=switchboard_bench" \
  --clients "$CLIENTS" --rounds "$ROUNDS"
