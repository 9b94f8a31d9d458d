#!/usr/bin/env bash
# Entitlements benchmark: has_feature vs SELECT 1, check_feature vs seed 000's plan check, the sync
# trigger vs seed 000's PL/pgSQL trigger and vs no trigger, consume_feature on one and 1,000 orgs.
# Everything runs side by side on one throwaway instance. Usage: bash tests/bench/entitlements.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

ORGS=${BENCH_ORGS:-10000}
SUBS=${BENCH_SUBSCRIPTIONS:-100000}
SECONDS_EACH=${BENCH_SECONDS:-10}
CLIENTS=4
ROUNDS=3
SYNC_ROUNDS=${BENCH_SYNC_ROUNDS:-5}
DB=bench

ensure_os_user
BENCH_HOME=$(pg_owned_dir "$SB_HOME/bench-entitlements")
stop_instance "$BENCH_HOME"
rm -rf "$BENCH_HOME/data"
PORT=$(free_port 54370)
# WAL segments are recycled rather than created during the inserts (creating them made the
# insert times swing between rounds).
init_instance "$BENCH_HOME" "$PORT" "shared_buffers = 512MB
max_wal_size = 4GB
min_wal_size = 2GB"
start_instance "$BENCH_HOME"
trap 'stop_instance "$BENCH_HOME"; rm -rf "$BENCH_HOME/data"; [ -s "$WORK/pgbench.err" ] && grep -m3 -B2 ERROR "$WORK/pgbench.err" >&2' EXIT
WORK=$(mktemp -d)
chmod 755 "$WORK"
q() { sb_psql "$BENCH_HOME" "$PORT" -d "$DB" "$@"; }
sb_psql "$BENCH_HOME" "$PORT" -d postgres -c "create database $DB"

say "loading $ORGS organisations with subscriptions, and seed 000's tables with the same data"
q -v orgs="$ORGS" -f "$(dirname "${BASH_SOURCE[0]}")/entitlements_setup.sql"

# Transactions per second of a pgbench script (prepared statements, $CLIENTS clients).
tps() {
  local script=$1
  PGOPTIONS="-c role=service_role" "$PG_BIN/pgbench" -n -M prepared -c "$CLIENTS" -j 2 \
    -T "$SECONDS_EACH" -D orgs="$ORGS" -f "$script" -h "$BENCH_HOME" -p "$PORT" -U postgres "$DB" \
    2>>"$WORK/pgbench.err" | awk '/^tps/ {printf "%.0f", $3}'
}

