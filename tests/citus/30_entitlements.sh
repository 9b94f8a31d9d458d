# Entitlements through the coordinator, delegated to the node holding each organisation: 20
# organisations spread over both workers, the answers of one server (plan grants, metered usage).
citus_psql 0 -q -c "set client_min_messages = warning" -c "
  insert into switchboard.organizations (id, name, slug)
    select ('e0000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'Citus ' || g, 'citus-' || g
      from generate_series(1, 20) g;
  insert into switchboard.subscriptions (org_id, tier)
    select id, case when slug ~ '[02468]$' then 'ai_powered_elite' else 'broadcast_starter' end
      from switchboard.organizations where slug like 'citus-%';" >/dev/null
check "the organisations are on both workers" 2 0 \
  "select count(distinct p.groupid) from switchboard.organizations o
     join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.organization_members', o.id)
    where o.slug like 'citus-%'"
# Each call alone in its statement, so that Citus delegates it (has_feature, consume_feature ...).
answers=""
for g in $(seq 1 20); do
  org=e0000000-0000-4000-8000-$(printf '%012d' "$g")
  answers+=$(citus_psql 0 -tA -c "select switchboard.has_feature('$org', 'predictive_dialing')")
done
check "has_feature answers per plan on every organisation" "ftftftftftftftftftft" 0 "select '$answers'"
org=e0000000-0000-4000-8000-000000000002
for q in 3 2; do citus_psql 0 -tA -c "select switchboard.consume_feature('$org', 'calls', $q)" >/dev/null; done
answer=$(citus_psql 0 -tA -c "select switchboard.check_feature('$org', 'calls')")
check "consume_feature counts on the organisation's node" "5|7495" 0 \
  "select '$answer'::jsonb ->> 'used' || '|' || ('$answer'::jsonb ->> 'remaining')"
# The audit trigger on the shards: a row inserted through the coordinator carries the
# coordinator's now(), earlier than the shard's transaction start, and is still audited (not taken
# for a row pg_restore brings back).
check "every subscription inserted through the coordinator has its audit row" 20 0 \
  "select count(distinct a.org_id) from switchboard.entitlement_audit a
     join switchboard.organizations o on o.id = a.org_id where o.slug like 'citus-%'"
