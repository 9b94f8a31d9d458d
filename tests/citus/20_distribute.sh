# switchboard.distribute() through the coordinator: every table placed as the layout says, the
# tenant-scoped functions distributed by org_id; a second call changes nothing.
FKEYS_SQL="select count(*) from pg_constraint c join switchboard.distribution_layout d
             on format('switchboard.%I', d.table_name)::regclass = c.conrelid where c.contype = 'f'"
FKEYS=$(citus_psql 0 -tA -c "$FKEYS_SQL")
out=$(citus_psql 0 -tA -c "set client_min_messages = warning" -c "select switchboard.distribute('{\"shardCount\": 8}') ->> 'reason'" 2>&1)
if [ "$out" = DISTRIBUTED ]; then ok "distribute() places the tables"; else failed "distribute(): $out"; fi
check "distribute() raises no event again for the rows it moves into the shards" \
  "member.added=1,subscription.changed=1" 0 "$predist_events"
check "distribute() again changes nothing" 'ALREADY_DISTRIBUTED|[]' 0 \
  "select d ->> 'reason' || '|' || (d -> 'changed')::text from switchboard.distribute() d"
check "every table is placed as the layout says" "" 0 \
  "select string_agg(table_name || ' is ' || switchboard.distribution_state(format('switchboard.%I', table_name)::regclass), ', ')
     from switchboard.distribution_layout
    where switchboard.distribution_state(format('switchboard.%I', table_name)::regclass) <> kind"
check "the tenant tables share one colocation group of 8 shards" "1|8" 0 \
  "select count(distinct p.colocationid) || '|' || min(c.shardcount)
     from pg_dist_partition p join pg_dist_colocation c using (colocationid)
     join switchboard.distribution_layout d on format('switchboard.%I', d.table_name)::regclass = p.logicalrelid
    where d.kind = 'tenant'"
check "the tenant shards are on both workers" 2 0 \
  "select count(distinct p.groupid) from pg_dist_shard s join pg_dist_placement p using (shardid)
    where s.logicalrelid = 'switchboard.organization_members'::regclass"
check "every tenant-scoped function is distributed by org_id" "" 0 \
  "select string_agg(fn::text, ', ') from switchboard.distribution_functions where not switchboard.function_distributed(fn)"
check "foreign keys kept, but for the webhook inbox's to organizations" "$((FKEYS - 1))" 0 "$FKEYS_SQL"