script() { printf '%s\n' "$2" >"$WORK/$1.sql"; echo "$WORK/$1.sql"; }
ORG_EXPR="('00000000-0000-4000-8000-' || lpad(to_hex(:n::bigint), 12, '0'))::uuid"
S_SELECT1=$(script select1 'SELECT 1;')
S_HAS=$(script has "\set n random(1, :orgs)
SELECT switchboard.has_feature($ORG_EXPR, 'ai_lead_scoring');")
S_CHECK=$(script check "\set n random(1, :orgs)
SELECT switchboard.check_feature($ORG_EXPR, 'voice_broadcast');")
# Seed 000's plan check: supabase-js .from('user_subscription_plans').select('*, user_feature_toggles(*)')
# .eq('user_id', id).eq('plan_status', 'active').single(), as PostgREST runs it.
S_SEED=$(script seed "\set n random(1, :orgs)
WITH pgrst_source AS (SELECT p.*, COALESCE((SELECT json_agg(t.*) FROM (SELECT t1.* FROM seed.user_feature_toggles t1 WHERE t1.plan_id = p.id) t), '[]') AS user_feature_toggles FROM seed.user_subscription_plans p WHERE p.user_id = $ORG_EXPR AND p.plan_status = 'active') SELECT null::bigint AS total_result_set, pg_catalog.count(_postgrest_t) AS page_total, coalesce((json_agg(_postgrest_t)->0)::text, 'null') AS body FROM (SELECT * FROM pgrst_source) _postgrest_t;")
S_CONSUME_ONE=$(script consume_one "SELECT switchboard.consume_feature('00000000-0000-4000-8000-000000000001', 'calls');")
S_CONSUME_MANY=$(script consume_many "\set n random(1, 1000)
SELECT switchboard.consume_feature($ORG_EXPR, 'calls');")

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Median tps of alternating runs of two scripts (so machine noise hits both alike).
pair() {
  local a=$1 b=$2 i ra=() rb=()
  for ((i = 0; i < ROUNDS; i++)); do ra+=("$(tps "$a")"); rb+=("$(tps "$b")"); done
  printf '%s %s\n' "$(printf '%s\n' "${ra[@]}" | median)" "$(printf '%s\n' "${rb[@]}" | median)"
}

say "pgbench: SELECT 1 vs has_feature"
read -r T_SELECT1 T_HAS < <(pair "$S_SELECT1" "$S_HAS")
say "pgbench: seed 000 plan check vs check_feature"
read -r T_SEED T_CHECK < <(pair "$S_SEED" "$S_CHECK")
say "pgbench: consume_feature on one organisation and on 1,000"
read -r T_ONE T_MANY < <(pair "$S_CONSUME_ONE" "$S_CONSUME_MANY")

# Server-side cost: $INSERVER checks inside one statement (no client round trip), in ms. The org ids
# are computed beforehand, so both sides pay only for their checks.
INSERVER=20000
q -q -c "CREATE TABLE public.bench_org_ids AS SELECT ('00000000-0000-4000-8000-' ||
  lpad(to_hex(1 + n % $ORGS), 12, '0'))::uuid AS id FROM generate_series(1, $INSERVER) n" \
  -c "GRANT SELECT ON public.bench_org_ids TO service_role" -c "ANALYZE public.bench_org_ids"
IN_OURS="SELECT count(switchboard.check_feature(o.id, 'voice_broadcast')) FROM public.bench_org_ids o"
IN_SEED="SELECT count(q.body) FROM public.bench_org_ids o, LATERAL (WITH pgrst_source AS (SELECT p.*, COALESCE((SELECT json_agg(t.*) FROM (SELECT t1.* FROM seed.user_feature_toggles t1 WHERE t1.plan_id = p.id) t), '[]') AS user_feature_toggles FROM seed.user_subscription_plans p WHERE p.user_id = o.id AND p.plan_status = 'active') SELECT coalesce((json_agg(_postgrest_t)->0)::text, 'null') AS body FROM (SELECT * FROM pgrst_source) _postgrest_t) q"
inserver_ms() {
  q -c "SET role service_role" -c "$1" -c '\timing on' -c "$1" | awk '/^Time:/ {t = $2} END {printf "%.0f", t}'
}
say "server-side: $INSERVER checks in one statement, ours vs seed 000"
R_OURS=() R_SEED=()
for ((i = 0; i < ROUNDS; i++)); do R_SEED+=("$(inserver_ms "$IN_SEED")"); R_OURS+=("$(inserver_ms "$IN_OURS")"); done
M_OURS=$(printf '%s\n' "${R_OURS[@]}" | median)
M_SEED=$(printf '%s\n' "${R_SEED[@]}" | median)
per_s() { awk -v n="$INSERVER" -v ms="$1" 'BEGIN {printf "%.0f", n * 1000 / ms}'; }

# "wall_ms cpu_ms" of inserting $SUBS subscriptions in one statement, for one variant (cpu: the
# backend's own CPU time, which other work on the machine hardly moves).
insert_ms() {
  q -v subs="$SUBS" -v variant="$1" -f "$(dirname "${BASH_SOURCE[0]}")/entitlements_sync.sql" |
    awk -v hz="$(getconf CLK_TCK)" '/^Time:/ {t = $2} /^cpu_ticks_before/ {c0 = $2}
      /^cpu_ticks_after/ {c1 = $2} END {printf "%.0f %.0f\n", t, (c1 - c0) * 1000 / hz}'
}

VARIANTS="ours ours_no_audit no_trigger ours_events seed"
say "sync: inserting $SUBS subscriptions per variant, $SYNC_ROUNDS rounds"
declare -A WALL CPU
for ((i = 0; i < SYNC_ROUNDS; i++)); do
  for v in $VARIANTS; do
    read -r w c < <(insert_ms $v)
    WALL[$v]+="$w " CPU[$v]+="$c "
  done
done
for v in $VARIANTS; do
  WALL[$v]=$(printf '%s\n' ${WALL[$v]} | median)
  CPU[$v]=$(printf '%s\n' ${CPU[$v]} | median)
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
cat <<EOF

Entitlements benchmark ($(nproc) cores, PostgreSQL $("$PG_BIN/postgres" -V | awk '{print $3}'), $ORGS orgs, pgbench -M prepared -c $CLIENTS, ${SECONDS_EACH}s x $ROUNDS alternating rounds, inserts $SYNC_ROUNDS rounds, medians)

| measurement | ours | baseline | ratio | target |
|---|---|---|---|---|
| has_feature vs SELECT 1 (tps) | $T_HAS | $T_SELECT1 | $(ratio "$T_HAS" "$T_SELECT1")x | >= 0.5x |
| check_feature vs seed 000 plan check (tps) | $T_CHECK | $T_SEED | $(ratio "$T_CHECK" "$T_SEED")x | >= 10x |
| same, server side: checks/s inside one statement | $(per_s "$M_OURS") | $(per_s "$M_SEED") | $(ratio "$M_SEED" "$M_OURS")x | |
| insert $SUBS subscriptions, wall ms: sync trigger vs seed 000 trigger (seed has no audit; ours off) | ${WALL[ours_no_audit]} | ${WALL[seed]} | $(ratio "${WALL[seed]}" "${WALL[ours_no_audit]}")x faster | >= 5x |
| same, backend CPU ms | ${CPU[ours_no_audit]} | ${CPU[seed]} | $(ratio "${CPU[seed]}" "${CPU[ours_no_audit]}")x faster | >= 5x |
| same with our audit trigger on (seed 000 audits nothing), wall ms | ${WALL[ours]} | ${WALL[seed]} | $(ratio "${WALL[seed]}" "${WALL[ours]}")x faster | |
| same with our audit trigger on, backend CPU ms | ${CPU[ours]} | ${CPU[seed]} | $(ratio "${CPU[seed]}" "${CPU[ours]}")x faster | |
| insert $SUBS subscriptions: sync trigger on vs disabled (audit on in both), wall ms | ${WALL[ours]} | ${WALL[no_trigger]} | $(ratio "${WALL[ours]}" "${WALL[no_trigger]}")x the time | <= 1.5x |
| same, backend CPU ms | ${CPU[ours]} | ${CPU[no_trigger]} | $(ratio "${CPU[ours]}" "${CPU[no_trigger]}")x the time | <= 1.5x |
| insert $SUBS subscriptions with a subscription.changed event each (audit on) vs without, wall ms | ${WALL[ours_events]} | ${WALL[ours]} | $(ratio "${WALL[ours_events]}" "${WALL[ours]}")x the time | |
| same, backend CPU ms | ${CPU[ours_events]} | ${CPU[ours]} | $(ratio "${CPU[ours_events]}" "${CPU[ours]}")x the time | |
| consume_feature, 4 clients, one org (tps) | $T_ONE | | | |
| consume_feature, 4 clients, 1,000 orgs (tps) | $T_MANY | | | |
EOF
rm -rf "$WORK"
