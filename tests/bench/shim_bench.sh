#!/usr/bin/env bash
# The shim's cost: POST /rpc/<function> through switchboard-shim with N keep-alive clients, next to
# pgbench calling the same function directly, against the same cluster in the same run.
# Prints a markdown table (README.md, "switchboard-shim", shows the latest one).
#   SHIM_BENCH_FUNCTION  function of schema switchboard (default has_feature)
#   SHIM_BENCH_ARGS      its named arguments as a JSON object (default: the demo organisation, whose
#                        subscription the demo set-up creates, and feature "calls")
#   SHIM_BENCH_CLIENTS   concurrent clients (default 4)
#   SHIM_BENCH_SECONDS   seconds per row and round (default 5), SHIM_BENCH_ROUNDS (default 3)
# The rows take turns (round after round), so load from other work on the machine falls on all of
# them alike; the table shows each column's median over the rounds, and the CPU time each process
# spent per request (client, shim, database server), which shows where the time goes.
# Usage: bash tests/bench/shim_bench.sh (or `make bench`); builds and starts the embedded cluster
# with the demo data first when needed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"
[ -n "${SB_SET_UP:-}" ] || "$SB_ROOT/extension/tools/switchboard.sh" setup

DB=switchboard
DEMO_ORG=00000000-0000-4000-8000-00000000d000
DEMO_AGENT=00000000-0000-4000-8000-0000000000a4
FUNCTION=${SHIM_BENCH_FUNCTION:-has_feature}
ARGS=${SHIM_BENCH_ARGS:-"{\"org_id\":\"$DEMO_ORG\",\"feature\":\"calls\"}"}
CLIENTS=${SHIM_BENCH_CLIENTS:-4}
SECONDS_RUN=${SHIM_BENCH_SECONDS:-5}
ROUNDS=${SHIM_BENCH_ROUNDS:-3}
TICK_US=$((1000000 / $(getconf CLK_TCK)))
CLAIMS="{\"role\":\"authenticated\",\"sub\":\"$DEMO_AGENT\",\"app_metadata\":{\"org_id\":\"$DEMO_ORG\"}}"
CLUSTER_DIR=$(pg_owned_dir "$SB_HOME/cluster")
SECRETS="$SB_HOME/secrets"
WORK=$(mktemp -d /tmp/switchboard-shim-bench.XXXXXX)
SHIM_PID=""
trap '[ -n "$SHIM_PID" ] && kill "$SHIM_PID" 2>/dev/null; rm -rf "$WORK"' EXIT

q() { sb_psql "$CLUSTER_DIR" "$SB_PORT" -d "$DB" -tA "$@"; }

# The SQL statement pgbench runs: the function with the same named arguments.
direct_sql() {
  q -v fn="$FUNCTION" -v args="$ARGS" <<'SQL'
SELECT format('SELECT switchboard.%I(%s);', :'fn',
              coalesce(string_agg(format('%I => %L', key, value), ', '), ''))
  FROM jsonb_each_text(:'args'::jsonb);
SQL
}

# The shim's transaction for pgbench: its settings statement and the call, pipelined (one Sync).
shim_transaction_sql() {
  q -v fn="$FUNCTION" -v args="$ARGS" -v claims="$CLAIMS" <<'SQL'
SELECT format(E'\\startpipeline\n'
  'SELECT pg_catalog.set_config(''role'', ''authenticated'', true), '
  'pg_catalog.set_config(''request.jwt.claims'', %L, true), '
  'pg_catalog.set_config(''request.method'', ''POST'', true), '
  'pg_catalog.set_config(''request.path'', %L, true), '
  'pg_catalog.set_config(''request.headers'', %L, true), '
  'pg_catalog.has_function_privilege(''authenticated'', %s::oid, ''EXECUTE''), '
  'pg_catalog.set_config(''transaction_read_only'', ''on'', true);\n'
  'SELECT pg_catalog.to_json(_r)::text FROM pg_catalog.json_to_record(%L::json) AS _a(%s), '
  'LATERAL switchboard.%I(%s) _r;\n\\endpipeline\n',
  :'claims', '/rpc/' || :'fn', '{"content-type":"application/json","host":"127.0.0.1"}',
  (SELECT min(oid) FROM pg_proc WHERE proname = :'fn' AND pronamespace = 'switchboard'::regnamespace),
  :'args',
  (SELECT string_agg(format('%I %s', a.key, format_type(t.oid, NULL)), ', ')
     FROM jsonb_each(:'args'::jsonb) a
     JOIN LATERAL (SELECT x.arg_type AS oid FROM switchboard.api_function_args(
            (SELECT min(oid) FROM pg_proc WHERE proname = :'fn'
                AND pronamespace = 'switchboard'::regnamespace)) x WHERE x.arg_name = a.key) t ON true),
  :'fn',
  (SELECT string_agg(format('%1$I := _a.%1$I', key), ', ') FROM jsonb_each(:'args'::jsonb)));
SQL
}

