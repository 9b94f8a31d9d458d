#!/usr/bin/env bash
# `make bench`: runs every benchmark script in tests/bench in turn (each prints its own table).
set -uo pipefail
status=0
for bench in "$(dirname "${BASH_SOURCE[0]}")"/*.sh; do
  [ "$(basename "$bench")" = run_all.sh ] && continue
  bash "$bench" || status=1
done
exit $status
