# A worker crash and restart under load: 8 clients each make 30 consume_feature calls through the
# coordinator with idempotency keys of their own, on organisations of both workers, and retry a call
# that failed with the same key until it is answered. Worker 1 is stopped with -m immediate (a crash:
# no shutdown checkpoint, its connections cut) while they run, and started again. Every key ends
# answered ok and is counted once (per organisation, `used` grew by its keys and it holds one usage
# event per key); calls of worker 1's organisations failed while it was down.
# The test cluster runs with synchronous_commit off, under which PostgreSQL itself forgets the last
# commits it acknowledged when it crashes (this test's first run lost one that way): on for this.
for n in 1 2; do
  citus_psql $n -q -c "alter system set synchronous_commit = on" -c "select pg_reload_conf()" >/dev/null
done
load_dir=$(mktemp -d)
read -r -a load_orgs <<<"$(citus_psql 0 -tA -c "
  select string_agg(id::text, ' ' order by slug) from switchboard.organizations
   where slug like 'citus-%' and slug ~ '[02468]$'")"
used_now() {  # used_now: "org used" per line, for the organisations of the load
  citus_psql 0 -tA -F' ' -c "select o.id, switchboard.check_feature(o.id, 'calls') ->> 'used'
    from switchboard.organizations o where o.id = any('{$(IFS=,; echo "${load_orgs[*]}")}') order by 1"
}
used_before=$(used_now)
# load_client C: client C's 30 calls, one line "org key answer" per attempt.
load_client() {
  local c=$1 i org key got try
  for i in $(seq 1 30); do
    org=${load_orgs[$(((c * 7 + i) % ${#load_orgs[@]}))]} key=load-$c-$i
    for try in $(seq 1 200); do
      got=$(citus_psql 0 -tA -c "select switchboard.consume_feature('$org', 'calls', 1, '$key') ->> 'ok'" 2>/dev/null)
      echo "$org $key ${got:-error}"
      [ "$got" = true ] && break
      sleep 0.1
    done
  done >"$load_dir/client$c"
}
load_pids=()
for c in 1 2 3 4 5 6 7 8; do
  load_client "$c" &
  load_pids+=($!)
done
until [ "$(cat "$load_dir"/client* 2>/dev/null | wc -l)" -ge 40 ]; do sleep 0.1; done
as_pg "$PG_BIN/pg_ctl" -D "${CITUS_HOME[1]}/data" -m immediate -w stop >/dev/null 2>&1
sleep 3
start_instance "${CITUS_HOME[1]}"
wait "${load_pids[@]}"
cat "$load_dir"/client* >"$load_dir/all"
worker1_orgs=$(citus_psql 0 -tA -c "
  select string_agg(o.id::text, ' ') from switchboard.organizations o
    join pg_dist_placement p on p.shardid = get_shard_id_for_distribution_column('switchboard.organization_members', o.id)
    join pg_dist_node n on n.groupid = p.groupid where n.nodeport = ${CITUS_PORT[1]}")
failed_on_worker1=$(grep -F -f <(tr ' ' '\n' <<<"$worker1_orgs") "$load_dir/all" | grep -c ' error$')
check "under load: worker 1's organisations had failed calls while it was down" t 0 \
  "select $failed_on_worker1 > 0"
check "under load: all 240 keys were answered ok in the end" 240 0 \
  "select $(awk '$3 == "true" { print $2 }' "$load_dir/all" | sort -u | wc -l)"
# Per organisation: keys answered, usage events of the load's keys, growth of used; all equal.
expected=$(awk '$3 == "true" { print $1 }' "$load_dir/all" | sort | uniq -c | awk '{ print $2 " " $1 }')
events=$(citus_psql 0 -tA -F' ' -c "select org_id, count(*) from switchboard.usage_events
  where idempotency_key like 'load-%' group by 1 order by 1")
grown=$(join <(echo "$used_before") <(used_now) | awk '{ print $1 " " $3 - $2 }' | awk '$2 != 0')
if [ "$expected" = "$events" ] && [ "$expected" = "$grown" ]; then
  ok "under load: every answered key counted once per organisation, nothing lost or duplicated"
else
  failed "under load: keys answered / usage events / used growth differ: [$expected] [$events] [$grown]"
fi
rm -rf "$load_dir"
for n in 1 2; do
  citus_psql $n -q -c "alter system reset synchronous_commit" -c "select pg_reload_conf()" >/dev/null
done
