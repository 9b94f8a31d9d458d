# Installation through the coordinator: CREATE EXTENSION reaches both workers (its NOTIFYs are not
# sent inside Citus's prepared transactions), and the API roles exist everywhere.
if out=$(citus_psql 0 -c "set client_min_messages = warning" -c "create extension switchboard cascade" 2>&1); then
  ok "create extension switchboard through the coordinator"
else
  failed "create extension switchboard through the coordinator: $out"
fi
for n in 1 2; do
  check "switchboard installed on worker $n" 0.1.0 "$n" \
    "select extversion from pg_extension where extname = 'switchboard'"
  check "schema auth and auth.uid() on worker $n" t "$n" "select to_regprocedure('auth.uid()') is not null"
done
check "the route catalog is filled on the coordinator" t 0 "select count(*) > 0 from switchboard.api_routes"
# The shim listens on the coordinator: a route change there still announces itself.
heard=$(citus_psql 0 -c "listen switchboard_api" \
  -c "insert into switchboard.api_routes (method, path, function_name, summary) values ('GET', '/api/citus-check', 'is_member', 'citus check')" \
  -c "delete from switchboard.api_routes where path = '/api/citus-check'" -c "select 1" 2>&1 | grep -c 'notification "switchboard_api"')
check "a route change on the coordinator notifies switchboard_api" yes 0 "select case when $heard > 0 then 'yes' else 'no ($heard)' end"
# Caller-ID codes are checked with one key on every node: each node has the coordinator's generated
# switchboard.caller_id_secret (64 hex digits), set before any session starts.
secret=$(citus_psql 0 -tAc "show switchboard.caller_id_secret")
for n in 1 2; do
  check "worker $n has the coordinator's caller-ID secret" "yes" "$n" \
    "select case when current_setting('switchboard.caller_id_secret') = '$secret' and length('$secret') = 64 then 'yes' else 'no' end"
done
# An organisation with a member and a subscription before distribute() (20_distribute.sh checks that
# moving its rows into the shards raises none of their events again).
predist=f0000000-0000-4000-8000-000000000001
citus_psql 0 -q -c "insert into switchboard.organizations (id, name, slug) values ('$predist', 'Before', 'before-distribution')" \
  -c "select switchboard.add_member('$predist', 'f0000000-0000-4000-8000-0000000000a1', 'owner')" \
  -c "select switchboard.set_subscription('$predist', 'broadcast_starter')" >/dev/null
predist_events="select string_agg(event_type || '=' || n, ',' order by event_type) from (
  select event_type, count(*) n from switchboard.webhook_messages where org_id = '$predist' group by 1) x"
check "an organisation's events before distribution" "member.added=1,subscription.changed=1" 0 "$predist_events"