# CPU ticks the cluster's server processes used so far (the live ones and those already reaped).
db_ticks() {
  local pm total p
  pm=$(head -1 "$CLUSTER_DIR/data/postmaster.pid")
  total=$(awk '{ print $16 + $17 }' "/proc/$pm/stat")
  for p in $(pgrep -P "$pm"); do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}

# CPU ticks the shim used so far.
shim_ticks() { awk '{ print $14 + $15 }' "/proc/$SHIM_PID/stat"; }

# Runs a client command; prints its output and then "CPU <client seconds> <shim ticks> <database
# ticks>", what each spent while it ran.
with_cpu() {
  local s0 d0 TIMEFORMAT='%3U %3S'
  s0=$(shim_ticks)
  d0=$(db_ticks)
  { time "$@" >"$WORK/client.out" 2>&1; } 2>"$WORK/client.time" ||
    die "$1 failed: $(cat "$WORK/client.out")"
  sleep 0.2 # the server reaps the client's backends
  cat "$WORK/client.out"
  echo "CPU $(awk '{ print $1 + $2 }' "$WORK/client.time") $(($(shim_ticks) - s0)) $(($(db_ticks) - d0))"
}

# "rps mean p50 p99 client_us shim_us db_us" of pgbench running the SQL file $1 for $2 seconds.
pgbench_row() {
  PGOPTIONS="-c request.jwt.claims=$CLAIMS" with_cpu pgbench -h "$CLUSTER_DIR" -p "$SB_PORT" -U postgres \
    -n -M prepared -c "$CLIENTS" -j "$CLIENTS" -f "$1" -T "$2" "$DB" |
    awk -v tick="$TICK_US" '/^number of transactions actually processed/ { n = $NF }
      /^tps = / { tps = $3 } /^latency average = / { mean = $4 } /^CPU / { c = $2; d = $4 }
      END { printf "%.0f %.3f - - %.1f - %.1f\n", tps, mean, c * 1e6 / n, d * tick / n }'
}

# "rps mean p50 p99 client_us shim_us db_us" of shim_load run with "$@" for $SECONDS_RUN seconds;
# the shim column only when SHIM_ROW is set.
load_row() {
  with_cpu "$SB_ROOT/build/shim_load" "$@" --clients "$CLIENTS" --seconds "$SECONDS_RUN" --warmup 0 |
    awk -v tick="$TICK_US" -v shim="${SHIM_ROW:-}" '/^requests=/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
      /^CPU / { c = $2; s = $3; d = $4 }
      END { n = v["requests"]
            printf "%.0f - %.3f %.3f %.1f %s %.1f\n", v["rps"], v["p50_us"] / 1000, v["p99_us"] / 1000,
              c * 1e6 / n, shim ? sprintf("%.1f", s * tick / n) : "-", d * tick / n }'
}

# The libpq client row: the direct statement, measured like the HTTP requests.
direct_row() {
  load_row --dsn "host=$CLUSTER_DIR port=$SB_PORT user=postgres dbname=$DB options='-c request.jwt.claims=$CLAIMS'" \
    --sql "$(sed 's/;$//' "$WORK/direct.sql")"
}

# Starts the shim on a free port, as `make run` does (over the cluster's Unix socket, like
# pgbench); sets SHIM_PORT and SHIM_PID.
start_shim() {
  SHIM_PORT=$(free_port "${SHIM_BENCH_PORT:-18690}")
  SWITCHBOARD_DATABASE_URL=$(authenticator_conninfo "$CLUSTER_DIR" "$SB_PORT" "$DB" "$(cat "$SECRETS/authenticator_password")") \
    SWITCHBOARD_JWT_SECRET=$(cat "$SECRETS/jwt_secret") SWITCHBOARD_LISTEN="127.0.0.1:$SHIM_PORT" \
    SWITCHBOARD_POOL_SIZE="$CLIENTS" "$SB_ROOT/build/switchboard-shim" >/dev/null 2>"$WORK/shim.err" &
  SHIM_PID=$!
  local i
  for i in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SHIM_PORT") 2>/dev/null && return 0
    sleep 0.05
  done
  cat "$WORK/shim.err" >&2
  die "the shim did not start"
}

