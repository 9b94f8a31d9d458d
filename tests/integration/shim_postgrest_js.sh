#!/usr/bin/env bash
# switchboard-shim through the clients its users run: @supabase/postgrest-js over real HTTP (rpc
# with filters, order, range, single, count, head, rollback, schemas, tables), /openapi.json through
# an OpenAPI 3.0 validator (@apidevtools/swagger-parser), and /metrics through `promtool check
# metrics`. Needs SB_TEST_HOME and SB_TEST_PORT (set by tests/run_all.sh), node and npm (the npm
# registry, for tests/js's locked packages) and promtool (Debian's prometheus).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
JS="$SB_ROOT/tests/js"
SECRET=postgrest-js-test-jwt-secret-of-at-least-32-bytes
METRICS_TOKEN=postgrest-js-test-metrics-token

for tool in node npm promtool; do
  command -v "$tool" >/dev/null || die "$tool is missing: run 'make deps' (as root)"
done
[ -d "$JS/node_modules/@supabase/postgrest-js" ] ||
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in tests/js failed"

sb_psql "$HOME_DIR" "$PORT" -d switchboard_test >/dev/null <<'SQL'
set client_min_messages = warning;
drop table if exists public.pgrsttest_items, public.pgrsttest_notes cascade;
create table public.pgrsttest_items (id int primary key, name text, score int, tag text, done boolean);
insert into public.pgrsttest_items values
  (1, 'Alpha', 10, 'a', true), (2, 'beta', 20, null, false), (3, 'Gamma', 30, 'c', true),
  (4, 'delta', 40, null, false), (5, 'Epsilon', 50, 'e', true);
create table public.pgrsttest_notes (id bigint generated always as identity, note text);
grant select on public.pgrsttest_items, public.pgrsttest_notes to anon, authenticated;
grant insert on public.pgrsttest_notes to anon, authenticated;
create or replace function switchboard.pgrsttest_items() returns setof public.pgrsttest_items
  language sql stable as 'select * from public.pgrsttest_items';
create or replace function switchboard.pgrsttest_items_above(min_score int)
  returns table (id int, name text, score int)
  language sql stable as 'select i.id, i.name, i.score from public.pgrsttest_items i where i.score > min_score';
create or replace function switchboard.pgrsttest_numbers(n int) returns setof int
  language sql immutable as 'select generate_series(1, n)';
create or replace function switchboard.pgrsttest_note(note text, copies int default 1)
  returns setof public.pgrsttest_notes language sql volatile
  as 'insert into public.pgrsttest_notes (note) select note from generate_series(1, copies) returning *';
create or replace function switchboard.pgrsttest_echo(payload jsonb) returns jsonb
  language sql immutable as 'select jsonb_build_object(''got'', payload)';
grant execute on function switchboard.pgrsttest_items(), switchboard.pgrsttest_items_above(int),
  switchboard.pgrsttest_numbers(int), switchboard.pgrsttest_note(text, int),
  switchboard.pgrsttest_echo(jsonb) to anon, authenticated;
SQL
count_notes() {
  sb_psql "$HOME_DIR" "$PORT" -d switchboard_test -At -c "select count(*) from public.pgrsttest_notes where note = '$1'"
}

SHIM_PORT=$(free_port "${SB_SHIM_PORT_BASE:-18610}")
LOG=$(mktemp)
SWITCHBOARD_DATABASE_URL="host=$HOME_DIR port=$PORT user=switchboard_authenticator dbname=switchboard_test" \
  SWITCHBOARD_JWT_SECRET=$SECRET SWITCHBOARD_METRICS_TOKEN=$METRICS_TOKEN \
  SWITCHBOARD_TX_END=commit-allow-override SWITCHBOARD_LISTEN=127.0.0.1:$SHIM_PORT \
  "$SB_ROOT/build/switchboard-shim" >"$LOG" 2>&1 &
SHIM_PID=$!
trap 'kill $SHIM_PID 2>/dev/null; wait $SHIM_PID 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$SHIM_PORT/healthz" >/dev/null && break
  sleep 0.1
done

token() { SWITCHBOARD_JWT_SECRET=$SECRET "$SB_ROOT/build/switchboard-shim" token "$@" --ttl 600; }
export SHIM_URL="http://127.0.0.1:$SHIM_PORT"
export USER_TOKEN=$(token --sub 00000000-0000-4000-8000-00000000f001)
export SERVICE_TOKEN=$(token --role service_role)
export NOTE_PREFIX="note-$$-"
node --test "$JS/" || { tail -40 "$LOG"; exit 1; }

# What the client saw, the database confirms: rolled back and refused calls left nothing.
[ "$(count_notes "${NOTE_PREFIX}kept")" = 1 ] || die "the committed note is missing"
[ "$(count_notes "${NOTE_PREFIX}rolled-back")" = 0 ] || die "Prefer: tx=rollback committed"
[ "$(count_notes "${NOTE_PREFIX}two")" = 0 ] || die "a refused single() kept its writes"

curl -sf -H "Authorization: Bearer $METRICS_TOKEN" "$SHIM_URL/metrics" >"$LOG.metrics"
promtool check metrics <"$LOG.metrics" || { cat "$LOG.metrics"; rm -f "$LOG.metrics"; exit 1; }
rm -f "$LOG.metrics"
echo ok
