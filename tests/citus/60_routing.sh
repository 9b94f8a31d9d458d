# Calls Citus does not delegate by itself (inside an expression, a subquery, a WHERE clause) give
# the answer of a delegated call: the C++ function re-issues itself as a statement of its own,
# which Citus delegates to the node holding the organisation (pg/base/base_routing). And two
# delegated calls in one transaction, on organisations of both workers, commit together.
# org2 and org3: the organisations of 50_claims.sh, one on each worker.
for org in $org2 $org3; do
  check "has_feature inside an expression on $org" "t|t" 0 \
    "select (switchboard.has_feature('$org', 'calls') and true)::text::char(1)
            || '|' || (select switchboard.has_feature('$org', 'calls'))::text::char(1)"
  check "check_feature's answer read with ->> on $org" PLAN 0 \
    "select switchboard.check_feature('$org', 'calls') ->> 'reason'"
done
check "two organisations on two workers in one statement" "2" 0 \
  "select count(*) from (values ('$org2'::uuid), ('$org3'::uuid)) v(org)
    where switchboard.has_feature(v.org, 'calls')"
before2=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org2', 'calls') ->> 'used'")
before3=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org3', 'calls') ->> 'used'")
out=$(citus_psql 0 -tA -c "begin" -c "select switchboard.consume_feature('$org2', 'calls', 1) ->> 'ok'" \
  -c "select switchboard.consume_feature('$org3', 'calls', 1) ->> 'ok'" \
  -c "select switchboard.consume_feature('$org2', 'calls', 1) ->> 'ok'" -c "commit" 2>&1 | tr '\n' ' ')
check "three delegated calls on both workers in one transaction" "true true true |2|1" 0 \
  "select '$out|' || ((switchboard.check_feature('$org2', 'calls') ->> 'used')::int - $before2)
          || '|' || ((switchboard.check_feature('$org3', 'calls') ->> 'used')::int - $before3)"
out=$(citus_psql 0 -tA -c "begin" -c "select switchboard.consume_feature('$org2', 'calls', 1) ->> 'ok'" \
  -c "select switchboard.consume_feature('$org3', 'calls', 1) ->> 'ok'" -c "rollback" 2>&1 | tr '\n' ' ')
check "a rolled-back transaction of two delegated calls counts nothing" "true true |2|1" 0 \
  "select '$out|' || ((switchboard.check_feature('$org2', 'calls') ->> 'used')::int - $before2)
          || '|' || ((switchboard.check_feature('$org3', 'calls') ->> 'used')::int - $before3)"
