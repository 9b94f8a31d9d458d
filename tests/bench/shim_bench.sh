#!/usr/bin/env bash
# The shim's cost: POST /rpc/<function> through switchboard-shim with N keep-alive clients, next to
# pgbench calling the same function directly, against the same cluster in the same run.
# Prints a markdown table (README.md, "switchboard-shim", shows the latest one).
#   SHIM_BENCH_FUNCTION  function of schema switchboard (default has_feature)
#   SHIM_BENCH_ARGS      its named arguments as a JSON object (default: the demo organisation, whose
#                        subscription the demo set-up creates, and feature "calls")
#   SHIM_BENCH_CLIENTS   concurrent clients (default 4), SHIM_BENCH_SECONDS (default 10)
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
SECONDS_RUN=${SHIM_BENCH_SECONDS:-10}
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

# "tps mean_ms" of pgbench running the SQL file $1 (as the demo agent), one thread per client.
run_pgbench() {
  local -a common=(-h "$CLUSTER_DIR" -p "$SB_PORT" -U postgres -n -M prepared -c "$CLIENTS" -j "$CLIENTS"
    -f "$1")
  PGOPTIONS="-c request.jwt.claims=$CLAIMS" pgbench "${common[@]}" -T 2 "$DB" >/dev/null 2>&1
  PGOPTIONS="-c request.jwt.claims=$CLAIMS" pgbench "${common[@]}" -T "$SECONDS_RUN" "$DB" \
    >"$WORK/pgbench.out" 2>&1 || die "pgbench failed: $(cat "$WORK/pgbench.out")"
  awk '/^tps = / { tps = $3 } /^latency average = / { mean = $4 } END { printf "%.0f %.3f\n", tps, mean }' \
    "$WORK/pgbench.out"
}

# "rps p50_ms p99_ms" from the output line of shim_load.
load_numbers() {
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "%.0f %.3f %.3f\n", v["rps"], v["p50_us"] / 1000, v["p99_us"] / 1000 }' <<<"$1"
}

# "rps p50_ms p99_ms" of the same statement through libpq, measured like the HTTP requests.
run_direct() {
  local out
  out=$("$SB_ROOT/build/shim_load" --dsn "host=$CLUSTER_DIR port=$SB_PORT user=postgres dbname=$DB options='-c request.jwt.claims=$CLAIMS'" \
    --sql "$(sed 's/;$//' "$WORK/direct.sql")" --clients "$CLIENTS" --seconds "$SECONDS_RUN" --warmup 2) ||
    die "direct calls failed: $out"
  load_numbers "$out"
}

# Starts the shim on a free port, as `make run` does; sets SHIM_PORT and SHIM_PID.
start_shim() {
  SHIM_PORT=$(free_port "${SHIM_BENCH_PORT:-18690}")
  SWITCHBOARD_DATABASE_URL="postgresql://switchboard_authenticator:$(cat "$SECRETS/authenticator_password")@127.0.0.1:$SB_PORT/$DB" \
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

# "rps p50_ms p99_ms" of the load generator against POST /rpc/<function>, as the demo agent.
run_shim() {
  local token out
  token=$("$SB_ROOT/build/switchboard-shim" token --secret-file "$SECRETS/jwt_secret" --sub "$DEMO_AGENT" \
    --org "$DEMO_ORG" --ttl 3600)
  out=$("$SB_ROOT/build/shim_load" --port "$SHIM_PORT" --path "/rpc/$FUNCTION" --body "$ARGS" \
    --token "$token" --clients "$CLIENTS" --seconds "$SECONDS_RUN" --warmup 2) || die "requests failed: $out"
  load_numbers "$out"
}

print_table() {
  local sql=$1 pg=($2) direct=($3) txn=($4) shim=($5)
  printf '\nShim benchmark: %s concurrent keep-alive clients, %ss per row, %s CPU cores, PostgreSQL %s\n\n' \
    "$CLIENTS" "$SECONDS_RUN" "$(nproc)" "$("$PG_BIN/postgres" --version | awk '{print $3}')"
  printf '| path | requests/s | mean (ms) | p50 (ms) | p99 (ms) |\n| --- | ---: | ---: | ---: | ---: |\n'
  printf '| pgbench -M prepared, direct: `%s` | %s | %s | | |\n' "${sql%;}" "${pg[0]}" "${pg[1]}"
  printf '| libpq client (shim_load --dsn), the same statement | %s | | %s | %s |\n' \
    "${direct[0]}" "${direct[1]}" "${direct[2]}"
  printf "| pgbench, the shim's transaction (settings + call, pipelined) | %s | %s | | |\n" "${txn[0]}" "${txn[1]}"
  printf '| shim: `POST /rpc/%s` with a JWT (HTTP, auth, transaction, JSON) | %s | | %s | %s |\n' \
    "$FUNCTION" "${shim[0]}" "${shim[1]}" "${shim[2]}"
  awk -v sp="${shim[1]}" -v dp="${direct[1]}" -v sr="${shim[0]}" -v pr="${pg[0]}" 'BEGIN {
    printf "\nthe shim adds %.3f ms at p50 and keeps %.2fx the direct (pgbench) throughput\n", sp - dp, sr / pr }'
}

main() {
  start_shim
  direct_sql >"$WORK/direct.sql"
  shim_transaction_sql >"$WORK/transaction.sql"
  local shim pg direct txn
  shim=$(run_shim)
  pg=$(run_pgbench "$WORK/direct.sql")
  direct=$(run_direct)
  txn=$(run_pgbench "$WORK/transaction.sql")
  print_table "$(cat "$WORK/direct.sql")" "$pg" "$direct" "$txn" "$shim"
}

main "$@"
