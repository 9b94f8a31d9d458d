#!/usr/bin/env bash
# A clone in a directory the cluster's OS user cannot read (a clone under /root, here a 0700
# directory): instances are still created, started, queried and stopped, and no PostgreSQL program
# complains that it cannot change back to (or identify) the current directory. Root only (the
# cluster user differs from the caller only then); needs SB_TEST_PORT for a free port near it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"
is_root || { echo "skipped: not root"; exit 0; }

PRIVATE=$(mktemp -d /tmp/switchboard-private.XXXXXX)
chmod 700 "$PRIVATE"
HOME_DIR=""
cleanup() {
  [ -n "$HOME_DIR" ] && stop_instance "$HOME_DIR" && rm -rf "$HOME_DIR"
  rm -rf "$PRIVATE"
}
trap cleanup EXIT
cd "$PRIVATE"
ensure_os_user
runuser -u "$SB_PG_OS_USER" -- test -x "$PRIVATE" 2>/dev/null && { echo "FAILED: $SB_PG_OS_USER can read the private directory"; exit 1; }

HOME_DIR=$(pg_owned_dir "$PRIVATE/instance")
case $HOME_DIR in "$PRIVATE"/*) echo "FAILED: instance inside the private directory"; exit 1 ;; esac
PORT=$(free_port $((${SB_TEST_PORT:-25440} + 200)))
out=$( {
  init_instance "$HOME_DIR" "$PORT"
  start_instance "$HOME_DIR"
  sb_psql "$HOME_DIR" "$PORT" -d postgres -tAc "select 'answered'"
  as_pg "$PG_BIN/pg_ctl" -D "$HOME_DIR/data" status
  stop_instance "$HOME_DIR"
} 2>&1)
grep -q answered <<<"$out" || { echo "FAILED: the instance did not answer: $out"; exit 1; }
if grep -iE "could not (change|identify current) director|permission denied" <<<"$out" \
  "$HOME_DIR/initdb.log" "$HOME_DIR/postgres.log"; then
  echo "FAILED: a PostgreSQL program could not use the current directory"
  exit 1
fi
echo "ok: an instance from a clone in a 0700 directory starts, answers and stops without complaints"