# As the shim's request (role authenticated, a member's claims, inside BEGIN ... COMMIT): a
# delegated call, then one statement with a call on each worker (both routed), all counted.
got=$(as_request "$owner" "select switchboard.consume_feature('$org2', 'calls', 1) ->> 'ok';
  select (switchboard.consume_feature('$org2', 'calls', 1) ->> 'ok') || '|' || (switchboard.consume_feature('$org3', 'calls', 1) ->> 'ok')" | tr '\n' ' ')
check "a member's delegated and routed calls in one request transaction" "true true|true |4|2" 0 \
  "select '$got|' || ((switchboard.check_feature('$org2', 'calls') ->> 'used')::int - $before2)
          || '|' || ((switchboard.check_feature('$org3', 'calls') ->> 'used')::int - $before3)"
# A SECURITY DEFINER function Citus does not delegate (an expression around it) runs on the
# coordinator, where its permission check (assert_role, C++) is re-issued to the organisation's
# node: as the caller, not as the function's owner (who would pass as the service role there).
outsider=e0000000-0000-4000-8000-0000000000a8
got=$(as_request "$stranger" "select switchboard.add_member('$org3', '$outsider', 'agent') ->> 'reason'")
if [[ $got == *"permission denied for this organization"*"the caller is not a member"* ]]; then
  ok "a stranger's add_member inside an expression is refused on the organisation's node"
else
  failed "a stranger's add_member inside an expression: $got"
fi
check "the stranger added nobody" 0 0 \
  "select count(*) from switchboard.organization_members where org_id = '$org3' and user_id = '$outsider'"
check "the owner's add_member inside an expression is answered" ADDED 0 \
  "select '$(as_request "$owner" "select switchboard.add_member('$org3', '$outsider', 'agent') ->> 'reason'")'"
# The membership rules on the organisation's node (the trigger on the shard) judge the caller, not
# the owner of the SECURITY DEFINER function Citus connected as there: an admin's add_member inside
# an expression (run on the coordinator as the owner) may not grant owner, nor an admin promote
# itself. Before the caller's role was carried (switchboard.caller_role), both answered as the
# service role's would: ADDED and UPDATED.
admin3=e0000000-0000-4000-8000-0000000000a7 newowner=e0000000-0000-4000-8000-0000000000a6
as_request "$owner" "select switchboard.add_member('$org3', '$admin3', 'admin') ->> 'reason'" >/dev/null
got=$(as_request "$admin3" "select switchboard.add_member('$org3', '$newowner', 'owner') ->> 'reason'")
if [[ $got == *"cannot grant a role above your own"* ]]; then
  ok "an admin's add_member of an owner inside an expression is refused"
else
  failed "an admin's add_member of an owner inside an expression: $got"
fi
got=$(as_request "$admin3" "select switchboard.set_member_role('$org3', '$admin3', 'owner') ->> 'reason'")
if [[ $got == *"cannot grant a role above your own"* ]]; then
  ok "an admin's set_member_role promoting itself to owner is refused"
else
  failed "an admin's set_member_role promoting itself to owner: $got"
fi
check "the admin made nobody owner" "1|admin" 0 \
  "select count(*) filter (where role = 'owner') || '|' || max(role::text) filter (where user_id = '$admin3')
     from switchboard.organization_members where org_id = '$org3'"
# The service role's add_member inside an expression (on the coordinator, which holds no shard of
# the organisation): assert_role finds the organisation in the reference table (it answered 0A000
# "the organization's rows are on another node" before), and refuses one that does not exist.
as_service() {
  citus_psql 0 -tA -c "set client_min_messages = warning" -c "begin" -c "set local role service_role" \
    -c "$1" -c "rollback" 2>&1 | grep -v '^SET$'
}
check "the service role's add_member inside an expression is answered" ADDED 0 \
  "select '$(as_service "select switchboard.add_member('$org3', '$newowner', 'viewer') ->> 'reason'")'"
got=$(as_service "select switchboard.add_member('e0000000-0000-4000-8000-0000000000ff', '$newowner', 'viewer') ->> 'reason'")
if [[ $got == *"organization not found"* ]]; then
  ok "the service role's add_member on an unknown organisation: organization not found"
else
  failed "the service role's add_member on an unknown organisation: $got"
fi
# A member's own UPDATE of its organisation (a reference table the tenant tables have foreign keys
# to) through the coordinator: the policies read the caller's memberships first, over every shard
# of organization_members, now over one connection per node. Read in parallel, Citus refused the
# UPDATE after it ("cannot modify table organizations because there was a parallel operation on a
# distributed table").
check "an admin's UPDATE of its organisation through the coordinator" 1 0 \
  "select '$(as_request "$admin3" "with u as (update switchboard.organizations set timezone = timezone
                                     where id = '$org3' returning 1) select count(*) from u")'"
# A member removed on the workers loses what the policies of a coordinator's table gave them, in a
# session that read its memberships before (a pooled connection): the coordinator keeps them for a
# client's statement only, since the workers' invalidations never reach it. Before, the removed
# viewer kept seeing the row for the rest of the session. Then the same within one transaction.
stale_viewer=e0000000-0000-4000-8000-0000000000a5
citus_psql 0 -q -c "set client_min_messages = warning" \
  -c "create table public.routing_leads (id int primary key, org_id uuid not null)" \
  -c "insert into public.routing_leads values (1, '$org3')" \
  -c "select switchboard.protect('public.routing_leads')" \
  -c "grant select on public.routing_leads to authenticated" \
  -c "insert into switchboard.organization_members (org_id, user_id, role) values ('$org3', '$stale_viewer', 'viewer')" >/dev/null
remove_viewer="delete from switchboard.organization_members where org_id = '$org3' and user_id = '$stale_viewer'"
got=$(citus_psql 0 -tA -c "set role authenticated" \
  -c "select set_config('request.jwt.claims', '{\"sub\": \"$stale_viewer\"}', false) is null" \
  -c "select count(*) from public.routing_leads" \
  -c "\\! psql -X -q -h ${CITUS_HOME[0]} -p ${CITUS_PORT[0]} -U postgres -d $CITUS_DB -c \"$remove_viewer\"" \
  -c "select count(*) from public.routing_leads" 2>&1 | tr '\n' ' ')
check "a member removed in another session loses a coordinator table's rows at once" "f 1 0 " 0 "select '$got'"
got=$(citus_psql 0 -tA -c "insert into switchboard.organization_members (org_id, user_id, role) values ('$org3', '$stale_viewer', 'viewer')" \
  -c "begin" -c "set local role authenticated" \
  -c "select set_config('request.jwt.claims', '{\"sub\": \"$stale_viewer\"}', true) is null" \
  -c "select count(*) from public.routing_leads" -c "reset role" -c "$remove_viewer" \
  -c "set local role authenticated" -c "select count(*) from public.routing_leads" -c "rollback" 2>&1 | tr '\n' ' ')
check "a member removed in the same transaction loses a coordinator table's rows at once" "f 1 0 " 0 "select '$got'"
citus_psql 0 -q -c "drop table public.routing_leads" -c "$remove_viewer"
