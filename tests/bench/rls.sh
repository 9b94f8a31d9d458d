#!/usr/bin/env bash
# RLS cost benchmark: a member's queries on a protected table against the owner's explicit
# WHERE org_id = ..., on 1,000,000 rows over 1,000 organisations, side by side in one run.
#
#   bash tests/bench/rls.sh [rls_bench options, e.g. --iterations 5000]
#
# Creates a throwaway PostgreSQL 15 instance under .switchboard/bench-rls, loads it, runs
# build/rls_bench against it, prints its tables and plans, and always removes the instance.
# Needs the extension installed (make && sudo make install). Set SWITCHBOARD_BENCH_KEEP=1 to keep
# the instance running afterwards (for EXPLAIN ANALYZE by hand; the script prints how to connect).
set -euo pipefail

SB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR/../.. source=extension/tools/lib.sh
. "$SB_ROOT/extension/tools/lib.sh"

ORGS=${SWITCHBOARD_BENCH_ORGS:-1000}
ROWS=${SWITCHBOARD_BENCH_ROWS:-1000000}
BENCH_BIN="$SB_ROOT/build/rls_bench"

# The extension must be installed into this PostgreSQL; this script does not install it.
libdir=$("$PG_BIN/pg_config" --pkglibdir)
sharedir=$("$PG_BIN/pg_config" --sharedir)
if [ ! -f "$libdir/switchboard.so" ] || [ ! -f "$sharedir/extension/switchboard.control" ]; then
  die "the extension is not installed; run: cd '$SB_ROOT' && make && sudo make install"
fi
if [ -f "$SB_ROOT/switchboard.so" ] && ! cmp -s "$SB_ROOT/switchboard.so" "$libdir/switchboard.so"; then
  say "warning: the installed switchboard.so differs from the one built in $SB_ROOT (make install?)"
fi

# The benchmark program: built with the project's CMake build when missing or older than its source.
if [ ! -x "$BENCH_BIN" ] || [ "$SB_ROOT/tests/bench/rls_bench.cpp" -nt "$BENCH_BIN" ]; then
  say "building rls_bench"
  cmake -S "$SB_ROOT" -B "$SB_ROOT/build" >/dev/null || die "cmake configure failed"
  cmake --build "$SB_ROOT/build" --target rls_bench >/dev/null || die "building rls_bench failed"
fi

ensure_os_user
home=$(pg_owned_dir "$SB_HOME/bench-rls")
# A previous run that was killed hard may have left its instance behind.
stop_instance "$home" || true
rm -rf "${home:?}/data"

cleanup() {
  if [ "${SWITCHBOARD_BENCH_KEEP:-}" = 1 ]; then
    say "instance kept: psql -h $home -p $port -U postgres bench (stop: $PG_BIN/pg_ctl -D $home/data stop)"
    return
  fi
  stop_instance "$home" || true
  rm -rf "${home:?}"
}
port=$(free_port 54360)
trap cleanup EXIT
trap 'exit 130' INT TERM

# A throwaway instance: fsync off for a fast load, autovacuum off so nothing runs during the
# measurement (the load ends with an explicit VACUUM ANALYZE), JIT off so no query pays for
# compilation, and shared buffers large enough for the whole table and its indexes.
# synchronous_commit stays on: with it off, VACUUM may find the load's commit not yet flushed,
# cannot set hint bits, and leaves pages not all-visible (index-only scans then visit the heap).
init_instance "$home" "$port" "shared_buffers = 1GB
fsync = off
full_page_writes = off
max_wal_size = 8GB
maintenance_work_mem = 512MB
work_mem = 64MB
autovacuum = off
jit = off"
start_instance "$home"
say "instance on port $port ($home)"

psql_bench() { sb_psql "$home" "$port" -d bench "$@"; }
sb_psql "$home" "$port" -d postgres -c "create database bench" || die "creating the database failed"

started=$SECONDS
if ! psql_bench -v orgs="$ORGS" -v rows="$ROWS" >/dev/null <<'SQL'
create extension switchboard cascade;

-- The table's owner: not a superuser, so "as the owner" means exactly RLS being bypassed by ownership.
create role bench_owner nologin;
create schema bench authorization bench_owner;
grant usage on schema bench to authenticated;

-- Organisations, each with an owner and one other member (viewer or agent, alternating), inserted
-- directly as the superuser (the membership trigger lets the service role through).
insert into switchboard.organizations (name, slug)
select 'Bench organisation ' || n, 'bench-' || n from generate_series(1, :orgs) n;

create temporary table bench_orgs as
select id, row_number() over (order by slug) as n
  from switchboard.organizations where slug like 'bench-%';

insert into switchboard.organization_members (org_id, user_id, role)
select o.id, gen_random_uuid(), r.role
  from bench_orgs o
 cross join lateral (values ('owner'::switchboard.member_role),
                            (case when o.n % 2 = 0 then 'viewer' else 'agent' end
                               ::switchboard.member_role)) as r(role);

-- The tenant table: rows of all organisations interleaved, as a table filled over time would be.
create table bench.items (
  org_id uuid not null,
  id bigint not null,
  created_at timestamptz not null,
  name text not null,
  amount numeric(12, 2) not null,
  status text not null
);
insert into bench.items (org_id, id, created_at, name, amount, status)
select o.ids[(g - 1) % :orgs + 1], g,
       timestamptz '2024-01-01 00:00:00+00' + (g * interval '30 seconds') + random() * interval '1 day',
       'item ' || g,
       round((random() * 1000)::numeric, 2),
       (array['open', 'pending', 'closed'])[1 + g % 3]
  from (select array_agg(id order by n) as ids from bench_orgs) o
 cross join generate_series(1, :rows) g;

alter table bench.items add primary key (org_id, id);
create index items_org_created_idx on bench.items (org_id, created_at desc);
alter table bench.items owner to bench_owner;
grant select on bench.items to authenticated;
select switchboard.protect('bench.items');
SQL
then
  die "loading the benchmark data failed (is the installed extension current? make install)"
fi
psql_bench -c "vacuum (analyze) bench.items" -c "vacuum (analyze) switchboard.organizations" \
  -c "vacuum (analyze) switchboard.organization_members" -c "checkpoint" || die "vacuum failed"
# Index-only scans (the count) depend on the visibility map: both sides need it complete.
visible=$(psql_bench -Atc "select relallvisible = relpages from pg_class where oid = 'bench.items'::regclass")
[ "$visible" = t ] || die "VACUUM left pages of bench.items not all-visible; is a transaction open?"
say "loaded in $((SECONDS - started)) s: $(psql_bench -Atc "select format('%s rows, %s organisations, %s members, table %s, indexes %s',
  (select count(*) from bench.items), (select count(*) from switchboard.organizations),
  (select count(*) from switchboard.organization_members),
  pg_size_pretty(pg_table_size('bench.items')), pg_size_pretty(pg_indexes_size('bench.items')))")"

"$BENCH_BIN" "host=$home port=$port dbname=bench user=postgres" "$@"
