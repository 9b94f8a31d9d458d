#!/usr/bin/env bash
# Switchboard in a Supabase-shaped database (schema auth with auth.users and Supabase's auth.uid(),
# auth.role(), auth.jwt(), made first): CREATE EXTENSION creates nothing in schema auth and changes
# none of its objects; memberships reference auth.users, so deleting a user removes their
# memberships, and deleting the last owner of an organisation is refused. Needs SB_TEST_HOME and
# SB_TEST_PORT (set by tests/run_all.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../extension/tools/lib.sh"

HOME_DIR=${SB_TEST_HOME:?} PORT=${SB_TEST_PORT:?}
DB=supabase_shaped
q() { sb_psql "$HOME_DIR" "$PORT" -d "$DB" -tA "$@"; }
fail() { echo "FAILED: $*"; exit 1; }

ORG=00000000-0000-4000-8000-00000005b000 ORG2=00000000-0000-4000-8000-00000005b001
OWNER=00000000-0000-4000-8000-00000005b0a1 ADMIN=00000000-0000-4000-8000-00000005b0a2
AGENT=00000000-0000-4000-8000-00000005b0a3 GHOST=00000000-0000-4000-8000-00000005b0ff

sb_psql "$HOME_DIR" "$PORT" -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB" >/dev/null
trap 'sb_psql "$HOME_DIR" "$PORT" -d postgres -c "drop database if exists $DB" >/dev/null' EXIT

# What Supabase provides before anything else is installed (their definitions, abridged).
q <<'SQL'
do $$ begin
  if not exists (select 1 from pg_roles where rolname = 'supabase_auth_admin') then
    create role supabase_auth_admin noinherit createrole;
  end if;
