#!/usr/bin/env bash
# pg_dump of a database with Switchboard data, restored into a fresh database: every row comes back
# and row-level security still holds. Needs SB_TEST_HOME and SB_TEST_PORT (set by tests/run_all.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
SRC=dump_src DST=dump_dst DUMP=$(mktemp /tmp/switchboard-dump.XXXXXX)
trap 'rm -f "$DUMP"' EXIT
q() { local db=$1; shift; sb_psql "$HOME_DIR" "$PORT" -d "$db" -tA "$@"; }

A=00000000-0000-4000-8000-0000000d0a00 B=00000000-0000-4000-8000-0000000d0b00
UA=00000000-0000-4000-8000-0000000d0a01 UB=00000000-0000-4000-8000-0000000d0b01

for db in $SRC $DST; do q postgres -c "drop database if exists $db"; done
q postgres -c "create database $SRC"
q $SRC -v a=$A -v b=$B -v ua=$UA -v ub=$UB <<'SQL'
create extension switchboard cascade;
insert into switchboard.organizations (id, name, slug, settings, timezone)
  values (:'a', 'Clinic A', 'clinic-a', '{"beds": 3}', 'Europe/Paris'),
         (:'b', 'Clinic B', 'clinic-b', '{}', 'America/New_York');
insert into switchboard.organization_members (org_id, user_id, role)
  values (:'a', :'ua', 'owner'), (:'b', :'ub', 'owner'),
         (:'a', gen_random_uuid(), 'agent'), (:'b', gen_random_uuid(), 'viewer');
create table public.leads (org_id uuid not null references switchboard.organizations (id),
  id bigint generated always as identity, name text, primary key (org_id, id));
create index on public.leads (org_id);
select switchboard.protect('public.leads');
grant select, insert, update, delete on public.leads to authenticated;
insert into public.leads (org_id, name) select :'a', 'a' || g from generate_series(1, 30) g;
insert into public.leads (org_id, name) select :'b', 'b' || g from generate_series(1, 20) g;
-- Entitlements and booking rows, and a feature of our own (catalog rows we did not ship).
insert into switchboard.features (key, name, category, kind) values ('dump_test', 'Dump test', 'custom', 'boolean');
insert into switchboard.plan_tier_features (tier, feature) values ('white_label', 'dump_test');
select switchboard.set_subscription(:'a', 'white_label', 'active', '{"addons": {"calls": 50}}');
select switchboard.set_feature_override(:'b', 'predictive_dialing', true, null, null, null, 'pilot');
select switchboard.consume_feature(:'a', 'calls', 7);
insert into switchboard.plan_change_requests (org_id, tier, current_tier, requested_by)
  values (:'b', 'white_label', null, :'ub');
select switchboard.create_calendar(:'a', 'Desk', 'Europe/Paris', '{"mon": [["09:00", "17:00"]]}');
SQL

pg_dump -h "$HOME_DIR" -p "$PORT" -U postgres -Fc -f "$DUMP" $SRC
q postgres -c "create database $DST"
pg_restore -h "$HOME_DIR" -p "$PORT" -U postgres --exit-on-error -d $DST "$DUMP"

# Every row comes back, byte for byte (catalog tables: the rows we did not ship).
for t in switchboard.organizations switchboard.organization_members public.leads \
  switchboard.subscriptions switchboard.feature_overrides switchboard.feature_usage \
  switchboard.entitlement_audit switchboard.plan_change_requests "switchboard.features|not x.shipped" \
  "switchboard.plan_tier_features|not x.shipped" switchboard.calendars; do
  table=${t%%|*} filter=true
  [ "$table" != "$t" ] && filter=${t#*|}
  sql="select count(*) || ':' || coalesce(md5(string_agg(x::text, '|' order by x::text)), '')
       from $table x where $filter"
  [ "$(q $SRC -c "$sql")" = "$(q $DST -c "$sql")" ] || { echo "rows of $table differ after restore"; exit 1; }
  echo "ok: rows of $table restored ($(q $DST -c "$sql" | cut -d: -f1))"
done

# RLS still holds in the restored database: each owner sees only their organisation.
as_user() {
  q $DST -c "set role authenticated" \
    -c "select set_config('request.jwt.claims', '{\"sub\":\"$1\"}', false)" -c "$2" | tail -1
}
[ "$(as_user $UA 'select count(*) from public.leads')" = 30 ] || { echo "owner A does not see 30 leads"; exit 1; }
[ "$(as_user $UB 'select count(*) from public.leads')" = 20 ] || { echo "owner B does not see 20 leads"; exit 1; }
[ "$(as_user $UA "select count(*) from public.leads where org_id = '$B'")" = 0 ] || { echo "A sees B"; exit 1; }
[ "$(as_user $UA 'select count(*) from switchboard.organizations')" = 1 ] || { echo "A sees other orgs"; exit 1; }
[ "$(q $DST -c "select bool_and(relrowsecurity) from pg_class where oid in
     ('public.leads'::regclass, 'switchboard.organizations'::regclass,
      'switchboard.organization_members'::regclass)")" = t ] || { echo "rls off after restore"; exit 1; }
echo "ok: row-level security holds after restore"

# The restored entitlements answer as before.
[ "$(q $DST -c "select switchboard.check_feature('$A', 'calls') ->> 'used'")" = 7 ] || { echo "usage lost"; exit 1; }
[ "$(q $DST -c "select switchboard.has_feature('$A', 'dump_test')")" = t ] || { echo "own feature lost"; exit 1; }
[ "$(q $DST -c "select switchboard.check_feature('$B', 'predictive_dialing') ->> 'reason'")" = OVERRIDE ] ||
  { echo "override lost"; exit 1; }
echo "ok: entitlements answer as before the dump"

for db in $SRC $DST; do q postgres -c "drop database $db"; done