# One round: every row once, each appended to its file $WORK/row<N>.
run_round() {
  local token=$1 seconds=$2
  pgbench_row "$WORK/direct.sql" "$seconds" >>"$WORK/row1"
  direct_row >>"$WORK/row2"
  pgbench_row "$WORK/transaction.sql" "$seconds" >>"$WORK/row3"
  SHIM_ROW=1 load_row --port "$SHIM_PORT" --path "/rpc/$FUNCTION" --body "$ARGS" --token "$token" \
    >>"$WORK/row4"
}

# The median of each column of a row's rounds ("-" stays "-").
medians() {
  local col values
  for col in 1 2 3 4 5 6 7; do
    values=$(awk -v c="$col" '{ print $c }' "$1" | sort -g)
    if [ "$(head -1 <<<"$values")" = - ]; then printf -- '- '; else
      awk '{ v[NR] = $1 } END { printf "%s ", v[int((NR + 1) / 2)] }' <<<"$values"
    fi
  done
  echo
}

# A table cell: "" for "-".
cell() { [ "$1" = - ] && printf '' || printf '%s' "$1"; }

# One markdown row: the label and the seven numbers of "$2" ("-" left empty).
print_row() {
  local label=$1 v
  read -ra v <<<"$2"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" "$(cell "${v[0]}")" "$(cell "${v[1]}")" \
    "$(cell "${v[2]}")" "$(cell "${v[3]}")" "$(cell "${v[4]}")" "$(cell "${v[5]}")" "$(cell "${v[6]}")"
}

# The table of the medians and the two summary lines.
print_table() {
  local sql pg direct txn shim
  sql=$(sed 's/;$//' "$WORK/direct.sql")
  pg=$(medians "$WORK/row1") direct=$(medians "$WORK/row2") txn=$(medians "$WORK/row3")
  shim=$(medians "$WORK/row4")
  printf '\nShim benchmark: %s concurrent keep-alive clients, %s rounds of %ss per row (medians), %s CPU cores, PostgreSQL %s\n\n' \
    "$CLIENTS" "$ROUNDS" "$SECONDS_RUN" "$(nproc)" "$("$PG_BIN/postgres" --version | awk '{print $3}')"
  printf '| path | requests/s | mean (ms) | p50 (ms) | p99 (ms) | CPU µs/request: client | shim | database |\n'
  printf '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n'
  print_row "pgbench -M prepared, direct: \`$sql\`" "$pg"
  print_row "libpq client (shim_load --dsn), the same statement" "$direct"
  print_row "pgbench, the shim's transaction (settings + call, pipelined)" "$txn"
  print_row "shim: \`POST /rpc/$FUNCTION\` with a JWT (HTTP, auth, transaction, JSON)" "$shim"
  local ratios
  ratios=$(paste -d' ' "$WORK/row4" "$WORK/row1" | awk '{ printf "%.2f ", $1 / $8 }')
  awk -v p="$pg" -v d="$direct" -v t="$txn" -v s="$shim" -v r="$ratios" 'BEGIN {
    split(p, P, " "); split(d, D, " "); split(t, T, " "); split(s, S, " ")
    printf "\nthe shim adds %.3f ms at p50 and keeps %.2fx the direct (pgbench) throughput (per round: %s)\n",
      S[3] - D[3], S[1] / P[1], r
    printf "CPU per request: direct %.1f µs (pgbench %.1f + database %.1f); the shim'"'"'s transaction alone %.1f µs (database %.1f); through the shim %.1f µs (load generator %.1f + shim %.1f + database %.1f)\n",
      P[5] + P[7], P[5], P[7], T[5] + T[7], T[7], S[5] + S[6] + S[7], S[5], S[6], S[7] }'
}

main() {
  start_shim
  direct_sql >"$WORK/direct.sql"
  shim_transaction_sql >"$WORK/transaction.sql"
  local token round
  token=$("$SB_ROOT/build/switchboard-shim" token --secret-file "$SECRETS/jwt_secret" --sub "$DEMO_AGENT" \
    --org "$DEMO_ORG" --ttl 3600)
  SECONDS_RUN=1 run_round "$token" 1 # warm-up, not counted
  rm -f "$WORK"/row?
  for round in $(seq "$ROUNDS"); do run_round "$token" "$SECONDS_RUN"; done
  print_table
}

main "$@"
