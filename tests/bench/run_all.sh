#!/usr/bin/env bash
# `make bench`: runs every tests/bench/*_bench.sh in turn (each prints its own table).
set -uo pipefail
status=0
for bench in "$(dirname "${BASH_SOURCE[0]}")"/*_bench.sh; do
  [ -e "$bench" ] || continue
  bash "$bench" || status=1
done
exit $status
