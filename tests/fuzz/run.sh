#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan, in build-fuzz/) and runs each in
# turn, one process at a time. `make fuzz` runs it; `make test` runs it with --ci.
#   FUZZ_SECONDS   seconds per target (default 60; 2 with --ci)
#   FUZZ_RUNS      stop a target after this many executions instead (e.g. 10000000)
#   FUZZ_TARGETS   the targets to run, space-separated (default: every tests/fuzz/*_fuzz.cpp)
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (default 10)
# A target starts from its seeds (tests/fuzz/corpus/<name>, with tests/fuzz/dict/<name>.dict when
# present) plus what earlier runs found (.switchboard/fuzz/corpus/<name>); an input that crashes it
# is saved under .switchboard/fuzz/crashes/. One line per target: "fuzz <name> passed|FAILED ...".
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

FUZZ_DIR="$SB_ROOT/tests/fuzz"
BUILD="$SB_ROOT/build-fuzz"
WORK="$SB_HOME/fuzz"
SECONDS_DEFAULT=60
[ "${1:-}" = --ci ] && SECONDS_DEFAULT=2

# Ensures: build-fuzz/ holds an up-to-date fuzz_<name> binary for every target.
build_fuzzers() {
  command -v clang++ >/dev/null || die "clang++ is missing; run: sudo make deps"
  cmake -S "$SB_ROOT" -B "$BUILD" -DSB_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null || die "cmake configure of the fuzz targets failed"
  cmake --build "$BUILD" -j2 >/dev/null || die "building the fuzz targets failed"
}

# The names of the targets to run.
targets() {
  if [ -n "${FUZZ_TARGETS:-}" ]; then
    echo "$FUZZ_TARGETS"
  else
    local src
    for src in "$FUZZ_DIR"/*_fuzz.cpp; do basename "$src" _fuzz.cpp; done
  fi
}

# Runs target $1 and prints its line; fails when it crashed or broke a property.
run_target() {
  local name=$1 binary="$BUILD/tests/fuzz/fuzz_$1" log="$WORK/logs/$1.log"
  [ -x "$binary" ] || { echo "fuzz $name FAILED: no such target"; return 1; }
  mkdir -p "$WORK/corpus/$name" "$WORK/crashes" "$WORK/logs"
  local limit=(-max_total_time="${FUZZ_SECONDS:-$SECONDS_DEFAULT}")
  [ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
  local dict=()
  [ -f "$FUZZ_DIR/dict/$name.dict" ] && dict=(-dict="$FUZZ_DIR/dict/$name.dict")
  "$binary" "${limit[@]}" "${dict[@]}" -timeout="${FUZZ_TIMEOUT:-10}" -print_final_stats=1 \
    -artifact_prefix="$WORK/crashes/$name-" "$WORK/corpus/$name" "$FUZZ_DIR/corpus/$name" \
    >"$log" 2>&1
  local status=$? runs rate cov
  runs=$(grep -m1 '^stat::number_of_executed_units' "$log" | tr -dc 0-9)
  rate=$(grep -m1 '^stat::average_exec_per_sec' "$log" | tr -dc 0-9)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    echo "fuzz $name passed: ${runs:-?} runs, ${rate:-?} exec/s, ${cov:-no coverage line}"
    return 0
  fi
  local crash
  crash=$(grep -oE "Test unit written to [^ ]+" "$log" | tail -1 | cut -d' ' -f5)
  echo "fuzz $name FAILED: see $log; reproduce: $binary ${crash:-<input>}"
  grep -E 'ERROR|violated|SUMMARY|#[0-9]+ 0x' "$log" | head -15 >&2
  return 1
}

main() {
  build_fuzzers
  local failed=0 name
  for name in $(targets); do run_target "$name" || failed=1; done
  return $failed
}

main "$@"