end $$;
create schema auth authorization supabase_auth_admin;
create table auth.users (id uuid primary key, email text, created_at timestamptz default now());
alter table auth.users owner to supabase_auth_admin;
create function auth.uid() returns uuid language sql stable as $$
  select coalesce(nullif(current_setting('request.jwt.claim.sub', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'))::uuid $$;
create function auth.role() returns text language sql stable as $$
  select coalesce(nullif(current_setting('request.jwt.claim.role', true), ''),
                  (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'))::text $$;
create function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(nullif(current_setting('request.jwt.claim', true), ''),
                  nullif(current_setting('request.jwt.claims', true), ''))::jsonb $$;
alter function auth.uid() owner to supabase_auth_admin;
alter function auth.role() owner to supabase_auth_admin;
alter function auth.jwt() owner to supabase_auth_admin;
SQL

# Every object of schema auth with its definition and owner.
auth_objects() {
  q -c "select string_agg(x, ' | ' order by x) from (
          select 'rel ' || c.relname || ' ' || c.relkind::text || ' ' || c.relowner::regrole
            from pg_class c where c.relnamespace = 'auth'::regnamespace
          union all
          select 'fn ' || p.oid::regprocedure || ' ' || md5(p.prosrc) || ' ' || p.proowner::regrole
            from pg_proc p where p.pronamespace = 'auth'::regnamespace
          union all
          select 'type ' || t.typname from pg_type t
           where t.typnamespace = 'auth'::regnamespace and t.typrelid = 0
          union all
          select 'acl ' || coalesce(n.nspacl::text, '') || ' ' || n.nspowner::regrole
            from pg_namespace n where n.nspname = 'auth') o(x)"
}
before=$(auth_objects)
q -c "set client_min_messages = warning" -c "create extension switchboard cascade" >/dev/null
after=$(auth_objects)
[ "$before" = "$after" ] || fail "schema auth changed: before [$before] after [$after]"
members=$(q -c "select count(*) from pg_depend d join pg_extension e on e.oid = d.refobjid
  where e.extname = 'switchboard' and d.deptype = 'e' and (
    (d.classid = 'pg_proc'::regclass and d.objid in (select oid from pg_proc where pronamespace = 'auth'::regnamespace))
    or (d.classid = 'pg_class'::regclass and d.objid in (select oid from pg_class where relnamespace = 'auth'::regnamespace))
    or (d.classid = 'pg_namespace'::regclass and d.objid = 'auth'::regnamespace))")
[ "$members" = 0 ] || fail "the extension owns $members objects in schema auth"
echo "ok: CREATE EXTENSION created and changed nothing in Supabase's schema auth"

[ "$(q -c "select confdeltype from pg_constraint where conname = 'organization_members_user_fkey'
  and confrelid = 'auth.users'::regclass")" = c ] || fail "memberships do not reference auth.users on delete cascade"

q -v org=$ORG -v org2=$ORG2 -v owner=$OWNER -v admin=$ADMIN -v agent=$AGENT >/dev/null <<'SQL'
insert into auth.users (id, email) values (:'owner', 'owner@example.com'),
  (:'admin', 'admin@example.com'), (:'agent', 'agent@example.com');
insert into switchboard.organizations (id, name, slug) values (:'org', 'Supa Clinic', 'supa-clinic'),
  (:'org2', 'Second', 'supa-second');
insert into switchboard.organization_members (org_id, user_id, role) values
  (:'org', :'owner', 'owner'), (:'org', :'admin', 'admin'), (:'org', :'agent', 'agent'),
  (:'org2', :'agent', 'owner'), (:'org2', :'owner', 'viewer');
SQL

# A membership for someone who is not a Supabase user is refused.
out=$(q -c "insert into switchboard.organization_members (org_id, user_id, role)
  values ('$ORG', '$GHOST', 'viewer')" 2>&1) && fail "a membership without a user was accepted"
grep -q 'violates foreign key constraint "organization_members_user_fkey"' <<<"$out" || fail "$out"
echo "ok: a membership needs a Supabase user (23503)"

# Supabase Auth deletes users as supabase_auth_admin, which is neither superuser nor service_role.
as_auth_admin() { q -c "set role supabase_auth_admin" -c "$1" 2>&1; }
as_auth_admin "delete from auth.users where id = '$ADMIN'" >/dev/null || fail "deleting a plain member failed"
[ "$(q -c "select count(*) from switchboard.organization_members where user_id = '$ADMIN'")" = 0 ] ||
  fail "the deleted user's membership stayed"
echo "ok: deleting a user removes their memberships"

# The last owner: the deletion is refused as a whole (the user and every membership stay).
out=$(as_auth_admin "delete from auth.users where id = '$AGENT'") && fail "deleted the last owner of $ORG2"
grep -q 'an organization must keep at least one owner' <<<"$out" || fail "$out"
grep -q "User $AGENT is the last owner of organization $ORG2." <<<"$out" || fail "$out"
grep -q 'delete the organization, before deleting the user' <<<"$out" || fail "$out"
[ "$(q -c "select count(*) from auth.users where id = '$AGENT'")" = 1 ] || fail "the user went anyway"
[ "$(q -c "select count(*) from switchboard.organization_members where user_id = '$AGENT'")" = 2 ] ||
  fail "memberships of the refused deletion changed"
echo "ok: deleting the last owner of an organisation is refused (42501), nothing changes"

# Once another member is owner, or the organisation is gone, the user can be deleted.
q -c "update switchboard.organization_members set role = 'owner' where org_id = '$ORG2' and user_id = '$OWNER'" >/dev/null
as_auth_admin "delete from auth.users where id = '$AGENT'" >/dev/null || fail "deleting a former last owner failed"
[ "$(q -c "select string_agg(role::text, ',' order by role) from switchboard.organization_members where org_id = '$ORG2'")" = owner ] ||
  fail "organisation $ORG2 lost its owner"
q -c "delete from switchboard.organizations where id = '$ORG'" >/dev/null
as_auth_admin "delete from auth.users where id = '$OWNER'" >/dev/null && fail "deleted the last owner of $ORG2"
q -c "delete from switchboard.organizations where id = '$ORG2'" >/dev/null
as_auth_admin "delete from auth.users where id = '$OWNER'" >/dev/null || fail "deleting an owner without organisations failed"
[ "$(q -c "select count(*) from switchboard.organization_members")" = 0 ] || fail "memberships left"
echo "ok: after a handover or deleting the organisation, the user can be deleted"

# A member still removes only what their role allows (the cascade exception is for deleted users).
q -v org=$ORG -v owner=$OWNER -v agent=$AGENT >/dev/null <<'SQL'
insert into auth.users (id) values (:'owner'), (:'agent');
insert into switchboard.organizations (id, name, slug) values (:'org', 'Again', 'supa-again');
insert into switchboard.organization_members (org_id, user_id, role) values
  (:'org', :'owner', 'owner'), (:'org', :'agent', 'agent');
SQL
out=$(q -c "set role authenticated" -c "select set_config('request.jwt.claims', '{\"sub\": \"$AGENT\"}', false)" \
  -c "select switchboard.remove_member('$ORG', '$OWNER')" 2>&1) && fail "an agent removed the owner"
grep -q 'Role admin or above in organization' <<<"$out" || fail "$out"
echo "ok: members' own changes keep their rules"
