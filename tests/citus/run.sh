#!/usr/bin/env bash
# The Citus suite: a coordinator and two workers on loopback (tests/citus/cluster.sh), Switchboard
# installed through the coordinator, then distributed, then checked through the coordinator.
# Prints one "ok: ..." or "FAILED: ..." line per check, or "skipped: ..." when the PostgreSQL in
# PG_BIN has no citus library. Exit 0 when nothing failed.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../extension/tools/lib.sh"
source "$here/cluster.sh"

if ! citus_installed; then
  echo "skipped: citus is not installed (no citus.so in $("$PG_CONFIG" --pkglibdir))"
  exit 0
fi

FAILED=0
ok() { echo "ok: $*"; }
failed() { echo "FAILED: $*"; FAILED=$((FAILED + 1)); }
# check NAME EXPECTED NODE SQL: the single value SQL answers on node NODE is EXPECTED.
check() {
  local name=$1 expected=$2 node=$3 sql=$4 got
  got=$(citus_psql "$node" -tA -c "$sql" 2>&1)
  if [ "$got" = "$expected" ]; then ok "$name"; else failed "$name: expected '$expected', got '$got'"; fi
}

citus_start || { failed "starting the cluster"; exit 1; }
# CITUS_KEEP=1 leaves the cluster running (for a look afterwards; tests/citus/cluster.sh has citus_stop).
[ -n "${CITUS_KEEP:-}" ] || trap citus_stop EXIT
ok "coordinator on port ${CITUS_PORT[0]}, workers on ${CITUS_PORT[1]} and ${CITUS_PORT[2]}"

for s in "$here"/[0-9]*.sh; do
  source "$s"
done

[ "$FAILED" -eq 0 ]
