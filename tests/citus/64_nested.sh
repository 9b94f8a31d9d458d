# Calls inside a query Citus pushes to the shards (a call per row of a distributed table, as a user
# may write it): Citus runs the query on the node holding the rows, in a session it opened, where it
# refuses every distributed statement of a function it did not delegate ("cannot execute a
# distributed query from a query on a shard"). The org-scoped statements of a call for an
# organisation whose rows are on that node are router queries on its own shards: they run there
# (sb::pg::allow_nested_here) and answer as on one server. Four organisations of their own, two on
# each worker (with the suite's 8 shards), two members each, two on each plan.
nested_org() { echo "e6400000-0000-4000-8000-00000000000$1"; }
citus_psql 0 -q -c "set client_min_messages = warning" -c "
  create temp table nested (g text, tier text);
  insert into nested values ('1', 'broadcast_starter'), ('5', 'ai_powered_elite'),
                            ('b', 'ai_powered_elite'), ('c', 'broadcast_starter');
  insert into switchboard.organizations (id, name, slug)
    select ('e6400000-0000-4000-8000-00000000000' || g)::uuid, 'Nested ' || g, 'nested-' || g from nested;
  insert into switchboard.organization_members (org_id, user_id, role)
    select ('e6400000-0000-4000-8000-00000000000' || g)::uuid,
           ('e6400000-0000-4000-8000-0000000' || g || m || '000')::uuid, 'agent'
      from nested, generate_series(1, 2) m;
  insert into switchboard.subscriptions (org_id, tier)
    select ('e6400000-0000-4000-8000-00000000000' || g)::uuid, tier from nested;" >/dev/null
check "the nested-call organisations are on both workers" 2 0 \
  "select count(distinct p.groupid) from switchboard.organizations o
     join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.organization_members', o.id)
    where o.slug like 'nested-%'"
# A call per row over every shard (Citus sends the query to both workers).
check "has_feature per member row over every shard" \
  "nested-1 false,nested-1 false,nested-5 true,nested-5 true,nested-b true,nested-b true,nested-c false,nested-c false" 0 \
  "select string_agg(x, ',' order by x) from (
     select o.slug || ' ' || switchboard.has_feature(m.org_id, 'predictive_dialing')::text as x
       from switchboard.organization_members m join switchboard.organizations o on o.id = m.org_id
      where o.slug like 'nested-%') t"
# One organisation's rows (a router query to its node), an organisation of each worker.
for g in 1 5; do
  check "check_feature per member row of one organisation (nested-$g)" "2|PLAN" 0 \
    "select count(*) || '|' || string_agg(distinct switchboard.check_feature(m.org_id, 'calls') ->> 'reason', ',')
       from switchboard.organization_members m where m.org_id = '$(nested_org $g)'"
  # A write per row: counted once per row, on the organisation's own counter.
  check "consume_feature per member row of one organisation (nested-$g)" 2 0 \
    "select count(*) filter (where (switchboard.consume_feature(m.org_id, 'calls', 1) ->> 'ok')::boolean)
       from switchboard.organization_members m where m.org_id = '$(nested_org $g)'"
  check "each row's consume_feature counted once (nested-$g)" 2 0 \
    "select switchboard.check_feature('$(nested_org $g)', 'calls') ->> 'used'"
done
# A PL/pgSQL tenant function per row (set_subscription, as a service script may move every
# organisation to a plan): before, Citus refused its statements there (sb::pg::init_plpgsql_plugin).
check "set_subscription per subscription row over every shard (PL/pgSQL)" 4 0 \
  "select count(switchboard.set_subscription(s.org_id, 'ai_powered_elite'))
     from switchboard.subscriptions s join switchboard.organizations o on o.id = s.org_id
    where o.slug like 'nested-%'"
check "each organisation's plan changed once (set_subscription per row)" "true,true,true,true" 0 \
  "select string_agg(switchboard.has_feature(o.id, 'predictive_dialing')::text, ',')
     from switchboard.organizations o where o.slug like 'nested-%'"
citus_psql 0 -q -c "delete from switchboard.organizations where slug like 'nested-%'" >/dev/null
